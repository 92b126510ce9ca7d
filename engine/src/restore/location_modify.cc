#include "engine/src/restore/location_modify.h"

#include "engine/src/restore/safe_path.h"

namespace migstore::restore {
namespace {

// Trims blanks at both ends of a component (USMT ignores them: "C:\Dir1\ *").
std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

Result<UsmtLocation> ParseUsmtLocation(std::string_view text) {
  // Unescape while finding the leaf's '[' and final ']'.
  std::string node_raw, leaf;
  bool in_leaf = false, has_leaf = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '^' && i + 1 < text.size()) {
      (in_leaf ? leaf : node_raw).push_back(text[++i]);
      continue;
    }
    if (!in_leaf && c == '[') {
      in_leaf = has_leaf = true;
      continue;
    }
    if (in_leaf && c == ']') {
      if (!TrimBlanks(text.substr(i + 1)).empty()) {
        return Status::InvalidArgument("text after the leaf of location", text);
      }
      in_leaf = false;
      break;
    }
    (in_leaf ? leaf : node_raw).push_back(c);
  }
  if (in_leaf) return Status::InvalidArgument("unclosed '[' in location", text);
  std::string_view node = TrimBlanks(node_raw);
  // A drive ("C:") is the root.
  if (node.size() >= 2 && node[1] == ':' &&
      ((node[0] >= 'A' && node[0] <= 'Z') ||
       (node[0] >= 'a' && node[0] <= 'z'))) {
    node.remove_prefix(2);
  }
  UsmtLocation out;
  size_t start = 0;
  while (start <= node.size()) {
    size_t end = node.find_first_of("\\/", start);
    if (end == std::string_view::npos) end = node.size();
    std::string_view part = TrimBlanks(node.substr(start, end - start));
    if (!part.empty()) out.node = JoinPath(out.node, part);
    start = end + 1;
  }
  if (has_leaf) {
    if (leaf.empty() || leaf.find('/') != std::string::npos ||
        leaf.find('\\') != std::string::npos) {
      return Status::InvalidArgument("bad leaf in location", text);
    }
    out.has_leaf = true;
    out.leaf = std::move(leaf);
  }
  return out;
}

Result<std::string> Relocate(const RestoreDirective& rule,
                             std::string_view path,
                             const std::vector<std::string>& folders,
                             bool fold) {
  auto arg = [&](size_t i) -> Result<UsmtLocation> {
    if (rule.args.size() <= i) {
      return Status::InvalidArgument(rule.script, "too few arguments");
    }
    return ParseUsmtLocation(rule.args[i]);
  };
  if (rule.function == "Move") {
    MIGSTORE_ASSIGN_OR_RETURN(UsmtLocation dst, arg(0));
    if (dst.has_leaf) {
      return Status::InvalidArgument(rule.script,
                                     "Move takes a folder, not a leaf");
    }
    // Below the longest known folder that holds the entry.
    size_t best = 0;
    bool found = false;
    for (const std::string& f : folders) {
      if (f.size() < path.size() && IsAtOrBelow(path, f, fold) &&
          (!found || f.size() > best)) {
        best = f.size();
        found = true;
      }
    }
    std::string_view rel =
        found ? path.substr(best + (best > 0 ? 1 : 0)) : path;
    return JoinPath(dst.node, rel);
  }
  if (rule.function == "RelativeMove") {
    MIGSTORE_ASSIGN_OR_RETURN(UsmtLocation src, arg(0));
    MIGSTORE_ASSIGN_OR_RETURN(UsmtLocation dst, arg(1));
    if (src.has_leaf || dst.has_leaf) {
      return Status::InvalidArgument(rule.script,
                                     "RelativeMove takes folders, not leaves");
    }
    if (!IsAtOrBelow(path, src.node, fold) || path.size() == src.node.size()) {
      return std::string(path);  // not under SourceRoot: stays
    }
    std::string_view rel =
        path.substr(src.node.size() + (src.node.empty() ? 0 : 1));
    return JoinPath(dst.node, rel);
  }
  if (rule.function == "ExactMove") {
    MIGSTORE_ASSIGN_OR_RETURN(UsmtLocation dst, arg(0));
    if (dst.has_leaf) return JoinPath(dst.node, dst.leaf);
    return JoinPath(dst.node, NameOf(path));
  }
  return Status::InvalidArgument(
      rule.script,
      "is not a locationModify helper migstore runs (Move, "
      "RelativeMove, ExactMove)");
}

}  // namespace migstore::restore
