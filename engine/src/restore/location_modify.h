// USMT <locationModify> at restore (usmt.md §5): where a rule sends an
// entry.
//
//   Move(DestinationRoot)          the entry keeps the folders below the
//                                  longest known folder (CSIDL) holding it,
//                                  under DestinationRoot; outside every known
//                                  folder, its whole path
//   RelativeMove(SourceRoot, DestinationRoot)
//                                  what lies under SourceRoot goes to the same
//                                  place under DestinationRoot; anything else
//                                  stays
//   ExactMove(Location)            to a folder ("C:\Data\Flat"): the entry's
//                                  name in that folder, no subfolders; to a
//                                  leaf ("C:\Data [one.txt]"): exactly there
//
// Arguments arrive expanded (the variables of the rule's user) as USMT
// locations: "C:\Users\alice\Archive", "%SYSTEMDRIVE%"-free. Every drive
// letter means the root, as LoadState sends files from a missing drive to
// the system drive.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_LOCATION_MODIFY_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_LOCATION_MODIFY_H_

#include <string>
#include <string_view>
#include <vector>

#include "migstore/matcher.h"
#include "migstore/result.h"

namespace migstore::restore {

// A USMT location as a root-relative node and, when it has one ("[name]"),
// a leaf. '^' makes the next character literal; '\' or '/' separate.
struct UsmtLocation {
  std::string node;
  bool has_leaf = false;
  std::string leaf;
};
Result<UsmtLocation> ParseUsmtLocation(std::string_view text);

// Where `path` goes. `folders` are the root-relative known folders that
// Move measures from (the entry's user's folders and home, and the system
// folders); `fold` compares them ASCII case-insensitively (windows).
// InvalidArgument for a function that is not a locationModify helper or
// bad arguments.
Result<std::string> Relocate(const RestoreDirective& rule,
                             std::string_view path,
                             const std::vector<std::string>& folders,
                             bool fold);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_LOCATION_MODIFY_H_
