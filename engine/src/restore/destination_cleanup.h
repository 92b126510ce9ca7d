// <destinationCleanup> of files (docs/rules.md, "Restore-time rules"):
// before a restore writes anything, the target's files that a cleanup
// pattern names are deleted, as LoadState does before it applies. Folders
// stay (emptied, when the pattern named all they held): a folder the store
// restores into must still be there for the plan.
//
// Two steps, so that the plan and the deletion agree on every file:
// ScanCleanup, before the plan, lists the files (each with its device and
// inode); the plan counts exactly those as gone; DeleteScanned, once the
// plan has passed, deletes exactly those, each only if it is still the
// same file.
//
// The scan reads only the folders a pattern may reach, opens each below
// the target's handle without following symlinks and never enters another
// mount (a bind mount included); a symlink a pattern names is listed
// itself, never what it points to. The store being restored (`keep`), when
// it lies inside the target, is never listed.
//
// Thread safety: one call at a time per target.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_DESTINATION_CLEANUP_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_DESTINATION_CLEANUP_H_

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "migstore/file_issue.h"
#include "migstore/matcher.h"

namespace migstore::restore {

// (device, inode) of files and folders the cleanup must leave alone.
using FileIds = std::set<std::pair<dev_t, ino_t>>;

struct CleanupScan {
  struct File {
    std::string path;  // below the target
    dev_t dev = 0;
    ino_t ino = 0;
  };
  std::vector<File> files;
  std::unordered_set<std::string> paths;  // the same, for the plan
  std::vector<FileIssue> errors;          // folders that could not be read
};

CleanupScan ScanCleanup(int target_fd, const Matcher& rules,
                        const FileIds& keep);

// Deletes the scanned files still there as they were (a file replaced
// since the scan is left, with a note); errors for those that could not
// be deleted.
struct CleanupResult {
  uint64_t deleted = 0;
  std::vector<FileNote> notes;
  std::vector<FileIssue> errors;
};
CleanupResult DeleteScanned(int target_fd, const CleanupScan& scan);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_DESTINATION_CLEANUP_H_
