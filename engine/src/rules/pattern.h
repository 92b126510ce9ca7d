// CompiledPattern: one concrete pattern (variables resolved, root-relative,
// case-folded on windows layouts) split the way the index wants it: a
// literal directory prefix (the anchor), what the rest of the directory
// must look like, and what the entry's name must look like. Specificity is
// what USMT's precedence compares.
//
// Thread safety: plain values.

#ifndef MIGSTORE_ENGINE_SRC_RULES_PATTERN_H_
#define MIGSTORE_ENGINE_SRC_RULES_PATTERN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/rules/glob.h"

namespace migstore::internal {

// How specific a pattern is, in USMT's sense (docs/rules.md, "Precedence").
struct Specificity {
  // Names at least one directory below the root: "C:\Data\* [*]" does,
  // "C:\* [*.mp3]" does not. A pattern that does beats one that does not.
  bool names_directory = false;
  // 2 x directory components, +1 when the node does not recurse.
  uint32_t node = 0;
  // 0 for "*"; 1 + literal bytes for a wildcard name ("*.txt": 5); an exact
  // name (no wildcard) scores above every wildcard name.
  uint32_t leaf = 0;
};

inline constexpr uint32_t kExactLeafScore = 1u << 16;

// Whether an include with specificity `inc` wins against an exclude with
// `exc` in the same component. USMT: a named directory beats an extension;
// otherwise the include must be at least as specific in both the node and
// the leaf and strictly more in one; everything else (equal, or more
// specific one way and less the other) goes to the exclude.
inline bool IncludeBeats(const Specificity& inc, const Specificity& exc) {
  if (inc.names_directory != exc.names_directory) return inc.names_directory;
  return inc.node >= exc.node && inc.leaf >= exc.leaf &&
         (inc.node > exc.node || inc.leaf > exc.leaf);
}

// Leaf score of a leaf glob's tokens (see Specificity::leaf).
uint32_t LeafScore(const std::vector<GlobToken>& leaf);

// What a front end hands over: the node as slashed-directory tokens, the
// leaf tokens, and the pattern's specificity.
struct PatternParts {
  std::vector<GlobToken> node;  // matches "/a/b" for root-relative "a/b"
  std::vector<GlobToken> leaf;
  bool has_leaf = true;        // false: the node names directories only
  bool names_entries = false;  // the leaf also matches directories as entries
  Specificity spec;
};

struct CompiledPattern {
  enum class NodeKind : uint8_t {
    kExact,    // the directory is exactly `anchor`
    kSubtree,  // the directory is `anchor` or below it
    kGlob,     // the directory is `anchor` followed by what node_rest matches
  };
  enum class LeafKind : uint8_t {
    kAny,     // every name
    kNone,    // no leaf: matches directories (as nodes) only
    kExact,   // leaf_text
    kSuffix,  // names ending with leaf_text
    kGlob,    // leaf
  };
  std::string anchor;  // slashed: "/users/alice", "" for the root
  NodeKind node_kind = NodeKind::kExact;
  Glob node_rest;
  LeafKind leaf_kind = LeafKind::kAny;
  std::string leaf_text;
  Glob leaf;
  bool names_entries = false;
  uint32_t rule = 0;  // index of the rule this pattern belongs to

  bool LeafMatches(std::string_view name) const;
  // Whether node_rest ends in kSlashAnyOpt (matches everything below).
  bool NodeRecurses() const;
};

// Splits `parts` into the compiled form; `fold` applies ASCII case folding.
CompiledPattern MakePattern(PatternParts parts, bool fold, uint32_t rule);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_PATTERN_H_
