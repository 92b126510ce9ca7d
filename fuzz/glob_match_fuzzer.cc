// Compiles arbitrary bytes as a pattern of both languages (native rules and
// USMT "Node [Leaf]") and matches it against a path. The input is the
// pattern, a '\n', then a root-relative path (which is split into its
// directory and its name, as the matcher does).
// Properties, with and without case folding:
//   - MakePattern's split (anchor, node kind, rest, leaf kind) decides a
//     directory and a name exactly as the whole node and leaf globs do;
//   - Glob::MayMatchAtOrBelow is true for every ancestor of a directory
//     the node glob matches (the walk prunes on it);
//   - a glob that matches a text matches it after case folding when the
//     glob is folded too.

#include <string>
#include <string_view>
#include <vector>

#include "engine/base/case_fold.h"
#include "engine/src/rules/glob.h"
#include "engine/src/rules/native_pattern.h"
#include "engine/src/rules/pattern.h"
#include "engine/src/rules/usmt_pattern.h"
#include "fuzz/fuzz_target.h"

using namespace migstore::internal;

namespace {

// What the compiled form says about directory `dir` (slashed): the anchor
// must be a whole-segment prefix, and the rest must fit the node kind.
bool CompiledNodeMatches(const CompiledPattern& p, std::string_view dir) {
  if (dir.substr(0, p.anchor.size()) != p.anchor) return false;
  std::string_view rest = dir.substr(p.anchor.size());
  if (!rest.empty() && rest[0] != '/') return false;
  switch (p.node_kind) {
    case CompiledPattern::NodeKind::kExact:
      return rest.empty();
    case CompiledPattern::NodeKind::kSubtree:
      return true;
    case CompiledPattern::NodeKind::kGlob:
      return p.node_rest.Match(rest);
  }
  return false;
}

void CheckAncestors(const Glob& node, std::string_view dir) {
  // "/a/b" has the ancestors "", "/a" and itself.
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/')
      FUZZ_ASSERT(node.MayMatchAtOrBelow(dir.substr(0, i)));
  }
}

void Check(const PatternParts& parts, bool fold, std::string_view dir,
           std::string_view name, std::string_view whole) {
  Glob node(parts.node);
  Glob leaf(parts.leaf);
  std::string fdir(dir), fname(name), fwhole(whole);
  if (fold) {
    // An unfolded match must survive folding both sides.
    bool node_dir = node.Match(dir), node_whole = node.Match(whole);
    bool leaf_name = leaf.Match(name);
    node.FoldCase();
    leaf.FoldCase();
    fdir = FoldedCopy(dir);
    fname = FoldedCopy(name);
    fwhole = FoldedCopy(whole);
    FUZZ_ASSERT(!node_dir || node.Match(fdir));
    FUZZ_ASSERT(!node_whole || node.Match(fwhole));
    FUZZ_ASSERT(!leaf_name || leaf.Match(fname));
  }
  CompiledPattern p = MakePattern(parts, fold, 0);
  for (std::string_view d :
       {std::string_view(fdir), std::string_view(fwhole)}) {
    bool matches = node.Match(d);
    FUZZ_ASSERT(CompiledNodeMatches(p, d) == matches);
    if (matches) CheckAncestors(node, d);
  }
  if (parts.has_leaf) {
    FUZZ_ASSERT(p.LeafMatches(fname) == leaf.Match(fname));
  } else {
    FUZZ_ASSERT(!p.LeafMatches(fname));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view pattern = in.substr(0, nl);
  std::string_view path =
      nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  // "a/b/c": directory "/a/b" (slashed), name "c"; and "/a/b/c" as a
  // directory itself.
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string_view::npos
                        ? ""
                        : "/" + std::string(path.substr(0, slash));
  std::string_view name =
      slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::string whole = path.empty() ? "" : "/" + std::string(path);

  std::vector<PatternParts> native;
  NativePatternError native_error;
  if (ParseNativePattern(pattern, &native, &native_error)) {
    FUZZ_ASSERT(!native.empty() && native.size() <= 2);
    for (const PatternParts& parts : native) {
      for (bool fold : {false, true}) Check(parts, fold, dir, name, whole);
    }
  } else {
    FUZZ_ASSERT(native_error.offset <= pattern.size());
  }

  PatternParts usmt;
  UsmtPatternError usmt_error;
  if (ParseUsmtPattern(pattern, &usmt, &usmt_error)) {
    for (bool fold : {false, true}) Check(usmt, fold, dir, name, whole);
  } else {
    FUZZ_ASSERT(usmt_error.offset <= pattern.size());
  }
  return 0;
}
