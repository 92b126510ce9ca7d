// Crash consistency: capture and restore killed with SIGKILL at many points
// spread over a whole run (docs/security.md). A killed capture leaves
// either nothing or a store that verifies at the store's path, and the next
// run leaves no temporary behind; a killed restore leaves nothing
// half-written under a real name, and running it again, however often it is
// killed on the way, ends with the target equal to the source.
//
// A capture's kills are spread by time (one uninterrupted run is timed and
// the kills land at evenly spaced fractions of it); a restore's by progress
// (the number of files in the target). Where a kill lands changes only which
// state is checked, never what must hold.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "bench/dataset.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore::testing {
namespace {

constexpr int kKills = 50;
// Every kRunToEnd-th kill is followed by a run to the end; the kills in
// between interrupt runs over what the killed runs before them left.
constexpr int kRunToEnd = 5;
// A run resumed over earlier work ends sooner than the timed one, so some
// kills land after it; at least this many must land mid-run.
constexpr int kMustLand = kKills / 3;

class Crash : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.files = 120;
    spec.bytes = 6 << 20;  // a few data blocks
    ASSERT_OK(bench::GenerateDataset(root_, spec));
    WriteFile(dir_ / "all.rules", "include %USERPROFILE%\n");
    ASSERT_EQ(RunMigstore({"keygen", "--out", dir_ / "k.key"}).exit_code, 0);
    std::filesystem::create_directories(dir_ / "out");
  }
  std::string Store() const { return dir_ / "out/s.mig"; }
  std::vector<std::string> CaptureArgs() const {
    return {"capture",          "--root",     root_,
            "--store",          Store(),      "--rules",
            dir_ / "all.rules", "--key-file", dir_ / "k.key",
            "--overwrite"};
  }
  std::vector<std::string> RestoreArgs(const std::string& target) const {
    return {"restore",  "--store", Store(),     "--key-file", dir_ / "k.key",
            "--target", target,    "--threads", "2"};
  }
  // Runs `args` to the end once and returns how long it took.
  std::chrono::steady_clock::duration Time(
      const std::vector<std::string>& args) {
    auto t0 = std::chrono::steady_clock::now();
    RunResult r = RunMigstore(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::chrono::steady_clock::now() - t0;
  }
  // Starts `args`, kills it with SIGKILL after `after`; true when the kill
  // landed (the run had not ended by itself).
  static bool KillAfter(const std::vector<std::string>& args,
                        std::chrono::steady_clock::duration after) {
    pid_t pid = SpawnMigstore(args);
    EXPECT_GT(pid, 0);
    std::this_thread::sleep_for(after);
    ::kill(pid, SIGKILL);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }
  std::vector<std::string> StoreTemporaries() const {
    std::vector<std::string> out;
    for (const std::string& n : ListDir(dir_ / "out")) {
      if (n.find(".migtmp-") != std::string::npos) out.push_back(n);
    }
    return out;
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(Crash, AKilledCaptureLeavesNothingOrAStoreThatVerifies) {
  const auto whole = Time(CaptureArgs());
  RecordProperty("whole_ms",
                 static_cast<int>(whole / std::chrono::milliseconds(1)));
  int killed = 0, stores_left = 0;
  for (int i = 0; i < kKills; ++i) {
    std::filesystem::remove(Store());
    killed += KillAfter(CaptureArgs(), whole * (2 * i + 1) / (2 * kKills));
    if (std::filesystem::exists(Store())) {
      ++stores_left;
      RunResult v = RunMigstore({"verify", "--store", Store(), "--key-file",
                                 dir_ / "k.key", "--mode", "all"});
      ASSERT_EQ(v.exit_code, 0) << "kill " << i << ": " << v.out << v.err;
    }
    if ((i + 1) % kRunToEnd == 0) {
      RunResult c = RunMigstore(CaptureArgs());
      ASSERT_EQ(c.exit_code, 0) << c.err;
      EXPECT_EQ(StoreTemporaries(), std::vector<std::string>())
          << "a stale temporary survived the next run";
    }
  }
  EXPECT_GE(killed, kMustLand);
  RecordProperty("kills_landed", killed);
  RecordProperty("stores_left", stores_left);
}

// Regular files below `root`, whole or temporary.
size_t CountFiles(const std::string& root) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) ++n;
  }
  return n;
}

TEST_F(Crash, AKilledRestoreRunAgainEndsEqualToTheSource) {
  ASSERT_EQ(RunMigstore(CaptureArgs()).exit_code, 0);
  const std::string t = dir_ / "t";
  ASSERT_EQ(RunMigstore(RestoreArgs(dir_ / "all")).exit_code, 0);
  const size_t total = CountFiles(dir_ / "all");
  std::filesystem::remove_all(dir_ / "all");
  // Restore's progress shows in the target, so its kills are placed by
  // progress, not time: kill i lands once the target holds a fraction of
  // the files, the fractions rising through each chain of kRunToEnd runs
  // (each resumes what the ones before it left) and spread over [0, 1)
  // across chains.
  constexpr int kChains = kKills / kRunToEnd;
  int killed = 0, mid_way = 0;
  for (int i = 0; i < kKills; ++i) {
    const int chain = i / kRunToEnd, step = i % kRunToEnd;
    const size_t at = total * (2 * (step * kChains + chain) + 1) / (2 * kKills);
    pid_t pid = SpawnMigstore(RestoreArgs(t));
    ASSERT_GT(pid, 0);
    int status = 0;
    bool ended = false;
    while (!ended && CountFiles(t) < at) {
      ended = ::waitpid(pid, &status, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!ended) {
      ::kill(pid, SIGKILL);
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    }
    const bool landed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    killed += landed;
    size_t whole_files = 0;
    if (std::filesystem::exists(t)) {
      for (const auto& [rel, state] : SnapshotTree(t)) {
        if (!S_ISREG(state.mode) || rel.find(".migtmp-") != std::string::npos)
          continue;
        ASSERT_TRUE(SameBytes(t + "/" + rel, root_ + "/" + rel))
            << "kill " << i << ": " << rel << " is half-written";
        ++whole_files;
      }
    }
    if (landed && (whole_files > 0 || !FindTemporaries(t).empty())) ++mid_way;
    if (step == kRunToEnd - 1) {
      RunResult again = RunMigstore(RestoreArgs(t));
      ASSERT_EQ(again.exit_code, 0) << again.err;
      EXPECT_EQ(CompareTrees(root_ + "/home", t + "/home"), "")
          << "after kill " << i;
      EXPECT_TRUE(FindTemporaries(t).empty());
      std::filesystem::remove_all(t);
    }
  }
  EXPECT_GE(killed, kMustLand);
  EXPECT_GE(mid_way, kMustLand)
      << "the kills should land while files are written";
  RecordProperty("kills_landed", killed);
  RecordProperty("kills_while_writing", mid_way);
}

}  // namespace
}  // namespace migstore::testing
