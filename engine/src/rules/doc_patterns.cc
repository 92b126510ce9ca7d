#include "engine/src/rules/doc_patterns.h"

#include "engine/base/case_fold.h"
#include "engine/src/fs/root_fs.h"
#include "engine/src/rules/usmt_pattern.h"

namespace migstore::internal {
namespace {

bool InList(std::string_view name, std::initializer_list<std::string_view> list,
            bool fold) {
  for (std::string_view s : list) {
    if (fold ? EqualsFolded(name, s) : name == s) return true;
  }
  return false;
}

std::string Tree(std::string_view rel) {
  return EscapeUsmt(UsmtPathOf(rel)) + "\\* [*]";
}
// `leaf` is pattern text: a "*" in it is a wildcard.
std::string FilesIn(std::string_view rel, std::string_view leaf) {
  return EscapeUsmt(UsmtPathOf(rel)) + "\\ [" + std::string(leaf) + "]";
}

// Folders directly under `rel` that are real directories (not links),
// except those in `skip`.
std::vector<std::string> DataFolders(
    const Machine& m, const std::string& rel,
    std::initializer_list<std::string_view> skip, bool skip_hidden) {
  std::vector<std::string> out;
  bool fold = m.layout == Layout::kWindows;
  Result<std::vector<DirChild>> children = ListChildren(JoinRoot(m.root, rel));
  if (!children.ok()) return out;
  for (const DirChild& c : *children) {
    if (!c.is_dir || c.is_symlink || InList(c.name, skip, fold)) continue;
    if (skip_hidden && !c.name.empty() && c.name[0] == '.') continue;
    out.push_back(JoinRel(rel, c.name));
  }
  return out;
}

void AddFolders(const std::vector<std::pair<std::string, std::string>>& folders,
                std::initializer_list<std::string_view> keys,
                std::vector<std::string>* out) {
  for (std::string_view key : keys) {
    for (const auto& [k, path] : folders) {
      if (k == key) out->push_back(Tree(path));
    }
  }
}

std::vector<std::string> WindowsSystem(const Machine& m, bool include) {
  std::vector<std::string> out;
  if (include) {
    out.push_back(FilesIn("", "*"));
    for (const std::string& d : DataFolders(
             m, "",
             {"Windows", "Program Files", "Program Files (x86)", "ProgramData",
              "Users", "$Recycle.Bin", "System Volume Information", "Recovery",
              "PerfLogs", "Config.Msi", "Documents and Settings", "Boot",
              "$WINDOWS.~BT", "$WINDOWS.~WS", "$WinREAgent", "$SysReset",
              "MSOCache", "Intel", "OneDriveTemp"},
             false)) {
      out.push_back(Tree(d));
    }
    AddFolders(
        m.system_folders,
        {"COMMON_DESKTOP", "COMMON_FAVORITES", "COMMON_DOCUMENTS",
         "COMMON_MUSIC", "COMMON_PICTURES", "COMMON_VIDEO", "COMMON_DOWNLOADS"},
        &out);
    return out;
  }
  AddFolders(m.system_folders,
             {"WINDOWS", "PROGRAMFILES", "PROGRAMFILESX86", "PROGRAMDATA"},
             &out);
  for (std::string_view f :
       {"pagefile.sys", "hiberfil.sys", "swapfile.sys", "bootmgr", "BOOTNXT",
        "BOOTSECT.BAK", "DumpStack.log", "DumpStack.log.tmp"}) {
    out.push_back(FilesIn("", f));
  }
  out.push_back(Tree("$Recycle.Bin"));
  out.push_back(Tree("System Volume Information"));
  return out;
}

std::vector<std::string> WindowsUser(const Machine& m, const UserProfile& p,
                                     bool include) {
  std::vector<std::string> out;
  if (include) {
    out.push_back(FilesIn(p.home, "*"));
    for (const std::string& d : DataFolders(
             m, p.home,
             {"AppData", "Application Data", "Cookies", "Local Settings",
              "My Documents", "NetHood", "PrintHood", "Recent", "SendTo",
              "Start Menu", "Templates", "IntelGraphicsProfiles"},
             false)) {
      out.push_back(Tree(d));
    }
    AddFolders(
        p.folders,
        {"DOCUMENTS", "PICTURES", "MUSIC", "VIDEOS", "FAVORITES", "DESKTOP",
         "QUICKLAUNCH", "CONTACTS", "LIBRARIES", "DOWNLOADS", "SAVEDGAMES"},
        &out);
    return out;
  }
  for (std::string_view f : {"NTUSER.DAT*", "ntuser.ini", "ntuser.pol"}) {
    out.push_back(EscapeUsmt(UsmtPathOf(p.home)) + "\\ [" + std::string(f) +
                  "]");
  }
  AddFolders(p.folders, {"APPDATA", "LOCALAPPDATA", "LOCALLOWAPPDATA"}, &out);
  return out;
}

std::vector<std::string> LinuxSystem(const Machine& m, bool include) {
  std::vector<std::string> out;
  if (include) {
    out.push_back(FilesIn("", "*"));
    for (const std::string& d : DataFolders(
             m, "", {"bin",   "boot",  "dev",    "etc",        "home",  "lib",
                     "lib32", "lib64", "libx32", "lost+found", "media", "mnt",
                     "opt",   "proc",  "root",   "run",        "sbin",  "snap",
                     "srv",   "sys",   "tmp",    "usr",        "var"},
             true)) {
      out.push_back(Tree(d));
    }
    return out;
  }
  for (std::string_view f : {"swapfile", "swap.img"})
    out.push_back(FilesIn("", f));
  return out;
}

std::vector<std::string> LinuxUser(const Machine& m, const UserProfile& p,
                                   bool include) {
  std::vector<std::string> out;
  if (include) {
    out.push_back(FilesIn(p.home, "*"));
    for (const std::string& d : DataFolders(m, p.home, {"snap"}, true))
      out.push_back(Tree(d));
    AddFolders(p.folders,
               {"DOCUMENTS", "PICTURES", "MUSIC", "VIDEOS", "DESKTOP",
                "DOWNLOADS", "TEMPLATES", "PUBLICSHARE"},
               &out);
    return out;
  }
  out.push_back(FilesIn(p.home, ".*"));  // dotfiles are settings, not documents
  return out;
}

}  // namespace

std::vector<std::string> GenerateDocPatterns(const Machine& machine,
                                             const UserProfile* profile,
                                             bool include) {
  if (machine.layout == Layout::kWindows) {
    return profile ? WindowsUser(machine, *profile, include)
                   : WindowsSystem(machine, include);
  }
  return profile ? LinuxUser(machine, *profile, include)
                 : LinuxSystem(machine, include);
}

}  // namespace migstore::internal
