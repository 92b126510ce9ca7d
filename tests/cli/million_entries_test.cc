// A million entries in one directory (docs/security.md, "Every bad input
// answered"): the walk, the catalog, the listing and the restore take it in
// one piece.
// Its own binary, so the sanitizer runs, where it would take minutes, can
// leave it out by label (scripts/sanitize).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "migstore/listing.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

constexpr int kEntries = 1000000;

TEST(MillionEntries, OneDirectoryOfAMillionFilesIsCapturedListedAndRestored) {
  TempDir dir;
  // On a tmpfs where the test may mount: creating a million inodes there
  // takes seconds, not minutes.
  TmpfsMount mount(dir / "root", "512m,nr_inodes=1100000");
  const std::string root = dir / "root";
  std::filesystem::create_directories(root + "/etc");
  WriteFile(root + "/etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n");
  std::filesystem::create_directories(root + "/home/alice/many");
  WriteFile(dir / "all.rules", "include %USERPROFILE%\n");
  int many = ::open((root + "/home/alice/many").c_str(),
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(many, 0);
  char name[16];
  for (int i = 0; i < kEntries; ++i) {
    std::snprintf(name, sizeof(name), "%07d", i);
    int fd =
        ::openat(many, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << name;
    ::close(fd);
  }
  ::close(many);

  RunResult c = RunMigstore({"capture", "--root", root, "--store",
                             dir / "s.mig", "--no-encrypt", "--rules",
                             dir / "all.rules", "--threads", "2"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("1000000 files"), std::string::npos) << c.out;
  StoreSummary summary;
  uint64_t in_many = 0;
  ASSERT_OK(ListStore(dir / "s.mig", Key(), &summary, [&](const StoreEntry& e) {
    if (e.path.rfind("home/alice/many/", 0) == 0) ++in_many;
    return Status::OK();
  }));
  EXPECT_EQ(in_many, static_cast<uint64_t>(kEntries));

  TmpfsMount target_mount(dir / "dst", "512m,nr_inodes=1100000");
  RunResult r = RunMigstore({"restore", "--store", dir / "s.mig", "--target",
                             dir / "dst", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string restored = dir / "dst/home/alice/many";
  uint64_t names = 0;
  bool known = true;
  for (const auto& e : std::filesystem::directory_iterator(restored)) {
    const std::string file = e.path().filename();
    known = known && file.size() == 7 && std::stoi(file) < kEntries;
    ++names;
  }
  EXPECT_EQ(names, static_cast<uint64_t>(kEntries));
  EXPECT_TRUE(known) << "a name that was not captured";
  EXPECT_TRUE(std::filesystem::is_regular_file(restored + "/0999999"));
}

}  // namespace
}  // namespace migstore::testing
