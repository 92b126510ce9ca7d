#include "engine/src/restore/path_filter.h"

#include "engine/src/rules/native_pattern.h"

namespace migstore::restore {

Status PathFilter::Add(std::string_view text, std::vector<Compiled>* out) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of(",;", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view one = text.substr(start, end - start);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t'))
      one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t'))
      one.remove_suffix(1);
    start = end + 1;
    if (one.empty()) continue;
    std::string glob(one);
    while (!glob.empty() && glob.front() == '/') glob.erase(0, 1);
    if (glob.find('/') == std::string::npos) glob = "**/" + glob;
    std::vector<internal::PatternParts> parts;
    internal::NativePatternError error;
    if (!internal::ParseNativePattern(glob, &parts, &error)) {
      return Status::InvalidArgument("bad glob '" + std::string(one) + "'",
                                     error.message);
    }
    for (internal::PatternParts& p : parts) {
      Compiled c;
      c.node = internal::Glob(std::move(p.node));
      c.leaf = internal::Glob(std::move(p.leaf));
      out->push_back(std::move(c));
    }
  }
  return Status::OK();
}

Result<PathFilter> PathFilter::Make(const std::vector<std::string>& include,
                                    const std::vector<std::string>& exclude) {
  PathFilter f;
  for (const std::string& g : include)
    MIGSTORE_RETURN_IF_ERROR(Add(g, &f.include_));
  for (const std::string& g : exclude)
    MIGSTORE_RETURN_IF_ERROR(Add(g, &f.exclude_));
  return f;
}

bool PathFilter::Matches(const std::vector<Compiled>& globs,
                         std::string_view path) {
  // Globs match slashed folders ("/a/b") and bare names.
  std::string slashed = "/" + std::string(path);
  size_t slash = slashed.rfind('/');
  std::string_view dir = std::string_view(slashed).substr(0, slash);
  std::string_view name = std::string_view(slashed).substr(slash + 1);
  for (const Compiled& c : globs) {
    if (c.node.Match(dir) && c.leaf.Match(name)) return true;
  }
  return false;
}

bool PathFilter::Takes(std::string_view path) const {
  if (Matches(include_, path)) return true;
  return include_.empty() && !Matches(exclude_, path);
}

}  // namespace migstore::restore
