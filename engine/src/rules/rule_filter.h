// An include rule's filter= script, read once when the rules are compiled
// (usmt.md §5, "Helper functions"; docs/rules.md, "Filters"):
//
//   IgnoreIrrelevantLinks()   kept with the rule; restore-time
//   NeverRestore()            the entry is stored, and restore leaves it out
//   FileProperties(property, operator, value)
//                             the include takes a file only when the
//                             property passes: filesize, dateCreated,
//                             dateModified or dateAccessed; range, neq, lte,
//                             lt, eq, gte or gt; "5GB", "1KB-1MB",
//                             "2008/05/15" or "2008/05/15-2008/05/17"
//
// Sizes take B, KB, MB, GB, TB (powers of 1024, as Windows counts them).
// Dates are days of the local calendar of the machine migstore runs on
// ("2008/05/15" or "2008-05-15", optionally " HH:MM[:SS]"): a day without a
// time stands for the whole day, so eq means "on that day", lt "before it",
// gt "after it", and a range holds both ends. dateCreated reads the birth
// time the filesystem gives (statx); where it has none, the change time
// stands in (docs/rules.md says so).
//
// Thread safety: plain values; Holds is a pure function.

#ifndef MIGSTORE_ENGINE_SRC_RULES_RULE_FILTER_H_
#define MIGSTORE_ENGINE_SRC_RULES_RULE_FILTER_H_

#include <cstdint>
#include <string>

#include "migstore/matcher.h"
#include "migstore/result.h"

namespace migstore::internal {

struct RuleFilter {
  enum class Kind : uint8_t {
    kNone,
    kIgnoreIrrelevantLinks,
    kNeverRestore,
    kFileProperties,
  };
  enum class Property : uint8_t { kSize, kCreated, kModified, kAccessed };
  enum class Op : uint8_t { kRange, kNeq, kLte, kLt, kEq, kGte, kGt };

  Kind kind = Kind::kNone;
  Property property = Property::kSize;
  Op op = Op::kEq;
  // The value as an inclusive interval [low, high]: bytes, or ns since the
  // Unix epoch (a day is its first to its last nanosecond).
  int64_t low = 0;
  int64_t high = 0;

  // Whether a file with `facts` passes. Must be kFileProperties.
  bool Holds(const FileFacts& facts) const;
};

// Reads a filter= script. InvalidArgument, with what is wrong, for a call
// that is not one of the above or has bad arguments.
Result<RuleFilter> ParseRuleFilter(const std::string& script);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_RULE_FILTER_H_
