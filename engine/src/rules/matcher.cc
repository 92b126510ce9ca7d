// Matcher: Decide and MayTakeBelow, the two questions the capture walk asks
// for every entry. Neither allocates once its thread's scratch has grown.

#include "migstore/matcher.h"

#include "engine/base/case_fold.h"
#include "engine/src/rules/matcher_data.h"
#include "engine/src/rules/precedence.h"
#include "engine/src/rules/registry_pattern.h"

namespace migstore {
namespace {

using internal::CompiledRule;
using internal::RuleAction;

struct Scratch {
  std::string path;                // slashed, folded
  std::string name;                // a registry value's name, folded
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

namespace {

// The rules of `index` that match the entry `name` in directory `dir` (both
// slashed and folded as `index` wants them), or the directory `dir` itself
// when `name` is null, into s.matched.
void Collect(const internal::PatternIndex& index, Scratch& s,
             std::string_view dir, const std::string_view* name,
             internal::PathOwner* owner) {
  s.matched.clear();
  auto collect = [&](uint32_t pid) {
    s.matched.push_back(index.pattern(pid).rule);
  };
  if (name == nullptr) {
    index.ForDirectory(dir, owner, collect);
  } else {
    index.ForFile(dir, *name, owner, collect);
  }
}

// The decision on what Collect finds.
Decision DecideIn(const internal::MatcherData& m,
                  const internal::PatternIndex& index, Scratch& s,
                  std::string_view dir, const std::string_view* name,
                  const FileFacts* facts = nullptr) {
  Decision d;
  internal::PathOwner owner;
  Collect(index, s, dir, name, &owner);
  if (owner.profile >= 0 && !owner.selected) return d;
  d.profile = owner.profile;
  internal::FilterQuery q;
  q.facts = facts;
  q.is_file = name != nullptr;
  d.taken = internal::Taken(m, s.matched, &q);
  d.needs_facts = q.needs_facts;
  return d;
}

// MayTakeBelow on `index`, for the slashed, folded s.path.
bool MayTakeBelowIn(const internal::MatcherData& m,
                    const internal::PatternIndex& index, Scratch& s) {
  s.covering.clear();
  index.ForCovering(s.path, [&](uint32_t pid) {
    s.covering.push_back(index.pattern(pid).rule);
  });
  for (uint32_t r : s.covering) {
    if (m.rules[r].action == RuleAction::kUnconditionalExclude) return false;
  }
  // Some include that could match below must not be beaten everywhere
  // below by an exclude of its component that covers the whole subtree (and
  // applies in every run the include takes part in).
  bool may = false;
  internal::PathOwner owner;
  index.ForReachable(s.path, &owner, [&](uint32_t pid) {
    if (may) return;
    const CompiledRule& inc = m.rules[index.pattern(pid).rule];
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

// A registry key's matcher path into s.path: registry_pattern.h's form,
// folded (Windows compares key and value names without case).
bool RegistryPath(std::string_view key, int32_t profile, Scratch& s) {
  s.path = internal::RegistryMatchPath(key, profile);
  for (char& c : s.path) c = internal::FoldAscii(c);
  return !s.path.empty();
}

}  // namespace

namespace {

// s.path and the entry's name within it for a root-relative `path`; false
// for the root itself, which is never an entry.
bool SplitPath(const internal::MatcherData& m, std::string_view path,
               EntryKind kind, Scratch& s, std::string_view* dir,
               std::string_view* name, const std::string_view** name_ptr) {
  Slash(path, m.fold, &s.path);
  if (s.path.empty()) return false;
  *dir = s.path;
  *name_ptr = nullptr;
  if (kind == EntryKind::kFile) {
    const size_t slash = s.path.rfind('/');
    *dir = std::string_view(s.path).substr(0, slash);
    *name = std::string_view(s.path).substr(slash + 1);
    *name_ptr = name;
  }
  return true;
}

Decision DecidePath(const internal::MatcherData& m,
                    const internal::PatternIndex& index, std::string_view path,
                    EntryKind kind, const FileFacts* facts = nullptr) {
  Scratch& s = ThreadScratch();
  std::string_view dir, name;
  const std::string_view* name_ptr;
  if (!SplitPath(m, path, kind, s, &dir, &name, &name_ptr)) return {};
  return DecideIn(m, index, s, dir, name_ptr, facts);
}

bool MayTakeBelowPath(const internal::MatcherData& m,
                      const internal::PatternIndex& index,
                      std::string_view dir) {
  Scratch& s = ThreadScratch();
  Slash(dir, m.fold, &s.path);
  return MayTakeBelowIn(m, index, s);
}

// A registry key (`value` null) or value, on `index`.
Decision DecideKey(const internal::MatcherData& m,
                   const internal::PatternIndex& index, std::string_view key,
                   int32_t profile, const std::string* value) {
  Scratch& s = ThreadScratch();
  if (!RegistryPath(key, profile, s)) return {};
  if (value == nullptr) return DecideIn(m, index, s, s.path, nullptr);
  s.name = *value;
  for (char& c : s.name) c = internal::FoldAscii(c);
  std::string_view name = s.name;
  return DecideIn(m, index, s, s.path, &name);
}

bool MayTakeBelowKey(const internal::MatcherData& m,
                     const internal::PatternIndex& index, std::string_view key,
                     int32_t profile) {
  Scratch& s = ThreadScratch();
  if (!RegistryPath(key, profile, s)) return false;
  return MayTakeBelowIn(m, index, s);
}

}  // namespace

Decision Matcher::Decide(std::string_view path, EntryKind kind,
                         const FileFacts* facts) const {
  if (!data_) return {};
  return DecidePath(*data_, data_->active, path, kind, facts);
}

bool Matcher::has_never_restore() const {
  return data_ != nullptr && data_->has_never_restore;
}

bool Matcher::has_restore_time_rules() const {
  return has_restore_rules() || has_never_restore() ||
         has_registry_restore_rules() || cleanup_rule_count() > 0 ||
         registry_cleanup_rule_count() > 0 ||
         (data_ != nullptr && !data_->processing.empty());
}

bool Matcher::NeverRestored(std::string_view path, EntryKind kind,
                            const FileFacts* facts) const {
  if (!has_never_restore()) return false;
  const internal::MatcherData& m = *data_;
  Scratch& s = ThreadScratch();
  std::string_view dir, name;
  const std::string_view* name_ptr;
  if (!SplitPath(m, path, kind, s, &dir, &name, &name_ptr)) return false;
  Collect(m.active, s, dir, name_ptr, nullptr);
  // A FileProperties include is judged on the entry as captured; without
  // its facts, as having taken it.
  internal::FilterQuery with;
  with.is_file = kind == EntryKind::kFile;
  with.facts = facts;
  with.assume_properties = facts == nullptr;
  internal::FilterQuery without = with;
  without.skip_never_restore = true;
  bool never_restore_matched = false;
  for (uint32_t r : s.matched) {
    const internal::CompiledRule& rule = m.rules[r];
    never_restore_matched |=
        rule.action == internal::RuleAction::kInclude &&
        rule.filter_spec.kind == internal::RuleFilter::Kind::kNeverRestore;
  }
  if (!never_restore_matched) return false;
  return internal::Taken(m, s.matched, &with) &&
         !internal::Taken(m, s.matched, &without);
}

bool Matcher::MayTakeBelow(std::string_view dir) const {
  if (!data_) return false;
  return MayTakeBelowPath(*data_, data_->active, dir);
}

Decision Matcher::DecideRegistry(std::string_view key, int32_t profile,
                                 const std::string* value) const {
  if (!data_) return {};
  return DecideKey(*data_, data_->registry, key, profile, value);
}

bool Matcher::MayTakeBelowRegistry(std::string_view key,
                                   int32_t profile) const {
  if (!data_ || data_->registry_rules == 0) return false;
  return MayTakeBelowKey(*data_, data_->registry, key, profile);
}

Decision Matcher::CleansUp(std::string_view path, EntryKind kind) const {
  if (!data_ || data_->cleanup_rules == 0) return {};
  return DecidePath(*data_, data_->cleanup, path, kind);
}

bool Matcher::MayCleanUpBelow(std::string_view dir) const {
  if (!data_ || data_->cleanup_rules == 0) return false;
  return MayTakeBelowPath(*data_, data_->cleanup, dir);
}

Decision Matcher::CleansUpRegistry(std::string_view key, int32_t profile,
                                   const std::string* value) const {
  if (!data_ || data_->registry_cleanup_rules == 0) return {};
  return DecideKey(*data_, data_->registry_cleanup, key, profile, value);
}

bool Matcher::MayCleanUpBelowRegistry(std::string_view key,
                                      int32_t profile) const {
  if (!data_ || data_->registry_cleanup_rules == 0) return false;
  return MayTakeBelowKey(*data_, data_->registry_cleanup, key, profile);
}

size_t Matcher::cleanup_rule_count() const {
  return data_ ? data_->cleanup_rules : 0;
}

size_t Matcher::registry_cleanup_rule_count() const {
  return data_ ? data_->registry_cleanup_rules : 0;
}

const std::vector<AddedRegistryValue>& Matcher::AddedRegistryValues() const {
  static const std::vector<AddedRegistryValue> kNone;
  return data_ ? data_->added_registry_values : kNone;
}

std::vector<ProcessingStep> Matcher::Processing(std::string_view when) const {
  std::vector<ProcessingStep> out;
  if (!data_) return out;
  for (const ProcessingStep& p : data_->processing) {
    if (p.when == when) out.push_back(p);
  }
  return out;
}

size_t Matcher::registry_rule_count() const {
  return data_ ? data_->registry_rules : 0;
}

const std::vector<RuleDiagnostic>& Matcher::diagnostics() const {
  return data_ ? data_->diagnostics : Empty().diagnostics;
}

size_t Matcher::rule_count() const { return data_ ? data_->active_rules : 0; }

}  // namespace migstore
