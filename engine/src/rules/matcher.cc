// Matcher: Decide and MayTakeBelow, the two questions the capture walk asks
// for every entry. Neither allocates once its thread's scratch has grown.

#include "migstore/matcher.h"

#include "engine/base/case_fold.h"
#include "engine/src/rules/matcher_data.h"
#include "engine/src/rules/precedence.h"

namespace migstore {
namespace {

using internal::CompiledRule;
using internal::RuleAction;

struct Scratch {
  std::string path;                // slashed, folded
  std::vector<uint32_t> matched;   // rule ids
  std::vector<uint32_t> covering;  // rule ids
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// "a/b" -> "/a/b" (folded when asked); "" and "/" -> "".
void Slash(std::string_view path, bool fold, std::string* out) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out->clear();
  if (path.empty()) return;
  out->push_back('/');
  out->append(path);
  if (fold) {
    for (char& c : *out) c = internal::FoldAscii(c);
  }
}

const internal::MatcherData& Empty() {
  static const internal::MatcherData kEmpty;
  return kEmpty;
}

}  // namespace

Matcher::Matcher() = default;
Matcher::~Matcher() = default;
Matcher::Matcher(const Matcher&) = default;
Matcher& Matcher::operator=(const Matcher&) = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;
Matcher::Matcher(std::shared_ptr<const internal::MatcherData> data)
    : data_(std::move(data)) {}

Decision Matcher::Decide(std::string_view path, EntryKind kind) const {
  Decision d;
  if (!data_) return d;
  const internal::MatcherData& m = *data_;
  Scratch& s = ThreadScratch();
  Slash(path, m.fold, &s.path);
  if (s.path.empty()) return d;  // the root itself is never an entry
  s.matched.clear();
  internal::PathOwner owner;
  auto collect = [&](uint32_t pid) {
    s.matched.push_back(m.active.pattern(pid).rule);
  };
  if (kind == EntryKind::kDirectory) {
    m.active.ForDirectory(s.path, &owner, collect);
  } else {
    size_t slash = s.path.rfind('/');
    std::string_view full = s.path;
    m.active.ForFile(full.substr(0, slash), full.substr(slash + 1), &owner,
                     collect);
  }
  if (owner.profile >= 0 && !owner.selected) return d;
  d.profile = owner.profile;
  d.taken = internal::Taken(m, s.matched);
  return d;
}

bool Matcher::MayTakeBelow(std::string_view dir) const {
  if (!data_) return false;
  const internal::MatcherData& m = *data_;
  Scratch& s = ThreadScratch();
  Slash(dir, m.fold, &s.path);
  s.covering.clear();
  m.active.ForCovering(s.path, [&](uint32_t pid) {
    s.covering.push_back(m.active.pattern(pid).rule);
  });
  for (uint32_t r : s.covering) {
    if (m.rules[r].action == RuleAction::kUnconditionalExclude) return false;
  }
  // Some include that could match below must not be beaten everywhere
  // below by an exclude of its component that covers the whole subtree (and
  // applies in every run the include takes part in).
  bool may = false;
  internal::PathOwner owner;
  m.active.ForReachable(s.path, &owner, [&](uint32_t pid) {
    if (may) return;
    const CompiledRule& inc = m.rules[m.active.pattern(pid).rule];
    if (inc.action != RuleAction::kInclude) return;
    for (uint32_t e : s.covering) {
      const CompiledRule& exc = m.rules[e];
      if (exc.action == RuleAction::kExclude &&
          exc.component == inc.component &&
          (exc.scope == -1 || exc.scope == inc.scope) &&
          !internal::IncludeBeats(inc.spec, exc.spec)) {
        return;
      }
    }
    may = true;
  });
  if (owner.profile >= 0 && !owner.selected) return false;
  return may;
}

const std::vector<RuleDiagnostic>& Matcher::diagnostics() const {
  return data_ ? data_->diagnostics : Empty().diagnostics;
}

size_t Matcher::rule_count() const { return data_ ? data_->active_rules : 0; }

}  // namespace migstore
