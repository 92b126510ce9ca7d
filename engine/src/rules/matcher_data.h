// What CompileRules builds and Matcher shares between copies: the rules in
// force after expansion, the pattern indexes, and what Explain needs to
// tell the story (file names, component names, inactive rules, restore
// rules).
//
// Thread safety: immutable once built.

#ifndef MIGSTORE_ENGINE_SRC_RULES_MATCHER_DATA_H_
#define MIGSTORE_ENGINE_SRC_RULES_MATCHER_DATA_H_

#include <string>
#include <vector>

#include "engine/src/rules/pattern_index.h"
#include "engine/src/rules/rule_filter.h"
#include "engine/src/rules/rule_model.h"
#include "migstore/profiles.h"
#include "migstore/rules.h"
#include "migstore/user_selection.h"

namespace migstore::internal {

// A rule after expansion: one concrete pattern for one scope.
struct CompiledRule {
  RuleAction action = RuleAction::kInclude;
  uint32_t component = 0;  // index into MatcherData::components
  Specificity spec;
  SourceLoc loc;
  std::string written;   // the pattern (or script) as written
  std::string expanded;  // the pattern as applied
  int32_t profile = -1;  // whose variables; -1 for the system
  // The run of the component the rule belongs to: the selected profile whose
  // pass produced it, or -1 for a rule that is the same in every run (no
  // per-user variable). Precedence is decided within one run.
  int32_t scope = -1;
  bool registry = false;   // a registry pattern (MatcherData::registry)
  std::string filter;      // USMT include filter as written
  RuleFilter filter_spec;  // read; kNone when absent or not applied
  std::string inactive;    // why the rule is not in force; "" when it is
  // A <destinationCleanup> pattern (MatcherData::cleanup and
  // registry_cleanup), not a capture rule.
  bool cleanup = false;
};

// A <merge> or <locationModify> rule, kept for restore.
struct RestoreRule {
  RestoreSpec::Kind kind = RestoreSpec::Kind::kMerge;
  std::string script;
  uint32_t component = 0;
  Specificity spec;
  SourceLoc loc;
  std::string expanded;
  // The script's function ("Move", without "MigXmlHelper.") and arguments
  // with the run's variables expanded; empty function when the script is
  // not a call.
  std::string function;
  std::vector<std::string> args;
};

// A component as compiled: USMT runs a User-context component once per
// selected user, a System-context one once, UserAndSystem both.
struct CompiledComponent {
  std::string name;
  bool system_run = false;
  int32_t user_runs = 0;
};

struct MatcherData {
  Layout layout = Layout::kLinux;
  bool fold = false;
  std::vector<std::string> files;
  std::vector<CompiledComponent> components;
  std::vector<std::string> profiles;  // Machine::profiles names, by index
  std::vector<UserChoice> choices;    // by profile index
  std::vector<CompiledRule> rules;    // active and inactive
  size_t active_rules = 0;
  bool has_never_restore = false;  // an include in force has NeverRestore
  PatternIndex active;             // patterns of rules in force
  PatternIndex inactive;           // patterns of rules switched off
  // Registry patterns in force, on registry_pattern.h's paths, and those
  // switched off.
  PatternIndex registry;
  PatternIndex registry_inactive;
  size_t registry_rules = 0;  // in force
  std::vector<RestoreRule> restore_rules;
  PatternIndex restore;  // pattern.rule indexes restore_rules
  // The registry's <merge> and <contentModify> rules, the same way.
  PatternIndex registry_restore;
  // <destinationCleanup> patterns: pattern.rule indexes `rules` (includes
  // flagged cleanup), of files and of the registry.
  PatternIndex cleanup;
  PatternIndex registry_cleanup;
  size_t cleanup_rules = 0;
  size_t registry_cleanup_rules = 0;
  // <processing> and <externalProcess> steps of active components.
  std::vector<ProcessingStep> processing;
  // <addObjects> registry values of active components.
  std::vector<AddedRegistryValue> added_registry_values;
  std::vector<RuleDiagnostic> diagnostics;
};

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_MATCHER_DATA_H_
