// Small read-only filesystem helpers for looking at a root: joining a
// root-relative path to the root, listing and stat'ing, and finding a name
// case-insensitively (a Windows disk copied or mounted on a case-sensitive
// filesystem may spell "Users" or "NTUSER.DAT" any way).
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_FS_ROOT_FS_H_
#define MIGSTORE_ENGINE_SRC_FS_ROOT_FS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/result.h"

namespace migstore::internal {

// root + "/" + rel, without doubling the separator; rel "" is the root.
std::string JoinRoot(std::string_view root, std::string_view rel);

// rel + "/" + name, or name when rel is "".
std::string JoinRel(std::string_view rel, std::string_view name);

struct DirChild {
  std::string name;
  bool is_dir = false;  // lstat: a symlink to a directory is not a dir
  bool is_symlink = false;
};

// The entries of `dir` (absolute), without "." and "..", sorted by name.
// IOError when it cannot be opened.
Result<std::vector<DirChild>> ListChildren(const std::string& dir);

bool IsDirectory(const std::string& path);  // stat, follows symlinks
bool Exists(const std::string& path);       // lstat
// Modification time in ns since the epoch; nullopt when lstat fails.
std::optional<int64_t> MtimeNs(const std::string& path);

// The real spelling of `name` inside `dir` (absolute), compared ASCII
// case-insensitively; an exact match is preferred. nullopt when absent.
std::optional<std::string> FindChildNoCase(const std::string& dir,
                                           std::string_view name);

// Resolves a root-relative '/'-separated path component by component with
// FindChildNoCase; components that do not exist keep the spelling given.
std::string ResolveNoCase(std::string_view root, std::string_view rel);

// True when a '/'-separated path has a "." or ".." component: such a path
// could step out of the root and is refused wherever one is read from a file.
bool HasDotSegment(std::string_view rel);

// Reads a whole file of at most `max_bytes`. IOError when it cannot be read,
// InvalidArgument when it is larger.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_FS_ROOT_FS_H_
