#include "engine/src/rules/expand.h"

#include "engine/base/case_fold.h"
#include "engine/src/rules/native_pattern.h"
#include "engine/src/rules/usmt_pattern.h"

namespace migstore::internal {
namespace {

// Variables naming variables: at most 8 deep, and at most kMaxLookups
// lookups for one text, since a crafted file's variables may each name the
// next many times (16 names 8 deep would be 16^8 lookups of empty values).
constexpr size_t kMaxLookups = 100000;

bool ExpandUsmtDepth(std::string_view text, const Variables& vars,
                     const std::vector<EnvVariable>& env, int depth,
                     size_t* lookups, std::string* out, std::string* missing) {
  auto value_of = [&](std::string_view name) -> std::optional<std::string> {
    if (++*lookups > kMaxLookups) return std::nullopt;
    for (const EnvVariable& v : env) {
      if (!EqualsFolded(v.name, name)) continue;
      std::string expanded;
      if (depth > 8 || !ExpandUsmtDepth(v.value, vars, env, depth + 1, lookups,
                                        &expanded, missing)) {
        return std::nullopt;
      }
      return expanded;
    }
    std::optional<std::string> rel = vars.Lookup(name);
    if (!rel) return std::nullopt;
    return EscapeUsmt(UsmtPathOf(*rel));
  };
  // Values come back ready to paste: escaping happened in value_of, since
  // <environment> values must not be escaped.
  auto keep = [](std::string_view s) { return std::string(s); };
  std::string inner_missing;
  bool ok = ExpandVariables(text, value_of, keep, out, &inner_missing);
  if (!ok && missing->empty()) *missing = inner_missing;
  return ok;
}

}  // namespace

bool ExpandUsmt(std::string_view text, const Variables& vars,
                const std::vector<EnvVariable>& env, std::string* out,
                std::string* missing) {
  missing->clear();
  size_t lookups = 0;
  return ExpandUsmtDepth(text, vars, env, 0, &lookups, out, missing);
}

bool ExpandNative(std::string_view text, const Variables& vars,
                  std::string* out, std::string* missing) {
  auto value_of = [&](std::string_view name) { return vars.Lookup(name); };
  auto escape = [](std::string_view s) { return EscapeNative(s); };
  return ExpandVariables(text, value_of, escape, out, missing);
}

bool IsPerUserVariable(std::string_view name) {
  const VariableInfo* v = FindVariable(name);
  return v != nullptr && v->per_user;
}

}  // namespace migstore::internal
