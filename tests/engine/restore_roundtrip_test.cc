// Capture then restore, on generated trees of both layouts: every byte and
// every bit of metadata comes back, on another root, and a second run finds
// everything already there. Ownership by name through the target's own
// account tables; --map-user; user selection.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "bench/dataset.h"
#include "engine/base/deterministic_random.h"
#include "format/container_reader.h"
#include "format/memory_store.h"
#include "migstore/capture.h"
#include "migstore/restore.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore {
namespace {

using testing::CompareTrees;
using testing::TempDir;
using testing::TreeCompareOptions;
using testing::WriteFile;

bool Root() { return ::geteuid() == 0; }

void SetNs(const std::string& path, int64_t ns) {
  struct timespec t[2] = {{ns / 1000000000, ns % 1000000000},
                          {ns / 1000000000, ns % 1000000000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0)
      << path;
}

// The things a generated tree lacks: hard links, a fifo, xattrs, empty
// folders, odd modes, owners, a 4095-byte path.
void AddEdges(const std::string& root) {
  const std::string a = root + "/home/alice";
  std::filesystem::create_directories(a + "/Documents/links/sub");
  WriteFile(a + "/Documents/links/one.bin", std::string(100000, 'h'));
  ASSERT_EQ(::link((a + "/Documents/links/one.bin").c_str(),
                   (a + "/Documents/links/two.bin").c_str()),
            0);
  ASSERT_EQ(::link((a + "/Documents/links/one.bin").c_str(),
                   (a + "/Documents/links/sub/three.bin").c_str()),
            0);
  ASSERT_EQ(::mkfifo((a + "/pipe").c_str(), 0640), 0);
  ASSERT_EQ(::setxattr((a + "/Documents/links/one.bin").c_str(), "user.origin",
                       "camera", 6, 0),
            0);
  ASSERT_EQ(::setxattr((a + "/Documents").c_str(), "user.folder", "docs", 4, 0),
            0);
  std::filesystem::create_directories(root + "/home/bob/Documents/empty/inner");
  WriteFile(a + "/secret.txt", "private\n");
  ASSERT_EQ(::chmod((a + "/secret.txt").c_str(), 0600), 0);
  WriteFile(a + "/tool.sh", "#!/bin/sh\n");
  ASSERT_EQ(::chmod((a + "/tool.sh").c_str(), 04755), 0);
  std::filesystem::create_directories(a + "/shared");
  ASSERT_EQ(::chmod((a + "/shared").c_str(), 01777), 0);
  ASSERT_EQ(
      ::symlink("../Documents/links/one.bin", (a + "/shared/rel-link").c_str()),
      0);
  // A path of exactly 4095 bytes below the root.
  std::string rel = "home/carol/long";
  while (rel.size() < 4095 - 260) rel += "/" + std::string(200, 'd');
  rel += "/" + std::string(4095 - rel.size() - 1, 'f');
  ASSERT_EQ(rel.size(), 4095u);
  testing::WriteFileBelow(root, rel, "at the bottom\n");
  if (Root()) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(a)) {
      ASSERT_EQ(::lchown(e.path().c_str(), 1000, 1000), 0);
    }
    ASSERT_EQ(::lchown(a.c_str(), 1000, 1000), 0);
    ASSERT_EQ(::chmod((a + "/tool.sh").c_str(), 04755), 0);  // chown cleared it
    ASSERT_EQ(::lchown((a + "/secret.txt").c_str(), 4242, 4343), 0);
  }
  // Folders' times last (with nanoseconds), after everything inside them.
  int64_t t = 1700000000123456789;
  for (const std::string& d :
       {a + "/Documents/links/sub", a + "/Documents/links", a + "/shared",
        root + "/home/bob/Documents/empty/inner"}) {
    SetNs(d, t += 1000000007);
  }
}

std::string AllRules(const TempDir& dir) {
  WriteFile(dir / "all.rules", "include %USERPROFILE%\n");
  return dir / "all.rules";
}

Result<CaptureReport> CaptureTree(const TempDir& dir, const std::string& root,
                                  const std::string& store) {
  CaptureOptions o;
  o.root = root;
  o.store_path = store;
  o.rules_files = {AllRules(dir)};
  o.encrypt = false;
  o.threads = 2;
  return Capture(o);
}

RestoreOptions Options(const std::string& store, const std::string& target) {
  RestoreOptions o;
  o.store_path = store;
  o.target = target;
  o.threads = 2;
  return o;
}

// Data blocks some file's content reads.
uint64_t ReferencedBlocks(const std::string& store) {
  auto r = format::ContainerReader::Open(store, format::KeySource::None());
  EXPECT_TRUE(r.ok());
  std::set<uint64_t> blocks;
  for (size_t s = 0; s < (*r)->index().content_segments.size(); ++s) {
    auto contents = (*r)->ReadContentSegment(s);
    EXPECT_TRUE(contents.ok());
    for (const format::Content& c : *contents) {
      for (const format::Chunk& ch : c.chunks) blocks.insert(ch.block);
    }
  }
  return blocks.size();
}

class RoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTrip, EveryByteAndEveryBitOfMetadataComesBack) {
  TempDir dir;
  const std::string src = dir / "src", dst = dir / "dst", store = dir / "s.mig";
  const bool windows = GetParam() == "windows";
  bench::DatasetSpec spec;
  ASSERT_OK(bench::SpecForPreset("demo", &spec));
  spec.layout = GetParam();
  spec.files = 600;
  spec.bytes = 6 << 20;
  ASSERT_OK(bench::GenerateDataset(src, spec));
  if (!windows) AddEdges(src);
  if (::testing::Test::HasFatalFailure()) return;
  auto captured = CaptureTree(dir, src, store);
  ASSERT_OK(captured);
  ASSERT_TRUE(captured->errors.empty());

  auto report = Restore(Options(store, dst));
  ASSERT_OK(report);
  EXPECT_TRUE(report->errors.empty())
      << report->errors[0].path << ": " << report->errors[0].status.ToString();
  EXPECT_EQ(report->files, captured->files);
  EXPECT_EQ(report->symlinks, captured->symlinks);
  EXPECT_EQ(report->fifos, captured->fifos);
  EXPECT_EQ(report->directories, captured->directories);
  EXPECT_EQ(report->hardlinks, windows ? 0u : 2u);
  // Each data block opened once, however many files it holds.
  EXPECT_EQ(report->blocks_opened, ReferencedBlocks(store));

  const std::string top = windows ? "/Users" : "/home";
  TreeCompareOptions cmp;
  cmp.owners = Root();
  // The common folders are not in a profile: "include %USERPROFILE%" left
  // them out.
  if (windows) cmp.ignore = {"Public"};
  EXPECT_EQ(CompareTrees(src + top, dst + top, cmp), "");
  EXPECT_EQ(testing::ListDir(dst), std::vector<std::string>{top.substr(1)});
  EXPECT_TRUE(testing::FindTemporaries(dst).empty());
  if (!windows) {
    // The sparse image kept its holes: 2 MiB of data in 256 MiB.
    struct stat st;
    ASSERT_EQ(::stat((dst + "/home/alice/Documents/disk.img").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 256 << 20);
    EXPECT_LT(st.st_blocks * 512, 8 << 20);
    // Hard links are one inode again.
    struct stat one, three;
    ASSERT_EQ(
        ::stat((dst + "/home/alice/Documents/links/one.bin").c_str(), &one), 0);
    ASSERT_EQ(
        ::stat((dst + "/home/alice/Documents/links/sub/three.bin").c_str(),
               &three),
        0);
    EXPECT_EQ(one.st_ino, three.st_ino);
    EXPECT_EQ(one.st_nlink, 3u);
    // Odd names arrived byte for byte.
    EXPECT_TRUE(std::filesystem::exists(
        dst + "/home/bob/Documents/odd/line\nbreak.txt"));
    EXPECT_TRUE(std::filesystem::exists(
        dst + "/home/bob/Documents/odd/caf\xe9 latin-1.txt"));
    if (Root()) {
      struct stat tool;
      ASSERT_EQ(::stat((dst + "/home/alice/tool.sh").c_str(), &tool), 0);
      EXPECT_EQ(tool.st_mode & 07777, 04755u) << "setuid survives chown";
      EXPECT_EQ(tool.st_uid, 1000u);
    }
  }

  // Run again: everything is already there; nothing is written.
  auto again = Restore(Options(store, dst));
  ASSERT_OK(again);
  EXPECT_EQ(again->files, 0u);
  EXPECT_EQ(again->identical,
            captured->files + captured->symlinks + captured->fifos);
  EXPECT_EQ(again->renamed, 0u);
  EXPECT_EQ(CompareTrees(src + top, dst + top, cmp), "");
}

INSTANTIATE_TEST_SUITE_P(Layouts, RoundTrip,
                         ::testing::Values("linux", "windows"));

class RestoreUsers : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ / "src";
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.files = 200;
    spec.bytes = 1 << 20;
    spec.sparse_image = false;
    ASSERT_OK(bench::GenerateDataset(src_, spec));
    if (Root()) {
      // alice (1000) owns her home; one file belongs to nobody the store knows.
      for (const auto& e : std::filesystem::recursive_directory_iterator(
               src_ + "/home/alice")) {
        ASSERT_EQ(::lchown(e.path().c_str(), 1000, 1000), 0);
      }
      ASSERT_EQ(::lchown((src_ + "/home/alice").c_str(), 1000, 1000), 0);
      ASSERT_EQ(::lchown((src_ + "/home/alice/.bashrc").c_str(), 4242, 4343),
                0);
    }
    ASSERT_OK(CaptureTree(dir_, src_, store()));
  }
  std::string store() const { return dir_ / "s.mig"; }
  // A target that already has accounts: alice is 2000 there, alice2 3000;
  // bob and carol have theirs too (a restore onto a target that lacks a
  // user's account stops, exit 14: accounts_cli_test.cc).
  std::string TargetWithAccounts() {
    const std::string t = dir_ / "dst";
    std::filesystem::create_directories(t + "/etc");
    WriteFile(
        t + "/etc/passwd",
        "root:x:0:0::/root:/bin/sh\nalice:x:2000:2000::/home/alice:/bin/sh\n"
        "alice2:x:3000:3001::/srv/people/alice2:/bin/sh\n"
        "bob:x:2001:2001::/home/bob:/bin/sh\n"
        "carol:x:2002:2002::/home/carol:/bin/sh\n");
    WriteFile(t + "/etc/group",
              "root:x:0:\nalice:x:2000:\nalice2:x:3001:\nbob:x:2001:\n"
              "carol:x:2002:\n");
    return t;
  }

  TempDir dir_;
  std::string src_;
};

uid_t OwnerOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_uid;
}

TEST_F(RestoreUsers, OwnersAreMappedByNameThroughTheTargetsAccounts) {
  if (!Root()) GTEST_SKIP() << "needs root to own files";
  const std::string t = TargetWithAccounts();
  auto report = Restore(Options(store(), t));
  ASSERT_OK(report);
  EXPECT_EQ(OwnerOf(t + "/home/alice/.gitconfig"), 2000u);
  EXPECT_EQ(OwnerOf(t + "/home/alice"), 2000u);
  EXPECT_EQ(OwnerOf(t + "/home/alice/.bashrc"), 4242u)
      << "an unknown owner keeps its number";
  bool noted = false;
  for (const FileNote& n : report->notes)
    noted |= n.what.find("4242") != std::string::npos;
  EXPECT_TRUE(noted) << "and is reported";
  EXPECT_EQ(OwnerOf(t + "/home/bob/.bashrc"), 0u) << "root stays root";
}

TEST_F(RestoreUsers, MapUserMovesTheProfileAndItsOwnership) {
  const std::string t = TargetWithAccounts();
  RestoreOptions o = Options(store(), t);
  o.map_users = {*ParseUserMapping("alice:alice2")};
  auto report = Restore(o);
  ASSERT_OK(report);
  // alice2's home on the target is /srv/people/alice2, from its etc/passwd.
  EXPECT_FALSE(std::filesystem::exists(t + "/home/alice"));
  ASSERT_TRUE(std::filesystem::exists(t + "/srv/people/alice2/.gitconfig"));
  EXPECT_EQ(testing::ReadFile(t + "/srv/people/alice2/.gitconfig"),
            testing::ReadFile(src_ + "/home/alice/.gitconfig"));
  EXPECT_EQ(CompareTrees(src_ + "/home/alice", t + "/srv/people/alice2", {}),
            "");
  if (Root()) {
    EXPECT_EQ(OwnerOf(t + "/srv/people/alice2/.gitconfig"), 3000u);
    struct stat st;
    ASSERT_EQ(::stat((t + "/srv/people/alice2/.gitconfig").c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, 3001u) << "the user's primary group follows the user";
  }
  ASSERT_EQ(report->users.size(), 3u);
  EXPECT_EQ(report->users[0].mapped_to, "alice2");
  EXPECT_EQ(report->users[0].destination_home, "srv/people/alice2");

  // A user the target does not know: the layout's place, beside the old one.
  const std::string t2 = dir_ / "bare";
  o.target = t2;
  o.map_users = {*ParseUserMapping("CONTOSO\\bob:robert")};
  report = Restore(o);
  ASSERT_OK(report);
  EXPECT_TRUE(std::filesystem::exists(t2 + "/home/robert/.bashrc"));
  EXPECT_FALSE(std::filesystem::exists(t2 + "/home/bob"));
  bool noted = false;
  for (const FileNote& n : report->notes)
    noted |= n.what.find("robert") != std::string::npos;
  EXPECT_TRUE(noted);

  o.map_users = {*ParseUserMapping("mallory:eve")};
  EXPECT_TRUE(Restore(o).status().IsInvalidArgument())
      << "no such user in the store";
  EXPECT_FALSE(ParseUserMapping("alice").ok());
  EXPECT_FALSE(ParseUserMapping("alice:../etc").ok());
  EXPECT_FALSE(ParseUserMapping("alice:").ok());
}

TEST_F(RestoreUsers, OnlyTheSelectedUsersAreRestored) {
  RestoreOptions o = Options(store(), dir_ / "sel");
  o.users.exclude = {"*"};
  o.users.include = {"bob"};
  auto report = Restore(o);
  ASSERT_OK(report);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "sel/home/bob/.bashrc"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "sel/home/alice"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "sel/home/carol"));
  EXPECT_GT(report->not_selected, 100u);
  ASSERT_EQ(report->users.size(), 3u);
  EXPECT_FALSE(report->users[0].selected);
  EXPECT_TRUE(report->users[1].selected);
}

TEST(RestoreLarge, FilesSpanningManyBlocksAreReadAheadAndExact) {
  // 4 KiB blocks: a 1 MiB file spans 256 of them, a sparse one's data 64.
  TempDir dir;
  DeterministicRandom gen(3);
  format::MemoryStore s;
  s.files.push_back(format::MakeFile(0, "big.bin", gen.Bytes(1 << 20)));
  format::MemoryFile sparse =
      format::MakeFile(0, "sparse.img", std::string(8 << 20, '\0'));
  sparse.data.replace(1 << 20, 128 << 10, gen.Bytes(128 << 10));
  sparse.data.replace(6 << 20, 128 << 10, gen.Text(128 << 10));
  sparse.sparse_ranges = std::vector<format::DataRange>{{1 << 20, 128 << 10},
                                                        {6 << 20, 128 << 10}};
  s.files.push_back(sparse);
  for (int i = 0; i < 50; ++i)
    s.files.push_back(
        format::MakeFile(0, "small/" + std::to_string(i), gen.Text(3000)));
  const std::string store = dir / "s.mig";
  ASSERT_OK(format::WriteMemoryStore(store, format::KeySource::None(), s,
                                     testing::QuickOptions()));
  auto r = Restore(Options(store, dir / "t"));
  ASSERT_OK(r);
  EXPECT_EQ(testing::ReadFile(dir / "t/big.bin"), s.files[0].data);
  EXPECT_EQ(testing::ReadFile(dir / "t/sparse.img"), sparse.data);
  struct stat st;
  ASSERT_EQ(::stat((dir / "t/sparse.img").c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 1 << 20)
      << "only the data ranges are allocated";
  EXPECT_EQ(r->blocks_opened, ReferencedBlocks(store))
      << "read ahead, never twice";
}

TEST(RestoreCancel, AnObserverStopsItWithNothingHalfWritten) {
  TempDir dir;
  DeterministicRandom gen(5);
  format::MemoryStore s;
  for (int i = 0; i < 300; ++i)
    s.files.push_back(
        format::MakeFile(0, "f/" + std::to_string(i), gen.Bytes(5000)));
  const std::string store = dir / "s.mig";
  ASSERT_OK(format::WriteMemoryStore(store, format::KeySource::None(), s,
                                     testing::QuickOptions()));
  struct Canceller : RestoreObserver {
    bool ShouldCancel() override { return true; }
  } cancel;
  auto r = Restore(Options(store, dir / "t"), &cancel);
  EXPECT_TRUE(r.status().IsCancelled()) << r.status().ToString();
  EXPECT_TRUE(testing::FindTemporaries(dir / "t").empty());
  for (const std::string& name : testing::ListDir(dir / "t/f")) {
    EXPECT_EQ(testing::ReadFile(dir / ("t/f/" + name)),
              s.files[static_cast<size_t>(std::stoi(name))].data);
  }
}

TEST(TreeCompare, SeesEveryKindOfDifference) {
  // The comparison the round trips rely on must be able to fail.
  TempDir dir;
  auto make = [&](const std::string& root) {
    std::filesystem::create_directories(root + "/d");
    WriteFile(root + "/d/f", "bytes");
    WriteFile(root + "/d/g", "bytes");
    ASSERT_EQ(::chmod((root + "/d/g").c_str(), 0644), 0);
    ASSERT_EQ(::symlink("f", (root + "/d/l").c_str()), 0);
  };
  auto settle = [&](const std::string& root) {  // the same times everywhere
    SetNs(root + "/d/f", 1700000000000000001);
    SetNs(root + "/d/g", 1700000000000000001);
    SetNs(root + "/d/l", 1700000000000000003);
    SetNs(root + "/d", 1700000000000000005);
  };
  make(dir / "a");
  make(dir / "b");
  settle(dir / "a");
  settle(dir / "b");
  const std::string a = dir / "a", b = dir / "b";
  EXPECT_EQ(CompareTrees(a, b), "");
  SetNs(b + "/d/f", 1700000000000000002);
  EXPECT_EQ(CompareTrees(a, b),
            "d/f: mtime 1700000000000000001 became 1700000000000000002");
  settle(b);
  ASSERT_EQ(::chmod((b + "/d/g").c_str(), 0600), 0);
  EXPECT_EQ(CompareTrees(a, b), "d/g: mode 420 became 384");
  ASSERT_EQ(::chmod((b + "/d/g").c_str(), 0644), 0);
  ASSERT_EQ(::setxattr((b + "/d/g").c_str(), "user.x", "1", 1, 0), 0);
  EXPECT_EQ(CompareTrees(a, b), "d/g: extended attributes differ");
  ASSERT_EQ(::removexattr((b + "/d/g").c_str(), "user.x"), 0);
  EXPECT_EQ(CompareTrees(a, b), "");
  // The same bytes, but hard-linked on one side only.
  ASSERT_EQ(::unlink((b + "/d/g").c_str()), 0);
  ASSERT_EQ(::link((b + "/d/f").c_str(), (b + "/d/g").c_str()), 0);
  ASSERT_EQ(::chmod((b + "/d/g").c_str(), 0644), 0);
  ASSERT_EQ(::chmod((a + "/d/f").c_str(), 0644), 0);
  settle(b);
  EXPECT_EQ(CompareTrees(a, b), "d/f: hard-linked only in the restore");
  // A dense copy of a sparse file.
  std::filesystem::create_directories(dir / "c");
  std::filesystem::create_directories(dir / "e");
  int fd = ::open((dir / "c/s").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_EQ(::ftruncate(fd, 4 << 20), 0);
  ::close(fd);
  WriteFile(dir / "e/s", std::string(4 << 20, '\0'));
  ASSERT_EQ(::chmod((dir / "e/s").c_str(), 0644), 0);
  SetNs(dir / "c/s", 1700000000000000001);
  SetNs(dir / "e/s", 1700000000000000001);
  EXPECT_NE(CompareTrees(dir / "c", dir / "e", {false, false, {}})
                .find("blocks allocated"),
            std::string::npos);
}

}  // namespace
}  // namespace migstore
