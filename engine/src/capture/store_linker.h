// StoreLinker: the file stage of a hard-link capture. The walk hands it each
// file it takes (WalkOptions::on_file), on the walk's own threads, and it
// puts a hard link to the file at the same path below the store's files/
// directory, making the directories on the way as it needs them.
//
// The catalog records the inode the walk saw for each link
// (WalkedEntry::store_ino): a file replaced between the walk's look and the
// link (or later, by an application that saves by rename) is told apart by
// it, and verify and restore report it.
//
// A file that cannot be linked — on another filesystem (EXDEV), with as
// many links as its filesystem allows (EMLINK), or one the kernel will not
// let this user link (EPERM) — is copied into the store instead, holes,
// owner, mode, extended attributes and times included, with a note
// (HardLinkFallback::kCopy); or it is an error for the per-file policy
// (kError). A copy is checked against the source's status before and
// after, and made again when it changed meanwhile.
//
// Thread safety: Add may be called from any number of threads at once; the
// other methods after the walk, from one thread.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_STORE_LINKER_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_STORE_LINKER_H_

#include <oneapi/tbb/enumerable_thread_specific.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/base/unique_fd.h"
#include "engine/src/capture/walk.h"
#include "migstore/capture.h"
#include "migstore/file_issue.h"

namespace migstore::capture {

struct LinkerOptions {
  int files_fd = -1;  // the store's files/ directory
  HardLinkFallback fallback = HardLinkFallback::kCopy;
  bool set_owner = false;  // copies keep their owner (needs root)
  // Files done and their bytes, in batches; called from any thread.
  std::function<void(uint64_t bytes, uint64_t files)> progress;
};

class StoreLinker {
 public:
  explicit StoreLinker(LinkerOptions options) : o_(std::move(options)) {}

  // WalkOptions::on_file: links (or copies) `name` in `dir_fd`, the walked
  // file `e`, into the store. NotFound when the file went away.
  Status Add(int dir_fd, const char* name, WalkedEntry* e);

  // After the walk. The directories made below files/ (relative to it).
  std::vector<std::string> Directories();
  // Notes about files copied rather than linked, sorted by path.
  std::vector<FileNote> Notes();
  // Reports the progress not yet reported.
  void FlushProgress();

  uint64_t linked() const { return linked_.load(); }
  uint64_t copied() const { return copied_.load(); }
  uint64_t copied_bytes() const { return copied_bytes_.load(); }

 private:
  struct PerThread {
    std::string dir;  // the store directory `dir_fd` is open on
    UniqueFd dir_fd;
    bool have_dir = false;
    std::vector<std::string> made;
    std::vector<FileNote> notes;
    uint64_t pending_files = 0;
    uint64_t pending_bytes = 0;
  };

  Result<int> StoreDir(PerThread* t, std::string_view dir);
  Status MakeDirs(const std::string& rel, std::vector<std::string>* made);
  Status Copy(PerThread* t, int src_dir, const char* name, int dst_dir,
              WalkedEntry* e, int why);
  void Done(PerThread* t, const WalkedEntry& e);

  const LinkerOptions o_;
  tbb::enumerable_thread_specific<PerThread> threads_;
  std::atomic<uint64_t> linked_{0};
  std::atomic<uint64_t> copied_{0};
  std::atomic<uint64_t> copied_bytes_{0};
};

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_STORE_LINKER_H_
