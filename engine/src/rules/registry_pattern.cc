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

namespace {

// '^' makes the next character literal, as in patterns; *wild tells that
// an unescaped '*' was met.
std::string Unescape(std::string_view s, bool* wild) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '^' && i + 1 < s.size()) {
      out.push_back(s[++i]);
      continue;
    }
    if (s[i] == '*') *wild = true;
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

bool ParseRegistryObject(std::string_view expanded, RegistryObject* out) {
  std::string_view rest;
  out->root = RegistryRootOf(expanded, &rest);
  if (out->root == RegistryRoot::kNone) return false;
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  std::string_view node = rest;
  out->has_value = false;
  out->value.clear();
  if (!rest.empty() && rest.back() == ']') {
    size_t open = std::string_view::npos;
    for (size_t i = rest.size() - 1; i-- > 0;) {
      if (rest[i] == '[' && (i == 0 || rest[i - 1] != '^')) {
        open = i;
        break;
      }
    }
    if (open == std::string_view::npos) return false;
    bool wild = false;
    out->has_value = true;
    out->value = Unescape(rest.substr(open + 1, rest.size() - open - 2), &wild);
    if (wild && out->value != "*") return false;
    node = rest.substr(0, open);
  }
  bool wild = false;
  std::string key = Unescape(node, &wild);
  if (wild) return false;
  while (!key.empty() && (key.back() == ' ' || key.back() == '\\'))
    key.pop_back();
  out->key = (out->root == RegistryRoot::kCurrentUser ? "HKCU" : "HKLM") + key;
  return true;
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
