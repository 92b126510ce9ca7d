#include "engine/src/rules/variables.h"

#include <vector>

#include "engine/base/case_fold.h"
#include "engine/src/profiles/windows_profiles.h"

namespace migstore::internal {
namespace {

std::vector<VariableInfo> BuildTable() {
  std::vector<VariableInfo> t = {
      // The profile itself.
      {"USERPROFILE", true, ""},
      {"HOME", true, ""},
      {"CSIDL_PROFILE", true, ""},
      // Per-user known folders: migstore's names, then USMT's.
      {"DOCUMENTS", true, "DOCUMENTS"},
      {"CSIDL_PERSONAL", true, "DOCUMENTS"},
      {"CSIDL_MYDOCUMENTS", true, "DOCUMENTS"},
      {"DESKTOP", true, "DESKTOP"},
      {"CSIDL_DESKTOP", true, "DESKTOP"},
      {"CSIDL_DESKTOPDIRECTORY", true, "DESKTOP"},
      {"DOWNLOADS", true, "DOWNLOADS"},
      {"PICTURES", true, "PICTURES"},
      {"CSIDL_MYPICTURES", true, "PICTURES"},
      {"MUSIC", true, "MUSIC"},
      {"CSIDL_MYMUSIC", true, "MUSIC"},
      {"VIDEOS", true, "VIDEOS"},
      {"CSIDL_MYVIDEO", true, "VIDEOS"},
      {"FAVORITES", true, "FAVORITES"},
      {"CSIDL_FAVORITES", true, "FAVORITES"},
      {"APPDATA", true, "APPDATA"},
      {"CSIDL_APPDATA", true, "APPDATA"},
      {"LOCALAPPDATA", true, "LOCALAPPDATA"},
      {"CSIDL_LOCAL_APPDATA", true, "LOCALAPPDATA"},
      {"LOCALLOWAPPDATA", true, "LOCALLOWAPPDATA"},
      {"STARTMENU", true, "STARTMENU"},
      {"CSIDL_STARTMENU", true, "STARTMENU"},
      {"PROGRAMS", true, "PROGRAMS"},
      {"CSIDL_PROGRAMS", true, "PROGRAMS"},
      {"STARTUP", true, "STARTUP"},
      {"CSIDL_STARTUP", true, "STARTUP"},
      {"TEMPLATES", true, "TEMPLATES"},
      {"CSIDL_TEMPLATES", true, "TEMPLATES"},
      {"SENDTO", true, "SENDTO"},
      {"CSIDL_SENDTO", true, "SENDTO"},
      {"RECENT", true, "RECENT"},
      {"CSIDL_RECENT", true, "RECENT"},
      {"NETHOOD", true, "NETHOOD"},
      {"CSIDL_NETHOOD", true, "NETHOOD"},
      {"PRINTHOOD", true, "PRINTHOOD"},
      {"CSIDL_PRINTHOOD", true, "PRINTHOOD"},
      {"COOKIES", true, "COOKIES"},
      {"CSIDL_COOKIES", true, "COOKIES"},
      {"HISTORY", true, "HISTORY"},
      {"CSIDL_HISTORY", true, "HISTORY"},
      {"CSIDL_INTERNET_CACHE", true, "INTERNET_CACHE"},
      {"CSIDL_CDBURN_AREA", true, "CDBURN_AREA"},
      {"QUICKLAUNCH", true, "QUICKLAUNCH"},
      {"CSIDL_QUICKLAUNCH", true, "QUICKLAUNCH"},
      {"CONTACTS", true, "CONTACTS"},
      {"LINKS", true, "LINKS"},
      {"SAVEDGAMES", true, "SAVEDGAMES"},
      {"SEARCHES", true, "SEARCHES"},
      {"LIBRARIES", true, "LIBRARIES"},
      {"TEMP", true, "TEMP"},
      {"TMP", true, "TEMP"},
      {"PUBLICSHARE", true, "PUBLICSHARE"},
      {"CACHE", true, "CACHE"},
      // The machine.
      {"SYSTEMDRIVE", false, ""},
      {"WINDIR", false, "WINDOWS"},
      {"SYSTEMROOT", false, "WINDOWS"},
      {"CSIDL_WINDOWS", false, "WINDOWS"},
      {"CSIDL_SYSTEM", false, "SYSTEM"},
      {"PROGRAMFILES", false, "PROGRAMFILES"},
      {"CSIDL_PROGRAM_FILES", false, "PROGRAMFILES"},
      {"PROGRAMFILES(X86)", false, "PROGRAMFILESX86"},
      {"CSIDL_PROGRAM_FILESX86", false, "PROGRAMFILESX86"},
      {"COMMONPROGRAMFILES", false, "PROGRAMFILESCOMMON"},
      {"CSIDL_PROGRAM_FILES_COMMON", false, "PROGRAMFILESCOMMON"},
      {"PROGRAMDATA", false, "PROGRAMDATA"},
      {"ALLUSERSPROFILE", false, "PROGRAMDATA"},
      {"CSIDL_COMMON_APPDATA", false, "PROGRAMDATA"},
      {"PROFILESFOLDER", false, "PROFILESFOLDER"},
      {"PUBLIC", false, "PUBLIC"},
      {"DEFAULTUSERPROFILE", false, "DEFAULTUSERPROFILE"},
      {"COMMON_DOCUMENTS", false, "COMMON_DOCUMENTS"},
      {"CSIDL_COMMON_DOCUMENTS", false, "COMMON_DOCUMENTS"},
      {"COMMON_MUSIC", false, "COMMON_MUSIC"},
      {"CSIDL_COMMON_MUSIC", false, "COMMON_MUSIC"},
      {"COMMON_PICTURES", false, "COMMON_PICTURES"},
      {"CSIDL_COMMON_PICTURES", false, "COMMON_PICTURES"},
      {"COMMON_VIDEO", false, "COMMON_VIDEO"},
      {"CSIDL_COMMON_VIDEO", false, "COMMON_VIDEO"},
      {"COMMON_DESKTOP", false, "COMMON_DESKTOP"},
      {"CSIDL_COMMON_DESKTOPDIRECTORY", false, "COMMON_DESKTOP"},
      {"COMMON_DOWNLOADS", false, "COMMON_DOWNLOADS"},
      {"PUBLICDOWNLOADS", false, "COMMON_DOWNLOADS"},
      {"COMMON_FAVORITES", false, "COMMON_FAVORITES"},
      {"CSIDL_COMMON_FAVORITES", false, "COMMON_FAVORITES"},
      {"COMMON_STARTMENU", false, "COMMON_STARTMENU"},
      {"CSIDL_COMMON_STARTMENU", false, "COMMON_STARTMENU"},
      {"COMMON_PROGRAMS", false, "COMMON_PROGRAMS"},
      {"CSIDL_COMMON_PROGRAMS", false, "COMMON_PROGRAMS"},
      {"COMMON_STARTUP", false, "COMMON_STARTUP"},
      {"CSIDL_COMMON_STARTUP", false, "COMMON_STARTUP"},
      {"COMMON_TEMPLATES", false, "COMMON_TEMPLATES"},
      {"CSIDL_COMMON_TEMPLATES", false, "COMMON_TEMPLATES"},
      {"COMMON_ADMINTOOLS", false, "COMMON_ADMINTOOLS"},
      {"CSIDL_COMMON_ADMINTOOLS", false, "COMMON_ADMINTOOLS"},
  };
  // %CSIDL_DEFAULT_X%: folder X of the Default profile (new users' template).
  static const char* const kDefaults[][2] = {
      {"CSIDL_DEFAULT_PERSONAL", "DEFAULT:DOCUMENTS"},
      {"CSIDL_DEFAULT_MYDOCUMENTS", "DEFAULT:DOCUMENTS"},
      {"CSIDL_DEFAULT_DESKTOP", "DEFAULT:DESKTOP"},
      {"CSIDL_DEFAULT_FAVORITES", "DEFAULT:FAVORITES"},
      {"CSIDL_DEFAULT_MYPICTURES", "DEFAULT:PICTURES"},
      {"CSIDL_DEFAULT_MYMUSIC", "DEFAULT:MUSIC"},
      {"CSIDL_DEFAULT_MYVIDEO", "DEFAULT:VIDEOS"},
      {"CSIDL_DEFAULT_APPDATA", "DEFAULT:APPDATA"},
      {"CSIDL_DEFAULT_LOCAL_APPDATA", "DEFAULT:LOCALAPPDATA"},
      {"CSIDL_DEFAULT_STARTMENU", "DEFAULT:STARTMENU"},
      {"CSIDL_DEFAULT_PROGRAMS", "DEFAULT:PROGRAMS"},
      {"CSIDL_DEFAULT_STARTUP", "DEFAULT:STARTUP"},
      {"CSIDL_DEFAULT_TEMPLATES", "DEFAULT:TEMPLATES"},
      {"CSIDL_DEFAULT_SENDTO", "DEFAULT:SENDTO"},
      {"CSIDL_DEFAULT_RECENT", "DEFAULT:RECENT"},
      {"CSIDL_DEFAULT_QUICKLAUNCH", "DEFAULT:QUICKLAUNCH"},
      {"CSIDL_DEFAULT_COOKIES", "DEFAULT:COOKIES"},
      {"CSIDL_DEFAULT_HISTORY", "DEFAULT:HISTORY"},
      {"CSIDL_DEFAULT_NETHOOD", "DEFAULT:NETHOOD"},
      {"CSIDL_DEFAULT_PRINTHOOD", "DEFAULT:PRINTHOOD"},
      {"CSIDL_DEFAULT_INTERNET_CACHE", "DEFAULT:INTERNET_CACHE"},
  };
  for (const auto& d : kDefaults) t.push_back({d[0], false, d[1]});
  return t;
}

bool IsNameByte(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '(' || c == ')';
}

}  // namespace

const std::vector<VariableInfo>& AllVariables() {
  static const std::vector<VariableInfo> kTable = BuildTable();
  return kTable;
}

const VariableInfo* FindVariable(std::string_view name) {
  for (const VariableInfo& v : AllVariables()) {
    if (EqualsFolded(name, v.name)) return &v;
  }
  return nullptr;
}

std::optional<std::string> Variables::Lookup(std::string_view name) const {
  const VariableInfo* v = FindVariable(name);
  if (v == nullptr) return std::nullopt;
  std::string_view key = v->key;
  if (v->per_user) {
    if (profile_ == nullptr) return std::nullopt;
    if (key.empty()) return profile_->home;
    const std::string* f = profile_->Folder(key);
    if (f == nullptr) return std::nullopt;
    return *f;
  }
  if (key.empty()) return std::string();  // SYSTEMDRIVE: the root
  constexpr std::string_view kDefault = "DEFAULT:";
  if (key.substr(0, kDefault.size()) == kDefault) {
    const std::string* base = machine_->SystemFolder("DEFAULTUSERPROFILE");
    if (base == nullptr) return std::nullopt;
    for (const FolderDefault& f : WindowsUserFolderDefaults()) {
      if (key.substr(kDefault.size()) == f.key) return *base + "/" + f.rel;
    }
    return std::nullopt;
  }
  const std::string* f = machine_->SystemFolder(key);
  if (f == nullptr) return std::nullopt;
  return *f;
}

bool NextVariable(std::string_view text, size_t from, size_t* begin,
                  size_t* end) {
  for (size_t i = text.find('%', from); i != std::string_view::npos;
       i = text.find('%', i + 1)) {
    size_t j = i + 1;
    while (j < text.size() && IsNameByte(text[j])) ++j;
    if (j > i + 1 && j < text.size() && text[j] == '%') {
      *begin = i;
      *end = j + 1;
      return true;
    }
  }
  return false;
}

bool ExpandVariables(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view)>& value_of,
    const std::function<std::string(std::string_view)>& escape,
    std::string* out, std::string* missing) {
  out->clear();
  size_t pos = 0, b, e;
  while (NextVariable(text, pos, &b, &e)) {
    out->append(text.substr(pos, b - pos));
    std::string_view name = text.substr(b + 1, e - b - 2);
    std::optional<std::string> value = value_of(name);
    // A crafted file's variables may each name the next many times (2^k
    // bytes from k of them): what no path is that long is not expanded.
    if (!value || out->size() + value->size() > kMaxExpandedBytes) {
      *missing = std::string(name);
      return false;
    }
    out->append(escape(*value));
    pos = e;
  }
  out->append(text.substr(pos));
  return true;
}

}  // namespace migstore::internal
