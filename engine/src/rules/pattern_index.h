// PatternIndex: finds the patterns that match a path without trying them
// all. Patterns hang off a trie of literal directory names (their anchor);
// at each trie node, patterns are bucketed by what their leaf is (any name,
// an exact name, a suffix such as ".txt", or a glob), so a path costs one
// trie step per directory plus a few hash lookups per node on the way. Only
// patterns whose directory part is a real glob are tried one by one.
//
// The trie also marks profile homes, so the owner of a path comes out of
// the same walk.
//
// Every path handed in is "slashed" and already case-folded when the layout
// wants it: "/users/alice/documents" for root-relative
// "Users/alice/Documents", "" for the root.
//
// Thread safety: built by one thread; afterwards the const methods may run
// concurrently. No const method allocates.

#ifndef MIGSTORE_ENGINE_SRC_RULES_PATTERN_INDEX_H_
#define MIGSTORE_ENGINE_SRC_RULES_PATTERN_INDEX_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/src/rules/pattern.h"

namespace migstore::internal {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>{}(s);
  }
};
template <typename V>
using StringMap =
    std::unordered_map<std::string, V, StringViewHash, std::equal_to<>>;

// What a walk learns about the path besides patterns.
struct PathOwner {
  int32_t profile = -1;  // deepest home on the path, -1 for none
  bool selected = true;  // whether that home's user is selected
};

class PatternIndex {
 public:
  PatternIndex();

  // Returns the pattern's id. Patterns may be added until the first query.
  uint32_t Add(CompiledPattern pattern);
  void MarkHome(std::string_view slashed_home, int32_t profile, bool selected);

  const CompiledPattern& pattern(uint32_t id) const { return patterns_[id]; }
  size_t size() const { return patterns_.size(); }

  // Patterns matching a non-directory entry `name` in directory `dir`.
  template <typename F>
  void ForFile(std::string_view dir, std::string_view name, PathOwner* owner,
               F&& f) const;

  // Patterns matching directory `dir` (not the root) as an entry: patterns
  // whose leaf is "*" or absent and whose node matches `dir` itself, and
  // patterns that name entries whose node matches the parent and whose leaf
  // matches the last name.
  template <typename F>
  void ForDirectory(std::string_view dir, PathOwner* owner, F&& f) const;

  // Patterns that match every entry strictly below `dir` (directory part
  // covers the whole subtree, leaf "*").
  template <typename F>
  void ForCovering(std::string_view dir, F&& f) const;

  // Patterns that could match some entry strictly below `dir`. May report a
  // pattern that turns out not to; never misses one that does.
  template <typename F>
  void ForReachable(std::string_view dir, PathOwner* owner, F&& f) const;

 private:
  struct Bucket {
    std::vector<uint32_t> any;   // leaf "*"
    std::vector<uint32_t> none;  // no leaf: directories only
    StringMap<std::vector<uint32_t>> exact;
    struct Suffixes {
      size_t length = 0;
      StringMap<std::vector<uint32_t>> by_suffix;
    };
    std::vector<Suffixes> suffixes;  // one per suffix length
    std::vector<uint32_t> glob;
    bool empty() const {
      return any.empty() && none.empty() && exact.empty() && suffixes.empty() &&
             glob.empty();
    }
  };
  struct Node {
    StringMap<uint32_t> children;
    Bucket exact;                 // directory == this node
    Bucket subtree;               // directory == this node or below
    std::vector<uint32_t> globs;  // node_rest tried against the rest
    int32_t home_profile = -1;
    bool home_selected = true;
  };

  uint32_t NodeFor(std::string_view slashed);
  void AddToBucket(Bucket* b, uint32_t id);

  template <typename F>
  void ForName(const Bucket& b, std::string_view name, F& f) const;
  template <typename F>
  void ForAll(const Bucket& b, F& f) const;
  template <typename F>
  void ForSubtreeOf(uint32_t node, F& f) const;
  // Calls visit(node, rest, at_end) for the root and each trie node along
  // `dir`; rest is the part of `dir` below the node.
  template <typename V>
  void Walk(std::string_view dir, PathOwner* owner, V&& visit) const;

  std::vector<Node> nodes_;
  std::vector<CompiledPattern> patterns_;
};

// ---- Implementation of the templates -------------------------------------

template <typename V>
void PatternIndex::Walk(std::string_view dir, PathOwner* owner,
                        V&& visit) const {
  uint32_t n = 0;
  size_t pos = 0;
  for (;;) {
    const Node& node = nodes_[n];
    if (owner != nullptr && node.home_profile >= 0) {
      owner->profile = node.home_profile;
      owner->selected = node.home_selected;
    }
    visit(node, dir.substr(pos), pos == dir.size());
    if (pos == dir.size()) return;
    size_t next = dir.find('/', pos + 1);
    if (next == std::string_view::npos) next = dir.size();
    auto it = node.children.find(dir.substr(pos + 1, next - pos - 1));
    if (it == node.children.end()) return;
    n = it->second;
    pos = next;
  }
}

template <typename F>
void PatternIndex::ForName(const Bucket& b, std::string_view name, F& f) const {
  for (uint32_t id : b.any) f(id);
  if (!b.exact.empty()) {
    auto it = b.exact.find(name);
    if (it != b.exact.end()) {
      for (uint32_t id : it->second) f(id);
    }
  }
  for (const Bucket::Suffixes& s : b.suffixes) {
    if (name.size() < s.length) continue;
    auto it = s.by_suffix.find(name.substr(name.size() - s.length));
    if (it != s.by_suffix.end()) {
      for (uint32_t id : it->second) f(id);
    }
  }
  for (uint32_t id : b.glob) {
    if (patterns_[id].leaf.Match(name)) f(id);
  }
}

template <typename F>
void PatternIndex::ForAll(const Bucket& b, F& f) const {
  for (uint32_t id : b.any) f(id);
  for (uint32_t id : b.none) f(id);
  for (const auto& [k, ids] : b.exact) {
    for (uint32_t id : ids) f(id);
  }
  for (const Bucket::Suffixes& s : b.suffixes) {
    for (const auto& [k, ids] : s.by_suffix) {
      for (uint32_t id : ids) f(id);
    }
  }
  for (uint32_t id : b.glob) f(id);
}

template <typename F>
void PatternIndex::ForSubtreeOf(uint32_t node, F& f) const {
  // A loop, not a recursion: the trie is as deep as the longest literal
  // pattern in the rules files, and they choose that. The stack is the
  // thread's and kept, so a walk's directories allocate nothing; `base`
  // keeps a call made from `f` apart.
  thread_local std::vector<uint32_t> pending;
  const size_t base = pending.size();
  pending.push_back(node);
  while (pending.size() > base) {
    const uint32_t n = pending.back();
    pending.pop_back();
    for (const auto& [name, child] : nodes_[n].children) {
      const Node& c = nodes_[child];
      ForAll(c.exact, f);
      ForAll(c.subtree, f);
      for (uint32_t id : c.globs) f(id);
      if (!c.children.empty()) pending.push_back(child);
    }
  }
}

template <typename F>
void PatternIndex::ForFile(std::string_view dir, std::string_view name,
                           PathOwner* owner, F&& f) const {
  Walk(dir, owner, [&](const Node& node, std::string_view rest, bool at_end) {
    ForName(node.subtree, name, f);
    if (at_end) ForName(node.exact, name, f);
    for (uint32_t id : node.globs) {
      const CompiledPattern& p = patterns_[id];
      if (p.leaf_kind != CompiledPattern::LeafKind::kNone &&
          p.LeafMatches(name) && p.node_rest.Match(rest)) {
        f(id);
      }
    }
  });
}

template <typename F>
void PatternIndex::ForDirectory(std::string_view dir, PathOwner* owner,
                                F&& f) const {
  Walk(dir, owner, [&](const Node& node, std::string_view rest, bool at_end) {
    for (uint32_t id : node.subtree.any) f(id);
    for (uint32_t id : node.subtree.none) f(id);
    if (at_end) {
      for (uint32_t id : node.exact.any) f(id);
      for (uint32_t id : node.exact.none) f(id);
    }
    for (uint32_t id : node.globs) {
      const CompiledPattern& p = patterns_[id];
      if ((p.leaf_kind == CompiledPattern::LeafKind::kAny ||
           p.leaf_kind == CompiledPattern::LeafKind::kNone) &&
          p.node_rest.Match(rest)) {
        f(id);
      }
    }
  });
  size_t slash = dir.rfind('/');
  std::string_view parent =
      dir.substr(0, slash == std::string_view::npos ? 0 : slash);
  std::string_view name =
      dir.substr(slash == std::string_view::npos ? 0 : slash + 1);
  auto entries = [&](uint32_t id) {
    if (patterns_[id].names_entries) f(id);
  };
  ForFile(parent, name, nullptr, entries);
}

template <typename F>
void PatternIndex::ForCovering(std::string_view dir, F&& f) const {
  Walk(dir, nullptr, [&](const Node& node, std::string_view rest, bool) {
    for (uint32_t id : node.subtree.any) f(id);
    for (uint32_t id : node.globs) {
      const CompiledPattern& p = patterns_[id];
      if (p.leaf_kind == CompiledPattern::LeafKind::kAny && p.NodeRecurses() &&
          p.node_rest.Match(rest)) {
        f(id);
      }
    }
  });
}

template <typename F>
void PatternIndex::ForReachable(std::string_view dir, PathOwner* owner,
                                F&& f) const {
  bool reached = false;
  uint32_t last = 0;
  Walk(dir, owner, [&](const Node& node, std::string_view rest, bool at_end) {
    ForAll(node.subtree, f);
    if (at_end) {
      ForAll(node.exact, f);
      reached = true;
      last = static_cast<uint32_t>(&node - nodes_.data());
    }
    for (uint32_t id : node.globs) {
      if (patterns_[id].node_rest.MayMatchAtOrBelow(rest)) f(id);
    }
  });
  if (reached) ForSubtreeOf(last, f);
}

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_PATTERN_INDEX_H_
