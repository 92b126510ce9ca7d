#include "engine/src/rules/native_pattern.h"

namespace migstore::internal {
namespace {

using Type = GlobToken::Type;

struct Segment {
  size_t offset = 0;  // where it starts in the text
  std::vector<GlobToken> tokens;
  bool globstar = false;
  bool wildcard = false;
};

bool Fail(NativePatternError* error, size_t offset, std::string message) {
  error->offset = offset;
  error->message = std::move(message);
  return false;
}

// Parses "[...]" starting at text[i] == '['; leaves i after the ']'.
bool ParseClass(std::string_view text, size_t* i, GlobToken* out,
                NativePatternError* error) {
  size_t start = *i;
  size_t j = start + 1;
  bool negate = false;
  if (j < text.size() && (text[j] == '!' || text[j] == '^')) {
    negate = true;
    ++j;
  }
  std::bitset<256> set;
  bool first = true;
  while (j < text.size() && (text[j] != ']' || first)) {
    if (text[j] == '/') return Fail(error, j, "'/' inside [...]");
    unsigned char lo = static_cast<unsigned char>(text[j]);
    if (text[j] == '\\') {
      if (j + 1 >= text.size()) break;
      lo = static_cast<unsigned char>(text[++j]);
    }
    unsigned char hi = lo;
    if (j + 2 < text.size() && text[j + 1] == '-' && text[j + 2] != ']') {
      hi = static_cast<unsigned char>(text[j + 2]);
      if (hi < lo) return Fail(error, j, "reversed range in [...]");
      j += 2;
    }
    for (unsigned c = lo; c <= hi; ++c) set.set(c);
    first = false;
    ++j;
  }
  if (j >= text.size()) return Fail(error, start, "'[' without a closing ']'");
  if (negate) set.flip();
  set.reset('/');
  out->type = Type::kClass;
  out->set = set;
  *i = j + 1;
  return true;
}

bool ParseSegment(std::string_view text, size_t begin, size_t end, Segment* seg,
                  NativePatternError* error) {
  seg->offset = begin;
  std::string_view s = text.substr(begin, end - begin);
  if (s == "**") {
    seg->globstar = true;
    seg->wildcard = true;
    return true;
  }
  if (s == "." || s == "..")
    return Fail(error, begin, "'.' and '..' are not allowed");
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) seg->tokens.push_back(GlobToken::Literal(literal));
    literal.clear();
  };
  for (size_t i = begin; i < end;) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= end) return Fail(error, i, "'\\' at the end of a name");
      char n = text[i + 1];
      if ((n >= 'A' && n <= 'Z') || (n >= 'a' && n <= 'z') ||
          (n >= '0' && n <= '9')) {
        return Fail(
            error, i,
            "'\\' escapes only special characters; paths use '/' as the "
            "separator");
      }
      literal.push_back(n);
      i += 2;
    } else if (c == '*') {
      if (i + 1 < end && text[i + 1] == '*') {
        return Fail(error, i, "'**' must be a whole path segment");
      }
      flush();
      seg->tokens.push_back(GlobToken::Of(Type::kStar));
      seg->wildcard = true;
      ++i;
    } else if (c == '?') {
      flush();
      seg->tokens.push_back(GlobToken::Of(Type::kQuestion));
      seg->wildcard = true;
      ++i;
    } else if (c == '[') {
      flush();
      GlobToken t;
      if (!ParseClass(text, &i, &t, error)) return false;
      if (i > end) return Fail(error, begin, "'[' without a closing ']'");
      seg->tokens.push_back(std::move(t));
      seg->wildcard = true;
    } else {
      literal.push_back(c);
      ++i;
    }
  }
  flush();
  return true;
}

}  // namespace

std::string EscapeNative(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

bool ParseNativePattern(std::string_view text, std::vector<PatternParts>* out,
                        NativePatternError* error) {
  out->clear();
  // Split on '/' outside [...] and escapes.
  std::vector<Segment> segs;
  size_t i = 0;
  while (i < text.size() && text[i] == '/') ++i;
  size_t start = i;
  bool in_class = false;
  for (; i <= text.size(); ++i) {
    bool at_end = i == text.size();
    if (!at_end && text[i] == '\\' && i + 1 < text.size()) {
      ++i;  // the escaped byte never splits or opens a class
      continue;
    }
    if (!at_end && text[i] == '[') in_class = true;
    if (!at_end && text[i] == ']') in_class = false;
    if (at_end || (text[i] == '/' && !in_class)) {
      if (i > start) {
        Segment seg;
        if (!ParseSegment(text, start, i, &seg, error)) return false;
        segs.push_back(std::move(seg));
      }
      start = i + 1;
    }
  }
  if (segs.empty()) return Fail(error, 0, "empty pattern");

  const Segment& last = segs.back();
  size_t node_count = last.globstar ? segs.size() : segs.size() - 1;

  // The node: "/seg" per segment; "**" in the middle is "/" or "/.../",
  // "**" at the end is "" or "/...".
  PatternParts parts;
  uint32_t depth = 0;
  bool flat = true;
  bool after_dirs = false;
  for (size_t k = 0; k < node_count; ++k) {
    const Segment& s = segs[k];
    if (s.globstar) {
      flat = false;
      bool final = k + 1 == node_count;
      parts.node.push_back(
          GlobToken::Of(final ? Type::kSlashAnyOpt : Type::kSlashAnyDirs));
      after_dirs = !final;
      continue;
    }
    if (!after_dirs) parts.node.push_back(GlobToken::Literal("/"));
    after_dirs = false;
    for (const GlobToken& t : s.tokens) parts.node.push_back(t);
    ++depth;
  }
  parts.spec.names_directory = depth > 0;
  parts.spec.node = 2 * depth + (flat ? 1 : 0);
  if (last.globstar) {
    parts.leaf = {GlobToken::Of(Type::kStar)};
    parts.spec.leaf = 0;
    out->push_back(std::move(parts));
    return true;
  }
  parts.leaf = last.tokens;
  parts.names_entries = true;
  parts.spec.leaf = LeafScore(parts.leaf);
  out->push_back(parts);
  if (!last.wildcard) {
    // The subtree of the entry, should it be a directory: same rule, same
    // specificity (it is one rule as written).
    PatternParts subtree = parts;
    if (!after_dirs) subtree.node.push_back(GlobToken::Literal("/"));
    for (const GlobToken& t : last.tokens) subtree.node.push_back(t);
    subtree.node.push_back(GlobToken::Of(Type::kSlashAnyOpt));
    subtree.leaf = {GlobToken::Of(Type::kStar)};
    subtree.names_entries = false;
    out->push_back(std::move(subtree));
  }
  return true;
}

}  // namespace migstore::internal
