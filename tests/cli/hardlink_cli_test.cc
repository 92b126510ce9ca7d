// `migstore capture --hardlink`, restore, list, verify, extract and delete
// on a hard-link store, as scripts use them: the real binary on a generated
// tree, with its exit codes and messages.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "bench/dataset.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore::testing {
namespace {

class HardLinkCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.files = 300;
    spec.bytes = 8 << 20;
    ASSERT_OK(bench::GenerateDataset(root_, spec));
    WriteFile(dir_ / "all.rules", "include %USERPROFILE%\n");
  }
  std::string Store() const { return dir_ / "store"; }
  RunResult Capture(std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"capture", "--hardlink",      "--root",
                                     root_,     "--store",         Store(),
                                     "--rules", dir_ / "all.rules"};
    args.insert(args.end(), more.begin(), more.end());
    return RunMigstore(args);
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(HardLinkCli, CaptureWipeRestoreVerifyDelete) {
  const auto before = SnapshotTree(root_ + "/home");
  RunResult c = Capture({"--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(Has(c.out, "\"hardlink\":true")) << c.out;
  EXPECT_TRUE(Has(c.out, "\"copied_files\":0")) << c.out;

  RunResult again = Capture();
  EXPECT_EQ(again.exit_code, 27) << again.err;
  EXPECT_TRUE(Has(again.err, "--overwrite")) << again.err;

  RunResult l = RunMigstore({"list", "--store", Store()});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_TRUE(Has(l.out, "hard-link store")) << l.out;

  RunResult v = RunMigstore({"verify", "--store", Store()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // extract copies (an edit of what was extracted must not reach the
  // store): a different inode with the same bytes.
  RunResult x = RunMigstore(
      {"extract", "--store", Store(), "--to", dir_ / "x", "--include", "home"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  // (Modes of extracted entries follow extract's own rules: compare the
  // data of a file here, and the whole tree after the restore.)
  bool compared = false;
  for (const auto& [rel, st] : SnapshotTree(dir_ / "x")) {
    if (!S_ISREG(st.mode)) continue;
    EXPECT_EQ(ReadFile(dir_ / "x/" + rel), ReadFile(root_ + "/" + rel)) << rel;
    struct stat a, b;
    ASSERT_EQ(::stat((dir_ / "x/" + rel).c_str(), &a), 0);
    ASSERT_EQ(::stat((root_ + "/" + rel).c_str(), &b), 0);
    EXPECT_NE(a.st_ino, b.st_ino) << rel;
    compared = true;
    break;
  }
  EXPECT_TRUE(compared);

  // The refresh: profiles wiped, restored from the store.
  std::filesystem::remove_all(root_ + "/home");
  RunResult r = RunMigstore({"restore", "--store", Store(), "--target", root_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CompareSnapshots(before, SnapshotTree(root_ + "/home")), "");

  // delete asks; with no terminal to ask on, it refuses without --yes.
  RunResult d = RunMigstore({"delete", "--store", Store()});
  EXPECT_EQ(d.exit_code, 11) << d.err;
  EXPECT_TRUE(Has(d.err, "--yes")) << d.err;
  RunResult dy = RunMigstore({"delete", "--store", Store(), "--yes"});
  ASSERT_EQ(dy.exit_code, 0) << dy.err;
  struct stat st;
  EXPECT_NE(::lstat(Store().c_str(), &st), 0);
  EXPECT_EQ(CompareSnapshots(before, SnapshotTree(root_ + "/home")), "")
      << "the restored files outlive the store";

  RunResult gone = RunMigstore({"delete", "--store", Store(), "--yes"});
  EXPECT_EQ(gone.exit_code, 27) << gone.err;
  std::filesystem::create_directories(dir_ / "plain");
  RunResult plain = RunMigstore({"delete", "--store", dir_ / "plain", "--yes"});
  EXPECT_EQ(plain.exit_code, 27) << plain.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "plain"));
}

TEST_F(HardLinkCli, VerifyReportsALinkBrokenBySaveByRename) {
  ASSERT_EQ(Capture().exit_code, 0);
  std::string victim;
  for (const auto& [rel, st] : SnapshotTree(root_ + "/home")) {
    if (S_ISREG(st.mode)) {
      victim = "home/" + rel;
      break;
    }
  }
  ASSERT_FALSE(victim.empty());
  WriteFile(root_ + "/" + victim + ".tmp", "saved anew");
  ASSERT_EQ(std::rename((root_ + "/" + victim + ".tmp").c_str(),
                        (root_ + "/" + victim).c_str()),
            0);
  RunResult v = RunMigstore({"verify", "--store", Store(), "--json"});
  EXPECT_EQ(v.exit_code, 42) << v.out << v.err;
  EXPECT_TRUE(Has(v.out + v.err, victim)) << v.out << v.err;
  EXPECT_TRUE(Has(v.out + v.err, "link was broken")) << v.out << v.err;
}

TEST_F(HardLinkCli, FallbackErrorAndKeys) {
  RunResult bad = Capture({"--hardlink-fallback", "sometimes"});
  EXPECT_EQ(bad.exit_code, 11) << bad.err;
  ASSERT_EQ(RunMigstore({"keygen", "--out", dir_ / "k.key"}).exit_code, 0);
  RunResult keyed = Capture({"--key-file", dir_ / "k.key"});
  EXPECT_EQ(keyed.exit_code, 11) << keyed.err;
  EXPECT_TRUE(Has(keyed.err, "cannot be encrypted")) << keyed.err;
  // Same filesystem: nothing falls back, so the strict mode succeeds.
  RunResult strict = Capture({"--hardlink-fallback", "error"});
  EXPECT_EQ(strict.exit_code, 0) << strict.err;
}

}  // namespace
}  // namespace migstore::testing
