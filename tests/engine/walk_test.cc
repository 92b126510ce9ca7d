// The capture walk through a scratch file (docs/design.md, "Bounded
// memory"): sorted runs merged back give exactly the entries a walk held in
// memory gives, directories are kept by what lies below them, and a damaged
// scratch file is an error, never wrong entries.

#include "engine/src/capture/walk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <oneapi/tbb/task_arena.h>

#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "engine/src/capture/catalog_entry.h"
#include "tests/engine/rules_test_util.h"
#include "tests/util/test_util.h"

namespace migstore::capture {
namespace {

using testing::TempDir;
using testing::WriteFileBelow;

class WalkRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    testing::MakeLinuxRoot(root_, {"alice"});
    const std::string home = root_ + "/home/alice";
    for (int i = 0; i < 3000; ++i) {
      WriteFileBelow(
          home,
          "d" + std::to_string(i % 37) + "/f" + std::to_string(i) + ".txt",
          std::string(static_cast<size_t>(i % 50), 'x'));
    }
    WriteFileBelow(home, "deep/er/still/a.txt", "a");
    WriteFileBelow(home, "nothing/here.dat", "not taken");  // nor its folder
    ::symlink("d1/f1.txt", (home + "/link.txt").c_str());
    ::mkfifo((home + "/pipe.txt").c_str(), 0600);
    ::link((home + "/d2/f2.txt").c_str(), (home + "/hard.txt").c_str());
    // Where the filesystem has user xattrs; the comparison holds either way.
    ::setxattr((home + "/d3/f3.txt").c_str(), "user.tag", "v", 1, 0);
    machine_ = testing::Discover(root_);
    matcher_ = std::make_unique<Matcher>(testing::CompileTexts(
        machine_, {{"txt.rules", "include %USERPROFILE%/**/*.txt\n"}}));
  }

  WalkOptions Options() const {
    WalkOptions o;
    o.root = root_;
    o.machine = &machine_;
    o.matcher = matcher_.get();
    return o;
  }

  Result<WalkResult> WalkOn2Threads(const WalkOptions& o) {
    tbb::task_arena arena(2);
    return arena.execute([&] { return Walk(o); });
  }

  TempDir dir_;
  std::string root_;
  Machine machine_;
  std::unique_ptr<Matcher> matcher_;
};

// Everything a capture reads of a walked entry. The access time of a
// directory or a symlink is left out: the first walk read it.
void ExpectSame(const WalkedEntry& a, const WalkedEntry& b) {
  format::Entry ea = ToCatalogEntry(a, 7), eb = ToCatalogEntry(b, 7);
  if (a.type != format::EntryType::kFile && a.type != format::EntryType::kFifo)
    ea.atime_ns = eb.atime_ns;
  EXPECT_EQ(ea, eb) << a.path;
  EXPECT_EQ(a.dev, b.dev) << a.path;
  EXPECT_EQ(a.ino, b.ino) << a.path;
  EXPECT_EQ(a.nlink, b.nlink) << a.path;
  EXPECT_EQ(a.blocks(), b.blocks()) << a.path;
  EXPECT_EQ(a.ctime_ns, b.ctime_ns) << a.path;
  EXPECT_EQ(a.btime(), b.btime()) << a.path;
  EXPECT_EQ(a.profile, b.profile) << a.path;
  EXPECT_EQ(a.taken, b.taken) << a.path;
  EXPECT_EQ(a.store_ino, b.store_ino) << a.path;
}

TEST_F(WalkRuns, RunsMergedBackAreTheEntriesHeldInMemory) {
  auto held = WalkOn2Threads(Options());
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->entries.runs(), 0u);

  auto spill = format::SpillFile::Create({dir_.path()});
  ASSERT_TRUE(spill.ok()) << spill.status().ToString();
  WalkOptions o = Options();
  o.spill = spill->get();
  o.run_entries = 100;
  o.set_apart = [](const WalkedEntry& e) { return e.nlink > 1; };
  auto ran = WalkOn2Threads(o);
  ASSERT_TRUE(ran.ok()) << ran.status().ToString();
  EXPECT_GT(ran->entries.runs(), 20u);
  EXPECT_EQ(ran->entries.count() + ran->apart.size(), held->entries.count());
  uint64_t apart_bytes = 0;
  for (const WalkedEntry& e : ran->apart) apart_bytes += e.path.size();
  EXPECT_EQ(ran->entries.path_bytes() + apart_bytes,
            held->entries.path_bytes());
  EXPECT_EQ(ran->owners.uids, held->owners.uids);
  EXPECT_EQ(ran->owners.gids, held->owners.gids);

  // The hard-linked pair was set apart; the rest comes back in windows.
  std::set<std::string> apart;
  for (const WalkedEntry& e : ran->apart) apart.insert(e.path);
  EXPECT_EQ(apart, (std::set<std::string>{"home/alice/d2/f2.txt",
                                          "home/alice/hard.txt"}));
  auto all = held->entries.TakeAll();
  ASSERT_TRUE(all.ok());
  uint64_t held_bytes = 0;
  for (const WalkedEntry& e : *all) held_bytes += e.path.size();
  EXPECT_EQ(held_bytes, held->entries.path_bytes());
  WalkedEntries merged;
  while (!ran->entries.empty()) {
    const size_t before = merged.size();
    ASSERT_TRUE(ran->entries.Take(333, &merged).ok());
    ASSERT_LE(merged.size() - before, 333u);
  }
  size_t m = 0;
  std::set<std::string> paths;
  for (const WalkedEntry& e : *all) {
    paths.insert(e.path);
    if (apart.count(e.path) != 0) continue;
    ASSERT_LT(m, merged.size());
    ExpectSame(e, merged[m++]);
  }
  EXPECT_EQ(m, merged.size());
  for (size_t i = 1; i < merged.size(); ++i)
    EXPECT_LT(merged[i - 1].path, merged[i].path);

  // Folders on the way to a taken file are kept (not taken themselves);
  // one holding nothing taken is not.
  for (const char* p :
       {"home", "home/alice", "home/alice/deep/er/still", "home/alice/d36",
        "home/alice/pipe.txt", "home/alice/link.txt"}) {
    EXPECT_EQ(paths.count(p), 1u) << p;
  }
  EXPECT_EQ(paths.count("home/alice/nothing"), 0u);
  EXPECT_EQ(paths.count("home/alice/nothing/here.dat"), 0u);
  // Files, deep/er/still/a.txt, the link, fifo and hard link; home,
  // alice, the 37 folders and deep/er/still.
  EXPECT_EQ(paths.size(), 3000u + 1 + 3 + 2 + 37 + 3);
}

TEST_F(WalkRuns, ADamagedScratchFileIsAnErrorNotWrongEntries) {
  auto spill = format::SpillFile::Create({dir_.path()});
  ASSERT_TRUE(spill.ok()) << spill.status().ToString();
  WalkOptions o = Options();
  o.spill = spill->get();
  o.run_entries = 1500;  // runs of more than one piece
  auto ran = WalkOn2Threads(o);
  ASSERT_TRUE(ran.ok()) << ran.status().ToString();
  ASSERT_GT(ran->entries.runs(), 1u);
  // The merge has read each run's first piece; the others are damaged.
  const int fd = (*spill)->fd_for_testing();
  const std::string junk((*spill)->size(), '\x5a');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), 0),
            static_cast<ssize_t>(junk.size()));
  auto all = ran->entries.TakeAll();
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.status().ToString().find("scratch file"), std::string::npos)
      << all.status().ToString();
}

}  // namespace
}  // namespace migstore::capture
