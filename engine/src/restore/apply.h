// Carrying out a restore plan below the target, safely, a window of the
// plan at a time (plan.h); steps 1 and 2 per window, 3 and 4 once every
// window's files are in place:
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
// What steps 3 and 4 need is kept (the entry and item copied) from each
// window: a store's symlinks, fifos and folders are few beside its files.
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
#include <unordered_set>
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
  // BlockPool's bound. Blocks shared by files of several windows (copies
  // stored once) stay while they fit, else are opened again.
  uint64_t block_memory = uint64_t{256} << 20;
  bool link_back = false;
  // A restore's: every file written or linked that carries setuid or
  // setgid bits or file capabilities is noted (privileges.h), and, with
  // `strip_privileges`, restored without them. An extract's mode_mask and
  // set_xattrs already leave them out.
  bool note_privileges = false;
  bool strip_privileges = false;
};

struct ApplyCallbacks {
  // The item of store path `path` failed. Returns false when the run must
  // stop (no continue_on_error); the applier then starts nothing new.
  std::function<bool(const std::string& path, const Status& error)> error;
  std::function<void(const std::string& path, const std::string& what)> note;
  // Data bytes written and files finished since the last call.
  std::function<void(uint64_t bytes, uint64_t files)> progress;
  std::function<bool()> cancelled;
};

// Adds to uses[b] a use for each file of `items` that ApplyWindow writes
// from block b: counted over the whole plan before the first window, so
// that the pool keeps a block until its last file is written.
void CountBlockUses(const std::vector<format::Entry>& entries,
                    const std::vector<Item>& items,
                    std::vector<uint32_t>* uses);

class Applier {
 public:
  // `block_uses`: CountBlockUses over every window of the plan, sized to
  // the store's block count.
  Applier(const ApplyOptions& options, std::vector<uint32_t> block_uses,
          ApplyCallbacks callbacks);
  ~Applier();

  // Steps 1 and 2 for a window: its folders, files and hard-link members
  // (whose leaders are in this window or an earlier one). Its symlinks,
  // fifos and folders are kept for Finish. Returns at once once stopped.
  void ApplyWindow(const std::vector<format::Entry>& entries,
                   std::vector<Item>* items);
  // Steps 3 (unless stopped) and 4 (always: folders made must not stay
  // 0700) for everything kept.
  void Finish();

  // Starts nothing new from now on, as after an error that stops the run
  // (the caller's own: a window that could not be read).
  void Stop() { stop_.store(true); }
  bool stopped() const { return stop_.load(); }
  uint64_t blocks_opened() const;
  int temporaries_removed() const { return temporaries_removed_; }
  // Files restored that carried setuid or setgid bits or file
  // capabilities (with them, or stripped of them), each noted.
  uint64_t privileged_files() const { return privileged_files_.load(); }
  // For the items of the window last applied: whether one is in place (or
  // was already), and whether it was kept for Finish instead (then it is
  // told among kept_items()).
  bool done(size_t item) const { return done_[item] != 0; }
  bool kept(size_t item) const { return kept_[item] != 0; }
  // After Finish: the items kept, with their entries (kept_items()[i].entry
  // indexes kept_entries()); done(i) tells of kept_items()[i].
  const std::vector<format::Entry>& kept_entries() const {
    return kept_entries_;
  }
  const std::vector<Item>& kept_items() const { return kept_items_; }

 private:
  class DirCache;

  void MakeFolders();
  void WriteFiles();
  // Hard-link members, and (`specials`) symlinks and fifos.
  void MakeLinksAndSpecials(bool specials);
  void FinishFolders();
  // Moves the window's symlinks, fifos and folders to the kept items.
  void KeepForFinish();
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
    return DestOf(item, *entries_);
  }
  const format::Entry& EntryOf(const Item& item) const {
    return (*entries_)[item.entry];
  }

  const ApplyOptions o_;
  ApplyCallbacks cb_;
  std::atomic<bool> stop_{false};
  // The window being applied (or, in Finish, the kept items).
  const std::vector<format::Entry>* entries_ = nullptr;
  std::vector<Item>* items_ = nullptr;
  std::vector<uint8_t> done_;  // written by one task per item
  std::vector<uint8_t> kept_;
  std::vector<format::Entry> kept_entries_;
  std::vector<Item> kept_items_;
  std::vector<uint8_t> kept_done_;
  // Hard-link groups whose leader, in an earlier window, was not restored.
  std::unordered_set<uint64_t> failed_leaders_;
  std::set<std::string> made_;         // folders known to exist
  std::set<std::string> preexisting_;  // ... of which were there before
  std::set<std::string> scanned_;      // ... whose temporaries were removed
  // LOCK_EX on the target folder, held for the run when no other restore
  // holds it: then every temporary in the target is a dead run's.
  UniqueFd target_lock_;
  std::unique_ptr<BlockPool> pool_;
  int temporaries_removed_ = 0;
  std::atomic<uint64_t> privileged_files_{0};
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_APPLY_H_
