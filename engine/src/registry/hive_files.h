// Where an offline Windows root keeps its registry hives, and which part of
// the registry each one is (docs/rules.md, "Registry"):
//
//   Windows/System32/config/SOFTWARE   HKLM\SOFTWARE
//   Windows/System32/config/SYSTEM     HKLM\SYSTEM (its current control set
//                                      is HKLM\SYSTEM\CurrentControlSet)
//   <profile home>/NTUSER.DAT          HKCU of that user
//   <profile home>/AppData/Local/Microsoft/Windows/UsrClass.dat
//                                      HKCU\Software\Classes of that user
//                                      (Windows links it there at logon;
//                                      offline it is a hive of its own)
//
// Names are found case-insensitively (a Windows disk copied to a
// case-sensitive filesystem may spell them any way).
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_REGISTRY_HIVE_FILES_H_
#define MIGSTORE_ENGINE_SRC_REGISTRY_HIVE_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/src/registry/hive.h"
#include "migstore/result.h"

namespace migstore::registry {

struct HiveFile {
  std::string mount;  // "HKLM\SOFTWARE", "HKLM\SYSTEM", "HKCU"
  std::string rel;    // root-relative path of the file
};

HiveFile SoftwareHive(std::string_view root);
HiveFile SystemHive(std::string_view root);
HiveFile UserHive(std::string_view root, std::string_view home);
HiveFile ClassesHive(std::string_view root, std::string_view home);

// The mount of a user's class hive.
inline constexpr std::string_view kUserClasses = "HKCU\\Software\\Classes";
// Whether a mount is one of a user's hives (HKCU or its classes).
bool IsUserMount(std::string_view mount);

// The key name of SYSTEM's current control set ("ControlSet001"), from
// Select\Current; "" when the hive has no such value.
Result<std::string> CurrentControlSet(const Hive& system);

// The names of a '\'-separated key path below a hive's root ("Software\Foo"
// gives "Software", "Foo"); empty names are skipped.
std::vector<std::string> KeyNames(std::string_view below);

// Splits a record's key "HKLM\SOFTWARE\Foo\Bar" into the mount it lives
// under ("HKLM\SOFTWARE") and the path below it ("Foo\Bar"). False for a
// key under no hive file migstore knows.
bool SplitMount(std::string_view key, std::string* mount, std::string* below);

}  // namespace migstore::registry

#endif  // MIGSTORE_ENGINE_SRC_REGISTRY_HIVE_FILES_H_
