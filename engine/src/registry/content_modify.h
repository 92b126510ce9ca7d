// USMT's <contentModify> helpers (usmt.md §5; docs/rules.md, "Restore-time
// rules"): how restore changes a registry value's content on its way into
// the target hive.
//
//   ConvertToDWORD(DefaultValueOnError)   to REG_DWORD: a number in a string
//                                         (decimal or 0x hex), a DWORD, a
//                                         QWORD or binary of at most 4 bytes;
//                                         else the default, or 0 without one
//   ConvertToString()                     to REG_SZ: numbers in decimal,
//                                         binary as hex digits
//   ConvertToBinary()                     to REG_BINARY, the same bytes
//   OffsetValue(Value)                    adds Value to a DWORD or QWORD
//   SetValueByTable(SourceTable, DestinationTable, DefaultValueOnError)
//                                         "a,b,c" and "x,y,z": the value's
//                                         text (a number in decimal) found
//                                         in the first, replaced by the item
//                                         in the same place of the second,
//                                         the type kept; not found: the
//                                         default, or unchanged without one
//   MergeMultiSzContent(Instruction, String, ...)
//                                         the target's strings, then the
//                                         source's not already there (each
//                                         once); then each Add (when
//                                         missing) or Remove
//   MergeDelimitedContent(Delimiters, Instruction, String, ...)
//                                         the same for a string split at any
//                                         of Delimiters, joined by the first
//
// An optional argument that is absent, empty or NULL is not given. A value
// another helper cannot convert is an error that says why, and the caller
// keeps the source value.
// Strings compare without case (ASCII), as Windows compares them.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_REGISTRY_CONTENT_MODIFY_H_
#define MIGSTORE_ENGINE_SRC_REGISTRY_CONTENT_MODIFY_H_

#include <optional>
#include <string>

#include "engine/src/registry/hive.h"
#include "migstore/matcher.h"
#include "migstore/result.h"

namespace migstore::registry {

// A value's text as USMT's string helpers see it: a REG_SZ or
// REG_EXPAND_SZ up to its NUL, a DWORD or QWORD in decimal; nullopt for
// any other type.
std::optional<std::string> StringForm(const Hive::ValueData& v);

// The value `source` becomes under `rule` (a contentModify directive), with
// `existing` the target's value of that name, or null. InvalidArgument for
// a helper that is not a contentModify helper, bad arguments, or a value it
// cannot convert without a default.
Result<Hive::ValueData> ModifyContent(const RestoreDirective& rule,
                                      const Hive::ValueData& source,
                                      const Hive::ValueData* existing);

}  // namespace migstore::registry

#endif  // MIGSTORE_ENGINE_SRC_REGISTRY_CONTENT_MODIFY_H_
