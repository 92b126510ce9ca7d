// restore's local accounts (LoadState /lac, /lae) and domain mapping (/md)
// through the real CLI: a linux root captured, restored onto targets whose
// etc/passwd lacks a user. Exit 14 without --create-accounts; with it the
// account in passwd, group, shadow and gshadow, its files its own; the
// hash login.defs asks for; the refusals (a privileged group of the name, a
// stale shadow line, files changed meanwhile); --map-domain against
// --map-user.

#include <crypt.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

namespace fs = std::filesystem;

bool Root() { return ::geteuid() == 0; }

struct stat Lstat(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

class Accounts : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    fs::create_directories(root_ + "/etc");
    WriteFile(root_ + "/etc/passwd",
              "root:x:0:0::/root:/bin/sh\n"
              "alice:x:1000:1000::/home/alice:/bin/sh\n"
              "bob:x:1001:1001::/home/bob:/bin/sh\n");
    WriteFile(root_ + "/etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\n");
    WriteFileBelow(root_, "home/alice/notes.txt", "alice's notes");
    WriteFileBelow(root_, "home/bob/Documents/plan.txt", "bob's plan");
    WriteFileBelow(root_, "home/bob/.profile", "PATH=$PATH\n");
    if (Root()) {
      for (const auto& [home, id] : {std::pair{"alice", 1000}, {"bob", 1001}}) {
        const std::string h = root_ + "/home/" + home;
        ASSERT_EQ(::lchown(h.c_str(), id, id), 0);
        for (const auto& e : fs::recursive_directory_iterator(h))
          ASSERT_EQ(::lchown(e.path().c_str(), id, id), 0);
      }
    }
    WriteFile(dir_ / "all.rules", "include %USERPROFILE%\n");
    Capture(root_, Store());
  }

  void Capture(const std::string& root, const std::string& store) {
    RunResult c = RunMigstore({"capture", "--root", root, "--store", store,
                               "--no-encrypt", "--rules", dir_ / "all.rules"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  std::string Store() const { return dir_ / "s.mig"; }

  // A linux target: etc/passwd and group with `passwd` and `group` after
  // root's lines, etc/shadow (0640, group shadow) and etc/gshadow.
  std::string Target(const std::string& name, const std::string& passwd,
                     const std::string& group) {
    const std::string t = dir_ / name;
    fs::create_directories(t + "/etc");
    WriteFile(t + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n" + passwd);
    WriteFile(t + "/etc/group", "root:x:0:\nshadow:x:42:\n" + group);
    WriteFile(t + "/etc/shadow", "root:*:19000:0:99999:7:::\n");
    WriteFile(t + "/etc/gshadow", "root:*::\nshadow:*::\n");
    EXPECT_EQ(::chmod((t + "/etc/shadow").c_str(), 0640), 0);
    if (Root()) {
      EXPECT_EQ(::chown((t + "/etc/shadow").c_str(), 0, 42), 0);
    }
    return t;
  }
  // A target that has alice but not bob.
  std::string TargetWithoutBob(const std::string& name = "t") {
    return Target(name, "alice:x:1000:1000::/home/alice:/bin/sh\n",
                  "alice:x:1000:\n");
  }

  RunResult Restore(const std::string& target,
                    std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"restore", "--store", Store(), "--target",
                                     target};
    args.insert(args.end(), more.begin(), more.end());
    return RunMigstore(args);
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(Accounts, AMissingLocalAccountStopsTheRestoreWithExit14) {
  const std::string t = TargetWithoutBob();
  const std::string passwd = ReadFile(t + "/etc/passwd");
  const std::string shadow = ReadFile(t + "/etc/shadow");
  RunResult r = Restore(t);
  EXPECT_EQ(r.exit_code, 14) << r.err;
  EXPECT_TRUE(Has(r.err, "no account for bob")) << r.err;
  EXPECT_TRUE(Has(r.err, "--create-accounts")) << r.err;
  EXPECT_FALSE(Has(r.err, "alice")) << "alice has her account: " << r.err;
  EXPECT_FALSE(fs::exists(t + "/home")) << "nothing written";
  EXPECT_EQ(ReadFile(t + "/etc/passwd"), passwd);
  EXPECT_EQ(ReadFile(t + "/etc/shadow"), shadow);
  EXPECT_FALSE(fs::exists(t + "/etc/.pwd.lock"));

  // A dry run plans, so it stops the same way.
  RunResult dry = Restore(t, {"--dry-run"});
  EXPECT_EQ(dry.exit_code, 14) << dry.err;
  EXPECT_TRUE(Has(dry.err, "no account for bob")) << dry.err;

  // Only the users restored count; a target without etc/passwd is a plain
  // folder, where nothing is looked for.
  EXPECT_EQ(Restore(t, {"--user-exclude", "bob"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(t + "/home/alice/notes.txt"));
  RunResult plain = Restore(dir_ / "plain");
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_TRUE(fs::exists(dir_ / "plain/home/bob/Documents/plan.txt"));
}

TEST_F(Accounts, CreateAccountsAddsALockedAccountWithTheCapturedIds) {
  const std::string t = TargetWithoutBob();
  RunResult r =
      Restore(t, {"--create-accounts", "--log", dir_ / "load.log", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string line = LineOf(t, "passwd", "bob");
  EXPECT_EQ(line, "bob:x:1001:1001::/home/bob:/bin/sh")
      << "the captured uid and gid, free here; no bin/bash: /bin/sh";
  EXPECT_EQ(LineOf(t, "group", "bob"), "bob:x:1001:");
  EXPECT_EQ(LineOf(t, "gshadow", "bob"), "bob:!::");
  const std::string shadow = LineOf(t, "shadow", "bob");
  EXPECT_EQ(Field(shadow, 1), "!") << "locked: " << shadow;
  EXPECT_NE(Field(shadow, 2), "0") << shadow;
  // '!' alone lets an SSH key in under UsePAM: expired too (usermod -e 1).
  EXPECT_EQ(Field(shadow, 7), "1") << "expired: " << shadow;
  EXPECT_EQ(Field(shadow, 6), "") << shadow;
  EXPECT_EQ(LineOf(t, "passwd", "alice"),
            "alice:x:1000:1000::/home/alice:/bin/sh")
      << "what was there stays";
  EXPECT_EQ(LineOf(t, "shadow", "root"), "root:*:19000:0:99999:7:::");
  // shadow keeps its mode and owner; no temporary is left beside it.
  struct stat st = Lstat(t + "/etc/shadow");
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  if (Root()) {
    EXPECT_EQ(st.st_gid, 42u);
  }
  for (const std::string& name : ListDir(t + "/etc"))
    EXPECT_EQ(name.find("migtmp"), std::string::npos) << name;

  // Reported: stderr, LoadState's log, the JSON notes.
  EXPECT_TRUE(Has(r.err, "created account bob: uid 1001")) << r.err;
  EXPECT_TRUE(Has(ReadFile(dir_ / "load.log"), "created account bob"));
  EXPECT_TRUE(Has(r.out, "\"note\":\"created account bob: uid 1001")) << r.out;

  EXPECT_EQ(ReadFile(t + "/home/bob/Documents/plan.txt"), "bob's plan");
  if (Root()) {
    EXPECT_EQ(Lstat(t + "/home/bob/Documents/plan.txt").st_uid, 1001u);
    EXPECT_EQ(Lstat(t + "/home/bob").st_gid, 1001u);
  }

  // Run again: the account is there, nothing is added twice.
  const std::string passwd = ReadFile(t + "/etc/passwd");
  RunResult again = Restore(t, {"--create-accounts"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(ReadFile(t + "/etc/passwd"), passwd);
  EXPECT_FALSE(Has(again.err, "created account")) << again.err;
}

TEST_F(Accounts, ATakenUidGivesTheLowestFreeOneInTheTargetsRange) {
  // carol holds 1001 here: bob takes the lowest free uid in 1000..60000.
  std::string t = Target("t",
                         "alice:x:1000:1000::/home/alice:/bin/sh\n"
                         "carol:x:1001:1001::/home/carol:/bin/sh\n",
                         "alice:x:1000:\ncarol:x:1001:\n");
  fs::create_directories(t + "/usr/bin");
  WriteFile(t + "/usr/bin/bash", "");
  fs::create_directory_symlink("usr/bin", t + "/bin");  // a merged /usr
  RunResult r = Restore(t, {"--create-accounts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LineOf(t, "passwd", "bob"), "bob:x:1002:1002::/home/bob:/bin/bash");
  EXPECT_EQ(LineOf(t, "group", "bob"), "bob:x:1002:");
  if (Root()) {
    EXPECT_EQ(Lstat(t + "/home/bob/.profile").st_uid, 1002u)
        << "files follow the name to the new uid";
    EXPECT_EQ(Lstat(t + "/home/bob/.profile").st_gid, 1002u);
  } else {
    std::cerr << "not root: ownership of the restored files not checked "
                 "(a restore that is not root sets no owners)\n";
  }

  // The target's login.defs decides the range; an existing group of the
  // name (a private one: in range, no members) is used rather than another
  // made.
  t = Target("t2", "", "bob:x:5777:\n");
  WriteFile(t + "/etc/login.defs",
            "# login.defs\nUID_MIN   5000\nUID_MAX\t6000\nGID_MIN 5000\n");
  r = Restore(t, {"--create-accounts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LineOf(t, "passwd", "alice"),
            "alice:x:5000:5000::/home/alice:/bin/sh");
  EXPECT_EQ(LineOf(t, "passwd", "bob"), "bob:x:5001:5777::/home/bob:/bin/sh");
  EXPECT_EQ(LineOf(t, "group", "bob"), "bob:x:5777:");
  EXPECT_EQ(LineOf(t, "gshadow", "bob"), "") << "its group was there";
}

TEST_F(Accounts, IdsNeverReservedOnesAndASymlinkedLoginDefsMeansDefaults) {
  // 65535 is the 16-bit "no id" (and nobody's on many systems): skipped.
  std::string t = Target("t", "", "");
  WriteFile(t + "/etc/login.defs",
            "UID_MIN 65535\nUID_MAX 65540\nGID_MIN 65535\nGID_MAX 65540\n");
  RunResult r = Restore(t, {"--create-accounts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LineOf(t, "passwd", "alice"),
            "alice:x:65536:65536::/home/alice:/bin/sh");
  EXPECT_EQ(LineOf(t, "passwd", "bob"), "bob:x:65537:65537::/home/bob:/bin/sh");
  // (uid_t)-1 is chown's "unchanged": never an account's.
  t = Target("t2", "", "");
  WriteFile(t + "/etc/login.defs",
            "UID_MIN 4294967294\nUID_MAX 4294967295\n"
            "GID_MIN 4294967294\nGID_MAX 4294967295\n");
  r = Restore(t, {"--create-accounts"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  EXPECT_TRUE(Has(r.err, "no free uid")) << r.err;
  EXPECT_EQ(LineOf(t, "passwd", "alice"), "") << "nothing written";
  EXPECT_FALSE(fs::exists(t + "/home"));

  // NixOS links etc/login.defs into its store: not followed, and not an
  // error either: useradd's defaults, noted.
  t = TargetWithoutBob("t3");
  WriteFile(dir_ / "defs", "UID_MIN 5000\nGID_MIN 5000\n");
  fs::create_symlink(dir_ / "defs", t + "/etc/login.defs");
  r = Restore(t, {"--create-accounts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LineOf(t, "passwd", "bob"), "bob:x:1001:1001::/home/bob:/bin/sh");
  EXPECT_TRUE(Has(r.err, "login.defs is a symlink, not followed")) << r.err;
}

TEST_F(Accounts, AGroupOfTheNameIsJoinedOnlyWhenItIsAPrivateGroup) {
  // A store user named like a privileged group (docker, sudo, disk, adm)
  // must not get it as its primary group: a system gid, a group with
  // members, or another account's primary group is refused.
  struct Case {
    const char* name;
    std::string passwd, group, why;
  };
  for (const Case& c :
       {Case{"system", "", "bob:x:998:\n", "outside GID_MIN..GID_MAX"},
        Case{"members", "", "bob:x:1500:alice\n", "lists members"},
        Case{"primary", "carol:x:1600:1500::/home/carol:/bin/sh\n",
             "bob:x:1500:\n", "another account's primary group"}}) {
    SCOPED_TRACE(c.name);
    const std::string t =
        Target(c.name, "alice:x:1000:1000::/home/alice:/bin/sh\n" + c.passwd,
               "alice:x:1000:\n" + c.group);
    const std::string group = ReadFile(t + "/etc/group");
    RunResult r = Restore(t, {"--create-accounts"});
    EXPECT_EQ(r.exit_code, 11) << r.err;
    EXPECT_TRUE(Has(r.err, "the target has a group bob")) << r.err;
    EXPECT_TRUE(Has(r.err, c.why)) << r.err;
    EXPECT_TRUE(Has(r.err, "--map-user")) << r.err;
    EXPECT_EQ(LineOf(t, "passwd", "bob"), "");
    EXPECT_EQ(ReadFile(t + "/etc/group"), group);
    EXPECT_FALSE(fs::exists(t + "/home"));
  }
}

TEST_F(Accounts, AStoresSharedPrimaryGroupIsNotReusedAsAUsersOwn) {
  // alice and bob share the primary group devs (1500), which the target
  // lacks: neither new private group may take 1500, or it would own the
  // other's files (kept as 1500).
  const std::string src = dir_ / "shared-root";
  fs::create_directories(src + "/etc");
  WriteFile(src + "/etc/passwd",
            "root:x:0:0::/root:/bin/sh\n"
            "alice:x:1000:1500::/home/alice:/bin/sh\n"
            "bob:x:1001:1500::/home/bob:/bin/sh\n");
  WriteFile(src + "/etc/group", "root:x:0:\ndevs:x:1500:\n");
  WriteFileBelow(src, "home/alice/a.txt", "a");
  WriteFileBelow(src, "home/bob/b.txt", "b");
  if (Root()) {
    ASSERT_EQ(::lchown((src + "/home/alice/a.txt").c_str(), 1000, 1500), 0);
    ASSERT_EQ(::lchown((src + "/home/bob/b.txt").c_str(), 1001, 1500), 0);
  }
  const std::string store = dir_ / "shared.mig";
  Capture(src, store);
  const std::string t = Target("t", "", "");
  RunResult r = RunMigstore(
      {"restore", "--store", store, "--target", t, "--create-accounts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LineOf(t, "passwd", "alice"),
            "alice:x:1000:1000::/home/alice:/bin/sh")
      << "the uid as its group's number, not the store's devs";
  EXPECT_EQ(LineOf(t, "group", "alice"), "alice:x:1000:");
  EXPECT_EQ(LineOf(t, "passwd", "bob"), "bob:x:1001:1001::/home/bob:/bin/sh");
  EXPECT_EQ(LineOf(t, "group", "bob"), "bob:x:1001:");
  if (Root()) {
    EXPECT_EQ(Lstat(t + "/home/bob/b.txt").st_gid, 1500u)
        << "devs kept by number, owned by no new group";
  }
}

TEST_F(Accounts, AStaleShadowLineIsKeptOnlyWhenLocked) {
  // A line for bob with a usable password: the new account would take it.
  std::string t = TargetWithoutBob();
  WriteFile(t + "/etc/shadow",
            "root:*:19000:0:99999:7:::\nbob:$6$salt$hash:19000:0:99999:7:::\n");
  const std::string shadow = ReadFile(t + "/etc/shadow");
  RunResult r = Restore(t, {"--create-accounts"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  EXPECT_TRUE(Has(r.err, "stale entry with a usable password")) << r.err;
  EXPECT_EQ(ReadFile(t + "/etc/shadow"), shadow);
  EXPECT_EQ(LineOf(t, "passwd", "bob"), "");
  EXPECT_EQ(LineOf(t, "group", "bob"), "");

  // Locked, as an interrupted run leaves it: kept, the account follows.
  t = TargetWithoutBob("t2");
  WriteFile(t + "/etc/shadow",
            "root:*:19000:0:99999:7:::\nbob:!:19000:0:99999:7::1:\n");
  r = Restore(t, {"--create-accounts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LineOf(t, "shadow", "bob"), "bob:!:19000:0:99999:7::1:");
  EXPECT_EQ(LineOf(t, "passwd", "bob"), "bob:x:1001:1001::/home/bob:/bin/sh");
  EXPECT_TRUE(Has(r.err, "locked line already there kept")) << r.err;
}

TEST_F(Accounts, NoFileIsWrittenWhenAnyChangedSinceThePlan) {
  // A pre-apply step (run after the plan, before the accounts are written)
  // adds a line to etc/passwd, the last file written: group, gshadow and
  // shadow, checked first, stay as they were too.
  const std::string t = TargetWithoutBob();
  WriteFile(dir_ / "pre.xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<migration urlid=\"http://test/pre\">\n"
            "<component type=\"Documents\" context=\"System\">\n"
            "<displayName>Pre</displayName>\n<role role=\"Data\">\n"
            "<rules context=\"System\">\n"
            "<externalProcess when=\"pre-apply\"><commandLine>echo "
            "'carol:x:1700:1700::/home/carol:/bin/sh' &gt;&gt; etc/passwd"
            "</commandLine></externalProcess>\n"
            "</rules>\n</role>\n</component>\n</migration>\n");
  const std::string group = ReadFile(t + "/etc/group");
  const std::string gshadow = ReadFile(t + "/etc/gshadow");
  const std::string shadow = ReadFile(t + "/etc/shadow");
  RunResult r = Restore(t, {"--create-accounts", "--rules", dir_ / "pre.xml",
                            "--allow-processing"});
  EXPECT_EQ(r.exit_code, 71) << r.err;
  EXPECT_TRUE(Has(r.err, "etc/passwd")) << r.err;
  EXPECT_TRUE(Has(r.err, "changed while the restore ran")) << r.err;
  EXPECT_TRUE(Has(ReadFile(t + "/etc/passwd"), "carol:x:1700"))
      << "the step ran";
  EXPECT_EQ(ReadFile(t + "/etc/group"), group);
  EXPECT_EQ(ReadFile(t + "/etc/gshadow"), gshadow);
  EXPECT_EQ(ReadFile(t + "/etc/shadow"), shadow);
}

TEST_F(Accounts, ANewShadowIsTheOwnersAloneWhenItsGroupCannotBeGiven) {
  if (!Root()) GTEST_SKIP() << "needs root to run the restore as nobody";
  // Not root, the chown to root:shadow is refused: a new etc/shadow made
  // 0640 would be readable by the group of whoever ran the restore.
  const std::string t = TargetWithoutBob();
  fs::remove(t + "/etc/shadow");
  fs::remove(t + "/etc/gshadow");
  for (const std::string& p :
       {t, t + "/etc", t + "/etc/passwd", t + "/etc/group"}) {
    ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0) << p;
  }
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(Store().c_str(), 0644), 0);
  RunOptions as_nobody;
  as_nobody.uid = 65534;
  RunResult r = RunMigstore(
      {"restore", "--store", Store(), "--target", t, "--create-accounts"},
      as_nobody);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Field(LineOf(t, "shadow", "bob"), 1), "!");
  struct stat st = Lstat(t + "/etc/shadow");
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST_F(Accounts, EnabledAccountsGetTheTargetsHashThatMustBeChanged) {
  const std::string t = TargetWithoutBob();
  WriteFile(t + "/etc/login.defs", "ENCRYPT_METHOD YESCRYPT\n");
  WriteFile(dir_ / "pw", "Corr3ct horse\n");
  ASSERT_EQ(::chmod((dir_ / "pw").c_str(), 0600), 0);
  RunResult r = Restore(
      t, {"--create-accounts", "--enable-accounts", "--account-password-file",
          dir_ / "pw", "--log", dir_ / "load.log"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string shadow = LineOf(t, "shadow", "bob");
  const std::string hash = Field(shadow, 1);
  ASSERT_EQ(hash.compare(0, 3, "$y$"), 0) << shadow;
  auto data = std::make_unique<crypt_data>();
  const char* again =
      ::crypt_rn("Corr3ct horse", hash.c_str(), data.get(), sizeof(*data));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(std::string(again), hash) << "crypt_rn verifies the password";
  const char* wrong =
      ::crypt_rn("Corr3ct horse\n", hash.c_str(), data.get(), sizeof(*data));
  ASSERT_NE(wrong, nullptr);
  EXPECT_NE(std::string(wrong), hash) << "the line ending is not part of it";
  EXPECT_EQ(Field(shadow, 2), "0") << "to be changed at first login";
  EXPECT_EQ(Field(shadow, 7), "") << "enabled: not expired";
  for (const std::string& text : {r.out, r.err, ReadFile(dir_ / "load.log")}) {
    EXPECT_FALSE(Has(text, "Corr3ct")) << "the password is never shown";
  }

  // With a password but not enabled: locked and expired, the password kept
  // behind '!'. No ENCRYPT_METHOD: SHA-512, which every crypt reads.
  const std::string t2 = TargetWithoutBob("t2");
  r = Restore(t2,
              {"--create-accounts", "--account-password-file", dir_ / "pw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string locked = LineOf(t2, "shadow", "bob");
  EXPECT_EQ(Field(locked, 1).compare(0, 4, "!$6$"), 0) << locked;
  EXPECT_EQ(Field(locked, 7), "1") << locked;
  const char* sha = ::crypt_rn("Corr3ct horse", Field(locked, 1).c_str() + 1,
                               data.get(), sizeof(*data));
  ASSERT_NE(sha, nullptr);
  EXPECT_EQ(std::string("!") + sha, Field(locked, 1));

  // SHA512 asked for by name, and a weaker method replaced by it (noted).
  for (const char* method : {"SHA512", "MD5"}) {
    const std::string t3 = TargetWithoutBob(std::string("t-") + method);
    WriteFile(t3 + "/etc/login.defs",
              std::string("ENCRYPT_METHOD ") + method + "\n");
    r = Restore(t3, {"--create-accounts", "--enable-accounts",
                     "--account-password-file", dir_ / "pw"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Field(LineOf(t3, "shadow", "bob"), 1).compare(0, 3, "$6$"), 0)
        << method << ": " << LineOf(t3, "shadow", "bob");
    EXPECT_EQ(Has(r.err, "ENCRYPT_METHOD MD5"), std::string(method) == "MD5")
        << r.err;
  }
}

TEST_F(Accounts, BadAccountOptionsAreRefusedBeforeAnythingIsWritten) {
  const std::string t = TargetWithoutBob();
  WriteFile(dir_ / "pw", "s3cret\n");
  WriteFile(dir_ / "empty", "\n");
  // /lae needs /lac; an enabled account needs a password.
  RunResult r = Restore(t, {"--enable-accounts"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  r = Restore(t, {"--create-accounts", "--enable-accounts"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  EXPECT_TRUE(Has(r.err, "empty password")) << r.err;
  EXPECT_EQ(Restore(t, {"--account-password-file", dir_ / "pw"}).exit_code, 11);
  // The password file is read as a key file is: empty or missing is 33.
  EXPECT_EQ(Restore(t, {"--create-accounts", "--account-password-file",
                        dir_ / "empty"})
                .exit_code,
            33);
  EXPECT_EQ(Restore(t, {"--create-accounts", "--account-password-file",
                        dir_ / "missing"})
                .exit_code,
            33);
  EXPECT_FALSE(fs::exists(t + "/home"));
  EXPECT_EQ(LineOf(t, "passwd", "bob"), "");

  // A Windows target: no SAM account is made offline.
  const std::string win = dir_ / "win";
  fs::create_directories(win + "/Windows/System32");
  r = Restore(win, {"--create-accounts"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  EXPECT_TRUE(Has(r.err, "SAM")) << r.err;
  EXPECT_FALSE(fs::exists(win + "/home"));
  // One with a SAM is, even with an etc/passwd (a Cygwin, WSL leftover).
  const std::string sam = TargetWithoutBob("sam");
  WriteFileBelow(sam, "Windows/System32/config/SAM", "regf");
  r = Restore(sam, {"--create-accounts"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  EXPECT_TRUE(Has(r.err, "SAM")) << r.err;
  EXPECT_EQ(LineOf(sam, "passwd", "bob"), "");
  // A linux root with a "windows" folder (a game's, a share) is linux.
  const std::string lin = TargetWithoutBob("lin");
  fs::create_directories(lin + "/windows");
  r = Restore(lin, {"--create-accounts"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LineOf(lin, "passwd", "bob"), "bob:x:1001:1001::/home/bob:/bin/sh");
}

TEST_F(Accounts, AccountFilesAreNeverWrittenThroughASymlink) {
  // etc/passwd a link to a file outside the target: refused, the file
  // untouched.
  const std::string t = TargetWithoutBob();
  const std::string outside = dir_ / "outside-passwd";
  WriteFile(outside, ReadFile(t + "/etc/passwd"));
  fs::remove(t + "/etc/passwd");
  fs::create_symlink(outside, t + "/etc/passwd");
  RunResult r = Restore(t, {"--create-accounts"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Has(r.err, "etc/passwd")) << r.err;
  EXPECT_EQ(ReadFile(outside).find("bob"), std::string::npos);
  EXPECT_FALSE(fs::exists(t + "/home"));

  // The whole etc a link to a folder outside: the same.
  const std::string t2 = TargetWithoutBob("t2");
  fs::rename(t2 + "/etc", dir_ / "outside-etc");
  fs::create_directory_symlink(dir_ / "outside-etc", t2 + "/etc");
  r = Restore(t2, {"--create-accounts"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(ReadFile(dir_ / "outside-etc/passwd").find("bob"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "outside-etc/.pwd.lock"));

  // shadow a link, passwd a real file: refused at shadow, passwd unchanged.
  const std::string t3 = TargetWithoutBob("t3");
  const std::string passwd = ReadFile(t3 + "/etc/passwd");
  WriteFile(dir_ / "outside-shadow", "");
  fs::remove(t3 + "/etc/shadow");
  fs::create_symlink(dir_ / "outside-shadow", t3 + "/etc/shadow");
  r = Restore(t3, {"--create-accounts"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Has(r.err, "etc/shadow")) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "outside-shadow"), "");
  EXPECT_EQ(ReadFile(t3 + "/etc/passwd"), passwd);
}

TEST_F(Accounts, MapDomainMovesDomainUsersAndMapUserWins) {
  // sssd's fully qualified names and winbind's DOMAIN\user, homes as each
  // lays them out.
  const std::string src = dir_ / "domain-root";
  fs::create_directories(src + "/etc");
  WriteFile(src + "/etc/passwd",
            "root:x:0:0::/root:/bin/sh\n"
            "alice@old.example:x:1500:1500::/home/alice@old.example:/bin/sh\n"
            "OLD\\carol:x:1600:1600::/home/OLD/carol:/bin/sh\n"
            "dave@old.example:x:1700:1700::/home/dave@old.example:/bin/sh\n");
  WriteFileBelow(src, "home/alice@old.example/a.txt", "a");
  WriteFileBelow(src, "home/OLD/carol/c.txt", "c");
  WriteFileBelow(src, "home/dave@old.example/d.txt", "d");
  if (Root()) {
    ASSERT_EQ(
        ::lchown((src + "/home/alice@old.example/a.txt").c_str(), 1500, 1500),
        0);
  }
  const std::string store = dir_ / "domain.mig";
  Capture(src, store);

  // The target knows the new domain's alice (a directory account the
  // admin listed locally), and dave's renamed local account.
  const std::string t =
      Target("t",
             "alice@new.example:x:7000:7000::/home/alice@new.example:/bin/sh\n"
             "dave2:x:7100:7100::/home/dave2:/bin/sh\n",
             "");
  RunResult r = RunMigstore(
      {"restore", "--store", store, "--target", t, "--map-domain",
       "OLD.example:new.example", "--map-domain", "old:NEW", "--map-domain",
       "nowhere:x", "--map-user", "dave@old.example:dave2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out,
                  "\"name\":\"alice@old.example\",\"home\":\"home/"
                  "alice@old.example\""))
      << r.out;
  EXPECT_TRUE(Has(r.out,
                  "\"mapped_to\":\"alice@new.example\","
                  "\"destination_home\":\"home/alice@new.example\""))
      << r.out;
  EXPECT_EQ(ReadFile(t + "/home/alice@new.example/a.txt"), "a");
  EXPECT_FALSE(fs::exists(t + "/home/alice@old.example"));
  // winbind's home below the domain's folder moves to the new domain's.
  // (Names in JSON are shown as docs/cli.md "Names" says: a backslash
  // doubled, then escaped for JSON.)
  EXPECT_TRUE(Has(r.out,
                  "\"mapped_to\":\"NEW\\\\\\\\carol\","
                  "\"destination_home\":\"home/NEW/carol\""))
      << r.out;
  EXPECT_EQ(ReadFile(t + "/home/NEW/carol/c.txt"), "c");
  // --map-user names dave: it beats the domain mapping.
  EXPECT_TRUE(
      Has(r.out, "\"mapped_to\":\"dave2\",\"destination_home\":\"home/dave2\""))
      << r.out;
  EXPECT_EQ(ReadFile(t + "/home/dave2/d.txt"), "d");
  EXPECT_TRUE(Has(r.err,
                  "--map-domain nowhere:x: no user of the store is in "
                  "nowhere"))
      << r.err;
  if (Root()) {
    EXPECT_EQ(Lstat(t + "/home/alice@new.example/a.txt").st_uid, 7000u)
        << "owned by the account of the mapped name";
  }
  // Domain accounts are the domain's: none is missed (NEW\carol is in no
  // etc/passwd) and none is created locally.
  EXPECT_EQ(LineOf(t, "passwd", "NEW\\carol"), "");
  RunResult c = RunMigstore({"restore", "--store", store, "--target",
                             Target("t2", "", ""), "--map-domain",
                             "*.example:new.example", "--create-accounts"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(Has(c.err, "alice@new.example is a domain account")) << c.err;
  EXPECT_EQ(LineOf(dir_ / "t2", "passwd", "alice@new.example"), "");

  // --map-user names a DOMAIN\\user store user with its domain or without
  // it, and beats --map-domain either way.
  const std::string t4 =
      Target("t4", "carol2:x:7200:7200::/home/carol2:/bin/sh\n", "");
  for (const char* from : {"OLD\\carol", "carol", "old\\carol"}) {
    SCOPED_TRACE(from);
    RunResult m = RunMigstore({"restore", "--store", store, "--target", t4,
                               "--map-domain", "old:NEW", "--map-user",
                               std::string(from) + ":carol2", "--json",
                               "--on-conflict", "overwrite"});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_TRUE(Has(m.out,
                    "\"mapped_to\":\"carol2\","
                    "\"destination_home\":\"home/carol2\""))
        << m.out;
    EXPECT_EQ(ReadFile(t4 + "/home/carol2/c.txt"), "c");
    EXPECT_FALSE(fs::exists(t4 + "/home/NEW"));
  }
  // Another domain's carol is not this one.
  RunResult other = RunMigstore({"restore", "--store", store, "--target", t4,
                                 "--map-user", "ELSE\\carol:carol2"});
  EXPECT_EQ(other.exit_code, 11) << other.err;
  EXPECT_TRUE(Has(other.err, "the store has no user")) << other.err;

  // Malformed: exit 11; NEW is never ".", ".." or an option.
  for (const char* bad : {"old", "old:new:x", ":new", "old:", "old:n*w",
                          "o/ld:new", "old:.", "old:..", "old:-rf"}) {
    EXPECT_EQ(RunMigstore({"restore", "--store", store, "--target", dir_ / "t3",
                           "--map-domain", bad})
                  .exit_code,
              11)
        << bad;
  }
}

TEST_F(Accounts, TwoStoreUsersLandingAsOneNameByMapDomainAreRefused) {
  // OLD\\alice moved to NEW would merge with the store's NEW\\alice.
  const std::string src = dir_ / "two-root";
  fs::create_directories(src + "/etc");
  WriteFile(src + "/etc/passwd",
            "root:x:0:0::/root:/bin/sh\n"
            "OLD\\alice:x:1500:1500::/home/OLD/alice:/bin/sh\n"
            "NEW\\alice:x:1600:1600::/home/NEW/alice:/bin/sh\n");
  WriteFileBelow(src, "home/OLD/alice/old.txt", "o");
  WriteFileBelow(src, "home/NEW/alice/new.txt", "n");
  const std::string store = dir_ / "two.mig";
  Capture(src, store);
  const std::string t = Target("t", "", "");
  RunResult r = RunMigstore(
      {"restore", "--store", store, "--target", t, "--map-domain", "OLD:NEW"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  EXPECT_TRUE(Has(r.err, "the store's users NEW\\alice and OLD\\alice"))
      << r.err;
  EXPECT_TRUE(Has(r.err, "would both be restored as NEW\\alice")) << r.err;
  EXPECT_FALSE(fs::exists(t + "/home"));
  // Mapping the other elsewhere settles it (a plain folder: no accounts).
  const std::string plain = dir_ / "plain";
  r = RunMigstore({"restore", "--store", store, "--target", plain,
                   "--map-domain", "OLD:NEW", "--map-user",
                   "NEW\\alice:alice2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(plain + "/home/NEW/alice/old.txt"), "o");
  EXPECT_EQ(ReadFile(plain + "/home/NEW/alice2/new.txt"), "n");
  // Both mapped onto one name with --map-user (/mu): asked for, so done,
  // and noted.
  const std::string merged = dir_ / "merged";
  r = RunMigstore({"restore", "--store", store, "--target", merged,
                   "--map-user", "OLD\\alice:alice", "--map-user",
                   "NEW\\alice:alice"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.err, "are both restored as alice (--map-user)")) << r.err;
  EXPECT_EQ(ReadFile(merged + "/home/OLD/alice/old.txt"), "o")
      << "the layout's place beside each old home";
}

}  // namespace
}  // namespace migstore::testing
