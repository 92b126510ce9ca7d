// The previous store an incremental capture builds on (`--base`,
// docs/design.md "Incremental capture"): which files of the new capture it
// already holds unchanged, and taking them over without reading them.
//
// A file is the same when the base holds a file entry at the same
// root-relative path with the same size, modification time and change time
// (nanoseconds), and neither is a hard link. The change time moves with
// every write, rename onto the path, chmod or chown, and a replaced file is
// a new inode with a new one, so it covers what the inode number would
// (containers do not record inodes). Taken-over files are not opened: the
// data blocks holding them are copied into the new store (authenticated and
// sealed again under its own id, numbers and key, without decompressing, so
// the new store stands alone and the base may be deleted), and their content
// records follow with the chunks pointing at the copies. A base block that
// holds mostly bytes the new capture does not need (files changed or gone) is
// not copied; its files are read again instead, so a chain of incremental
// captures does not carry dead bytes forward. A base block that cannot be read
// costs only its files, which are read from the source instead.
//
// Thread safety: Open and TakeOver run their own tasks (call them inside the
// capture's arena); one TakeOver at a time.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_BASE_STORE_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_BASE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/src/capture/pack_pipeline.h"
#include "engine/src/capture/walk.h"
#include "format/block_codec.h"
#include "format/catalog.h"
#include "format/container_reader.h"
#include "format/container_writer.h"
#include "format/keys.h"
#include "migstore/result.h"

namespace migstore::capture {

// A file taken over: the walked entry and its content number in the new
// store.
struct TakenOver {
  size_t entry = 0;
  uint64_t content = 0;
};

struct TakeOverStats {
  uint64_t files = 0;          // files taken over
  uint64_t bytes = 0;          // their logical bytes
  uint64_t blocks_copied = 0;  // base data blocks copied
  uint64_t block_bytes = 0;    // their plain bytes
  // Base files that were the same but are read again: their blocks held
  // too little the new store needs, or could not be read.
  uint64_t files_read_again = 0;
  uint64_t unreadable_blocks = 0;
  uint64_t unreadable_segments = 0;  // content segments
  // Files read again because their filesystem's change time cannot be
  // trusted, by filesystem name ("vfat", "ntfs3", ...).
  std::vector<std::pair<std::string, uint64_t>> untrusted_filesystems;
};

struct TakeOverOptions {
  int root_fd = -1;  // the capture's root, for each device's statfs
  // Files changed less than this before the base's capture are read
  // again (CaptureOptions::base_settle_ns).
  int64_t settle_ns = 0;
  // Polled between block copies; true stops the copy (the capture is
  // then abandoned by its caller).
  std::function<bool()> cancelled;
};

class BaseStore {
 public:
  // Opens the container at `path` with `key` (the reading policy of
  // restore: with a key, an unencrypted base is Refused, since whoever can
  // replace it could hand over files of their own) and indexes its file
  // entries. A hard-link store is InvalidArgument: its files are links, not
  // blocks. Catalog segments that cannot be read are counted in
  // lost_entries() and their files are read from the source.
  static Result<std::unique_ptr<BaseStore>> Open(const std::string& path,
                                                 const format::KeySource& key);
  ~BaseStore();

  const std::string& path() const { return path_; }
  // File entries of the base that could be taken over.
  size_t file_count() const;
  // Entries lost to catalog segments that could not be read.
  uint64_t lost_entries() const { return lost_entries_; }

  // Takes over the files of `jobs` the base holds unchanged: copies the
  // blocks that hold them into `writer` (their codec bytes as they are,
  // zstd or stored, sealed under the writer's key and numbers), records
  // their contents there, removes them from *jobs (the rest keep their
  // order) and returns them in path order. An error of the writer is
  // returned; the base's damage is not an error (its files stay jobs).
  Result<std::vector<TakenOver>> TakeOver(const WalkedEntries& entries,
                                          std::vector<FileJob>* jobs,
                                          format::ContainerWriter* writer,
                                          const TakeOverOptions& options,
                                          TakeOverStats* stats);

 private:
  struct File;
  BaseStore() = default;

  std::string path_;
  std::unique_ptr<format::ContainerReader> reader_;
  std::vector<File> files_;  // by path hash
  uint64_t lost_entries_ = 0;
  // When the base's capture began (its "created" property); a base without
  // it takes nothing over.
  std::optional<int64_t> created_ns_;
};

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_BASE_STORE_H_
