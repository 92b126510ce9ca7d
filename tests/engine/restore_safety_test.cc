// Restore never writes outside its target, whatever the store says. The
// stores here are written with the format's test-only writer, which carries
// any path bytes: "..", absolute paths, empty and "." components, and
// entries that would pass through a symlink the store itself creates or
// one already planted in the target. Each case checks that the directory
// around the target is unchanged, a canary file outside is untouched, the
// refused entries are named, and the harmless ones are restored.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "format/memory_store.h"
#include "migstore/extract.h"
#include "migstore/restore.h"
#include "migstore/verify.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore {
namespace {

using format::MemoryStore;
using testing::MakeDir;
using testing::MakeFile;
using testing::MakeSymlink;
using testing::ReadFile;
using testing::RunMigstore;
using testing::RunResult;
using testing::TempDir;
using testing::WriteFile;

class Malicious : public ::testing::Test {
 protected:
  void SetUp() override {
    outside_ = dir_ / "outside";
    target_ = dir_ / "target";
    std::filesystem::create_directories(outside_);
    std::filesystem::create_directories(target_);
    WriteFile(outside_ + "/canary.txt", "do not touch");
  }

  // Restores `files` (plus two harmless entries) and checks that nothing
  // outside the target changed. Returns the report.
  Result<RestoreReport> RestoreAll(std::vector<format::MemoryFile> files,
                                   bool continue_on_error = true,
                                   std::vector<format::Profile> profiles = {}) {
    MemoryStore s;
    s.profiles = std::move(profiles);
    s.files = std::move(files);
    s.files.push_back(MakeDir(0, "ok"));
    s.files.push_back(MakeFile(0, "ok/fine.txt", "fine"));
    s.files.push_back(MakeFile(0, "zz-last.txt", "last"));
    const std::string store = dir_ / "evil.mig";
    std::filesystem::remove(store);
    EXPECT_OK(format::WriteMemoryStore(store, format::KeySource::None(), s,
                                       testing::QuickOptions()));
    auto before = Around();
    RestoreOptions o;
    o.store_path = store;
    o.target = target_;
    o.continue_on_error = continue_on_error;
    o.threads = 2;
    auto report = Restore(o);
    auto after = Around();
    EXPECT_EQ(before.size(), after.size())
        << "something appeared next to the target";
    for (const auto& [path, state] : before) {
      EXPECT_TRUE(after.count(path)) << path;
      if (!after.count(path)) continue;
      EXPECT_EQ(after[path].mtime_ns, state.mtime_ns) << path;
      EXPECT_EQ(after[path].data, state.data) << path;
      EXPECT_EQ(after[path].mode, state.mode) << path;
    }
    EXPECT_EQ(ReadFile(outside_ + "/canary.txt"), "do not touch");
    EXPECT_TRUE(testing::FindTemporaries(target_).empty());
    return report;
  }

  // Everything in the test's directory except the target's contents and
  // the store being written.
  std::map<std::string, testing::EntryState> Around() {
    auto all = testing::SnapshotTree(dir_.path());
    std::map<std::string, testing::EntryState> out;
    for (auto& [path, state] : all) {
      // The target's own mtime changes as entries land in it.
      if (path == "target") state.mtime_ns = 0;
      if (path.rfind("target/", 0) == 0 || path == "evil.mig") continue;
      out[path] = state;
    }
    // The canary's directory is watched too, as are the directory holding
    // the target and everything in it.
    return out;
  }

  static std::vector<std::string> ErrorPaths(const RestoreReport& r) {
    std::vector<std::string> out;
    for (const FileIssue& e : r.errors) out.push_back(e.path);
    std::sort(out.begin(), out.end());
    return out;
  }

  void ExpectHarmlessRestored() {
    EXPECT_EQ(ReadFile(target_ + "/ok/fine.txt"), "fine");
    EXPECT_EQ(ReadFile(target_ + "/zz-last.txt"), "last");
  }

  TempDir dir_;
  std::string outside_, target_;
};

TEST_F(Malicious, PathsThatClimbOutOrAreNotRelativeAreRefused) {
  const std::string abs = outside_ + "/absolute.txt";
  auto r = RestoreAll({MakeFile(0, "../escaped.txt", "x"),
                       MakeFile(0, abs, "x"), MakeFile(0, "a/../../b.txt", "x"),
                       MakeFile(0, "a//b.txt", "x"), MakeDir(0, "."),
                       MakeFile(0, "x/./y.txt", "x"),
                       MakeFile(0, "trailing/", "x"), MakeFile(0, "..", "x"),
                       MakeFile(0, "ok/" + std::string(256, 'n'), "x")});
  ASSERT_OK(r);
  std::vector<std::string> expected = {
      "../escaped.txt", abs,  "a/../../b.txt",
      "a//b.txt",       ".",  "x/./y.txt",
      "trailing/",      "..", "ok/" + std::string(256, 'n')};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ErrorPaths(*r), expected);
  for (const FileIssue& e : r->errors)
    EXPECT_TRUE(e.status.IsCorruption()) << e.path;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "escaped.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "b.txt"));
  EXPECT_FALSE(std::filesystem::exists(abs));
  ExpectHarmlessRestored();
  EXPECT_EQ(testing::ListDir(target_),
            (std::vector<std::string>{"ok", "zz-last.txt"}));
}

TEST_F(Malicious, NothingPassesThroughASymlinkTheStoreCreates) {
  // A link to outside, then entries "through" it: relative and absolute
  // targets, files and folders, and a link made to look like a folder.
  auto r = RestoreAll(
      {MakeSymlink(0, "link", "../outside"), MakeFile(0, "link/evil.txt", "x"),
       MakeSymlink(0, "abslink", outside_),
       MakeFile(0, "abslink/evil2.txt", "x"), MakeDir(0, "abslink/made-dir"),
       MakeSymlink(0, "deep", "ok"), MakeFile(0, "deep/sub/evil3.txt", "x")});
  ASSERT_OK(r);
  EXPECT_EQ(ErrorPaths(*r),
            (std::vector<std::string>{"abslink/evil2.txt", "abslink/made-dir",
                                      "deep/sub/evil3.txt", "link/evil.txt"}));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/evil.txt"));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/evil2.txt"));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/made-dir"));
  EXPECT_FALSE(std::filesystem::exists(target_ + "/ok/sub"));
  // The links themselves are restored as links (never followed).
  EXPECT_TRUE(std::filesystem::is_symlink(target_ + "/link"));
  EXPECT_EQ(std::filesystem::read_symlink(target_ + "/abslink"), outside_);
  ExpectHarmlessRestored();
}

TEST_F(Malicious, NothingPassesThroughASymlinkAlreadyInTheTarget) {
  ASSERT_EQ(::symlink(outside_.c_str(), (target_ + "/planted").c_str()), 0);
  ASSERT_EQ(::symlink("../outside", (target_ + "/planted-rel").c_str()), 0);
  auto r = RestoreAll({MakeFile(0, "planted/evil.txt", "x"),
                       MakeDir(0, "planted/dir"),
                       MakeFile(0, "planted-rel/evil.txt", "x"),
                       MakeFile(0, "planted/canary.txt", "overwritten!")});
  ASSERT_OK(r);
  EXPECT_EQ(ErrorPaths(*r), (std::vector<std::string>{
                                "planted-rel/evil.txt", "planted/canary.txt",
                                "planted/dir", "planted/evil.txt"}));
  for (const FileIssue& e : r->errors) {
    EXPECT_NE(e.status.ToString().find("symlink in the target"),
              std::string::npos)
        << e.status.ToString();
  }
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/evil.txt"));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/dir"));
  ExpectHarmlessRestored();
  // The planted link stays what it was: a restore does not replace it with
  // a folder either.
  EXPECT_TRUE(std::filesystem::is_symlink(target_ + "/planted"));
}

TEST_F(Malicious, ASymlinkOverAFolderTheStoreFillsIsKeptApart) {
  // Entries outside every profile come first in catalog order, so the
  // folder b/c is planned (to hold b/c/d) before alice's symlink b/c: the
  // link meets the folder and is renamed beside it, never put in its place.
  format::MemoryFile link = MakeSymlink(1, "b/c", outside_);
  auto r = RestoreAll({MakeFile(0, "b/c/d", "first"), MakeDir(1, "b"), link},
                      true, {testing::MakeProfile("alice", "b", 1000)});
  ASSERT_OK(r);
  EXPECT_TRUE(r->errors.empty());
  EXPECT_TRUE(std::filesystem::is_directory(target_ + "/b/c"));
  EXPECT_FALSE(std::filesystem::is_symlink(target_ + "/b/c"));
  EXPECT_EQ(ReadFile(target_ + "/b/c/d"), "first");
  EXPECT_TRUE(std::filesystem::is_symlink(target_ + "/b/c (1)"));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/d"));
}

TEST_F(Malicious, WithoutContinueOnErrorNothingIsWrittenAtAll) {
  auto r = RestoreAll({MakeFile(0, "../escaped.txt", "x")},
                      /*continue_on_error=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsStopped()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("../escaped.txt"), std::string::npos);
  EXPECT_TRUE(testing::ListDir(target_).empty())
      << "the plan refused before any write";
}

TEST_F(Malicious, ARefusedRunDoesNotEvenMakeTheTarget) {
  // The target does not exist yet: a run its plan stops must not leave an
  // empty one behind (RestoreAll also checks nothing appeared beside it).
  std::filesystem::remove(target_);
  target_ = dir_ / "new/target";
  auto r = RestoreAll({MakeFile(0, "../escaped.txt", "x")},
                      /*continue_on_error=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsStopped()) << r.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "new"));
}

// Issue "Hostile input, round two", 4: entries that say they are one file
// (a hard-link group) but disagree on what the file is. Before, verify
// called them intact and restore linked the second to the first: one
// member's content under the other's name.
TEST_F(Malicious, HardLinkGroupsWhoseMembersDisagreeAreRefused) {
  auto member = [](std::string path, std::string data, uint64_t group) {
    format::MemoryFile f = MakeFile(0, std::move(path), std::move(data));
    f.entry.link_group = group;
    return f;
  };
  std::vector<format::MemoryFile> files = {
      MakeDir(0, "links"),
      // Another content record, of another size.
      member("links/a1.txt", "what a1 holds", 1),
      member("links/a2.txt", "a secret that is not a1's at all", 1),
      // The same size, another content record.
      member("links/b1.txt", "bbbb", 2), member("links/b2.txt", "BBBB", 2),
      // One content, but a mode and an owner one inode cannot have both of.
      member("links/c1.txt", "same", 3), member("links/c2.txt", "same", 3),
      member("links/d1.txt", "same too", 4),
      member("links/d2.txt", "same too", 4),
      // Agreeing members: one file under two names.
      member("links/e1.txt", "one file", 5),
      member("links/e2.txt", "one file", 5)};
  files[6].entry.mode = 04755;
  files[8].entry.uid = 0;
  const std::vector<std::string> bad = {
      "links/a1.txt", "links/a2.txt", "links/b1.txt", "links/b2.txt",
      "links/c1.txt", "links/c2.txt", "links/d1.txt", "links/d2.txt"};

  auto r = RestoreAll(files);
  ASSERT_OK(r);
  EXPECT_EQ(ErrorPaths(*r), bad);
  for (const FileIssue& e : r->errors) {
    EXPECT_TRUE(e.status.IsCorruption()) << e.path;
    EXPECT_NE(e.status.ToString().find("hard-link group"), std::string::npos)
        << e.status.ToString();
  }
  EXPECT_EQ(testing::ListDir(target_ + "/links"),
            (std::vector<std::string>{"e1.txt", "e2.txt"}));
  struct stat e1, e2;
  ASSERT_EQ(::stat((target_ + "/links/e1.txt").c_str(), &e1), 0);
  ASSERT_EQ(::stat((target_ + "/links/e2.txt").c_str(), &e2), 0);
  EXPECT_EQ(e1.st_ino, e2.st_ino) << "agreeing members are still one file";
  ExpectHarmlessRestored();

  // Verify names every member; the catalog mode calls the catalog damaged.
  const std::string store = dir_ / "evil.mig";
  VerifyOptions vo;
  vo.store_path = store;
  auto v = Verify(vo);
  ASSERT_OK(v);
  EXPECT_FALSE(v->intact());
  std::vector<std::string> damaged;
  for (const FileIssue& f : v->damaged) damaged.push_back(f.path);
  std::sort(damaged.begin(), damaged.end());
  EXPECT_EQ(damaged, bad);
  EXPECT_EQ(v->files_intact, 4u);  // e1, e2, fine.txt, zz-last.txt
  vo.mode = VerifyMode::kCatalog;
  auto vc = Verify(vo);
  ASSERT_OK(vc);
  EXPECT_FALSE(vc->catalog_intact);
  EXPECT_EQ(vc->catalog_damage.size(), 4u);

  // An extract refuses them too.
  ExtractOptions xo;
  xo.store_path = store;
  xo.to = dir_ / "target/extracted";
  xo.continue_on_error = true;
  auto x = Extract(xo);
  ASSERT_OK(x);
  std::vector<std::string> refused;
  for (const FileIssue& f : x->errors) refused.push_back(f.path);
  std::sort(refused.begin(), refused.end());
  EXPECT_EQ(refused, bad);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "target/extracted/links/a2.txt"));

  // The command: 42 for verify, 61 for restore (the first member named),
  // 3 under --continue-on-error.
  RunResult verify =
      RunMigstore({"verify", "--store", store, "--mode", "failures"});
  EXPECT_EQ(verify.exit_code, 42) << verify.err;
  EXPECT_NE(verify.out.find("links/a2.txt\tCORRUPTED"), std::string::npos)
      << verify.out;
  RunResult stop = RunMigstore(
      {"restore", "--store", store, "--target", dir_ / "target/again"});
  EXPECT_EQ(stop.exit_code, 61) << stop.err;
  EXPECT_NE(stop.err.find("links/a1.txt: Corruption: hard-link group 1"),
            std::string::npos)
      << stop.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "target/again/links"));
  RunResult skip = RunMigstore({"restore", "--store", store, "--target",
                                dir_ / "target/again", "--continue-on-error"});
  EXPECT_EQ(skip.exit_code, 3) << skip.err;
  EXPECT_EQ(testing::ListDir(dir_ / "target/again/links"),
            (std::vector<std::string>{"e1.txt", "e2.txt"}));
}

}  // namespace
}  // namespace migstore
