#include "engine/src/profiles/linux_profiles.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "engine/src/fs/root_fs.h"
#include "engine/src/profiles/login_records.h"

namespace migstore::internal {
namespace {

// XDG user-dirs keys, the key migstore uses, and xdg-user-dirs' default.
struct XdgDir {
  const char* xdg;
  const char* key;
  const char* fallback;
};
constexpr XdgDir kXdgDirs[] = {
    {"XDG_DESKTOP_DIR", "DESKTOP", "Desktop"},
    {"XDG_DOWNLOAD_DIR", "DOWNLOADS", "Downloads"},
    {"XDG_TEMPLATES_DIR", "TEMPLATES", "Templates"},
    {"XDG_PUBLICSHARE_DIR", "PUBLICSHARE", "Public"},
    {"XDG_DOCUMENTS_DIR", "DOCUMENTS", "Documents"},
    {"XDG_MUSIC_DIR", "MUSIC", "Music"},
    {"XDG_PICTURES_DIR", "PICTURES", "Pictures"},
    {"XDG_VIDEOS_DIR", "VIDEOS", "Videos"},
};

// Folders every linux home has by convention (XDG base directories).
constexpr std::pair<const char*, const char*> kBaseDirs[] = {
    {"APPDATA", ".config"},
    {"LOCALAPPDATA", ".local/share"},
    {"CACHE", ".cache"},
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// A user-dirs.dirs value: "$HOME/x" or "/abs", shell-quoted. Returns the
// root-relative path, or nullopt when the value is unusable.
std::optional<std::string> UserDirValue(std::string_view home,
                                        std::string_view raw) {
  std::string v;
  raw = Trim(raw);
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
    raw = raw.substr(1, raw.size() - 2);
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
    v.push_back(raw[i]);
  }
  std::string rel;
  if (v == "$HOME" || v == "$HOME/") {
    return std::nullopt;  // xdg-user-dirs' way of saying "disabled"
  } else if (v.rfind("$HOME/", 0) == 0) {
    rel = JoinRel(home, v.substr(6));
  } else if (!v.empty() && v[0] == '/') {
    rel = v.substr(1);
  } else {
    return std::nullopt;
  }
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  // Refuse anything that could step out of the root, and the home itself.
  if (HasDotSegment(rel) || rel == home) return std::nullopt;
  return rel;
}

bool IsHomeItself(std::string_view raw) {
  raw = Trim(raw);
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
    raw = raw.substr(1, raw.size() - 2);
  }
  return raw == "$HOME" || raw == "$HOME/";
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

bool ParseUint(std::string_view s, uint32_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<PasswdEntry> ParsePasswd(std::string_view text) {
  std::vector<PasswdEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-')
      continue;
    std::vector<std::string_view> f;
    size_t s = 0;
    for (;;) {
      size_t c = line.find(':', s);
      f.push_back(line.substr(s, c == std::string_view::npos ? c : c - s));
      if (c == std::string_view::npos) break;
      s = c + 1;
    }
    PasswdEntry e;
    if (f.size() < 7 || f[0].empty() || !ParseUint(f[2], &e.uid) ||
        !ParseUint(f[3], &e.gid)) {
      continue;
    }
    e.name = std::string(f[0]);
    e.home = std::string(f[5]);
    out.push_back(std::move(e));
  }
  return out;
}

// UID_MIN and UID_MAX from login.defs ("UID_MIN   1000").
std::pair<uint32_t, uint32_t> UidRange(const std::string& root) {
  uint32_t lo = 1000, hi = 60000;
  Result<std::string> defs =
      ReadSmallFile(JoinRoot(root, "etc/login.defs"), 1u << 20);
  if (!defs.ok()) return {lo, hi};
  std::string_view text = *defs;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = Trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    for (auto [name, target] :
         {std::pair{"UID_MIN", &lo}, std::pair{"UID_MAX", &hi}}) {
      std::string_view n = name;
      if (line.substr(0, n.size()) == n && line.size() > n.size() &&
          (line[n.size()] == ' ' || line[n.size()] == '\t')) {
        uint32_t v;
        if (ParseUint(Trim(line.substr(n.size())), &v)) *target = v;
      }
    }
  }
  return {lo, hi};
}

int64_t NewestTopLevelMtime(const std::string& home_abs) {
  int64_t newest = MtimeNs(home_abs).value_or(0);
  Result<std::vector<DirChild>> children = ListChildren(home_abs);
  if (!children.ok()) return newest;
  for (const DirChild& c : *children) {
    newest = std::max(newest, MtimeNs(home_abs + "/" + c.name).value_or(0));
  }
  return newest;
}

}  // namespace

std::vector<KnownFolder> LinuxKnownFolders(std::string_view home,
                                           std::string_view user_dirs_text) {
  std::map<std::string, std::string> set_by_file;
  size_t pos = 0;
  while (pos < user_dirs_text.size()) {
    size_t nl = user_dirs_text.find('\n', pos);
    if (nl == std::string_view::npos) nl = user_dirs_text.size();
    std::string_view line = Trim(user_dirs_text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = Trim(line.substr(0, eq));
    for (const XdgDir& d : kXdgDirs) {
      if (name != d.xdg) continue;
      // A value that is the home itself disables the folder; an unusable one
      // (relative, escaping the root) falls back to the default.
      std::optional<std::string> v = UserDirValue(home, line.substr(eq + 1));
      if (v) {
        set_by_file[d.key] = *v;
      } else if (IsHomeItself(line.substr(eq + 1))) {
        set_by_file[d.key] = "";
      }
    }
  }
  std::vector<KnownFolder> folders;
  for (const XdgDir& d : kXdgDirs) {
    auto it = set_by_file.find(d.key);
    if (it == set_by_file.end()) {
      folders.emplace_back(d.key, JoinRel(home, d.fallback));
    } else if (!it->second.empty()) {
      folders.emplace_back(d.key, it->second);
    }
  }
  for (const auto& [key, rel] : kBaseDirs)
    folders.emplace_back(key, JoinRel(home, rel));
  return folders;
}

Status DiscoverLinux(const std::string& root, Machine* machine) {
  machine->system_folders.emplace_back("PROFILESFOLDER", "home");
  std::string passwd_path = JoinRoot(root, "etc/passwd");
  if (!Exists(passwd_path)) {
    machine->skipped.push_back("no etc/passwd under the root: no accounts");
    return Status::OK();
  }
  Result<std::string> passwd = ReadSmallFile(passwd_path, 64u << 20);
  if (!passwd.ok()) return passwd.status();
  auto [uid_min, uid_max] = UidRange(root);
  std::map<std::string, int64_t> wtmp = ReadWtmpLogins(root);
  std::set<std::string> homes_seen;

  for (const PasswdEntry& e : ParsePasswd(*passwd)) {
    if (e.uid < uid_min || e.uid > uid_max) {
      machine->skipped.push_back(
          e.name + ": system account (uid " + std::to_string(e.uid) +
          " outside UID_MIN..UID_MAX " + std::to_string(uid_min) + ".." +
          std::to_string(uid_max) + ")");
      continue;
    }
    std::string home = e.home;
    while (!home.empty() && home.front() == '/') home.erase(0, 1);
    while (!home.empty() && home.back() == '/') home.pop_back();
    if (home.empty() || HasDotSegment(home) ||
        !IsDirectory(JoinRoot(root, home))) {
      machine->skipped.push_back(e.name + ": home " + e.home +
                                 " is not a directory under the root");
      continue;
    }
    if (!homes_seen.insert(home).second) {
      machine->skipped.push_back(e.name + ": home " + e.home +
                                 " already belongs to another account");
      continue;
    }
    UserProfile p;
    p.name = e.name;
    p.home = home;
    p.layout = Layout::kLinux;
    p.uid = e.uid;
    p.gid = e.gid;
    Result<std::string> dirs = ReadSmallFile(
        JoinRoot(root, JoinRel(home, ".config/user-dirs.dirs")), 1u << 20);
    p.folders =
        LinuxKnownFolders(home, dirs.ok() ? std::string_view(*dirs) : "");

    int64_t login = 0;
    std::string source;
    if (auto it = wtmp.find(e.name); it != wtmp.end()) {
      login = it->second;
      source = "wtmp";
    }
    if (auto ll = ReadLastlog(root, e.uid); ll && *ll > login) {
      login = *ll;
      source = "lastlog";
    }
    if (login == 0) {
      login = NewestTopLevelMtime(JoinRoot(root, home));
      if (login != 0) source = "newest top-level mtime";
    }
    p.last_use_ns = login;
    p.last_use_source = source;
    machine->profiles.push_back(std::move(p));
  }
  return Status::OK();
}

}  // namespace migstore::internal
