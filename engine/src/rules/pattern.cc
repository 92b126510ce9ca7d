#include "engine/src/rules/pattern.h"

#include "engine/base/case_fold.h"

namespace migstore::internal {

using Type = GlobToken::Type;

uint32_t LeafScore(const std::vector<GlobToken>& leaf) {
  uint32_t literal = 0;
  bool wildcard = false;
  for (const GlobToken& t : leaf) {
    if (t.type == Type::kLiteral) {
      literal += static_cast<uint32_t>(t.text.size());
    } else if (t.type == Type::kQuestion || t.type == Type::kClass) {
      literal += 1;  // names one byte, if not which
      wildcard = true;
    } else {
      wildcard = true;
    }
  }
  if (leaf.empty()) return 0;
  if (!wildcard) return kExactLeafScore + literal;
  return literal == 0 ? 0 : 1 + literal;
}

bool CompiledPattern::LeafMatches(std::string_view name) const {
  switch (leaf_kind) {
    case LeafKind::kAny:
      return true;
    case LeafKind::kNone:
      return false;
    case LeafKind::kExact:
      return name == leaf_text;
    case LeafKind::kSuffix:
      return name.size() >= leaf_text.size() &&
             name.substr(name.size() - leaf_text.size()) == leaf_text;
    case LeafKind::kGlob:
      return leaf.Match(name);
  }
  return false;
}

bool CompiledPattern::NodeRecurses() const {
  const auto& t = node_rest.tokens();
  return !t.empty() && t.back().type == Type::kSlashAnyOpt;
}

CompiledPattern MakePattern(PatternParts parts, bool fold, uint32_t rule) {
  CompiledPattern p;
  p.rule = rule;
  p.names_entries = parts.names_entries;
  Glob node(std::move(parts.node));
  if (fold) node.FoldCase();
  std::vector<GlobToken> rest = node.tokens();

  // The anchor: the longest run of whole literal segments at the start.
  if (!rest.empty() && rest[0].type == Type::kLiteral) {
    const std::string& lit = rest[0].text;
    bool whole = rest.size() == 1 || rest[1].type == Type::kSlashAnyOpt ||
                 rest[1].type == Type::kSlashAnyDirs || lit.back() == '/';
    size_t cut = whole ? lit.size() : lit.rfind('/');
    if (cut == std::string::npos) cut = 0;
    if (whole && lit.back() == '/') cut = lit.size() - 1;
    p.anchor = lit.substr(0, cut);
    std::string remainder = lit.substr(cut);
    if (remainder.empty()) {
      rest.erase(rest.begin());
    } else {
      rest[0].text = remainder;
    }
  }
  if (rest.empty()) {
    p.node_kind = CompiledPattern::NodeKind::kExact;
  } else if (rest.size() == 1 && rest[0].type == Type::kSlashAnyOpt) {
    p.node_kind = CompiledPattern::NodeKind::kSubtree;
    p.node_rest = Glob(rest);
  } else {
    p.node_kind = CompiledPattern::NodeKind::kGlob;
    p.node_rest = Glob(rest);
  }

  Glob leaf(std::move(parts.leaf));
  if (fold) leaf.FoldCase();
  const auto& lt = leaf.tokens();
  if (!parts.has_leaf) {
    p.leaf_kind = CompiledPattern::LeafKind::kNone;
  } else if (lt.size() == 1 && lt[0].type == Type::kStar) {
    p.leaf_kind = CompiledPattern::LeafKind::kAny;
  } else if (lt.size() == 1 && lt[0].type == Type::kLiteral) {
    p.leaf_kind = CompiledPattern::LeafKind::kExact;
    p.leaf_text = lt[0].text;
  } else if (lt.size() == 2 && lt[0].type == Type::kStar &&
             lt[1].type == Type::kLiteral) {
    p.leaf_kind = CompiledPattern::LeafKind::kSuffix;
    p.leaf_text = lt[1].text;
  } else {
    p.leaf_kind = CompiledPattern::LeafKind::kGlob;
    p.leaf = std::move(leaf);
  }
  return p;
}

}  // namespace migstore::internal
