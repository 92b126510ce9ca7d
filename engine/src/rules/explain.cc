// Matcher::Explain and FormatExplanation: the decision with its reasons.

#include <algorithm>
#include <cassert>
#include <set>

#include "engine/base/case_fold.h"
#include "engine/src/rules/matcher_data.h"
#include "engine/src/rules/precedence.h"
#include "engine/src/rules/registry_pattern.h"
#include "migstore/explain.h"
#include "migstore/matcher.h"

namespace migstore {
namespace {

using internal::CompiledRule;
using internal::IncludeBeats;
using internal::MatcherData;
using internal::RuleAction;
using internal::Specificity;

std::string WhyIncludeWins(const Specificity& inc, const Specificity& exc) {
  if (inc.names_directory && !exc.names_directory) {
    return "a rule naming a directory beats an extension-only rule";
  }
  return "less specific";
}

std::string WhyExcludeWins(const Specificity& inc, const Specificity& exc) {
  if (exc.names_directory && !inc.names_directory) {
    return "a rule naming a directory beats an extension-only rule";
  }
  if (inc.node == exc.node && inc.leaf == exc.leaf)
    return "equally specific: exclude wins ties";
  if (exc.node >= inc.node && exc.leaf >= inc.leaf) return "less specific";
  return "more specific in one part, less in the other: exclude wins";
}

class Explainer {
 public:
  explicit Explainer(const MatcherData& m) : m_(m) {}

  RuleRef Ref(uint32_t id, std::string note = {}) const {
    const CompiledRule& r = m_.rules[id];
    RuleRef ref;
    ref.action = internal::RuleActionName(r.action);
    ref.pattern = r.written;
    ref.expanded = r.expanded;
    ref.file = m_.files[r.loc.file];
    ref.line = r.loc.line;
    ref.column = r.loc.column;
    ref.component = m_.components[r.component].name;
    if (r.profile >= 0) ref.user = m_.profiles[static_cast<size_t>(r.profile)];
    ref.note = note.empty() ? r.inactive : std::move(note);
    return ref;
  }

  uint32_t Best(const std::vector<uint32_t>& ids) const {
    uint32_t best = ids.front();
    for (uint32_t id : ids) {
      if (internal::MoreSpecific(m_.rules[id].spec, m_.rules[best].spec))
        best = id;
    }
    return best;
  }

  void Decide(const std::vector<uint32_t>& matched, Explanation* e) {
    std::vector<uint32_t> uncond, includes, excludes;
    for (uint32_t r : matched) {
      switch (m_.rules[r].action) {
        case RuleAction::kUnconditionalExclude:
          uncond.push_back(r);
          break;
        case RuleAction::kInclude:
          includes.push_back(r);
          break;
        case RuleAction::kExclude:
          excludes.push_back(r);
          break;
      }
    }
    std::set<uint32_t> told;
    if (!uncond.empty()) {
      uint32_t d = Best(uncond);
      SetDecider(e, d, &told);
      e->summary = "not taken: an unconditional exclude beats every other rule";
      for (uint32_t i : includes)
        Add(&e->beaten, i, "unconditional exclude wins", &told);
    } else {
      std::vector<uint32_t> winners;
      for (uint32_t i : includes) {
        if (internal::IncludeWinsInComponent(m_, i, matched))
          winners.push_back(i);
      }
      if (!winners.empty()) {
        uint32_t d = Best(winners);
        const CompiledRule& inc = m_.rules[d];
        e->taken = true;
        SetDecider(e, d, &told);
        e->summary = "taken by an include of component \"" +
                     m_.components[inc.component].name + "\"";
        if (inc.filter_spec.kind ==
            internal::RuleFilter::Kind::kFileProperties) {
          e->summary += ", if the file passes its filter " + inc.filter;
        }
        for (uint32_t x : excludes) {
          const CompiledRule& r = m_.rules[x];
          if (r.component == inc.component &&
              (r.scope == -1 || r.scope == inc.scope)) {
            Add(&e->beaten, x, WhyIncludeWins(inc.spec, r.spec), &told);
          }
        }
      } else if (!includes.empty()) {
        uint32_t best_inc = Best(includes);
        const CompiledRule& inc = m_.rules[best_inc];
        std::vector<uint32_t> against;
        for (uint32_t x : excludes) {
          const CompiledRule& r = m_.rules[x];
          bool same_run =
              r.scope == -1 || inc.scope == -1 || r.scope == inc.scope;
          if (r.component == inc.component && same_run &&
              !IncludeBeats(inc.spec, r.spec)) {
            against.push_back(x);
          }
        }
        assert(!against.empty() &&
               "an include that loses must lose to something");
        uint32_t d = Best(against);
        SetDecider(e, d, &told);
        e->summary = "not taken: an exclude of component \"" +
                     m_.components[m_.rules[d].component].name +
                     "\" wins against its includes";
        for (uint32_t i : includes) {
          if (m_.rules[i].component == m_.rules[d].component) {
            Add(&e->beaten, i,
                WhyExcludeWins(m_.rules[i].spec, m_.rules[d].spec), &told);
          }
        }
      } else if (!excludes.empty()) {
        e->summary =
            "not taken: no include matches (an exclude only removes what its "
            "own component includes)";
      } else {
        e->summary = "not taken: no rule matches";
      }
    }
    for (uint32_t r : matched) {
      if (told.count(r)) continue;
      std::string note;
      const CompiledRule& rule = m_.rules[r];
      if (rule.action == RuleAction::kInclude) {
        note = internal::IncludeWinsInComponent(m_, r, matched)
                   ? "also takes it"
                   : "loses within its component";
      } else if (rule.action == RuleAction::kExclude) {
        bool has_include = false;
        for (uint32_t i : includes)
          has_include |= m_.rules[i].component == rule.component;
        note =
            has_include
                ? "excludes within its own component only"
                : "its component includes nothing here, so it does not apply";
      }
      Add(&e->also_matched, r, note, &told);
    }
  }

  void Restore(std::string_view slashed, EntryKind kind, Explanation* e) {
    std::vector<uint32_t> hits;
    auto collect = [&](uint32_t pid) {
      hits.push_back(m_.restore.pattern(pid).rule);
    };
    if (kind == EntryKind::kDirectory) {
      m_.restore.ForDirectory(slashed, nullptr, collect);
    } else {
      size_t slash = slashed.rfind('/');
      m_.restore.ForFile(slashed.substr(0, slash), slashed.substr(slash + 1),
                         nullptr, collect);
    }
    // The most specific rule of each kind is the one restore applies.
    for (auto kind_wanted : {internal::RestoreSpec::Kind::kMerge,
                             internal::RestoreSpec::Kind::kLocationModify}) {
      const internal::RestoreRule* best = nullptr;
      for (uint32_t h : hits) {
        const internal::RestoreRule& r = m_.restore_rules[h];
        if (r.kind != kind_wanted) continue;
        if (best == nullptr || internal::MoreSpecific(r.spec, best->spec))
          best = &r;
      }
      if (best == nullptr) continue;
      e->restore.push_back(
          std::string(kind_wanted == internal::RestoreSpec::Kind::kMerge
                          ? "merge "
                          : "locationModify ") +
          best->script + " (" + m_.files[best->loc.file] + ":" +
          std::to_string(best->loc.line) + ", " + best->expanded + ")");
    }
    if (e->taken && decider_ >= 0 &&
        !m_.rules[static_cast<size_t>(decider_)].filter.empty()) {
      const CompiledRule& r = m_.rules[static_cast<size_t>(decider_)];
      e->restore.push_back("filter " + r.filter + " of the deciding include (" +
                           m_.files[r.loc.file] + ":" +
                           std::to_string(r.loc.line) + ")");
    }
  }

 private:
  void SetDecider(Explanation* e, uint32_t id, std::set<uint32_t>* told) {
    decider_ = static_cast<int64_t>(id);
    e->has_decider = true;
    e->decided_by = Ref(id);
    told->insert(id);
  }
  void Add(std::vector<RuleRef>* to, uint32_t id, std::string note,
           std::set<uint32_t>* told) {
    if (!told->insert(id).second) return;
    to->push_back(Ref(id, std::move(note)));
  }

  const MatcherData& m_;
  int64_t decider_ = -1;
};

void Dedupe(std::vector<uint32_t>* ids) {
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
}

// The decision on what `active` and `inactive` match: the directory (or
// key) `dir` itself when `name` is null, else its entry (or value) `name`,
// slashed and folded as the indexes hold them; then, for a path
// (`restore_path` not null), what restore does with it. Nothing but the
// reason when the entry lies in the profile of a user who is not selected.
void ExplainIn(const MatcherData& m, const internal::PatternIndex& active,
               const internal::PatternIndex& inactive_index,
               std::string_view dir, const std::string_view* name,
               const std::string* restore_path, Explanation* e) {
  std::vector<uint32_t> matched, inactive;
  internal::PathOwner owner;
  auto from = [](const internal::PatternIndex& index,
                 std::vector<uint32_t>* out) {
    return [&index, out](uint32_t pid) {
      out->push_back(index.pattern(pid).rule);
    };
  };
  if (name == nullptr) {
    active.ForDirectory(dir, &owner, from(active, &matched));
    inactive_index.ForDirectory(dir, nullptr, from(inactive_index, &inactive));
  } else {
    active.ForFile(dir, *name, &owner, from(active, &matched));
    inactive_index.ForFile(dir, *name, nullptr,
                           from(inactive_index, &inactive));
  }
  Dedupe(&matched);
  Dedupe(&inactive);

  Explainer x(m);
  if (owner.profile >= 0) {
    const UserChoice& c = m.choices[static_cast<size_t>(owner.profile)];
    const std::string& user = m.profiles[static_cast<size_t>(owner.profile)];
    if (!owner.selected) {
      e->summary = "not taken: inside the profile of " + user +
                   ", who is not selected (" + c.reason + ")";
      for (uint32_t r : matched)
        e->also_matched.push_back(x.Ref(r, "user not selected"));
      return;
    }
    e->user = user;
  }
  x.Decide(matched, e);
  for (uint32_t r : inactive) e->inactive.push_back(x.Ref(r));
  if (restore_path != nullptr) {
    x.Restore(*restore_path,
              name == nullptr ? EntryKind::kDirectory : EntryKind::kFile, e);
  }
}

}  // namespace

Explanation Matcher::Explain(std::string_view path, EntryKind kind) const {
  Explanation e;
  {
    std::string_view p = path;
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    e.path = std::string(p);
  }
  e.is_directory = kind == EntryKind::kDirectory;
  if (!data_) {
    e.summary = "not taken: no rules";
    return e;
  }
  const MatcherData& m = *data_;
  std::string slashed = e.path.empty() ? std::string() : "/" + e.path;
  if (m.fold) slashed = internal::FoldedCopy(slashed);
  if (e.is_directory) e.may_take_below = MayTakeBelow(path);
  if (slashed.empty()) {
    e.summary = "the root itself is not an entry";
    return e;
  }
  std::string_view dir = slashed;
  std::string_view name;
  if (!e.is_directory) {
    size_t slash = slashed.rfind('/');
    dir = std::string_view(slashed).substr(0, slash);
    name = std::string_view(slashed).substr(slash + 1);
  }
  ExplainIn(m, m.active, m.inactive, dir, e.is_directory ? nullptr : &name,
            &slashed, &e);
  return e;
}

Explanation Matcher::ExplainRegistry(std::string_view key, int32_t profile,
                                     const std::string* value) const {
  Explanation e;
  e.path = std::string(key) + (value ? " [" + *value + "]" : "");
  e.is_directory = value == nullptr;
  e.registry = true;
  if (!data_) {
    e.summary = "not taken: no rules";
    return e;
  }
  const MatcherData& m = *data_;
  std::string path = internal::RegistryMatchPath(key, profile);
  if (path.empty()) {
    e.summary = "not taken: not a key of HKCU or HKLM";
    return e;
  }
  path = internal::FoldedCopy(path);
  if (e.is_directory) e.may_take_below = MayTakeBelowRegistry(key, profile);
  const std::string name = value ? internal::FoldedCopy(*value) : "";
  const std::string_view name_view = name;
  ExplainIn(m, m.registry, m.registry_inactive, path,
            value ? &name_view : nullptr, nullptr, &e);
  return e;
}

namespace {

void AppendRef(std::string* out, const char* label, const RuleRef& r) {
  *out += "  ";
  *out += label;
  *out += r.action + " " + r.pattern + "  (" + r.file;
  if (r.line > 0)
    *out += ":" + std::to_string(r.line) + ":" + std::to_string(r.column);
  *out += ", component \"" + r.component + "\"";
  if (!r.user.empty()) *out += ", user " + r.user;
  *out += ")";
  if (!r.note.empty()) *out += ": " + r.note;
  *out += "\n";
  if (r.expanded != r.pattern) *out += "      applied as " + r.expanded + "\n";
}

}  // namespace

std::string FormatExplanation(const Explanation& e) {
  std::string out = e.path.empty() ? "(root)" : e.path;
  if (e.is_directory && !e.registry) out += "/";
  out += e.taken ? ": taken" : ": not taken";
  if (!e.user.empty()) out += " (user " + e.user + ")";
  out += "\n  why: " + e.summary + "\n";
  if (e.has_decider) AppendRef(&out, "decided by: ", e.decided_by);
  for (const RuleRef& r : e.beaten) AppendRef(&out, "beat: ", r);
  for (const RuleRef& r : e.also_matched) AppendRef(&out, "also matched: ", r);
  for (const RuleRef& r : e.inactive) AppendRef(&out, "inactive: ", r);
  for (const std::string& s : e.restore) out += "  at restore: " + s + "\n";
  if (e.is_directory) {
    out += e.may_take_below
               ? (e.registry ? "  below: subkeys or values may be taken\n"
                             : "  below: entries below may be taken\n")
               : "  below: nothing below can be taken (the walk "
                 "skips it)\n";
  }
  return out;
}

}  // namespace migstore
