// Evaluates USMT <detects>/<detection>/<condition> trees against the files
// and offline hives under the root (docs/rules.md, "Detection").
// DoesObjectExist and IsSameObject on files are decided, and so are
// DoesObjectExist, DoesStringContentEqual and DoesStringContentContain on
// the registry of a Windows root, IsNative64Bit and IsOSLaterThan/
// EarlierThan from it, and a program's version condition when the program
// is not there (false). A condition on a place named with a component
// variable that has no value in the run is false. Every other condition
// cannot be decided offline and is Unknown, which does not stop a
// component: migstore would rather look for an application's files than
// silently skip them, and file patterns of an absent application match
// nothing anyway. So is a registry condition whose hive is missing or
// unreadable, or whose key holds a wildcard.
//
// In system context a condition naming a per-user folder or HKCU is
// evaluated for every selected user and holds when it holds for one of
// them (USMT would use the user running ScanState; an offline capture has
// none).
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_RULES_CONDITIONS_H_
#define MIGSTORE_ENGINE_SRC_RULES_CONDITIONS_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/src/registry/registry_view.h"
#include "engine/src/rules/rule_model.h"
#include "migstore/profiles.h"

namespace migstore::internal {

enum class Truth : uint8_t { kFalse, kTrue, kUnknown };

struct ConditionScope {
  const Machine* machine = nullptr;
  const UserProfile* profile = nullptr;  // null: system context
  std::vector<const UserProfile*> selected;
  const std::vector<EnvVariable>* env = nullptr;
  // The component's variables that have no value in this run (folded
  // names; null: none): a condition on a place named with one is false
  // (conditions.cc, NamesUnset).
  const std::set<std::string>* unset = nullptr;
  // The root's hives; null: registry conditions are Unknown.
  registry::RegistryView* registry = nullptr;
};

struct ConditionNote {
  SourceLoc loc;
  std::string message;
};

// The truth of `node`; conditions that were Unknown are described in
// *notes. The first condition that made the result false, if any, is
// described in *why_false.
Truth EvaluateConditions(const ConditionNode& node, const ConditionScope& scope,
                         std::vector<ConditionNote>* notes,
                         std::string* why_false);

// What MigXmlHelper.GetStringContent("Registry", object) reads for an
// <environment> variable: the text of the value `object` names ("HKLM\Key
// [Value]", variables already expanded), without trailing backslashes and
// spaces; nullopt when the value is not there or is not text or a number,
// and also, with *unknown set, when it cannot be read in this scope (HKCU
// in the system context, a missing or unreadable hive, a wildcard).
std::optional<std::string> RegistryString(const std::string& object,
                                          const ConditionScope& scope,
                                          bool* unknown);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_CONDITIONS_H_
