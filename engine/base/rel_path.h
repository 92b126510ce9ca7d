// Arithmetic on relative paths as stores and rules hold them: byte strings,
// '/'-separated, no leading or trailing '/' ("" is the root). Capture, the
// rules and restore all split and join such paths; none of it touches the
// filesystem or checks safety (restore/safe_path.h does that for paths that
// come from a store).
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_BASE_REL_PATH_H_
#define MIGSTORE_ENGINE_BASE_REL_PATH_H_

#include <algorithm>
#include <string>
#include <string_view>

#include "engine/base/case_fold.h"

namespace migstore {

// "a/b/c" -> "a/b"; "c" -> "".
inline std::string_view ParentOf(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view()
                                         : path.substr(0, slash);
}

// "a/b/c" -> "c".
inline std::string_view NameOf(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// JoinPath("a/b", "c") == "a/b/c"; JoinPath("", "c") == "c".
inline std::string JoinPath(std::string_view dir, std::string_view rest) {
  if (dir.empty()) return std::string(rest);
  if (rest.empty()) return std::string(dir);
  std::string out;
  out.reserve(dir.size() + 1 + rest.size());
  out.append(dir);
  out.push_back('/');
  out.append(rest);
  return out;
}

// Whether `path` is `dir` or lies below it. `fold`: ASCII case-insensitive
// (windows layouts, case_fold.h).
inline bool IsAtOrBelow(std::string_view path, std::string_view dir,
                        bool fold) {
  if (dir.empty()) return true;
  if (path.size() < dir.size()) return false;
  const std::string_view head = path.substr(0, dir.size());
  if (fold ? !internal::EqualsFolded(head, dir) : head != dir) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

// `path` moved from below `from` to below `to`: "Users/alice/x" from
// "Users/alice" to "Users/alice2" is "Users/alice2/x", and `from` itself is
// `to`. A path not at or below `from` is returned as it is. `fold` as
// IsAtOrBelow.
inline std::string Rebased(std::string_view path, std::string_view from,
                           std::string_view to, bool fold) {
  if (!IsAtOrBelow(path, from, fold)) return std::string(path);
  if (from.empty()) return JoinPath(to, path);
  return JoinPath(to, path.substr(std::min(path.size(), from.size() + 1)));
}

}  // namespace migstore

#endif  // MIGSTORE_ENGINE_BASE_REL_PATH_H_
