// User selection: which of a machine's profiles a capture takes, with
// ScanState's /ui, /ue and /uel semantics.
//
//   --user-include GLOB   a matching user is always taken (beats the others)
//   --last-used DAYS|DATE users used since then are taken, others are not
//                         (beats --user-exclude)
//   --user-exclude GLOB   a matching user is not taken
//   none of them          every profile is taken
//
// A glob is matched against the user name; '*' is the only wildcard, as in
// USMT. A USMT-style "DOMAIN\user" glob matches on its part after the last
// backslash: an offline disk does not say which domain a profile belongs to.
// Windows-layout names match case-insensitively (ASCII).
//
// Thread safety: plain values and pure functions.

#ifndef MIGSTORE_USER_SELECTION_H_
#define MIGSTORE_USER_SELECTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/profiles.h"
#include "migstore/result.h"

namespace migstore {

// A parsed --last-used value.
struct LastUsed {
  enum class Kind : uint8_t {
    kDays,         // "14": used in the last 14 days (14 * 24 h before now)
    kSince,        // "2024-05-01" or "2024/05/01": on or after that local date
    kLoggedOnNow,  // "0": logged on now (linux: ROOT/run/utmp; not on windows)
  };
  Kind kind = Kind::kDays;
  int64_t not_before_ns = 0;  // kDays and kSince: the cutoff
  std::string text;           // as given, for messages
};

// Parses DAYS (a whole number), YYYY-MM-DD or YYYY/MM/DD. `now_ns` is the
// time the days are counted back from. InvalidArgument on anything else.
Result<LastUsed> ParseLastUsed(std::string_view text, int64_t now_ns);

struct UserSelection {
  std::vector<std::string> include;  // --user-include globs
  std::vector<std::string> exclude;  // --user-exclude globs
  std::optional<LastUsed> last_used;
};

// The verdict on one profile.
struct UserChoice {
  size_t profile = 0;  // index into Machine::profiles
  bool selected = false;
  // Why, for explain and the log: "included by --user-include 'a*'".
  std::string reason;
};

// One choice per profile, in the machine's order. kLoggedOnNow on a
// windows root is InvalidArgument (as /uel:0 is invalid offline in USMT).
Result<std::vector<UserChoice>> SelectUsers(const Machine& machine,
                                            const UserSelection& selection);

// USMT user-glob matching: '*' matches any run of bytes; case-insensitive
// (ASCII) when `fold_case`.
bool UserGlobMatch(std::string_view glob, std::string_view name,
                   bool fold_case);

}  // namespace migstore

#endif  // MIGSTORE_USER_SELECTION_H_
