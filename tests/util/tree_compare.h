// Compares two directory trees the way a restore must reproduce one: the
// same entries with the same type, bytes, mode, modification time in ns,
// extended attributes, symlink targets, owners (when asked), hard-link
// groups (entries that share an inode on one side share one on the other),
// and holes (a sparse file does not become dense). Walks with directory
// handles (openat), so paths longer than PATH_MAX below the roots work.

#ifndef MIGSTORE_TESTS_UTIL_TREE_COMPARE_H_
#define MIGSTORE_TESTS_UTIL_TREE_COMPARE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace migstore::testing {

struct TreeCompareOptions {
  bool owners = false;  // compare uid and gid
  // Directories' mtimes (off where a test itself changes the target).
  bool directory_times = true;
  // Relative paths (below both roots) to leave out of the comparison.
  std::vector<std::string> ignore;
};

// "" when `actual` holds exactly what `expected` holds (below the given
// relative directory of each, "" for the roots); else the first difference,
// named by its relative path.
std::string CompareTrees(const std::string& expected, const std::string& actual,
                         const TreeCompareOptions& options = {});

// Every relative path below `root` whose name is a restore temporary
// (".<name>.migtmp-<16 hex>").
std::vector<std::string> FindTemporaries(const std::string& root);

// Whether two open files hold the same bytes from their current offsets on,
// read through fixed buffers (no string the size of the file); false when
// either descriptor is invalid.
bool SameBytes(int fd_a, int fd_b);

// Relative path -> lstat information of every entry below `root`, for tests
// that check nothing changed (a directory outside a restore's target).
struct EntryState {
  uint32_t mode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t ino = 0;
  std::string data;  // files' bytes (small ones), symlinks' targets
  bool operator==(const EntryState&) const = default;
};
std::map<std::string, EntryState> SnapshotTree(const std::string& root);

// "" when `after` has the same entries as `before`, each with the same type,
// mode, size, mtime and data, and regular files with the same inode too
// (hard-link stores keep and link back the very files); else the first
// difference, named by its relative path.
std::string CompareSnapshots(const std::map<std::string, EntryState>& before,
                             const std::map<std::string, EntryState>& after);

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_TREE_COMPARE_H_
