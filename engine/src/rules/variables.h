// The %VARIABLES% both rule languages understand: USMT's CSIDL and
// environment names (usmt.md §5) and migstore's short names, each bound to
// a known folder of the profile being processed (user context) or of the
// machine (system context). docs/rules.md has the full table.
//
// Thread safety: the table is immutable; a Variables object is a value.

#ifndef MIGSTORE_ENGINE_SRC_RULES_VARIABLES_H_
#define MIGSTORE_ENGINE_SRC_RULES_VARIABLES_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "migstore/profiles.h"

namespace migstore::internal {

struct VariableInfo {
  const char* name;  // upper case
  bool per_user;     // defined only in user context
  const char* key;   // known-folder key; "" for the profile or root itself
};

// The entry for `name` (any case), or nullptr for an unknown name.
const VariableInfo* FindVariable(std::string_view name);

// Every variable, for documentation and tests.
const std::vector<VariableInfo>& AllVariables();

// Values of variables for one scope: a user profile, or the system when
// `profile` is null. Values are root-relative paths.
class Variables {
 public:
  Variables(const Machine& machine, const UserProfile* profile)
      : machine_(&machine), profile_(profile) {}

  // nullopt when the variable is unknown, per-user in system context, or
  // not defined on this layout (%CSIDL_WINDOWS% on linux).
  std::optional<std::string> Lookup(std::string_view name) const;

  const UserProfile* profile() const { return profile_; }

 private:
  const Machine* machine_;
  const UserProfile* profile_;
};

// The longest text ExpandVariables makes (a Windows path has at most
// 32,767 characters); past it the variable is taken as missing.
inline constexpr size_t kMaxExpandedBytes = size_t{64} << 10;

// Replaces every %NAME% (NAME of letters, digits, '_', '(' and ')') in
// `text` with value_of(NAME) passed through `escape`. A '%' that does not
// open such a name is kept. Returns false, with *missing set to the first
// NAME whose value_of is nullopt, when one is undefined.
bool ExpandVariables(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view)>& value_of,
    const std::function<std::string(std::string_view)>& escape,
    std::string* out, std::string* missing);

// Where the next variable reference in `text` at or after `from` is:
// [*begin, *end) covers "%NAME%". False when there is none.
bool NextVariable(std::string_view text, size_t from, size_t* begin,
                  size_t* end);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_VARIABLES_H_
