#include "engine/src/rules/registry_pattern.h"

#include "engine/base/case_fold.h"
#include "engine/src/rules/usmt_pattern.h"

namespace migstore::internal {

RegistryRoot RegistryRootOf(std::string_view text, std::string_view* rest) {
  size_t end = 0;
  while (end < text.size() && text[end] != '\\' && text[end] != ' ' &&
         text[end] != '[') {
    ++end;
  }
  std::string_view name = text.substr(0, end);
  *rest = text.substr(end);
  if (EqualsFolded(name, "HKCU") || EqualsFolded(name, "HKEY_CURRENT_USER"))
    return RegistryRoot::kCurrentUser;
  if (EqualsFolded(name, "HKLM") || EqualsFolded(name, "HKEY_LOCAL_MACHINE"))
    return RegistryRoot::kLocalMachine;
  return RegistryRoot::kNone;
}

std::string RegistryHome(int32_t profile) {
  return "/hkcu/" + std::to_string(profile);
}

bool RegistryPatternText(std::string_view expanded, int32_t profile,
                         std::string* out, std::string* why) {
  while (!expanded.empty() && expanded.front() == ' ')
    expanded.remove_prefix(1);
  std::string_view rest;
  switch (RegistryRootOf(expanded, &rest)) {
    case RegistryRoot::kCurrentUser:
      if (profile < 0) {
        *why = "HKCU has no user in System context";
        return false;
      }
      *out = "hkcu\\" + std::to_string(profile) + std::string(rest);
      return true;
    case RegistryRoot::kLocalMachine:
      *out = "hklm" + std::string(rest);
      return true;
    case RegistryRoot::kNone:
      break;
  }
  *why = "only HKCU and HKLM are captured from offline hives";
  return false;
}

std::string RegistryMatchPath(std::string_view key, int32_t profile) {
  std::string_view rest;
  std::string out;
  switch (RegistryRootOf(key, &rest)) {
    case RegistryRoot::kCurrentUser:
      out = RegistryHome(profile);
      break;
    case RegistryRoot::kLocalMachine:
      out = "/hklm";
      break;
    case RegistryRoot::kNone:
      return {};
  }
  for (char c : rest) {
    out.push_back(c == '\\' ? '/' : c == '/' ? kRegistrySlash : c);
  }
  return out;
}

}  // namespace migstore::internal
