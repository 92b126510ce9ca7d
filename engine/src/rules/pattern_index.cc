#include "engine/src/rules/pattern_index.h"

namespace migstore::internal {

PatternIndex::PatternIndex() : nodes_(1) {}

uint32_t PatternIndex::NodeFor(std::string_view slashed) {
  uint32_t n = 0;
  size_t pos = 0;
  while (pos < slashed.size()) {
    size_t next = slashed.find('/', pos + 1);
    if (next == std::string_view::npos) next = slashed.size();
    std::string_view part = slashed.substr(pos + 1, next - pos - 1);
    auto it = nodes_[n].children.find(part);
    if (it == nodes_[n].children.end()) {
      auto id = static_cast<uint32_t>(nodes_.size());
      nodes_[n].children.emplace(std::string(part), id);
      nodes_.emplace_back();
      n = id;
    } else {
      n = it->second;
    }
    pos = next;
  }
  return n;
}

void PatternIndex::AddToBucket(Bucket* b, uint32_t id) {
  const CompiledPattern& p = patterns_[id];
  switch (p.leaf_kind) {
    case CompiledPattern::LeafKind::kAny:
      b->any.push_back(id);
      return;
    case CompiledPattern::LeafKind::kNone:
      b->none.push_back(id);
      return;
    case CompiledPattern::LeafKind::kExact:
      b->exact[p.leaf_text].push_back(id);
      return;
    case CompiledPattern::LeafKind::kSuffix: {
      for (Bucket::Suffixes& s : b->suffixes) {
        if (s.length == p.leaf_text.size()) {
          s.by_suffix[p.leaf_text].push_back(id);
          return;
        }
      }
      Bucket::Suffixes s;
      s.length = p.leaf_text.size();
      s.by_suffix[p.leaf_text].push_back(id);
      b->suffixes.push_back(std::move(s));
      return;
    }
    case CompiledPattern::LeafKind::kGlob:
      b->glob.push_back(id);
      return;
  }
}

uint32_t PatternIndex::Add(CompiledPattern pattern) {
  auto id = static_cast<uint32_t>(patterns_.size());
  std::string anchor = pattern.anchor;
  CompiledPattern::NodeKind kind = pattern.node_kind;
  patterns_.push_back(std::move(pattern));
  uint32_t n = NodeFor(anchor);
  switch (kind) {
    case CompiledPattern::NodeKind::kExact:
      AddToBucket(&nodes_[n].exact, id);
      break;
    case CompiledPattern::NodeKind::kSubtree:
      AddToBucket(&nodes_[n].subtree, id);
      break;
    case CompiledPattern::NodeKind::kGlob:
      nodes_[n].globs.push_back(id);
      break;
  }
  return id;
}

void PatternIndex::MarkHome(std::string_view slashed_home, int32_t profile,
                            bool selected) {
  uint32_t n = NodeFor(slashed_home);
  nodes_[n].home_profile = profile;
  nodes_[n].home_selected = selected;
}

}  // namespace migstore::internal
