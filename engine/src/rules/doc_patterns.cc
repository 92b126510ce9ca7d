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

using Kind = DocPattern::Kind;
using Anchor = DocPattern::Anchor;

DocPattern Tree(Anchor anchor, std::string rel) {
  DocPattern p;
  p.kind = Kind::kTree;
  p.anchor = anchor;
  p.rel = std::move(rel);
  return p;
}
// `leaf` is pattern text: a "*" in it is a wildcard.
DocPattern FilesIn(Anchor anchor, std::string rel, std::string_view leaf) {
  DocPattern p;
  p.kind = Kind::kFilesIn;
  p.anchor = anchor;
  p.rel = std::move(rel);
  p.leaf = std::string(leaf);
  return p;
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
                std::vector<DocPattern>* out) {
  for (std::string_view key : keys) {
    for (const auto& [k, path] : folders) {
      if (k != key) continue;
      DocPattern p = Tree(Anchor::kKnownFolder, path);
      p.key = k;
      out->push_back(std::move(p));
    }
  }
}

std::vector<DocPattern> WindowsSystem(const Machine& m, bool include) {
  std::vector<DocPattern> out;
  if (include) {
    out.push_back(FilesIn(Anchor::kRoot, "", "*"));
    for (const std::string& d : DataFolders(
             m, "",
             {"Windows", "Program Files", "Program Files (x86)", "ProgramData",
              "Users", "$Recycle.Bin", "System Volume Information", "Recovery",
              "PerfLogs", "Config.Msi", "Documents and Settings", "Boot",
              "$WINDOWS.~BT", "$WINDOWS.~WS", "$WinREAgent", "$SysReset",
              "MSOCache", "Intel", "OneDriveTemp"},
             false)) {
      out.push_back(Tree(Anchor::kRoot, d));
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
    out.push_back(FilesIn(Anchor::kRoot, "", f));
  }
  out.push_back(Tree(Anchor::kRoot, "$Recycle.Bin"));
  out.push_back(Tree(Anchor::kRoot, "System Volume Information"));
  return out;
}

std::vector<DocPattern> WindowsUser(const Machine& m, const UserProfile& p,
                                    bool include) {
  std::vector<DocPattern> out;
  if (include) {
    out.push_back(FilesIn(Anchor::kProfile, p.home, "*"));
    for (const std::string& d : DataFolders(
             m, p.home,
             {"AppData", "Application Data", "Cookies", "Local Settings",
              "My Documents", "NetHood", "PrintHood", "Recent", "SendTo",
              "Start Menu", "Templates", "IntelGraphicsProfiles"},
             false)) {
      out.push_back(Tree(Anchor::kProfile, d));
    }
    AddFolders(
        p.folders,
        {"DOCUMENTS", "PICTURES", "MUSIC", "VIDEOS", "FAVORITES", "DESKTOP",
         "QUICKLAUNCH", "CONTACTS", "LIBRARIES", "DOWNLOADS", "SAVEDGAMES"},
        &out);
    return out;
  }
  for (std::string_view f : {"NTUSER.DAT*", "ntuser.ini", "ntuser.pol"})
    out.push_back(FilesIn(Anchor::kProfile, p.home, f));
  AddFolders(p.folders, {"APPDATA", "LOCALAPPDATA", "LOCALLOWAPPDATA"}, &out);
  return out;
}

std::vector<DocPattern> LinuxSystem(const Machine& m, bool include) {
  std::vector<DocPattern> out;
  if (include) {
    out.push_back(FilesIn(Anchor::kRoot, "", "*"));
    for (const std::string& d : DataFolders(
             m, "", {"bin",   "boot",  "dev",    "etc",        "home",  "lib",
                     "lib32", "lib64", "libx32", "lost+found", "media", "mnt",
                     "opt",   "proc",  "root",   "run",        "sbin",  "snap",
                     "srv",   "sys",   "tmp",    "usr",        "var"},
             true)) {
      out.push_back(Tree(Anchor::kRoot, d));
    }
    return out;
  }
  for (std::string_view f : {"swapfile", "swap.img"})
    out.push_back(FilesIn(Anchor::kRoot, "", f));
  return out;
}

std::vector<DocPattern> LinuxUser(const Machine& m, const UserProfile& p,
                                  bool include) {
  std::vector<DocPattern> out;
  if (include) {
    out.push_back(FilesIn(Anchor::kProfile, p.home, "*"));
    for (const std::string& d : DataFolders(m, p.home, {"snap"}, true))
      out.push_back(Tree(Anchor::kProfile, d));
    AddFolders(p.folders,
               {"DOCUMENTS", "PICTURES", "MUSIC", "VIDEOS", "DESKTOP",
                "DOWNLOADS", "TEMPLATES", "PUBLICSHARE"},
               &out);
    return out;
  }
  // Dotfiles are settings, not documents.
  out.push_back(FilesIn(Anchor::kProfile, p.home, ".*"));
  return out;
}

}  // namespace

std::string DocPattern::UsmtText() const {
  std::string text = EscapeUsmt(UsmtPathOf(rel));
  if (kind == Kind::kTree) return text + "\\* [*]";
  return text + "\\ [" + leaf + "]";
}

std::vector<DocPattern> DocPatterns(const Machine& machine,
                                    const UserProfile* profile, bool include) {
  if (machine.layout == Layout::kWindows) {
    return profile ? WindowsUser(machine, *profile, include)
                   : WindowsSystem(machine, include);
  }
  return profile ? LinuxUser(machine, *profile, include)
                 : LinuxSystem(machine, include);
}

std::vector<std::string> GenerateDocPatterns(const Machine& machine,
                                             const UserProfile* profile,
                                             bool include) {
  std::vector<std::string> out;
  for (const DocPattern& p : DocPatterns(machine, profile, include))
    out.push_back(p.UsmtText());
  return out;
}

}  // namespace migstore::internal
