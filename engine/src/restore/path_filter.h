// Extract's --include and --exclude (UsmtUtils /i and /e): globs over store
// paths, with "include beats exclude" (extract.h has the user's view).
//
// A glob is compiled with the native rules language's pattern syntax
// (docs/rules.md: '*', '?', "[...]", "**", '\' escapes); one without '/'
// stands for "**/GLOB", a name in any folder. A glob may also be a list
// separated by ',' or ';' ("*.txt; *.pdf"), as UsmtUtils takes them.
//
// Thread safety: immutable once built.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_PATH_FILTER_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_PATH_FILTER_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/src/rules/pattern.h"
#include "migstore/result.h"

namespace migstore::restore {

class PathFilter {
 public:
  // InvalidArgument, naming the glob, when one does not parse.
  static Result<PathFilter> Make(const std::vector<std::string>& include,
                                 const std::vector<std::string>& exclude);

  // Whether the entry at `path` is taken. A directory is taken as a file
  // of its name would be: "Documents/**" takes the empty folders below.
  bool Takes(std::string_view path) const;
  // True when neither list has anything: everything is taken.
  bool everything() const { return include_.empty() && exclude_.empty(); }

 private:
  struct Compiled {
    internal::Glob node;  // matches the slashed folder ("/a/b")
    internal::Glob leaf;  // matches the name
  };
  static bool Matches(const std::vector<Compiled>& globs,
                      std::string_view path);
  static Status Add(std::string_view text, std::vector<Compiled>* out);

  std::vector<Compiled> include_;
  std::vector<Compiled> exclude_;
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_PATH_FILTER_H_
