#include "engine/src/profiles/windows_profiles.h"

#include <fcntl.h>

#include "engine/base/case_fold.h"
#include "engine/base/unique_fd.h"
#include "engine/src/fs/root_fs.h"
#include "engine/src/registry/hive_files.h"
#include "engine/src/registry/reg_text.h"

namespace migstore::internal {

const std::vector<FolderDefault>& WindowsUserFolderDefaults() {
  static const std::vector<FolderDefault> kFolders = {
      {"DOCUMENTS", "Documents"},
      {"DESKTOP", "Desktop"},
      {"DOWNLOADS", "Downloads"},
      {"PICTURES", "Pictures"},
      {"MUSIC", "Music"},
      {"VIDEOS", "Videos"},
      {"FAVORITES", "Favorites"},
      {"CONTACTS", "Contacts"},
      {"LINKS", "Links"},
      {"SAVEDGAMES", "Saved Games"},
      {"SEARCHES", "Searches"},
      {"APPDATA", "AppData/Roaming"},
      {"LOCALAPPDATA", "AppData/Local"},
      {"LOCALLOWAPPDATA", "AppData/LocalLow"},
      {"STARTMENU", "AppData/Roaming/Microsoft/Windows/Start Menu"},
      {"PROGRAMS", "AppData/Roaming/Microsoft/Windows/Start Menu/Programs"},
      {"STARTUP",
       "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup"},
      {"TEMPLATES", "AppData/Roaming/Microsoft/Windows/Templates"},
      {"SENDTO", "AppData/Roaming/Microsoft/Windows/SendTo"},
      {"RECENT", "AppData/Roaming/Microsoft/Windows/Recent"},
      {"NETHOOD", "AppData/Roaming/Microsoft/Windows/Network Shortcuts"},
      {"PRINTHOOD", "AppData/Roaming/Microsoft/Windows/Printer Shortcuts"},
      {"LIBRARIES", "AppData/Roaming/Microsoft/Windows/Libraries"},
      {"QUICKLAUNCH",
       "AppData/Roaming/Microsoft/Internet Explorer/Quick Launch"},
      {"COOKIES", "AppData/Local/Microsoft/Windows/INetCookies"},
      {"HISTORY", "AppData/Local/Microsoft/Windows/History"},
      {"INTERNET_CACHE", "AppData/Local/Microsoft/Windows/INetCache"},
      {"CDBURN_AREA", "AppData/Local/Microsoft/Windows/Burn/Burn"},
      {"TEMP", "AppData/Local/Temp"},
  };
  return kFolders;
}

const std::vector<FolderDefault>& WindowsSystemFolderDefaults() {
  static const std::vector<FolderDefault> kFolders = {
      {"WINDOWS", "Windows"},
      {"SYSTEM", "Windows/System32"},
      {"PROGRAMFILES", "Program Files"},
      {"PROGRAMFILESX86", "Program Files (x86)"},
      {"PROGRAMFILESCOMMON", "Program Files/Common Files"},
      {"PROGRAMDATA", "ProgramData"},
      {"PROFILESFOLDER", "Users"},
      {"PUBLIC", "Users/Public"},
      {"DEFAULTUSERPROFILE", "Users/Default"},
      {"COMMON_DOCUMENTS", "Users/Public/Documents"},
      {"COMMON_MUSIC", "Users/Public/Music"},
      {"COMMON_PICTURES", "Users/Public/Pictures"},
      {"COMMON_VIDEO", "Users/Public/Videos"},
      {"COMMON_DESKTOP", "Users/Public/Desktop"},
      {"COMMON_DOWNLOADS", "Users/Public/Downloads"},
      {"COMMON_FAVORITES", "Users/Public/Favorites"},
      {"COMMON_STARTMENU", "ProgramData/Microsoft/Windows/Start Menu"},
      {"COMMON_PROGRAMS", "ProgramData/Microsoft/Windows/Start Menu/Programs"},
      {"COMMON_STARTUP",
       "ProgramData/Microsoft/Windows/Start Menu/Programs/Startup"},
      {"COMMON_ADMINTOOLS",
       "ProgramData/Microsoft/Windows/Start Menu/Programs/Administrative "
       "Tools"},
      {"COMMON_TEMPLATES", "ProgramData/Microsoft/Windows/Templates"},
  };
  return kFolders;
}

bool IsWindowsSystemProfileName(std::string_view name) {
  for (std::string_view s :
       {"Default", "Default User", "Public", "All Users"}) {
    if (EqualsFolded(name, s)) return true;
  }
  // Out-of-box-experience leftovers: defaultuser0, defaultuser100000...
  constexpr std::string_view kOobe = "defaultuser";
  if (name.size() > kOobe.size() &&
      EqualsFolded(name.substr(0, kOobe.size()), kOobe)) {
    for (char c : name.substr(kOobe.size())) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }
  return false;
}

namespace {

// "C:\Users\alice" or "%SystemDrive%\Users\alice" as a root-relative path
// ("Users/alice"), or "" for a path on another drive.
std::string ProfileImageRel(std::string_view image) {
  if (image.size() >= 2 && image[1] == ':') {
    if (image[0] != 'C' && image[0] != 'c') return {};
    image.remove_prefix(2);
  } else if (image.size() >= 13 &&
             EqualsFolded(image.substr(0, 13), "%SystemDrive%")) {
    image.remove_prefix(13);
  } else {
    return {};
  }
  std::string rel;
  for (char c : image) rel.push_back(c == '\\' ? '/' : c);
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  return rel;
}

// SIDs from the SOFTWARE hive's ProfileList: each SID's ProfileImagePath
// names a profile folder. A root without the hive, or a hive that cannot be
// read, leaves the SIDs unknown (a note in `skipped`): discovery goes on
// from the folders alone.
void ReadProfileList(const std::string& root, Machine* machine) {
  const registry::HiveFile f = registry::SoftwareHive(root);
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return;
  auto hive = registry::Hive::OpenBeneath(root_fd.get(), f.rel, false);
  if (!hive.ok()) {
    if (!hive.status().IsNotFound()) {
      machine->skipped.push_back("SIDs not read: " + hive.status().ToString());
    }
    return;
  }
  registry::Hive::Node node = hive->root();
  for (const char* name :
       {"Microsoft", "Windows NT", "CurrentVersion", "ProfileList"}) {
    auto child = hive->Child(node, name);
    if (!child.ok() || *child == 0) return;
    node = *child;
  }
  auto sids = hive->Children(node);
  if (!sids.ok()) return;
  for (registry::Hive::Node sid : *sids) {
    auto name = hive->Name(sid);
    // "SID.bak": the profile service's backup of an entry, not the user's.
    if (!name.ok() || name->find('.') != std::string::npos) continue;
    registry::Hive::ValueData image;
    auto found = hive->Find(sid, "ProfileImagePath", &image);
    if (!name.ok() || !found.ok() || !*found) continue;
    std::string rel = ProfileImageRel(registry::Utf16ToUtf8(image.data));
    if (rel.empty()) continue;
    for (UserProfile& p : machine->profiles) {
      if (EqualsFolded(p.home, rel)) p.sid = *name;
    }
  }
}

}  // namespace

Status DiscoverWindows(const std::string& root, Machine* machine) {
  for (const FolderDefault& f : WindowsSystemFolderDefaults()) {
    machine->system_folders.emplace_back(f.key, ResolveNoCase(root, f.rel));
  }
  std::optional<std::string> users = FindChildNoCase(root, "Users");
  if (!users) return Status::OK();  // a Windows without profiles
  Result<std::vector<DirChild>> children = ListChildren(JoinRoot(root, *users));
  if (!children.ok()) return children.status();
  for (const DirChild& c : *children) {
    if (!c.is_dir) {
      if (c.is_symlink)
        machine->skipped.push_back(c.name + ": a link, not a profile");
      continue;
    }
    std::string home = JoinRel(*users, c.name);
    std::string home_abs = JoinRoot(root, home);
    std::optional<std::string> hive = FindChildNoCase(home_abs, "NTUSER.DAT");
    if (IsWindowsSystemProfileName(c.name)) {
      machine->skipped.push_back(c.name + ": system profile, not a user");
      continue;
    }
    if (!hive) {
      machine->skipped.push_back(c.name + ": no NTUSER.DAT, not a profile");
      continue;
    }
    UserProfile p;
    p.name = c.name;
    p.home = home;
    p.layout = Layout::kWindows;
    if (auto t = MtimeNs(home_abs + "/" + *hive)) {
      p.last_use_ns = *t;
      p.last_use_source = "NTUSER.DAT mtime";
    }
    for (const FolderDefault& f : WindowsUserFolderDefaults()) {
      p.folders.emplace_back(f.key,
                             JoinRel(home, ResolveNoCase(home_abs, f.rel)));
    }
    machine->profiles.push_back(std::move(p));
  }
  ReadProfileList(root, machine);
  return Status::OK();
}

}  // namespace migstore::internal
