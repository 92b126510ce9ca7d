#include "engine/src/registry/hive_files.h"

#include <cstdio>

#include "engine/base/case_fold.h"
#include "engine/src/fs/root_fs.h"

namespace migstore::registry {
namespace {

HiveFile Resolved(std::string_view root, std::string mount,
                  std::string_view rel) {
  return {std::move(mount), internal::ResolveNoCase(root, rel)};
}

bool StartsFolded(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         internal::EqualsFolded(s.substr(0, prefix.size()), prefix) &&
         (s.size() == prefix.size() || s[prefix.size()] == '\\');
}

}  // namespace

HiveFile SoftwareHive(std::string_view root) {
  return Resolved(root, "HKLM\\SOFTWARE", "Windows/System32/config/SOFTWARE");
}

HiveFile SystemHive(std::string_view root) {
  return Resolved(root, "HKLM\\SYSTEM", "Windows/System32/config/SYSTEM");
}

HiveFile UserHive(std::string_view root, std::string_view home) {
  return Resolved(root, "HKCU", std::string(home) + "/NTUSER.DAT");
}

HiveFile ClassesHive(std::string_view root, std::string_view home) {
  return Resolved(
      root, std::string(kUserClasses),
      std::string(home) + "/AppData/Local/Microsoft/Windows/UsrClass.dat");
}

bool IsUserMount(std::string_view mount) {
  return mount == "HKCU" || mount == kUserClasses;
}

Result<std::string> CurrentControlSet(const Hive& system) {
  MIGSTORE_ASSIGN_OR_RETURN(Hive::Node select,
                            system.Child(system.root(), "Select"));
  if (select == 0) return std::string();
  Hive::ValueData v;
  MIGSTORE_ASSIGN_OR_RETURN(bool found, system.Find(select, "Current", &v));
  if (!found || v.data.size() < 4) return std::string();
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= static_cast<uint32_t>(static_cast<unsigned char>(v.data[i]))
         << (8 * i);
  if (n == 0 || n > 999) return std::string();
  char name[32];
  std::snprintf(name, sizeof(name), "ControlSet%03u", n);
  return std::string(name);
}

std::vector<std::string> KeyNames(std::string_view below) {
  std::vector<std::string> names;
  size_t b = 0;
  while (b < below.size()) {
    size_t e = below.find('\\', b);
    if (e == std::string_view::npos) e = below.size();
    if (e > b) names.emplace_back(below.substr(b, e - b));
    b = e + 1;
  }
  return names;
}

bool SplitMount(std::string_view key, std::string* mount, std::string* below) {
  // The user's classes before the rest of HKCU: the longer mount wins.
  for (std::string_view m :
       {std::string_view("HKLM\\SOFTWARE"), std::string_view("HKLM\\SYSTEM"),
        kUserClasses, std::string_view("HKCU")}) {
    if (!StartsFolded(key, m)) continue;
    *mount = std::string(m);
    std::string_view rest = key.substr(m.size());
    if (!rest.empty()) rest.remove_prefix(1);
    *below = std::string(rest);
    return true;
  }
  return false;
}

}  // namespace migstore::registry
