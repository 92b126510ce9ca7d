#include "engine/src/rules/usmt_pattern.h"

#include <vector>

namespace migstore::internal {
namespace {

using Type = GlobToken::Type;

// A character of the pattern after '^' escapes are resolved.
struct Char {
  char c;
  bool escaped;
  size_t offset;
};

bool Fail(UsmtPatternError* error, size_t offset, std::string message) {
  error->offset = offset;
  error->message = std::move(message);
  return false;
}

bool IsBlank(const Char& c) {
  return !c.escaped &&
         (c.c == ' ' || c.c == '\t' || c.c == '\r' || c.c == '\n');
}

void Trim(std::vector<Char>* v) {
  while (!v->empty() && IsBlank(v->back())) v->pop_back();
  size_t i = 0;
  while (i < v->size() && IsBlank((*v)[i])) ++i;
  v->erase(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(i));
}

bool IsWild(const Char& c) { return !c.escaped && c.c == '*'; }

}  // namespace

std::string EscapeUsmt(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '[' || c == ']' || c == '^' || c == '*') out.push_back('^');
    out.push_back(c);
  }
  return out;
}

std::string UsmtPathOf(std::string_view rel) {
  std::string out = "C:";
  if (!rel.empty()) {
    out.push_back('\\');
    for (char c : rel) out.push_back(c == '/' ? '\\' : c);
  }
  return out;
}

bool ParseUsmtPattern(std::string_view text, PatternParts* out,
                      UsmtPatternError* error, bool registry) {
  std::vector<Char> chars;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '^') {
      if (i + 1 >= text.size())
        return Fail(error, i, "'^' at the end of the pattern");
      chars.push_back({text[i + 1], true, i});
      ++i;
    } else {
      chars.push_back({text[i], false, i});
    }
  }
  Trim(&chars);
  if (chars.empty()) return Fail(error, 0, "empty pattern");

  // Node [Leaf]: the leaf runs from the first unescaped '[' to a final ']'.
  size_t open = chars.size();
  for (size_t i = 0; i < chars.size(); ++i) {
    if (!chars[i].escaped && chars[i].c == '[') {
      open = i;
      break;
    }
    if (!chars[i].escaped && chars[i].c == ']') {
      return Fail(error, chars[i].offset,
                  "']' without '['; write ^] for a literal ]");
    }
  }
  std::vector<Char> node(chars.begin(),
                         chars.begin() + static_cast<std::ptrdiff_t>(open));
  std::vector<Char> leaf;
  out->has_leaf = open < chars.size();
  if (out->has_leaf) {
    const Char& close = chars.back();
    if (close.escaped || close.c != ']') {
      return Fail(error, chars[open].offset,
                  "'[' without a closing ']' at the end");
    }
    leaf.assign(chars.begin() + static_cast<std::ptrdiff_t>(open) + 1,
                chars.end() - 1);
    for (const Char& c : leaf) {
      if (!c.escaped && (c.c == '[' || c.c == ']')) {
        return Fail(error, c.offset,
                    "unescaped bracket in a leaf; write ^[ or ^]");
      }
      if (!registry && !c.escaped && (c.c == '\\' || c.c == '/')) {
        return Fail(error, c.offset,
                    "a leaf is a file name and cannot hold a separator");
      }
    }
    if (leaf.empty() && !registry) {
      return Fail(error, chars[open].offset,
                  "empty leaf [] (a registry default value) matches no file");
    }
  }
  Trim(&node);

  // The drive: C: is the root; another letter is not part of the capture.
  if (!registry && node.size() >= 2 && !node[1].escaped && node[1].c == ':') {
    char d = node[0].c;
    if (!((d >= 'A' && d <= 'Z') || (d >= 'a' && d <= 'z'))) {
      return Fail(error, node[0].offset, "bad drive letter");
    }
    if (d != 'C' && d != 'c') {
      error->other_drive = true;
      return Fail(error, node[0].offset,
                  std::string("drive ") + d +
                      ": is not part of this capture (its root is C:)");
    }
    node.erase(node.begin(), node.begin() + 2);
  }

  // Components, split on '\' (and '/').
  std::vector<std::vector<Char>> comps;
  std::vector<Char> cur;
  auto push = [&] {
    Trim(&cur);
    if (!cur.empty()) comps.push_back(cur);
    cur.clear();
  };
  for (const Char& c : node) {
    if (!c.escaped && c.c == '\\') {
      push();
    } else if (!c.escaped && c.c == '/') {
      if (registry) {
        cur.push_back({kRegistrySlash, true, c.offset});
      } else {
        push();
      }
    } else {
      cur.push_back(c);
    }
  }
  push();
  bool recursive =
      !comps.empty() && comps.back().size() == 1 && IsWild(comps.back()[0]);
  if (recursive) comps.pop_back();

  out->node.clear();
  for (const std::vector<Char>& comp : comps) {
    std::string name;
    for (const Char& c : comp) name.push_back(c.c);
    if (name == "." || name == "..") {
      return Fail(error, comp[0].offset,
                  "'.' and '..' are not allowed in a node");
    }
    out->node.push_back(GlobToken::Literal("/"));
    std::string lit;
    for (const Char& c : comp) {
      if (IsWild(c)) {
        out->node.push_back(GlobToken::Literal(lit));
        lit.clear();
        out->node.push_back(GlobToken::Of(Type::kAny));
      } else {
        lit.push_back(c.c);
      }
    }
    out->node.push_back(GlobToken::Literal(lit));
  }
  if (recursive) out->node.push_back(GlobToken::Of(Type::kSlashAnyOpt));

  out->leaf.clear();
  std::string lit;
  for (const Char& c : leaf) {
    if (IsWild(c)) {
      out->leaf.push_back(GlobToken::Literal(lit));
      lit.clear();
      out->leaf.push_back(GlobToken::Of(Type::kStar));
    } else {
      lit.push_back(c.c);
    }
  }
  out->leaf.push_back(GlobToken::Literal(lit));
  // Drop the empty literals pushed around wildcards.
  std::vector<GlobToken> cleaned;
  for (GlobToken& t : out->leaf) {
    if (t.type != Type::kLiteral || !t.text.empty())
      cleaned.push_back(std::move(t));
  }
  out->leaf = std::move(cleaned);
  // "[]": the default value, an exact (empty) name.
  if (out->has_leaf && out->leaf.empty()) {
    out->leaf.push_back(GlobToken::Literal(""));
  }

  const auto depth = static_cast<uint32_t>(comps.size());
  out->spec.names_directory = depth > 0;
  out->spec.node = 2 * depth + (recursive ? 0 : 1);
  out->spec.leaf = out->has_leaf ? LeafScore(out->leaf) : 0;
  out->names_entries = false;
  return true;
}

}  // namespace migstore::internal
