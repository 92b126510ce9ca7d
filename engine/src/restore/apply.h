// Carrying out a restore plan below the target, safely:
//
//   1. folders: made in plan order (the store's own with mode 0700 until
//      the end, folders that only hold entries with 0755); stale
//      temporaries of an interrupted run are removed from the folders that
//      were already there;
//   2. files, in parallel (TBB) in the order of the data blocks they live
//      in, so each block is opened once (block_pool.h): each is written
//      with pwrite to a temporary name in its folder (holes stay holes; a
//      large file's blocks are decoded, and their pieces written, by
//      several workers), its content hash checked
//      (ContainerReader::ReadContentDataFrom), its owner, mode, extended
//      attributes and times set on the descriptor, and only then renamed
//      into place; hard-link members become links to their leader;
//      (from a hard-link store, each file is checked to be the one
//      captured and linked back from the store, or copied out of it,
//      instead: WriteFromLinkStore);
//   3. symlinks (never followed) and fifos, made under a temporary name,
//      given their metadata, renamed;
//   4. the folders' metadata, deepest first.
//
// Every file is created relative to a handle on its folder, opened below
// the target with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a symlink
// planted in the target while the restore runs cannot redirect a write.
//
// Thread safety: one Applier per run, driven from one thread; it runs its
// own tasks in the caller's task arena and calls the callbacks from many
// threads at once (they must be thread-safe).

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_APPLY_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_APPLY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/src/restore/block_pool.h"
#include "engine/src/restore/plan.h"
#include "engine/src/store/open_store.h"

namespace migstore::restore {

struct ApplyOptions {
  // Where the contents come from: a container's blocks, or a hard-link
  // store's linked files, each linked back when `link_back` and the
  // filesystem allows it, else copied.
  const store::OpenedStore* store = nullptr;
  int target_fd = -1;
  bool set_owner = false;      // chown: running as root, and not an extract
  bool set_xattrs = true;      // extract sets none
  uint32_t mode_mask = 07777;  // extract drops setuid and setgid
  int threads = 1;
  uint64_t block_memory = uint64_t{256} << 20;  // BlockPool's bound
  bool link_back = false;
  // A restore's: every file written or linked that carries setuid or
  // setgid bits or file capabilities is noted (privileges.h), and, with
  // `strip_privileges`, restored without them. An extract's mode_mask and
  // set_xattrs already leave them out.
  bool note_privileges = false;
  bool strip_privileges = false;
};

struct ApplyCallbacks {
  // An item failed. Returns false when the run must stop (no
  // continue_on_error); the applier then starts nothing new.
  std::function<bool(size_t item, const Status& error)> error;
  std::function<void(const std::string& path, const std::string& what)> note;
  // Data bytes written and files finished since the last call.
  std::function<void(uint64_t bytes, uint64_t files)> progress;
  std::function<bool()> cancelled;
};

class Applier {
 public:
  Applier(const ApplyOptions& options,
          const std::vector<format::Entry>& entries, std::vector<Item>* items,
          ApplyCallbacks callbacks);
  ~Applier();

  // The four steps, in order; each returns early once stopped.
  void MakeFolders();
  void WriteFiles();
  void MakeLinksAndSpecials();
  void FinishFolders();

  bool stopped() const { return stop_.load(); }
  uint64_t blocks_opened() const;
  int temporaries_removed() const { return temporaries_removed_; }
  // Files restored that carried setuid or setgid bits or file
  // capabilities (with them, or stripped of them), each noted.
  uint64_t privileged_files() const { return privileged_files_.load(); }
  // Per item: whether it is in place (or was already), for the report.
  bool done(size_t item) const { return done_[item] != 0; }

 private:
  class DirCache;

  bool Fail(size_t item, const Status& error);
  bool ShouldStop();
  Status EnsureFolder(const std::string& path, bool own, uint32_t mode);
  void RemoveStaleTemporaries(const std::string& dir);
  Status WriteFile(size_t index, DirCache* dirs);
  Status WriteFromLinkStore(size_t index, DirCache* dirs);
  // `capability`: a hard-link store's file's security.capability, set
  // after the owner (fchown drops it) unless stripped; null: none.
  Status SetFileMetadata(int fd, const Item& item, const format::Entry& e,
                         const std::string* capability = nullptr);
  // Notes file entry `e` at Dest(item) when it carries privileges
  // (`store_capability`: its file in a hard-link store has capabilities).
  void NotePrivileges(const Item& item, const format::Entry& e,
                      bool store_capability);
  Status LinkMember(size_t index, DirCache* dirs);
  Status MakeSpecial(size_t index, DirCache* dirs);
  Status SetXattrs(int fd, const std::string& proc_path, const format::Entry& e,
                   const std::string& dest);
  // Renames `tmp` to the name of Dest(item) in `dir_fd`, without replacing
  // anything unless the item says so.
  Status Place(int dir_fd, const std::string& tmp, const Item& item);
  const std::string& Dest(const Item& item) const {
    return DestOf(item, entries_);
  }

  const ApplyOptions o_;
  const std::vector<format::Entry>& entries_;
  std::vector<Item>& items_;
  ApplyCallbacks cb_;
  std::atomic<bool> stop_{false};
  std::vector<uint8_t> done_;          // written by one task per item
  std::set<std::string> made_;         // folders known to exist
  std::set<std::string> preexisting_;  // ... of which were there before
  // LOCK_EX on the target folder, held for the run when no other restore
  // holds it: then every temporary in the target is a dead run's.
  UniqueFd target_lock_;
  std::unique_ptr<BlockPool> pool_;
  int temporaries_removed_ = 0;
  std::atomic<uint64_t> privileged_files_{0};
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_APPLY_H_
