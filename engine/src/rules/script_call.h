// Parses the script calls USMT XML writes in <script>, <condition> and
// script= / filter= attributes: `MigXmlHelper.Name ("a", 'b', TRUE)`.
//
// Thread safety: pure function.

#ifndef MIGSTORE_ENGINE_SRC_RULES_SCRIPT_CALL_H_
#define MIGSTORE_ENGINE_SRC_RULES_SCRIPT_CALL_H_

#include <string>
#include <string_view>
#include <vector>

namespace migstore::internal {

struct ScriptCall {
  std::string name;      // "MigXmlHelper.GenerateDrivePatterns"
  std::string function;  // "GenerateDrivePatterns" (after the last '.')
  std::vector<std::string> args;
};

// False when `text` is not a call (the offset of the trouble in *error_at).
bool ParseScriptCall(std::string_view text, ScriptCall* out, size_t* error_at);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_SCRIPT_CALL_H_
