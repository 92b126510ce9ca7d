// The restore plan: for every entry to restore, where it goes below the
// target and what happens there, decided before anything is written.
//
// Made serially in catalog order, a window of the catalog at a time
// (store_catalog.h), so every decision is reproducible and later entries
// see earlier ones, in earlier windows too:
//
//   1. the store path must be safe (safe_path.h);
//   2. --map-user moves it into the new user's profile folder, and then
//      <locationModify> may send it elsewhere; the result must be safe too.
//      The rules are bound to the users where they land (a mapped user's
//      variables name its destination folders), so they are asked about
//      the mapped path: a user's rules apply the same mapped or not;
//   3. a folder an earlier decision renamed or skipped takes its contents
//      along;
//   4. the destination must not pass through a symlink or a file the store
//      itself creates (a symlink "a" -> /etc followed by "a/passwd");
//   5. what the target already holds there (looked up below the target
//      without following symlinks: a symlink in the target on the way is
//      refused): nothing, the same entry already restored ("identical": an
//      interrupted run is finished, not redone), a folder to merge into, or
//      a conflict, settled by the most specific <merge> rule or else the
//      conflict policy;
//   6. two entries of the store meeting at one destination (a user mapped
//      onto another, ExactMove) are a conflict too: the first keeps the
//      name, the later one is renamed (or skipped under skip);
//   7. hard-link groups: the first member written is the leader, the others
//      become links to it; every member of a group whose members disagree
//      (Catalog::bad_link_groups) is refused;
//   8. owners: the target's numbers (target_accounts.h).
//
// Thread safety: a Planner reads the target and the store's tables; call it
// from one thread. Items are values (movable, not copyable).

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_PLAN_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_PLAN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "engine/src/restore/store_catalog.h"
#include "engine/src/restore/target_accounts.h"
#include "format/catalog.h"
#include "migstore/file_issue.h"
#include "migstore/matcher.h"
#include "migstore/restore.h"

namespace migstore::restore {

enum class Action : uint8_t {
  kWrite,      // make it (replacing a non-directory when `replace`)
  kLink,       // a hard link to the leader's file (replacing when `replace`)
  kMerge,      // a directory that is already there: only its metadata
  kSkip,       // leave what is there (a conflict kept, a folder skipped)
  kIdentical,  // already there, the same: nothing to do
  kRefuse,     // cannot be restored: error() says why
};

// What few items need: most land at their own path, for no reason worth
// telling, without error. A million items holding these inline were 112
// bytes each; kept apart, an item is 48 (docs/performance.md, "Scaling").
struct ItemDetail {
  std::string dest;    // where it goes, when not at its entry's path
  std::string reason;  // for the plan's readers
  Status error;        // kRefuse
  // kLink whose leader was planned in an earlier window: the leader's
  // destination (Item::leader is then -1).
  std::string leader_dest;
};

struct Item {
  uint32_t entry = 0;  // index into the catalog's entries
  uint32_t uid = 0;    // the target's owner and group
  uint32_t gid = 0;
  Action action = Action::kWrite;
  bool replace = false;  // the write replaces a non-directory
  bool renamed = false;  // a conflict moved it to "name (N).ext"
  bool moved = false;    // a <locationModify> rule moved it
  // Where it goes below the target: DestOf(). True: at its entry's path,
  // which the plan then does not hold a second time.
  bool dest_is_path = false;
  // The reasons a whole plan may give every item (a run again over its own
  // restore finds everything "already there"), kept here rather than as a
  // detail each: reason() tells them.
  enum class StockReason : uint8_t { kNone, kAlreadyThere, kSameFolder };
  StockReason stock_reason = StockReason::kNone;
  // The first member of its hard-link group to be placed (written, or
  // already there): the others link to it.
  bool leads = false;
  // kLink: the item of the same window whose file it links to; -1: the
  // leader is an earlier window's (ItemDetail::leader_dest).
  int64_t leader = -1;
  const format::Content* content = nullptr;  // files with data
  std::unique_ptr<ItemDetail> detail;        // null: nothing to say

  ItemDetail& mutable_detail() {
    if (detail == nullptr) detail = std::make_unique<ItemDetail>();
    return *detail;
  }
  const std::string& reason() const;
  const Status& error() const;
};

// Where the item goes below the target; empty for an item refused before
// its destination was known.
const std::string& DestOf(const Item& item,
                          const std::vector<format::Entry>& entries);

// What a restore does when the destination is taken (ConflictPolicy), plus
// extract's rule: an error unless --overwrite.
enum class Conflicts : uint8_t { kRename, kOverwrite, kSkip, kNewer, kError };

// A profile of the store as the plan sees it.
struct PlanProfile {
  bool selected = true;
  std::string home;       // in the store
  std::string dest_home;  // where it lands (differs when mapped)
  // Known folders and the home where they land (below dest_home when they
  // were below home), root-relative, for Move's "longest CSIDL".
  std::vector<std::string> folders;
};

struct PlanInput {
  // By profile number (0: no profile).
  std::vector<PlanProfile> profiles;
  std::vector<std::string> system_folders;
  bool fold = false;  // windows layout: folders compare case-insensitively
  // <merge>, <locationModify>, bound to the users where they land; may be
  // null.
  const Matcher* rules = nullptr;
  // Target files <destinationCleanup> deletes before the apply (their
  // paths below the target): counted as gone. Null: none.
  const std::unordered_set<std::string>* cleaned = nullptr;
  int target_fd = -1;  // -1: the target does not exist yet (dry run)
  Conflicts conflicts = Conflicts::kRename;
  // The damaged link groups: their members are refused. Null: none.
  const Catalog* catalog = nullptr;
  OwnerMap* owners = nullptr;  // null: owners are not set
  // The bytes of claimed destinations held in memory before they are
  // written to a scratch file (Claims; RestoreOptions::claim_memory); 0:
  // all in memory.
  size_t claim_memory = 0;
};

// Plans a store's entries window by window. What a decision depends on
// across windows is kept here (the destinations given out, the folders
// renamed or skipped, the hard-link leaders, the target probe); the
// windows' entries and items are the caller's. `input` must outlive it.
class Planner {
 public:
  explicit Planner(const PlanInput& input);
  ~Planner();
  Planner(const Planner&) = delete;
  Planner& operator=(const Planner&) = delete;

  // Plans entries[order[k]] for each k, in order (catalog order, after
  // every entry of earlier windows): item k's `entry` is order[k], its
  // `content` a record of `contents`. An error only when the scratch file
  // of the claimed destinations fails; the plan is then abandoned.
  Result<std::vector<Item>> PlanWindow(
      const std::vector<format::Entry>& entries,
      const std::vector<uint32_t>& order, const ContentTable& contents);
  // The plan's notes (each told once per run) since the last call.
  std::vector<FileNote> TakeNotes();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "create", "overwrite", "rename", "link", "merge", "skip", "identical",
// "refuse": the action as PlannedEntry names it.
const char* ActionName(const Item& item);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_PLAN_H_
