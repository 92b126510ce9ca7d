// Registry patterns ("HKCU\Software\Foo\* [*]", usmt.md §5) on the matcher's
// paths. The matcher knows one tree of '/'-separated paths; registry keys
// live in their own index (MatcherData::registry) under two roots:
//
//   HKCU\Software\Foo of profile 3   ->  /hkcu/3/software/foo
//   HKLM\SOFTWARE\Foo                ->  /hklm/software/foo
//
// so a user's HKCU rules apply to that user's hive only, and the profile's
// "home" in that index is /hkcu/3 (an unselected user's settings are never
// taken, as with files). Other roots (HKCR, HKU, HKCC) are not part of an
// offline capture.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_RULES_REGISTRY_PATTERN_H_
#define MIGSTORE_ENGINE_SRC_RULES_REGISTRY_PATTERN_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace migstore::internal {

enum class RegistryRoot : uint8_t { kNone, kCurrentUser, kLocalMachine };

// The root a key path or pattern opens with: "HKCU", "HKEY_CURRENT_USER",
// "HKLM", "HKEY_LOCAL_MACHINE" (any case), followed by '\', ' ', '[' or
// the end. *rest gets what follows the root name.
RegistryRoot RegistryRootOf(std::string_view text, std::string_view* rest);

// Rewrites an expanded registry pattern for ParseUsmtPattern(registry):
// "HKCU\Software\Foo [x]" for `profile` 3 becomes "hkcu\3\Software\Foo [x]".
// False, with *why, for another root, or HKCU without a profile.
bool RegistryPatternText(std::string_view expanded, int32_t profile,
                         std::string* out, std::string* why);

// The '/'-separated matcher path of key `key` ("HKCU\Software\Foo") of
// `profile` (ignored for HKLM), not folded. Empty for another root.
std::string RegistryMatchPath(std::string_view key, int32_t profile);

// "/hkcu/3": a profile's part of the registry index.
std::string RegistryHome(int32_t profile);

// One registry object a helper names ("HKLM\Software\Foo [Value]", already
// expanded): its root, its key spelled "HKLM\..." or "HKCU\..." without
// trailing '\' and spaces, and its value ("" the default one), '^' escapes
// undone.
struct RegistryObject {
  RegistryRoot root = RegistryRoot::kNone;
  std::string key;
  bool has_value = false;
  std::string value;  // "*": any value of the key
};

// False for another root, a wildcard in the key or in a value other than
// "*", or a leaf without its closing bracket.
bool ParseRegistryObject(std::string_view expanded, RegistryObject* out);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_REGISTRY_PATTERN_H_
