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
// The match runs before the first window and holds no more than the
// capture's windows do (docs/design.md, "Incremental capture in windows"):
// the base's file entries are sorted by path through a scratch file, a
// window's worth at a time, and read beside the walk's stream, itself in
// path order; the content records are read a content segment at a time,
// three times (what each block holds, which blocks to copy, the records to
// add); what is kept is a bit a base content and TakenOverFiles.
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

#include "engine/src/capture/taken_over.h"
#include "engine/src/capture/walk.h"
#include "format/block_codec.h"
#include "format/catalog.h"
#include "format/container_reader.h"
#include "format/container_writer.h"
#include "format/keys.h"
#include "migstore/result.h"

namespace migstore::capture {

struct TakeOverOptions {
  int root_fd = -1;  // the capture's root, for each device's statfs
  // Files changed less than this before the base's capture are read
  // again (CaptureOptions::base_settle_ns).
  int64_t settle_ns = 0;
  // Where the base's file entries are sorted by path (a scratch file made
  // in the first that can take one; none: they are sorted in memory), and
  // how many at a time.
  std::vector<std::string> spill_dirs;
  size_t run_entries = 65536;
  // Polled between block copies; true stops the copy (the capture is
  // then abandoned by its caller).
  std::function<bool()> cancelled;
};

class BaseStore {
 public:
  // Opens the container at `path` with `key` (the reading policy of
  // restore: with a key, an unencrypted base is Refused, since whoever can
  // replace it could hand over files of their own). A hard-link store is
  // InvalidArgument: its files are links, not blocks. Its entries are read
  // by TakeOver.
  static Result<std::unique_ptr<BaseStore>> Open(const std::string& path,
                                                 const format::KeySource& key);
  ~BaseStore();

  const std::string& path() const { return path_; }
  // Entries lost to catalog segments that could not be read (their files
  // are read from the source), once TakeOver has run.
  uint64_t lost_entries() const { return lost_entries_; }

  // Finds the files of the walk the base holds unchanged, `stream` (every
  // entry, none taken yet) and `apart`; copies the blocks that hold them
  // into `writer` (their codec bytes as they are, zstd or stored, sealed
  // under the writer's key and numbers) and records their contents there.
  // Returns which files those are, for the windows to ask. An error of the
  // writer or of the scratch file is returned; the base's damage is not an
  // error (its files are read again).
  Result<TakenOverFiles> TakeOver(const WalkedStream& stream,
                                  const WalkedEntries& apart,
                                  format::ContainerWriter* writer,
                                  const TakeOverOptions& options,
                                  TakeOverStats* stats);

 private:
  BaseStore() = default;

  std::string path_;
  std::unique_ptr<format::ContainerReader> reader_;
  uint64_t lost_entries_ = 0;
  // When the base's capture began (its "created" property); a base without
  // it takes nothing over.
  std::optional<int64_t> created_ns_;
};

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_BASE_STORE_H_
