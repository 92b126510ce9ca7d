// Variable expansion for each rule language, for one scope (a user or the
// system): values are escaped so that a folder name holding a wildcard or a
// bracket stays literal. USMT <environment> variables are expanded first;
// their values are pattern text, so they are not escaped.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_RULES_EXPAND_H_
#define MIGSTORE_ENGINE_SRC_RULES_EXPAND_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/src/rules/rule_model.h"
#include "engine/src/rules/variables.h"

namespace migstore::internal {

// USMT text: %CSIDL_PERSONAL% becomes "C:\Users\alice\Documents".
bool ExpandUsmt(std::string_view text, const Variables& vars,
                const std::vector<EnvVariable>& env, std::string* out,
                std::string* missing);

// Native text: %DOCUMENTS% becomes "Users/alice/Documents".
bool ExpandNative(std::string_view text, const Variables& vars,
                  std::string* out, std::string* missing);

// Whether `name` is a per-user variable (so undefined in system context).
bool IsPerUserVariable(std::string_view name);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_EXPAND_H_
