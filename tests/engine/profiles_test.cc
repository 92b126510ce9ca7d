// Profile discovery on generated linux and windows roots, last use, and
// user selection with ScanState's /ui > /uel > /ue precedence.

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstring>

#include "engine/src/profiles/catalog_profile.h"
#include "engine/src/profiles/linux_profiles.h"
#include "engine/src/profiles/login_records.h"
#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kDay = 86400 * kSecond;
constexpr int64_t kNow = 1700000000 * kSecond;  // 2023-11-14

void SetMtime(const std::string& path, int64_t ns) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(ns / kSecond);
  ts[0].tv_nsec = ts[1].tv_nsec = static_cast<long>(ns % kSecond);
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0)
      << path;
}

// One glibc utmp record (x86-64 layout).
std::string UtmpRecord(int16_t type, const std::string& user, int32_t sec) {
  std::string r(internal::kUtmpRecordSize, '\0');
  std::memcpy(&r[0], &type, 2);
  std::memcpy(&r[44], user.data(), std::min<size_t>(user.size(), 32));
  std::memcpy(&r[340], &sec, 4);
  return r;
}

const UserProfile* Find(const Machine& m, const std::string& name) {
  for (const UserProfile& p : m.profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool Skipped(const Machine& m, const std::string& start) {
  for (const std::string& s : m.skipped) {
    if (s.rfind(start, 0) == 0) return true;
  }
  return false;
}

// ---- linux ------------------------------------------------------------------

TEST(LinuxProfiles, AccountsWithAHomeUnderTheRoot) {
  TempDir root;
  MakeTree(root.path(),
           {"etc/", "home/alice/", "home/bob/", "srv/carol/", "root/"});
  WriteFile(root / "etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\n"
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
            "# a comment\n"
            "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
            "bob:x:1001:100::/home/bob/:/bin/zsh\n"
            "carol:x:1002:1002::/srv/carol:/bin/sh\n"
            "ghost:x:1003:1003::/home/ghost:/bin/sh\n"
            "twin:x:1004:1004::/home/alice:/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
            "broken line\n");
  Machine m = Discover(root.path());
  EXPECT_EQ(m.layout, Layout::kLinux);
  ASSERT_EQ(m.profiles.size(), 3u);
  EXPECT_EQ(m.profiles[0].name, "alice");  // sorted by name
  EXPECT_EQ(m.profiles[0].home, "home/alice");
  EXPECT_EQ(m.profiles[0].uid, 1000u);
  EXPECT_EQ(m.profiles[1].home, "home/bob");
  EXPECT_EQ(m.profiles[1].gid, 100u);
  EXPECT_EQ(m.profiles[2].home, "srv/carol");
  EXPECT_TRUE(Skipped(m, "root: system account"));
  EXPECT_TRUE(Skipped(m, "daemon: system account"));
  EXPECT_TRUE(Skipped(m, "nobody: system account"));
  EXPECT_TRUE(Skipped(m, "ghost: home /home/ghost is not a directory"));
  EXPECT_TRUE(Skipped(m, "twin: home /home/alice already belongs"));
  ASSERT_NE(m.SystemFolder("PROFILESFOLDER"), nullptr);
  EXPECT_EQ(*m.SystemFolder("PROFILESFOLDER"), "home");
}

TEST(LinuxProfiles, LoginDefsSetsTheUidRange) {
  TempDir root;
  MakeTree(root.path(), {"etc/", "home/old/", "home/new/"});
  WriteFile(
      root / "etc/passwd",
      "old:x:500:500::/home/old:/bin/sh\nnew:x:1000:1000::/home/new:/bin/sh\n");
  WriteFile(root / "etc/login.defs",
            "# defaults\nUID_MIN\t\t 500\nUID_MAX 999\n");
  Machine m = Discover(root.path());
  ASSERT_EQ(m.profiles.size(), 1u);
  EXPECT_EQ(m.profiles[0].name, "old");
}

TEST(LinuxProfiles, KnownFoldersFromUserDirsWithXdgDefaults) {
  std::vector<KnownFolder> f =
      internal::LinuxKnownFolders("home/a",
                                  "# comment\n"
                                  "XDG_DOCUMENTS_DIR=\"$HOME/My Docs\"\n"
                                  "XDG_MUSIC_DIR=\"/data/music/\"\n"
                                  "XDG_DESKTOP_DIR=\"$HOME\"\n"
                                  "XDG_PICTURES_DIR=\"$HOME/Pic\\\"s\"\n"
                                  "XDG_VIDEOS_DIR=\"relative/nope\"\n"
                                  "XDG_TEMPLATES_DIR=\"$HOME/../escape\"\n");
  auto get = [&](const std::string& key) -> std::string {
    for (const KnownFolder& k : f) {
      if (k.first == key) return k.second;
    }
    return "(none)";
  };
  EXPECT_EQ(get("DOCUMENTS"), "home/a/My Docs");
  EXPECT_EQ(get("MUSIC"), "data/music");
  EXPECT_EQ(get("DESKTOP"), "(none)");  // "$HOME" disables it
  EXPECT_EQ(get("PICTURES"), "home/a/Pic\"s");
  EXPECT_EQ(get("VIDEOS"), "home/a/Videos");        // unusable: default
  EXPECT_EQ(get("TEMPLATES"), "home/a/Templates");  // unsafe: default
  EXPECT_EQ(get("DOWNLOADS"), "home/a/Downloads");
  EXPECT_EQ(get("PUBLICSHARE"), "home/a/Public");
  EXPECT_EQ(get("APPDATA"), "home/a/.config");
  EXPECT_EQ(get("LOCALAPPDATA"), "home/a/.local/share");
  EXPECT_EQ(get("CACHE"), "home/a/.cache");
}

TEST(LinuxProfiles, LastUseFromWtmpLastlogOrTopLevelMtime) {
  TempDir root;
  MakeLinuxRoot(root.path(), {"alice", "bob", "carol", "dave"},
                {"var/log/", "home/carol/newest.txt", "home/carol/old.txt"});
  std::string wtmp =
      UtmpRecord(7, "alice", 1600000000) + UtmpRecord(7, "alice", 1650000000) +
      UtmpRecord(8, "bob", 1690000000) +  // DEAD_PROCESS: not a login
      UtmpRecord(7, "bob", 1610000000);
  WriteFile(root / "var/log/wtmp", wtmp);
  WriteFile(root / "var/log/wtmp.1", UtmpRecord(7, "alice", 1640000000));
  // lastlog: bob (uid 1001) logged in later than his wtmp says.
  std::string lastlog((1001 + 1) * internal::kLastlogRecordSize, '\0');
  int32_t t = 1660000000;
  std::memcpy(&lastlog[1001 * internal::kLastlogRecordSize], &t, 4);
  WriteFile(root / "var/log/lastlog", lastlog);
  SetMtime(root / "home/carol/old.txt", 1500000000 * kSecond);
  SetMtime(root / "home/carol/newest.txt", 1670000000 * kSecond);
  SetMtime(root / "home/carol", 1400000000 * kSecond);
  Machine m = Discover(root.path());
  ASSERT_NE(Find(m, "alice"), nullptr);
  EXPECT_EQ(Find(m, "alice")->last_use_ns, 1650000000 * kSecond);
  EXPECT_EQ(Find(m, "alice")->last_use_source, "wtmp");
  EXPECT_EQ(Find(m, "bob")->last_use_ns, 1660000000 * kSecond);
  EXPECT_EQ(Find(m, "bob")->last_use_source, "lastlog");
  EXPECT_EQ(Find(m, "carol")->last_use_ns, 1670000000 * kSecond);
  EXPECT_EQ(Find(m, "carol")->last_use_source, "newest top-level mtime");
}

// ---- windows ----------------------------------------------------------------

TEST(WindowsProfiles, FoldersWithAnNtuserDat) {
  TempDir root;
  MakeTree(root.path(),
           {"Windows/", "users/Alice/NTUSER.DAT", "users/Alice/documents/",
            "users/Alice/AppData/Roaming/Microsoft/Windows/Start Menu/",
            "users/bob.CONTOSO/ntuser.dat", "users/Default/NTUSER.DAT",
            "users/Public/NTUSER.DAT", "users/All Users/",
            "users/defaultuser0/NTUSER.DAT", "users/NoHive/Documents/",
            "users/desktop.ini", "ProgramData/Microsoft/Windows/Start Menu/"});
  Machine m = Discover(root.path());
  EXPECT_EQ(m.layout, Layout::kWindows);
  ASSERT_EQ(m.profiles.size(), 2u);
  const UserProfile& a = m.profiles[0];
  EXPECT_EQ(a.name, "Alice");
  EXPECT_EQ(a.home, "users/Alice");
  EXPECT_EQ(a.layout, Layout::kWindows);
  // Known folders keep the spelling found on disk, defaults otherwise.
  ASSERT_NE(a.Folder("DOCUMENTS"), nullptr);
  EXPECT_EQ(*a.Folder("DOCUMENTS"), "users/Alice/documents");
  EXPECT_EQ(*a.Folder("DESKTOP"), "users/Alice/Desktop");
  EXPECT_EQ(*a.Folder("APPDATA"), "users/Alice/AppData/Roaming");
  EXPECT_EQ(*a.Folder("LOCALAPPDATA"), "users/Alice/AppData/Local");
  EXPECT_EQ(*a.Folder("STARTMENU"),
            "users/Alice/AppData/Roaming/Microsoft/Windows/Start Menu");
  for (const char* key :
       {"DOWNLOADS", "PICTURES", "MUSIC", "VIDEOS", "FAVORITES"}) {
    EXPECT_NE(a.Folder(key), nullptr) << key;
  }
  EXPECT_EQ(m.profiles[1].name, "bob.CONTOSO");
  EXPECT_TRUE(Skipped(m, "Default: system profile"));
  EXPECT_TRUE(Skipped(m, "Public: system profile"));
  EXPECT_TRUE(Skipped(m, "defaultuser0: system profile"));
  EXPECT_TRUE(Skipped(m, "NoHive: no NTUSER.DAT"));
  // The common folders are system folders.
  EXPECT_EQ(*m.SystemFolder("COMMON_DOCUMENTS"), "users/Public/Documents");
  EXPECT_EQ(*m.SystemFolder("COMMON_STARTMENU"),
            "ProgramData/Microsoft/Windows/Start Menu");
  EXPECT_EQ(*m.SystemFolder("WINDOWS"), "Windows");
  EXPECT_EQ(*m.SystemFolder("PROFILESFOLDER"), "users");
}

TEST(WindowsProfiles, LastUseIsNtuserDatMtime) {
  TempDir root;
  MakeWindowsRoot(root.path(), {"alice"});
  SetMtime(root / "Users/alice/NTUSER.DAT", 1690000000 * kSecond + 5);
  Machine m = Discover(root.path());
  ASSERT_EQ(m.profiles.size(), 1u);
  EXPECT_EQ(m.profiles[0].last_use_ns, 1690000000 * kSecond + 5);
  EXPECT_EQ(m.profiles[0].last_use_source, "NTUSER.DAT mtime");
}

TEST(Discovery, LayoutDetectionAndErrors) {
  TempDir empty;
  DiscoverOptions o;
  o.root = empty.path();
  EXPECT_TRUE(DiscoverMachine(o).status().IsInvalidArgument());
  o.layout = Layout::kLinux;  // forced: a root without accounts has no users
  Result<Machine> forced = DiscoverMachine(o);
  ASSERT_OK(forced);
  EXPECT_TRUE(forced->profiles.empty());
  o.root = empty / "missing";
  EXPECT_TRUE(DiscoverMachine(o).status().IsInvalidArgument());
  EXPECT_EQ(*ParseLayout("windows"), Layout::kWindows);
  EXPECT_TRUE(ParseLayout("auto").status().IsInvalidArgument());
}

TEST(Discovery, ProfileConvertsToTheCatalogRecord) {
  UserProfile p;
  p.name = "alice";
  p.home = "home/alice";
  p.layout = Layout::kWindows;
  p.uid = 7;
  p.gid = 8;
  p.sid = "S-1-5-21-1";
  p.last_use_ns = 42;
  p.folders = {{"DOCUMENTS", "home/alice/Documents"}};
  format::Profile c = internal::ToCatalogProfile(p);
  EXPECT_EQ(c.name, "alice");
  EXPECT_EQ(c.home, "home/alice");
  EXPECT_EQ(c.layout, format::Layout::kWindows);
  EXPECT_EQ(c.uid, 7u);
  EXPECT_EQ(c.gid, 8u);
  EXPECT_EQ(c.sid, "S-1-5-21-1");
  EXPECT_EQ(c.last_use_ns, 42);
  EXPECT_EQ(c.folders, p.folders);
}

// ---- user selection ---------------------------------------------------------

Machine ThreeUsers(Layout layout) {
  Machine m;
  m.layout = layout;
  for (auto [name, days_ago] :
       {std::pair{"user1", 3}, {"user2", 30}, {"admin", 400}}) {
    UserProfile p;
    p.name = name;
    p.last_use_ns = kNow - days_ago * kDay;
    m.profiles.push_back(p);
  }
  return m;
}

std::vector<std::string> Selected(const Machine& m, const UserSelection& s) {
  Result<std::vector<UserChoice>> r = SelectUsers(m, s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (const UserChoice& c : *r) {
    EXPECT_FALSE(c.reason.empty());
    if (c.selected) out.push_back(m.profiles[c.profile].name);
  }
  return out;
}

using Names = std::vector<std::string>;

TEST(UserSelection, EveryoneByDefault) {
  EXPECT_EQ(Selected(ThreeUsers(Layout::kWindows), {}),
            (Names{"user1", "user2", "admin"}));
}

TEST(UserSelection, IncludeBeatsExclude) {
  Machine m = ThreeUsers(Layout::kWindows);
  UserSelection only;  // /ue:*\* /ui:fabrikam\user2
  only.exclude = {"*\\*"};
  only.include = {"fabrikam\\user2"};
  EXPECT_EQ(Selected(m, only), Names{"user2"});
  UserSelection still;  // /ui:contoso\* /ue:contoso\user1: user1 still migrates
  still.include = {"contoso\\*"};
  still.exclude = {"contoso\\user1"};
  EXPECT_EQ(Selected(m, still), (Names{"user1", "user2", "admin"}));
}

TEST(UserSelection, LastUsedBeatsExcludeAndDropsTheInactive) {
  Machine m = ThreeUsers(Layout::kWindows);
  UserSelection s;  // /ue:contoso\user1 /uel:14: user1 migrates if active
  s.exclude = {"contoso\\user1"};
  s.last_used = *ParseLastUsed("14", kNow);
  EXPECT_EQ(Selected(m, s), Names{"user1"});
  s.include = {"admin"};  // include beats last-used
  EXPECT_EQ(Selected(m, s), (Names{"user1", "admin"}));
  UserSelection since;
  since.last_used = *ParseLastUsed("60", kNow);
  EXPECT_EQ(Selected(m, since), (Names{"user1", "user2"}));
  Result<std::vector<UserChoice>> r = SelectUsers(m, s);
  ASSERT_OK(r);
  EXPECT_NE((*r)[0].reason.find("beats --user-exclude"), std::string::npos)
      << (*r)[0].reason;
  EXPECT_NE((*r)[1].reason.find("before --last-used 14"), std::string::npos)
      << (*r)[1].reason;
}

TEST(UserSelection, LastUsedDates) {
  Result<LastUsed> d = ParseLastUsed("2023-11-01", kNow);
  ASSERT_OK(d);
  EXPECT_EQ(d->kind, LastUsed::Kind::kSince);
  Machine m = ThreeUsers(Layout::kLinux);
  UserSelection s;
  s.last_used = *d;
  EXPECT_EQ(Selected(m, s), Names{"user1"});
  EXPECT_OK(ParseLastUsed("2023/11/01", kNow));
  for (const char* bad :
       {"", "-1", "2023-13-01", "2023-02-30", "yesterday", "14d"}) {
    EXPECT_TRUE(ParseLastUsed(bad, kNow).status().IsInvalidArgument()) << bad;
  }
  UserProfile never;
  never.name = "never";
  m.profiles.push_back(never);
  s.last_used = *ParseLastUsed("100000", kNow);
  EXPECT_EQ(Selected(m, s),
            (Names{"user1", "user2", "admin"}));  // unknown use: not taken
}

TEST(UserSelection, CaseRulesFollowTheLayout) {
  UserSelection s;
  s.exclude = {"USER*"};
  EXPECT_EQ(Selected(ThreeUsers(Layout::kWindows), s), Names{"admin"});
  EXPECT_EQ(Selected(ThreeUsers(Layout::kLinux), s),
            (Names{"user1", "user2", "admin"}));
  EXPECT_TRUE(UserGlobMatch("a*b*c", "aXXbYYc", false));
  EXPECT_FALSE(UserGlobMatch("a*b*c", "aXXbYY", false));
  EXPECT_TRUE(UserGlobMatch("*", "", false));
  EXPECT_FALSE(
      UserGlobMatch("a?c", "abc", false));  // '?' is literal, as in USMT
}

TEST(UserSelection, LoggedOnNow) {
  TempDir root;
  MakeLinuxRoot(root.path(), {"alice", "bob"}, {"run/"});
  WriteFile(root / "run/utmp", UtmpRecord(7, "bob", 1700000000));
  Machine m = Discover(root.path());
  UserSelection s;
  s.last_used = *ParseLastUsed("0", kNow);
  EXPECT_EQ(s.last_used->kind, LastUsed::Kind::kLoggedOnNow);
  EXPECT_EQ(Selected(m, s), Names{"bob"});
  EXPECT_TRUE(SelectUsers(ThreeUsers(Layout::kWindows), s)
                  .status()
                  .IsInvalidArgument());
}

}  // namespace
}  // namespace migstore::testing
