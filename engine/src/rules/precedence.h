// The decision itself, shared by Decide (fast, no allocation) and Explain:
// given the rules that match an entry, is it taken?
//
// USMT evaluates a component once per run: a User-context component once
// per selected user, with that user's expansions plus the rules that are
// the same in every run (scope -1). An include wins in a run when it beats
// every exclude of its component in that run; the entry is taken when some
// include wins in some run of some component.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_RULES_PRECEDENCE_H_
#define MIGSTORE_ENGINE_SRC_RULES_PRECEDENCE_H_

#include <cstdint>
#include <vector>

#include "engine/src/rules/matcher_data.h"

namespace migstore::internal {

// Whether include `inc` wins in some run of its component, against the
// excludes among `matched` (rule ids; duplicates allowed).
inline bool IncludeWinsInComponent(const MatcherData& m, uint32_t inc,
                                   const std::vector<uint32_t>& matched) {
  const CompiledRule& i = m.rules[inc];
  auto loses_to = [&](const CompiledRule& x) {
    return x.action == RuleAction::kExclude && x.component == i.component &&
           !IncludeBeats(i.spec, x.spec);
  };
  if (i.scope >= 0) {  // one run: this user's
    for (uint32_t e : matched) {
      const CompiledRule& x = m.rules[e];
      if (loses_to(x) && (x.scope == -1 || x.scope == i.scope)) return false;
    }
    return true;
  }
  // The same in every run: it must beat the excludes common to all runs,
  // and then wins in the system run, or in a user run without an exclude
  // of its own that beats it.
  for (uint32_t e : matched) {
    const CompiledRule& x = m.rules[e];
    if (loses_to(x) && x.scope == -1) return false;
  }
  const CompiledComponent& c = m.components[i.component];
  if (c.system_run) return true;
  int32_t losing_runs = 0;
  for (size_t k = 0; k < matched.size(); ++k) {
    const CompiledRule& x = m.rules[matched[k]];
    if (!loses_to(x) || x.scope < 0) continue;
    bool counted = false;
    for (size_t j = 0; j < k && !counted; ++j) {
      const CompiledRule& y = m.rules[matched[j]];
      counted = loses_to(y) && y.scope == x.scope;
    }
    if (!counted) ++losing_runs;
  }
  return losing_runs < c.user_runs;
}

// What the filters of the winning includes ask of a decision.
struct FilterQuery {
  // The file's properties for FileProperties filters; null when not known
  // (or not a file: such a filter never takes a directory).
  const FileFacts* facts = nullptr;
  bool is_file = false;
  // Restore: the store holds what FileProperties filters let through.
  bool assume_properties = false;
  // Leave NeverRestore() includes out: is the entry restored?
  bool skip_never_restore = false;
  // Set when an include would win if `facts` were known.
  bool needs_facts = false;
};

// Whether include `r`'s filter lets it take the entry.
inline bool FilterPasses(const CompiledRule& r, FilterQuery* q) {
  switch (r.filter_spec.kind) {
    case RuleFilter::Kind::kFileProperties:
      if (!q->is_file) return false;  // never a folder
      if (q->assume_properties) return true;
      if (q->facts == nullptr) {
        q->needs_facts = true;
        return false;
      }
      return r.filter_spec.Holds(*q->facts);
    case RuleFilter::Kind::kNeverRestore:
      return !q->skip_never_restore;
    default:
      return true;
  }
}

// USMT's decision: no unconditional exclude, and some include wins (and
// its filter, when it has one, passes).
inline bool Taken(const MatcherData& m, const std::vector<uint32_t>& matched,
                  FilterQuery* q) {
  for (uint32_t r : matched) {
    if (m.rules[r].action == RuleAction::kUnconditionalExclude) return false;
  }
  for (uint32_t r : matched) {
    if (m.rules[r].action == RuleAction::kInclude &&
        IncludeWinsInComponent(m, r, matched) && FilterPasses(m.rules[r], q)) {
      q->needs_facts = false;
      return true;
    }
  }
  return false;
}

// Total order used to pick one rule to show among several: most specific.
inline bool MoreSpecific(const Specificity& a, const Specificity& b) {
  if (a.names_directory != b.names_directory) return a.names_directory;
  if (a.node != b.node) return a.node > b.node;
  return a.leaf > b.leaf;
}

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_PRECEDENCE_H_
