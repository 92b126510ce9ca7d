// The capture walk: every entry under the root that the matcher takes,
// found in parallel (a TBB task per directory) and pruned by the rules.
//
// - A directory is entered only if MayTakeBelow says something below it can
//   be taken; entries the rules do not take cost a readdir record and no
//   system call of their own (d_type tells a directory from a file).
// - Symlinks are recorded as links (their target bytes), never followed; a
//   directory is opened with openat2(RESOLVE_NO_SYMLINKS), so one swapped for
//   a link mid-walk cannot lead outside the root.
// - Fifos are recorded; sockets and devices are skipped with a note.
// - Below a selected profile's home, a mount point is not crossed unless
//   asked (it is noted); above homes it is (an old disk's /home may be its
//   own mount).
// - Entries listed in `exclude` (by device and inode: the store being
//   written, a file or a hard-link store's directory) are left out; an
//   excluded directory is not entered.
// - `on_file`, when set, sees every regular file taken, on the walk thread
//   that found it, with a handle on its directory (a hard-link capture
//   links it into the store there).
// - Every directory on the way to a taken entry is recorded too, so a
//   restore recreates it with its own mode, owner and times.
// - An unreadable directory or entry is an error for the per-file policy;
//   the walk goes on.
// - Given a scratch file (WalkOptions::spill), each thread sorts what it
//   holds into runs there and the result merges them as it is read, so a
//   walk of millions of entries holds a window of them, and its directories
//   (docs/design.md, "Bounded memory"). A directory is kept when the rules
//   take it or something kept lies below it: entries mark their ancestors
//   as they are found.
//
// Thread safety: Walk runs its own tasks; call it from one thread.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_WALK_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_WALK_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "format/catalog.h"
#include "format/spill_file.h"
#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/result.h"

namespace migstore::capture {

// One entry the walk found. A capture holds one per entry for a while, so
// it is kept small (docs/performance.md, "Scaling"): what only symlinks and
// entries with xattrs carry lives out of line, and the rest fits 128 bytes,
// four to a 512-byte deque node.
struct WalkedEntry {
  const std::string& symlink_target() const {
    return extra.get().symlink_target;
  }
  const std::vector<format::Xattr>& xattrs() const {
    return extra.get().xattrs;
  }
  std::optional<int64_t> btime() const {
    return has_btime ? std::optional<int64_t>(btime_ns) : std::nullopt;
  }
  // 512-byte blocks allocated: tells a sparse file (DataBytes). Held to 32
  // bits: beyond 2 TiB a dense file only looks sparse, and its data ranges
  // are then asked for and found whole.
  uint64_t blocks() const { return blocks_; }
  void set_blocks(uint64_t b) {
    blocks_ = static_cast<uint32_t>(std::min<uint64_t>(b, UINT32_MAX));
  }
  // Only "more than one" is ever asked.
  void set_nlink(uint64_t n) {
    nlink = static_cast<uint16_t>(std::min<uint64_t>(n, UINT16_MAX));
  }

  std::string path;           // root-relative, raw bytes
  format::EntryExtras extra;  // null: no symlink target, no xattrs
  uint64_t size = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t mtime_ns = 0;
  int64_t atime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t btime_ns = 0;  // when has_btime
  // Set by a hard-link capture's on_file: the inode of the file's link (or
  // copy) in the store.
  uint64_t store_ino = 0;
  uint32_t blocks_ = 0;  // set_blocks()
  uint32_t uid = 0;
  uint32_t gid = 0;
  int32_t profile = -1;  // Machine::profiles index, -1 outside every profile
  uint16_t mode = 0;     // st_mode & 07777
  uint16_t nlink = 1;    // set_nlink(): at most 65535
  format::EntryType type = format::EntryType::kFile;
  bool taken = true;  // false: a directory kept only as an ancestor
  bool has_btime = false;
};
static_assert(sizeof(WalkedEntry) <= 128,
              "a walked entry must stay four to a deque node");

// Entries of a walk, in path order. A deque, not a vector: a capture
// takes them from the front a window at a time, and the memory of what it
// has taken goes back as it goes (docs/design.md, "Bounded memory").
using WalkedEntries = std::deque<WalkedEntry>;

// The walk's entries in path order, handed over a window at a time: from
// memory, or merged from the sorted runs the walk wrote to a scratch file
// (WalkOptions::spill), decoding no more than what is taken.
class WalkedStream {
 public:
  WalkedStream();
  ~WalkedStream();
  WalkedStream(WalkedStream&&) noexcept;
  WalkedStream& operator=(WalkedStream&&) noexcept;

  // Moves up to `n` of the next entries to the back of *out. Corruption or
  // IOError when the scratch file cannot be read back.
  Status Take(size_t n, WalkedEntries* out);
  // Everything not yet taken.
  Result<WalkedEntries> TakeAll();
  // Calls `fn` with every entry in order, leaving them to be taken: an
  // incremental capture matches the whole walk against its base before the
  // first window (docs/design.md, "Incremental capture in windows"). Only
  // before anything is taken (else InvalidArgument); stops at the first
  // error `fn` returns.
  Status ForEach(const std::function<Status(const WalkedEntry&)>& fn) const;

  bool empty() const;
  uint64_t count() const { return count_; }            // entries in all
  uint64_t path_bytes() const { return path_bytes_; }  // of their paths
  // The number of sorted runs merged (0: held in memory).
  size_t runs() const;

 private:
  friend class StreamBuilder;
  struct Merged;

  WalkedEntries held_;
  std::unique_ptr<Merged> merged_;  // null: held_
  bool taken_ = false;              // Take has been called
  uint64_t count_ = 0;
  uint64_t path_bytes_ = 0;
};

// The owners of every entry walked, for the store's tables of names.
struct Owners {
  std::set<uint32_t> uids;
  std::set<uint32_t> gids;
};

// Sets `e`'s status fields (mode, owner, size, device, inode, times) from
// a statx result.
void FillFromStatx(const struct statx& sx, WalkedEntry* e);

// Something the walk could not take, for the per-file error policy.
struct WalkError {
  std::string path;
  Status status;
};

// Something left out on purpose: a socket, a device, a mount point.
struct WalkNote {
  std::string path;
  std::string what;
};

struct WalkOptions {
  std::string root;
  const Machine* machine = nullptr;
  const Matcher* matcher = nullptr;
  bool cross_mounts = false;
  // Enter no mount point whose filesystem is on the network or removable
  // (fs/locality.h; ScanState /localonly).
  bool local_only = false;
  // (device, inode) of entries never to take or enter: the store and its
  // temporary.
  std::set<std::pair<uint64_t, uint64_t>> exclude;
  // Read the extended attributes of regular files (a hard-link capture does
  // not: the link carries them).
  bool file_xattrs = true;
  // Called for each regular file taken, from the walk thread that found it
  // (so it must be thread-safe), with a handle on its directory, opened
  // below the root without following symlinks, and the file's name there.
  // It may update the entry. NotFound: the file went away, leave it out
  // quietly; any other error makes it an error for the per-file policy.
  std::function<Status(int dir_fd, const char* name, WalkedEntry* entry)>
      on_file;
  // Set from another thread to stop early; the walk returns Cancelled.
  const std::atomic<bool>* cancel = nullptr;
  // Called once per directory read, from any walk thread (for progress and
  // cancellation polling; must be thread-safe).
  std::function<void()> tick;
  // When set, a walk thread holding `run_entries` entries sorts them and
  // writes them to this scratch file as a run (format/sorted_runs.h), and
  // the result's stream merges the runs: the walk holds no more than that
  // per thread, and its directories. Not touched after Walk returns, but
  // read by the stream: it must outlive the result.
  format::SpillFile* spill = nullptr;
  size_t run_entries = 65536;
  // Called for each regular file taken, after on_file, from the walk thread
  // that found it (so it must be thread-safe): true holds it apart from the
  // stream, in WalkResult::apart.
  std::function<bool(const WalkedEntry&)> set_apart;
};

struct WalkResult {
  WalkedStream entries;           // in path order
  WalkedEntries apart;            // set_apart's, sorted by path
  Owners owners;                  // of `entries` and `apart`
  std::vector<WalkError> errors;  // sorted by path
  std::vector<WalkNote> notes;    // sorted by path
  uint64_t directories_read = 0;
};

// Walks options.root. Fails only when the root itself cannot be opened, or
// on cancellation; everything else is an entry, an error or a note.
// Runs on the calling thread's TBB arena (a capture sets its thread count).
Result<WalkResult> Walk(const WalkOptions& options);

// Tests only: list extended attributes through /proc/self/fd even where the
// kernel has listxattrat(2), so the path older kernels take is tested on
// newer ones too (`false` goes back to asking the kernel).
void UseProcfsXattrsForTesting(bool on);

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_WALK_H_
