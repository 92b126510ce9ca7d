// <destinationCleanup> of files (docs/rules.md, "Restore-time rules"):
// before a restore writes anything, the target's files that a cleanup
// pattern names are deleted, as LoadState does before it applies. Folders
// stay (emptied, when the pattern named all they held): a folder the store
// restores into must still be there for the plan made before.
//
// Only folders a pattern may reach are read; the walk opens each folder
// below the target's handle without following symlinks and never enters
// another mount (a mount point, a bind mount included, is left alone), so
// nothing outside the target is ever deleted. A symlink a pattern names is
// deleted itself, never what it points to. The store being restored, when
// it lies inside the target, is never touched (`keep`).
//
// Thread safety: one call at a time per target.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_DESTINATION_CLEANUP_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_DESTINATION_CLEANUP_H_

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "migstore/file_issue.h"
#include "migstore/matcher.h"

namespace migstore::restore {

struct CleanupReport {
  uint64_t deleted = 0;            // or, in a dry run, would be
  std::vector<std::string> paths;  // the first few, for the notes
  std::vector<FileIssue> errors;   // files that could not be deleted
};

// (device, inode) of files and folders the walk must leave alone.
using FileIds = std::set<std::pair<dev_t, ino_t>>;

// Deletes the files of the target (`target_fd`) that `rules`' cleanup
// patterns name, but for those of `keep` (and, for a folder of `keep`,
// everything in it); with `dry_run` only counts them.
CleanupReport CleanUpTarget(int target_fd, const Matcher& rules,
                            const FileIds& keep, bool dry_run);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_DESTINATION_CLEANUP_H_
