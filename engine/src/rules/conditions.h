// Evaluates USMT <detects>/<detection>/<condition> trees against the files
// under the root. DoesObjectExist and IsSameObject on files are decided;
// every other condition (registry, OS version, ...) cannot be decided from
// files and is Unknown, which does not stop a component: migstore would
// rather look for an application's files than silently skip them, and file
// patterns of an absent application match nothing anyway.
//
// In system context a condition naming a per-user folder is evaluated for
// every selected user and holds when it holds for one of them (USMT would
// use the user running ScanState; an offline capture has none).
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_RULES_CONDITIONS_H_
#define MIGSTORE_ENGINE_SRC_RULES_CONDITIONS_H_

#include <string>
#include <vector>

#include "engine/src/rules/rule_model.h"
#include "migstore/profiles.h"

namespace migstore::internal {

enum class Truth : uint8_t { kFalse, kTrue, kUnknown };

struct ConditionScope {
  const Machine* machine = nullptr;
  const UserProfile* profile = nullptr;  // null: system context
  std::vector<const UserProfile*> selected;
  const std::vector<EnvVariable>* env = nullptr;
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

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_CONDITIONS_H_
