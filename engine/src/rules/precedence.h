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

// USMT's decision: no unconditional exclude, and some include wins.
inline bool Taken(const MatcherData& m, const std::vector<uint32_t>& matched) {
  for (uint32_t r : matched) {
    if (m.rules[r].action == RuleAction::kUnconditionalExclude) return false;
  }
  for (uint32_t r : matched) {
    if (m.rules[r].action == RuleAction::kInclude &&
        IncludeWinsInComponent(m, r, matched)) {
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
