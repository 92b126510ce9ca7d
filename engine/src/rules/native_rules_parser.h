// The native rules language (docs/rules.md, "Native rules files"):
//
//   # comment
//   component Mail                   (optional: starts a component)
//   include %DOCUMENTS%/**
//   exclude %USERPROFILE%/**/*.tmp
//   unconditional-exclude **/Thumbs.db
//
// One rule a line: a keyword, blanks, and a pattern that runs to the end of
// the line (blanks inside it are part of it; blanks around it are not).
// Rules before any `component` line form a component named after the file.
//
// Thread safety: pure function.

#ifndef MIGSTORE_ENGINE_SRC_RULES_NATIVE_RULES_PARSER_H_
#define MIGSTORE_ENGINE_SRC_RULES_NATIVE_RULES_PARSER_H_

#include <string_view>

#include "engine/src/rules/rule_model.h"
#include "migstore/status.h"

namespace migstore::internal {

// Appends the file's components to *data. InvalidArgument
// "name:line:column: ..." on the first error; *data is then unchanged.
Status ParseNativeRules(std::string_view name, std::string_view text,
                        RuleSetData* data);

// Checks a native pattern as written (variables known, glob well-formed).
// On error, *column_offset is the byte offset of the trouble.
bool CheckNativePattern(std::string_view pattern, size_t* column_offset,
                        std::string* message);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_NATIVE_RULES_PARSER_H_
