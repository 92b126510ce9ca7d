// Issue "Hostile input, round two", 7: a restore as root applied setuid and
// setgid bits and file capabilities (security.capability) from the store
// without a word. They are still reproduced by default (USMT reproduces the
// source), but each file that carries them is noted and the run ends with
// a count; --strip-privileges restores files without them; extract never
// sets them. For a container store and a hard-link store, through the
// engine and through the command.
//
// Setting a setuid-root file and a file capability takes root (and
// CAP_SETFCAP); the tests skip, saying so, without them.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "migstore/capture.h"
#include "migstore/extract.h"
#include "migstore/restore.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

constexpr char kCap[] = "security.capability";

// vfs_cap_data, revision 2, effective: cap_net_raw (13) permitted.
const std::string& NetRawCapability() {
  static const std::string kValue = [] {
    const unsigned char bytes[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
  }();
  return kValue;
}

// The file's capability xattr, "" when it has none.
std::string CapabilityOf(const std::string& path) {
  std::string value(64, '\0');
  ssize_t n = ::lgetxattr(path.c_str(), kCap, value.data(), value.size());
  if (n < 0) return "";
  value.resize(static_cast<size_t>(n));
  return value;
}

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << strerror(errno);
  return st;
}

std::vector<std::string> NotesAbout(const RestoreReport& r,
                                    const std::string& path) {
  std::vector<std::string> out;
  for (const FileNote& n : r.notes) {
    if (n.path == path) out.push_back(n.what);
  }
  return out;
}

bool HasNote(const RestoreReport& r, const std::string& path,
             const std::string& text) {
  for (const std::string& what : NotesAbout(r, path)) {
    if (what.find(text) != std::string::npos) return true;
  }
  return false;
}

class Privileges : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: a setuid-root file and a file capability "
                      "can only be made, and restored, as root";
    }
    root_ = dir_ / "root";
    std::filesystem::create_directories(root_ + "/etc");
    WriteFile(root_ + "/etc/passwd",
              "root:x:0:0::/root:/bin/sh\n"
              "alice:x:1000:1000::/home/alice:/bin/sh\n");
    const std::string bin = root_ + "/home/alice/bin";
    std::filesystem::create_directories(bin);
    std::filesystem::create_directories(root_ + "/home/alice/shared");
    WriteFile(root_ + "/home/alice/plain.txt", "plain");
    WriteFile(bin + "/tool", "#!/bin/sh\necho tool\n");
    WriteFile(bin + "/grouped", "#!/bin/sh\necho grouped\n");
    WriteFile(bin + "/capped", "#!/bin/sh\necho capped\n");
    ASSERT_EQ(::chown((bin + "/tool").c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod((bin + "/tool").c_str(), 04755), 0);
    ASSERT_EQ(::chmod((bin + "/grouped").c_str(), 02755), 0);
    ASSERT_EQ(::chmod((bin + "/capped").c_str(), 0755), 0);
    ASSERT_EQ(::chmod((root_ + "/home/alice/shared").c_str(), 02775), 0);
    if (::setxattr((bin + "/capped").c_str(), kCap, NetRawCapability().data(),
                   NetRawCapability().size(), 0) != 0) {
      GTEST_SKIP() << "cannot give a file capabilities here ("
                   << std::strerror(errno) << ")";
    }
    WriteFile(dir_ / "all.rules", "include %USERPROFILE%\n");
  }

  CaptureOptions Options(bool hardlink) const {
    CaptureOptions o;
    o.root = root_;
    o.store_path = hardlink ? dir_ / "hl" : dir_ / "s.mig";
    o.hardlink = hardlink;
    o.encrypt = false;
    o.threads = 2;
    o.rules_files = {dir_ / "all.rules"};
    return o;
  }

  // What every restore with the privileges kept must show at `target`.
  static void ExpectKept(const std::string& target) {
    const std::string bin = target + "/home/alice/bin";
    struct stat tool = Lstat(bin + "/tool");
    EXPECT_EQ(tool.st_mode & 07777, 04755u);
    EXPECT_EQ(tool.st_uid, 0u);
    EXPECT_EQ(Lstat(bin + "/grouped").st_mode & 07777, 02755u);
    EXPECT_EQ(CapabilityOf(bin + "/capped"), NetRawCapability());
    EXPECT_EQ(Lstat(target + "/home/alice/shared").st_mode & 07777, 02775u);
  }

  // ... and with them stripped: the bits and the capability gone, a
  // folder's setgid kept.
  static void ExpectStripped(const std::string& target) {
    const std::string bin = target + "/home/alice/bin";
    EXPECT_EQ(Lstat(bin + "/tool").st_mode & 07777, 0755u);
    EXPECT_EQ(Lstat(bin + "/grouped").st_mode & 07777, 0755u);
    EXPECT_EQ(CapabilityOf(bin + "/capped"), "");
    EXPECT_EQ(Lstat(bin + "/capped").st_mode & 07777, 0755u);
    EXPECT_EQ(Lstat(target + "/home/alice/shared").st_mode & 07777, 02775u);
    EXPECT_EQ(ReadFile(bin + "/tool"), "#!/bin/sh\necho tool\n");
  }

  static void ExpectNotes(const RestoreReport& r, const char* how) {
    EXPECT_TRUE(HasNote(r, "home/alice/bin/tool", "setuid root"));
    EXPECT_TRUE(HasNote(r, "home/alice/bin/grouped", "setgid"));
    EXPECT_TRUE(HasNote(r, "home/alice/bin/capped",
                        "file capabilities (security.capability)"));
    for (const char* p : {"home/alice/bin/tool", "home/alice/bin/grouped",
                          "home/alice/bin/capped"}) {
      EXPECT_TRUE(HasNote(r, p, how)) << p;
    }
    EXPECT_TRUE(NotesAbout(r, "home/alice/plain.txt").empty());
    EXPECT_TRUE(NotesAbout(r, "home/alice/shared").empty());
    EXPECT_TRUE(HasNote(r, "",
                        "3 files carry setuid or setgid bits or file "
                        "capabilities in the store: " +
                            std::string(how)));
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(Privileges, SetuidAndCapabilitiesAreNotedAndStrippedOnRequest) {
  ASSERT_OK(Capture(Options(false)));
  RestoreOptions ro;
  ro.store_path = dir_ / "s.mig";
  ro.threads = 2;

  // Kept, as captured, and said.
  ro.target = dir_ / "kept";
  auto kept = Restore(ro);
  ASSERT_OK(kept);
  ExpectKept(ro.target);
  ExpectNotes(*kept, "kept, as captured");

  // Stripped on request, and said.
  ro.target = dir_ / "stripped";
  ro.strip_privileges = true;
  auto stripped = Restore(ro);
  ASSERT_OK(stripped);
  ExpectStripped(ro.target);
  ExpectNotes(*stripped, "left out (--strip-privileges)");

  // A dry run says it before anything is written.
  ro.target = dir_ / "dry";
  ro.dry_run = true;
  ro.strip_privileges = false;
  auto dry = Restore(ro);
  ASSERT_OK(dry);
  ExpectNotes(*dry, "kept, as captured");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "dry"));

  // Extract never sets them, and has nothing to say about them.
  ExtractOptions xo;
  xo.store_path = dir_ / "s.mig";
  xo.to = dir_ / "extracted";
  auto x = Extract(xo);
  ASSERT_OK(x);
  EXPECT_EQ(Lstat(xo.to + "/home/alice/bin/tool").st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(xo.to + "/home/alice/bin/grouped").st_mode & 07777, 0755u);
  EXPECT_EQ(CapabilityOf(xo.to + "/home/alice/bin/capped"), "");
  EXPECT_TRUE(NotesAbout(*x, "home/alice/bin/tool").empty());

  // The command: a note per file and the count on stderr, exit 0.
  RunResult plain = RunMigstore(
      {"restore", "--store", dir_ / "s.mig", "--target", dir_ / "cli-kept"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.err.find("migstore: note: home/alice/bin/tool: carries "
                           "setuid root in the store: kept, as captured"),
            std::string::npos)
      << plain.err;
  EXPECT_NE(plain.err.find("migstore: note: 3 files carry setuid or setgid"),
            std::string::npos)
      << plain.err;
  ExpectKept(dir_ / "cli-kept");
  RunResult strip = RunMigstore(
      {"restore", "--store", dir_ / "s.mig", "--target", dir_ / "cli-stripped",
       "--strip-privileges", "--log", dir_ / "restore.log"});
  EXPECT_EQ(strip.exit_code, 0) << strip.err;
  EXPECT_NE(strip.err.find("home/alice/bin/capped: carries file capabilities "
                           "(security.capability) in the store: left out"),
            std::string::npos)
      << strip.err;
  EXPECT_NE(ReadFile(dir_ / "restore.log")
                .find("3 files carry setuid or setgid bits or file "
                      "capabilities in the store: left out"),
            std::string::npos);
  ExpectStripped(dir_ / "cli-stripped");
}

TEST_F(Privileges, AHardLinkStoreKeepsOrStripsThemToo) {
  ASSERT_OK(Capture(Options(true)));
  const std::string linked = dir_ / "hl/files/home/alice/bin";

  // Stripped into another folder on the same filesystem: copies, so the
  // store's files (the originals' inodes) keep what they had.
  RestoreOptions ro;
  ro.store_path = dir_ / "hl";
  ro.threads = 2;
  ro.target = dir_ / "stripped";
  ro.strip_privileges = true;
  auto stripped = Restore(ro);
  ASSERT_OK(stripped);
  ExpectStripped(ro.target);
  ExpectNotes(*stripped, "left out (--strip-privileges)");
  EXPECT_NE(Lstat(ro.target + "/home/alice/bin/tool").st_ino,
            Lstat(linked + "/tool").st_ino);
  EXPECT_EQ(Lstat(linked + "/tool").st_mode & 07777, 04755u);
  EXPECT_EQ(CapabilityOf(linked + "/capped"), NetRawCapability());
  // A file without privileges is still linked back.
  EXPECT_EQ(Lstat(ro.target + "/home/alice/plain.txt").st_ino,
            Lstat(dir_ / "hl/files/home/alice/plain.txt").st_ino);

  // The refresh: the profiles wiped, then restored by linking back, with
  // the bits and the capability the files had (fchown, as root, drops a
  // capability: it is set again).
  std::filesystem::remove_all(root_ + "/home");
  ro.target = root_;
  ro.strip_privileges = false;
  auto kept = Restore(ro);
  ASSERT_OK(kept);
  ExpectKept(root_);
  ExpectNotes(*kept, "kept, as captured");
  EXPECT_EQ(Lstat(root_ + "/home/alice/bin/capped").st_ino,
            Lstat(linked + "/capped").st_ino);
}

}  // namespace
}  // namespace migstore::testing
