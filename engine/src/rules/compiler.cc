// CompileRules: binds a RuleSet to a machine. For every component and
// scope (each selected user, and/or the system) it evaluates detection,
// expands variables and helpers into concrete patterns, and files them in
// the active index, or in the inactive one (for explain) when the component
// is switched off or not detected.

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "engine/base/case_fold.h"
#include "engine/src/rules/conditions.h"
#include "engine/src/rules/doc_patterns.h"
#include "engine/src/rules/expand.h"
#include "engine/src/rules/matcher_data.h"
#include "engine/src/rules/native_pattern.h"
#include "engine/src/rules/registry_pattern.h"
#include "engine/src/rules/script_call.h"
#include "engine/src/rules/usmt_pattern.h"
#include "migstore/matcher.h"

namespace migstore {
namespace internal {
namespace {

using Severity = RuleDiagnostic::Severity;

bool IsTrue(std::string_view s) {
  return EqualsFolded(s, "TRUE") || EqualsFolded(s, "YES");
}

// One concrete pattern a rule source stands for in a scope.
struct Generated {
  std::string expanded;
  int32_t profile = -1;   // whose variables
  int32_t scope = -1;     // the run it belongs to; -1: the same in every run
  bool registry = false;  // parts are on registry_pattern.h's paths
  std::vector<PatternParts> parts;
};

class RuleCompiler {
 public:
  RuleCompiler(const RuleSetData& rs, const Machine& m,
               const std::vector<UserChoice>& users)
      : rs_(rs), m_(m), users_(users), out_(std::make_shared<MatcherData>()) {}

  Result<std::shared_ptr<MatcherData>> Build() {
    if (!rs_.has_rules) {
      return Status::InvalidArgument(
          "no rules: give a rules file or use the built-in rules");
    }
    out_->layout = m_.layout;
    out_->fold = m_.layout == Layout::kWindows;
    out_->files = rs_.files;
    out_->diagnostics = rs_.diagnostics;
    out_->choices.assign(m_.profiles.size(),
                         UserChoice{0, false, "not selected"});
    for (const UserProfile& p : m_.profiles) out_->profiles.push_back(p.name);
    for (const UserChoice& c : users_) {
      if (c.profile >= m_.profiles.size()) {
        return Status::InvalidArgument(
            "user choice names no profile of this machine");
      }
      out_->choices[c.profile] = c;
      if (c.selected) selected_.push_back(&m_.profiles[c.profile]);
    }
    for (size_t i = 0; i < m_.profiles.size(); ++i) {
      std::string home = "/" + m_.profiles[i].home;
      if (out_->fold) home = FoldedCopy(home);
      out_->active.MarkHome(home, static_cast<int32_t>(i),
                            out_->choices[i].selected);
      out_->registry.MarkHome(RegistryHome(static_cast<int32_t>(i)),
                              static_cast<int32_t>(i),
                              out_->choices[i].selected);
      out_->cleanup.MarkHome(home, static_cast<int32_t>(i),
                             out_->choices[i].selected);
      out_->registry_cleanup.MarkHome(RegistryHome(static_cast<int32_t>(i)),
                                      static_cast<int32_t>(i),
                                      out_->choices[i].selected);
    }
    WarnMigUserWithMigDocs();
    for (size_t ci = 0; ci < rs_.components.size(); ++ci) CompileComponent(ci);
    ReportUnusedConfig();
    for (const CompiledRule& r : out_->rules) {
      if (!r.inactive.empty() || r.cleanup) continue;
      ++(r.registry ? out_->registry_rules : out_->active_rules);
    }
    return out_;
  }

 private:
  void Diagnose(Severity severity, const SourceLoc& loc, std::string message) {
    if (!diag_seen_.insert({loc.file, loc.line, loc.column, message}).second)
      return;
    out_->diagnostics.push_back({severity, rs_.files[loc.file], loc.line,
                                 loc.column, std::move(message)});
  }

  // usmt.md 5: "Never use MigUser and MigDocs together": their rules send
  // the same files to two places at restore.
  void WarnMigUserWithMigDocs() {
    auto loaded = [&](std::string_view suffix) {
      for (const std::string& u : rs_.urlids) {
        if (u.size() >= suffix.size() &&
            EqualsFolded(std::string_view(u).substr(u.size() - suffix.size()),
                         suffix)) {
          return true;
        }
      }
      return false;
    };
    if (loaded("/miguser") && loaded("/migdocs")) {
      out_->diagnostics.push_back(
          {Severity::kWarning, "rules", 0, 0,
           "MigUser.xml and MigDocs.xml are both loaded; USMT advises against "
           "it (the same files go to two places at restore)"});
    }
  }

  // Why Config.xml switches component `ci` off, or "".
  std::string ConfigOff(size_t ci) {
    if (!rs_.has_config) return {};
    for (int c = static_cast<int>(ci); c >= 0;
         c = rs_.components[static_cast<size_t>(c)].parent) {
      const std::string& id = rs_.components[static_cast<size_t>(c)].id;
      if (id.empty()) continue;
      for (const ConfigEntry& e : rs_.config.components) {
        if (e.id != id) continue;
        used_config_.insert(&e);
        if (!e.migrate) {
          return "switched off by " + rs_.files[e.loc.file] + ":" +
                 std::to_string(e.loc.line) + " (migrate=\"no\")";
        }
      }
    }
    return {};
  }

  void ReportUnusedConfig() {
    for (const ConfigEntry& e : rs_.config.components) {
      if (!e.migrate && used_config_.count(&e) == 0) {
        Diagnose(Severity::kNote, e.loc,
                 "component '" + e.displayname +
                     "' is switched off here but no loaded rules file has it");
      }
    }
  }

  void CompileComponent(size_t ci) {
    const ComponentSpec& c = rs_.components[ci];
    invariant_ = InvariantEnv(c);
    auto comp = static_cast<uint32_t>(out_->components.size());
    out_->components.push_back({c.name, false, 0});
    std::string off = ConfigOff(ci);
    if (HasSystem(c.context)) {
      out_->components[comp].system_run =
          CompileScope(c, ci, comp, nullptr, off);
    }
    if (HasUser(c.context)) {
      for (const UserProfile* p : selected_) {
        out_->components[comp].user_runs +=
            CompileScope(c, ci, comp, p, off) ? 1 : 0;
      }
    }
  }

  // Why the container holding component `c` is inactive in this run, or
  // "": a Container's detection decides for the components it holds
  // (MigApp.xml's "Office 2007 Common Settings" has none of its own).
  std::string ContainerInactive(const ComponentSpec& c,
                                const UserProfile* profile) const {
    if (c.parent < 0) return {};
    const auto parent = static_cast<size_t>(c.parent);
    auto it = run_inactive_.find({parent, profile});
    if (it == run_inactive_.end()) it = run_inactive_.find({parent, nullptr});
    if (it == run_inactive_.end()) {
      // The container has no run of this kind (a System component in a
      // User container): inactive when it is inactive in every run it has.
      auto first = run_inactive_.lower_bound({parent, nullptr});
      for (it = first; it != run_inactive_.end() && it->first.first == parent;
           ++it) {
        if (it->second.empty()) return {};
      }
      it = first;
      if (it == run_inactive_.end() || it->first.first != parent) return {};
    }
    if (it->second.empty()) return {};
    return "its container \"" + rs_.components[parent].name + "\" is " +
           it->second;
  }

  // The component's variables whose value is the same in every run: the
  // <text> ones of unconditional UserAndSystem environments, unless a
  // variable of the name before them may hold in some run instead. They
  // expand the conditions of environments, and tell which patterns are
  // the same in every run (SameInEveryRun).
  static std::vector<EnvVariable> InvariantEnv(const ComponentSpec& c) {
    std::vector<EnvVariable> out;
    std::set<std::string> seen;
    for (const EnvVariable& v : c.env) {
      if (!seen.insert(FoldedCopy(v.name)).second) continue;
      if (v.script.empty() && !v.conditions &&
          v.context == Context::kUserAndSystem) {
        out.push_back(v);
      }
    }
    return out;
  }

  ConditionScope ScopeFor(const UserProfile* profile,
                          const std::vector<EnvVariable>* env) {
    ConditionScope scope;
    scope.machine = &m_;
    scope.profile = profile;
    scope.selected = selected_;
    scope.env = env;
    scope.registry = &hives_;
    scope.unset = &unset_;
    return scope;
  }

  // Why `node` is false in this run, or "" when it holds (or cannot be
  // decided); the variables are `env`'s.
  std::string Evaluate(const ConditionNode& node,
                       const std::vector<EnvVariable>& env,
                       const UserProfile* profile) {
    ConditionScope scope = ScopeFor(profile, &env);
    std::vector<ConditionNote> notes;
    std::string why;
    Truth t = EvaluateConditions(node, scope, &notes, &why);
    for (const ConditionNote& n : notes)
      Diagnose(Severity::kNote, n.loc, n.message);
    if (t != Truth::kFalse) return {};
    return "not detected" +
           std::string(profile ? " for " + profile->name : "") +
           (why.empty() ? "" : ": " + why);
  }

  // Component `c`'s variables in one run (docs/rules.md, "Variables"):
  // those whose <environment> holds here, in order, the first of a name
  // winning; each GetStringContent script replaced by the text it reads
  // from the root's hives. The folded names of the variables that have no
  // value here (conditions false, no registry value) go to *unset; not
  // those that cannot be read here (a hive missing, HKCU in the system
  // run), whose conditions stay undecided.
  std::vector<EnvVariable> RunEnv(const ComponentSpec& c,
                                  const UserProfile* profile,
                                  std::set<std::string>* unset) {
    std::vector<EnvVariable> env;
    std::set<std::string> chosen;       // folded names of `env`'s variables
    std::set<std::string> not_holding;  // whose <environment> does not hold
    // An <environment>'s variables share its conditions: decided once.
    std::map<const ConditionNode*, bool> holds;
    for (const EnvVariable& v : c.env) {
      if (profile ? !HasUser(v.context) : !HasSystem(v.context)) continue;
      std::string name = FoldedCopy(v.name);
      if (v.conditions) {
        auto [it, fresh] = holds.try_emplace(v.conditions.get(), true);
        if (fresh) {
          it->second = Evaluate(*v.conditions, invariant_, profile).empty();
        }
        if (!it->second) {
          not_holding.insert(std::move(name));
          continue;
        }
      }
      if (chosen.insert(name).second) env.push_back(v);
    }
    for (const std::string& name : not_holding) {
      if (chosen.count(name) == 0) unset->insert(name);
    }
    // A script's key may name variables that are themselves read by
    // scripts (MigApp.xml's %HklmWowSoftware%): a few rounds, each with
    // the variables known after the last.
    const Variables vars(m_, profile);
    for (int round = 0; round < 4; ++round) {
      std::vector<EnvVariable> known;
      for (const EnvVariable& v : env) {
        if (v.script.empty()) known.push_back(v);
      }
      bool waiting = false, read = false;
      for (EnvVariable& v : env) {
        if (v.script.empty()) continue;
        ScriptCall call;
        size_t bad = 0;
        std::string key, missing;
        bool unknown = false;
        if (!ParseScriptCall(v.script, &call, &bad) || call.args.size() < 2) {
          unknown = true;  // the parser took only GetStringContent calls
        } else if (!ExpandUsmt(call.args[1], vars, known, &key, &missing)) {
          waiting = true;
          continue;
        } else if (std::optional<std::string> text = RegistryString(
                       key, ScopeFor(profile, &known), &unknown)) {
          v.value = EscapeUsmt(*text);
          v.script.clear();
          read = true;
          continue;
        }
        if (!unknown) unset->insert(FoldedCopy(v.name));
        v.name.clear();
        read = true;
      }
      std::erase_if(env, [](const EnvVariable& v) { return v.name.empty(); });
      if (!waiting || !read) break;
    }
    // Scripts still waiting name variables that never got a value here:
    // undecided, as those are.
    std::erase_if(env, [](const EnvVariable& v) { return !v.script.empty(); });
    return env;
  }

  // Compiles one run of component `c` (rs_.components[ci]); returns
  // whether it is active.
  bool CompileScope(const ComponentSpec& c, size_t ci, uint32_t comp,
                    const UserProfile* profile, const std::string& off) {
    unset_.clear();  // RunEnv's conditions know no unset variable yet
    std::set<std::string> unset;
    const std::vector<EnvVariable> env = RunEnv(c, profile, &unset);
    unset_ = std::move(unset);
    env_ = &env;
    std::string inactive = off;
    if (inactive.empty()) inactive = ContainerInactive(c, profile);
    if (inactive.empty()) inactive = Evaluate(c.detection, env, profile);
    run_inactive_[{ci, profile}] = inactive;
    for (const RuleGroup& g : c.groups) {
      if (profile ? !HasUser(g.context) : !HasSystem(g.context)) continue;
      group_has_user_runs_ = HasUser(c.context) && HasUser(g.context);
      std::string group_inactive = inactive;
      if (group_inactive.empty()) {
        group_inactive = Evaluate(g.conditions, env, profile);
      }
      for (const RuleSpec& r : g.rules) {
        AddRule(c, comp, profile, r, group_inactive);
      }
      if (group_inactive.empty()) {
        for (const RestoreSpec& r : g.restore) AddRestore(c, comp, profile, r);
        for (const ProcessingSpec& p : g.processing) AddProcessing(c, p);
        for (const AddObjectSpec& a : g.add_objects) AddObject(c, profile, a);
      }
    }
    env_ = nullptr;  // `env` ends here
    return inactive.empty();
  }

  // The include's filter, read; a filter migstore cannot apply is a
  // warning and the rule takes every object it matches, as before.
  internal::RuleFilter ReadFilter(const RuleSpec& r, bool registry) {
    if (r.filter.empty()) return {};
    auto f = internal::ParseRuleFilter(r.filter);
    if (!f.ok()) {
      Diagnose(Severity::kWarning, r.pattern.loc,
               std::string(f.status().message()) +
                   "; not applied: the rule takes every object it matches");
      return {};
    }
    if (r.action != RuleAction::kInclude) {
      // Microsoft's files put IgnoreIrrelevantLinks() on excludes too; only
      // a filter that would choose files is worth a word.
      if (f->kind == internal::RuleFilter::Kind::kFileProperties) {
        Diagnose(Severity::kWarning, r.pattern.loc,
                 "filter " + r.filter + " on an " +
                     internal::RuleActionName(r.action) +
                     " is not applied (FileProperties filters includes)");
      }
      return {};
    }
    if (registry) {
      Diagnose(Severity::kWarning, r.pattern.loc,
               "filter " + r.filter +
                   " is not applied to registry objects: the rule takes "
                   "every value it matches");
      return {};
    }
    return *f;
  }

  void AddRule(const ComponentSpec& c, uint32_t comp,
               const UserProfile* profile, const RuleSpec& r,
               const std::string& inactive) {
    std::vector<Generated> generated;
    // A missing variable is worth a word only where the rule would apply.
    quiet_ = !inactive.empty();
    Generate(r.pattern, c, profile, &generated);
    quiet_ = false;
    for (Generated& gen : generated) {
      // A registry pattern's text is the same for every user whose hive it
      // names ("HKCU\..."): its profile tells them apart.
      auto key = std::make_tuple(
          comp, static_cast<int>(r.action),
          out_->fold ? FoldedCopy(gen.expanded) : gen.expanded,
          inactive.empty(), gen.scope, gen.registry ? gen.profile : -2);
      if (!rules_seen_.insert(key).second) continue;
      CompiledRule rule = RuleFor(comp, r.pattern, gen);
      rule.action = r.action;
      rule.filter = r.filter;
      rule.filter_spec = ReadFilter(r, gen.registry);
      rule.inactive = inactive;
      if (inactive.empty()) {
        out_->has_never_restore |=
            rule.filter_spec.kind == internal::RuleFilter::Kind::kNeverRestore;
      }
      auto id = static_cast<uint32_t>(out_->rules.size());
      out_->rules.push_back(std::move(rule));
      Index(gen.registry
                ? (inactive.empty() ? out_->registry : out_->registry_inactive)
                : (inactive.empty() ? out_->active : out_->inactive),
            &gen, id);
    }
  }

  // What every compiled rule of component `comp` records of the pattern
  // `src` generated as `gen`.
  static CompiledRule RuleFor(uint32_t comp, const PatternSource& src,
                              const Generated& gen) {
    CompiledRule rule;
    rule.component = comp;
    rule.spec = gen.parts[0].spec;
    rule.loc = src.loc;
    rule.written = src.text;
    rule.expanded = gen.expanded;
    rule.profile = gen.profile;
    rule.scope = gen.scope;
    rule.registry = gen.registry;
    return rule;
  }

  // Adds `gen`'s patterns to `index`, for the rule numbered `id` (of
  // `rules` or `restore_rules`, as the index holds).
  void Index(PatternIndex& index, Generated* gen, uint32_t id) {
    for (PatternParts& parts : gen->parts)
      index.Add(MakePattern(std::move(parts), out_->fold, id));
  }

  void AddRestore(const ComponentSpec& c, uint32_t comp,
                  const UserProfile* profile, const RestoreSpec& r) {
    // The script's arguments are locations ("%CSIDL_PERSONAL%\Archive"):
    // expanded now, with the variables of the run, for restore to apply.
    ScriptCall call;
    size_t bad = 0;
    std::vector<std::string> args;
    if (ParseScriptCall(r.script, &call, &bad)) {
      Variables vars(m_, profile);
      for (const std::string& a : call.args) {
        std::string expanded, missing;
        if (!ExpandUsmt(a, vars, *env_, &expanded, &missing)) {
          Missing(c, r.pattern, profile, missing);
          return;
        }
        args.push_back(std::move(expanded));
      }
    }
    std::vector<Generated> generated;
    Generate(r.pattern, c, profile, &generated);
    for (Generated& gen : generated) {
      if (r.kind == RestoreSpec::Kind::kDestinationCleanup) {
        AddCleanup(comp, r, gen);
        continue;
      }
      if (gen.registry && r.kind == RestoreSpec::Kind::kLocationModify) {
        Diagnose(Severity::kNote, r.pattern.loc,
                 "a <locationModify> of registry values is not applied: "
                 "settings are restored under their own key");
        continue;
      }
      if (!gen.registry && r.kind == RestoreSpec::Kind::kContentModify) {
        Diagnose(Severity::kNote, r.pattern.loc,
                 "a <contentModify> of files is not applied: migstore "
                 "modifies the content of registry values only");
        continue;
      }
      RestoreRule rule;
      rule.kind = r.kind;
      rule.script = r.script;
      rule.component = comp;
      rule.spec = gen.parts[0].spec;
      rule.loc = r.pattern.loc;
      rule.expanded = gen.expanded;
      rule.function = call.function;
      rule.args = args;
      auto id = static_cast<uint32_t>(out_->restore_rules.size());
      out_->restore_rules.push_back(std::move(rule));
      Index(gen.registry ? out_->registry_restore : out_->restore, &gen, id);
    }
  }

  // A <processing> or <externalProcess> step, kept once however many runs
  // of its component there are. A command line is kept as written: it is
  // given to the shell, which reads MIGSTORE_ROOT and MIGSTORE_PHASE from
  // its environment (docs/rules.md, "Processing").
  void AddProcessing(const ComponentSpec& c, const ProcessingSpec& p) {
    ProcessingStep step;
    step.when = p.when;
    step.command = p.command;
    step.component = c.name;
    step.file = rs_.files[p.loc.file];
    step.line = p.loc.line;
    step.text = p.text;
    if (!p.command) {
      ScriptCall call;
      size_t bad = 0;
      if (ParseScriptCall(p.text, &call, &bad)) step.function = call.function;
    }
    for (const ProcessingStep& seen : out_->processing) {
      if (seen.when == step.when && seen.command == step.command &&
          seen.text == step.text) {
        return;
      }
    }
    out_->processing.push_back(std::move(step));
  }

  // An <addObjects> value of an active run: its location expanded with
  // the run's variables; each value once (an HKLM one is the same in every
  // run). HKCU values belong to the user runs.
  void AddObject(const ComponentSpec& c, const UserProfile* profile,
                 const AddObjectSpec& a) {
    if (a.conditions && !Evaluate(*a.conditions, *env_, profile).empty())
      return;
    PatternSource src;
    src.kind = PatternSource::Kind::kRegistry;
    src.text = a.location;
    src.loc = a.loc;
    std::string expanded;
    if (!Expand(c, src, a.location, profile, &expanded)) return;
    RegistryObject object;
    if (!ParseRegistryObject(expanded, &object) || !object.has_value ||
        object.value == "*") {
      Diagnose(Severity::kWarning, a.loc,
               "an added object must name one registry value of HKLM or "
               "HKCU (\"Key [Value]\"): " +
                   expanded);
      return;
    }
    AddedRegistryValue v;
    if (object.root == RegistryRoot::kCurrentUser) {
      if (profile == nullptr) return;
      v.profile = ProfileIndex(profile);
    }
    v.key = std::move(object.key);
    v.name = std::move(object.value);
    v.type = a.type;
    v.data = a.data;
    v.file = rs_.files[a.loc.file];
    v.line = a.loc.line;
    if (!added_seen_.emplace(v.profile, FoldedCopy(v.key), FoldedCopy(v.name))
             .second) {
      return;
    }
    out_->added_registry_values.push_back(std::move(v));
  }

  // A <destinationCleanup> pattern: an include of its own index, so that
  // restore asks "is this target object cleaned?" as capture asks "is it
  // taken?" (and may prune the target walk the same way).
  void AddCleanup(uint32_t comp, const RestoreSpec& r, Generated& gen) {
    CompiledRule rule = RuleFor(comp, r.pattern, gen);
    rule.action = RuleAction::kInclude;
    rule.cleanup = true;
    auto id = static_cast<uint32_t>(out_->rules.size());
    out_->rules.push_back(std::move(rule));
    Index(gen.registry ? out_->registry_cleanup : out_->cleanup, &gen, id);
    ++(gen.registry ? out_->registry_cleanup_rules : out_->cleanup_rules);
  }

  // A variable is missing: say so unless that is the normal course (a
  // per-user variable in the system pass of a component that also runs per
  // user).
  void Missing(const ComponentSpec& c, const PatternSource& src,
               const UserProfile* profile, const std::string& name) {
    if (quiet_) return;
    if (profile == nullptr && IsPerUserVariable(name)) {
      if (HasUser(c.context)) return;
      Diagnose(Severity::kWarning, src.loc,
               "%" + name +
                   "% is a per-user folder, but this component runs in System "
                   "context; rule not applied");
      return;
    }
    std::string why;
    const bool own = std::any_of(
        c.env.begin(), c.env.end(),
        [&](const EnvVariable& v) { return EqualsFolded(v.name, name); });
    if (own) {
      why =
          " is not set in this run (the registry value its script reads "
          "is not there, or its <environment>'s conditions do not hold)";
    } else if (FindVariable(name) == nullptr) {
      why = " is not a variable migstore knows";
    } else if (profile != nullptr && IsPerUserVariable(name) &&
               DefinedForSomeUser(name)) {
      why = " is not a folder of user " + profile->name;
    } else {
      why = " is not defined on a " + std::string(LayoutName(m_.layout)) +
            " root";
    }
    Diagnose(Severity::kNote, src.loc,
             "%" + name + "%" + why + "; rule not applied");
  }

  bool DefinedForSomeUser(const std::string& name) const {
    for (const UserProfile* p : selected_) {
      if (Variables(m_, p).Lookup(name)) return true;
    }
    return false;
  }

  void AddUsmt(const PatternSource& src, std::string text, int32_t profile,
               std::vector<Generated>* out) {
    Generated g;
    g.profile = profile;
    PatternParts parts;
    UsmtPatternError error;
    if (!ParseUsmtPattern(text, &parts, &error)) {
      Diagnose(error.other_drive ? Severity::kNote : Severity::kWarning,
               src.loc, error.message + ": " + text);
      return;
    }
    g.expanded = std::move(text);
    g.parts.push_back(std::move(parts));
    out->push_back(std::move(g));
  }

  void AddRegistry(const PatternSource& src, const std::string& expanded,
                   int32_t profile, std::vector<Generated>* out) {
    std::string text, why;
    if (!RegistryPatternText(expanded, profile, &text, &why)) {
      Diagnose(Severity::kNote, src.loc, why + ": " + expanded);
      return;
    }
    Generated g;
    // An HKLM pattern is the same for every user: one rule, not one each.
    std::string_view rest;
    g.profile = RegistryRootOf(expanded, &rest) == RegistryRoot::kCurrentUser
                    ? profile
                    : -1;
    g.registry = true;
    PatternParts parts;
    UsmtPatternError error;
    if (!ParseUsmtPattern(text, &parts, &error, true)) {
      Diagnose(Severity::kWarning, src.loc, error.message + ": " + expanded);
      return;
    }
    g.expanded = expanded;
    g.parts.push_back(std::move(parts));
    out->push_back(std::move(g));
  }

  // `text` with the run's variables, or false (reported) when one is
  // missing.
  bool Expand(const ComponentSpec& c, const PatternSource& src,
              std::string_view text, const UserProfile* profile,
              std::string* expanded) {
    Variables vars(m_, profile);
    std::string missing;
    if (ExpandUsmt(text, vars, *env_, expanded, &missing)) return true;
    Missing(c, src, profile, missing);
    return false;
  }

  void ExpandAndAddRegistry(const ComponentSpec& c, const PatternSource& src,
                            std::string_view text, const UserProfile* profile,
                            std::vector<Generated>* out) {
    std::string expanded;
    if (!Expand(c, src, text, profile, &expanded)) return;
    std::string_view rest;
    if (profile == nullptr &&
        RegistryRootOf(expanded, &rest) == RegistryRoot::kCurrentUser) {
      // Rules that also run per user meet their HKCU patterns there; rules
      // that run only in the system context never do.
      if (!group_has_user_runs_) {
        Diagnose(Severity::kWarning, src.loc,
                 "HKCU pattern in a System-context component; rule not "
                 "applied: " +
                     expanded);
      }
      return;
    }
    AddRegistry(src, expanded, ProfileIndex(profile), out);
  }

  void ExpandAndAddUsmt(const ComponentSpec& c, const PatternSource& src,
                        std::string_view text, const UserProfile* profile,
                        std::vector<Generated>* out) {
    std::string expanded;
    if (!Expand(c, src, text, profile, &expanded)) return;
    AddUsmt(src, std::move(expanded), ProfileIndex(profile), out);
  }

  int32_t ProfileIndex(const UserProfile* p) const {
    return p == nullptr ? -1 : static_cast<int32_t>(p - m_.profiles.data());
  }

  // Whether `text` expands the same in every run: it names no per-user
  // folder, so the system context can expand it.
  bool SameInEveryRun(const PatternSource& src) const {
    Variables system(m_, nullptr);
    std::string expanded, missing;
    switch (src.kind) {
      case PatternSource::Kind::kNative:
        return ExpandNative(src.text, system, &expanded, &missing);
      case PatternSource::Kind::kUsmt:
        return ExpandUsmt(src.text, system, invariant_, &expanded, &missing);
      case PatternSource::Kind::kRegistry: {
        std::string_view rest;
        return ExpandUsmt(src.text, system, invariant_, &expanded, &missing) &&
               RegistryRootOf(expanded, &rest) != RegistryRoot::kCurrentUser;
      }
      case PatternSource::Kind::kDrivePatterns:
        return true;
      case PatternSource::Kind::kUserPatterns:
      case PatternSource::Kind::kDocPatterns:
        return false;  // what they generate depends on the run
    }
    return false;
  }

  void Generate(const PatternSource& src, const ComponentSpec& c,
                const UserProfile* profile, std::vector<Generated>* out) {
    const size_t first = out->size();
    GenerateFor(src, c, profile, out);
    const int32_t scope = SameInEveryRun(src) ? -1 : ProfileIndex(profile);
    for (size_t i = first; i < out->size(); ++i) (*out)[i].scope = scope;
  }

  void GenerateFor(const PatternSource& src, const ComponentSpec& c,
                   const UserProfile* profile, std::vector<Generated>* out) {
    switch (src.kind) {
      case PatternSource::Kind::kNative: {
        Variables vars(m_, profile);
        std::string expanded, missing;
        if (!ExpandNative(src.text, vars, &expanded, &missing)) {
          Missing(c, src, profile, missing);
          return;
        }
        Generated g;
        g.profile = ProfileIndex(profile);
        NativePatternError error;
        if (!ParseNativePattern(expanded, &g.parts, &error)) {
          Diagnose(Severity::kWarning, src.loc,
                   error.message + ": " + expanded);
          return;
        }
        g.expanded = std::move(expanded);
        out->push_back(std::move(g));
        return;
      }
      case PatternSource::Kind::kUsmt:
        ExpandAndAddUsmt(c, src, src.text, profile, out);
        return;
      case PatternSource::Kind::kRegistry:
        ExpandAndAddRegistry(c, src, src.text, profile, out);
        return;
      case PatternSource::Kind::kDrivePatterns: {
        if (!EqualsFolded(src.args[1], "Fixed")) {
          Diagnose(Severity::kNote, src.loc,
                   "no " + src.args[1] + " drives under a root; " + src.text +
                       " generates nothing");
          return;
        }
        std::string_view p = src.args[0];
        while (!p.empty() && (p.front() == '\\' || p.front() == ' ')) {
          p.remove_prefix(1);
        }
        AddUsmt(src, "C:\\" + std::string(p), -1, out);
        return;
      }
      case PatternSource::Kind::kUserPatterns: {
        bool current = IsTrue(src.args[2]);
        const bool registry = EqualsFolded(src.args[0], "Registry");
        for (const UserProfile* q : selected_) {
          if (!current && q == profile) continue;
          if (registry) {
            ExpandAndAddRegistry(c, src, src.args[1], q, out);
          } else {
            ExpandAndAddUsmt(c, src, src.args[1], q, out);
          }
        }
        return;
      }
      case PatternSource::Kind::kDocPatterns: {
        if (IsTrue(src.args[0])) {
          Diagnose(
              Severity::kNote, src.loc,
              "GenerateDocPatterns: ScanProgramFiles needs the registry's file "
              "associations; Program Files is not scanned");
        }
        bool include = IsTrue(src.args[1]);
        for (std::string& text : GenerateDocPatterns(m_, profile, include)) {
          AddUsmt(src, std::move(text), ProfileIndex(profile), out);
        }
        return;
      }
    }
  }

  const RuleSetData& rs_;
  const Machine& m_;
  const std::vector<UserChoice>& users_;
  std::shared_ptr<MatcherData> out_;
  // The root's hives, opened as registry conditions ask for them.
  registry::RegistryView hives_{m_};
  std::vector<const UserProfile*> selected_;
  // Whether the rule group being compiled also runs once per user.
  bool group_has_user_runs_ = false;
  // The variables of the run being compiled (RunEnv), while it is.
  const std::vector<EnvVariable>* env_ = nullptr;
  // Whether the rule being compiled belongs to an inactive run.
  bool quiet_ = false;
  // The component's variables without a value in the run being compiled
  // (folded names), and those with the same value in every run.
  std::set<std::string> unset_;
  std::vector<EnvVariable> invariant_;
  // Why each run compiled so far is inactive ("" active), by component
  // index and profile (null: the system run).
  std::map<std::pair<size_t, const UserProfile*>, std::string> run_inactive_;
  std::set<std::tuple<uint32_t, int, std::string, bool, int32_t, int32_t>>
      rules_seen_;
  std::set<std::tuple<uint32_t, int, int, std::string>> diag_seen_;
  std::set<const ConfigEntry*> used_config_;
  std::set<std::tuple<int32_t, std::string, std::string>> added_seen_;
};

}  // namespace
}  // namespace internal

Result<Matcher> CompileRules(const RuleSet& rules, const Machine& machine,
                             const std::vector<UserChoice>& users) {
  internal::RuleCompiler compiler(internal::RuleSetAccess::Data(rules), machine,
                                  users);
  MIGSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::MatcherData> data,
                            compiler.Build());
  return Matcher(std::move(data));
}

}  // namespace migstore
