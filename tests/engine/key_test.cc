// migstore::Key: every way a key or password reaches migstore, and every way
// that can go wrong.

#include "migstore/key.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "engine/src/store/key_rep.h"
#include "format/memory_store.h"
#include "migstore/listing.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore {
namespace {

using testing::TempDir;
using testing::WriteFile;

// Writes a small store protected by `key`; returns the status of listing
// it with `other`.
Status ListWith(const TempDir& dir, const Key& key, const Key& other) {
  const std::string path = dir / "s.mig";
  format::MemoryWriteOptions o = testing::QuickOptions();
  o.writer.overwrite = true;
  Status s = format::WriteMemoryStore(path, internal::SourceOf(key),
                                      testing::GoldenStore(), o);
  if (!s.ok()) return s;
  StoreSummary summary;
  return ListStore(path, other, &summary,
                   [](const StoreEntry&) { return Status::OK(); });
}

TEST(Key, DefaultIsNoKey) {
  Key k;
  EXPECT_FALSE(k.encrypted());
  EXPECT_STREQ(k.kind(), "none");
}

TEST(Key, KeyFilesOpenTheirStoresOnly) {
  TempDir dir;
  ASSERT_OK(WriteKeyFile(dir / "a.key", false));
  ASSERT_OK(WriteKeyFile(dir / "b.key", false));
  struct stat st;
  ASSERT_EQ(::stat((dir / "a.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto a = Key::FromKeyFile(dir / "a.key");
  auto b = Key::FromKeyFile(dir / "b.key");
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_STREQ(a->kind(), "key file");
  EXPECT_OK(ListWith(dir, *a, *a));
  EXPECT_TRUE(ListWith(dir, *a, *b).IsWrongKey());
  EXPECT_TRUE(ListWith(dir, *a, Key()).IsWrongKey());
  EXPECT_TRUE(WriteKeyFile(dir / "a.key", false).IsAlreadyExists());
}

TEST(Key, PasswordFilesUseTheirFirstLine) {
  TempDir dir;
  WriteFile(dir / "pw", "s3cret\r\nsecond line is ignored\n");
  WriteFile(dir / "pw2", "s3cret");
  auto from_file = Key::FromPasswordFile(dir / "pw");
  ASSERT_OK(from_file);
  EXPECT_STREQ(from_file->kind(), "password");
  auto same = Key::FromPasswordFile(dir / "pw2");
  ASSERT_OK(same);
  EXPECT_OK(ListWith(dir, *from_file, *same));
  auto direct = Key::FromPassword("s3cret");
  ASSERT_OK(direct);
  EXPECT_OK(ListWith(dir, *from_file, *direct));
  auto other = Key::FromPassword("s3cret ");
  ASSERT_OK(other);
  EXPECT_TRUE(ListWith(dir, *from_file, *other).IsWrongKey());
}

TEST(Key, EmptyOrUnreadablePasswordSourcesAreKeyUnreadable) {
  TempDir dir;
  WriteFile(dir / "empty", "");
  WriteFile(dir / "blank-line", "\nsecret on line two\n");
  WriteFile(dir / "huge", std::string(100000, 'x'));
  for (const char* name : {"empty", "blank-line", "huge", "missing"}) {
    auto k = Key::FromPasswordFile(dir / name);
    EXPECT_TRUE(k.status().IsKeyUnreadable())
        << name << ": " << k.status().ToString();
  }
  EXPECT_TRUE(Key::FromKeyFile(dir / "empty").status().IsKeyUnreadable());
  EXPECT_TRUE(Key::FromPassword("").status().IsInvalidArgument());
}

TEST(Key, ThePasswordEnvironmentVariable) {
  ::unsetenv("MIGSTORE_TEST_PW");
  EXPECT_TRUE(Key::FromPasswordEnvironment("MIGSTORE_TEST_PW")
                  .status()
                  .IsKeyUnreadable());
  ::setenv("MIGSTORE_TEST_PW", "", 1);
  EXPECT_TRUE(Key::FromPasswordEnvironment("MIGSTORE_TEST_PW")
                  .status()
                  .IsKeyUnreadable());
  ::setenv("MIGSTORE_TEST_PW", "from the environment", 1);
  auto k = Key::FromPasswordEnvironment("MIGSTORE_TEST_PW");
  ::unsetenv("MIGSTORE_TEST_PW");
  ASSERT_OK(k);
  TempDir dir;
  EXPECT_OK(ListWith(dir, *k, *Key::FromPassword("from the environment")));
}

TEST(Key, PasswordFromADescriptorReadsOneLine) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string input = "piped password\nnext line\n";
  ASSERT_EQ(::write(fds[1], input.data(), input.size()),
            static_cast<ssize_t>(input.size()));
  ::close(fds[1]);
  auto k = Key::FromPasswordDescriptor(fds[0]);
  ::close(fds[0]);
  ASSERT_OK(k);
  TempDir dir;
  EXPECT_OK(ListWith(dir, *k, *Key::FromPassword("piped password")));

  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  EXPECT_TRUE(Key::FromPasswordDescriptor(fds[0]).status().IsKeyUnreadable());
  ::close(fds[0]);
}

TEST(Key, KeyAndPasswordFilesOthersMayReadAreUsedWithAWarning) {
  TempDir dir;
  ASSERT_OK(WriteKeyFile(dir / "k.key", false));
  WriteFile(dir / "pw", "s3cret\n");
  ASSERT_EQ(::chmod((dir / "pw").c_str(), 0600), 0);
  auto tight = Key::FromKeyFile(dir / "k.key");
  ASSERT_OK(tight);
  EXPECT_EQ(tight->warning(), "");
  auto tight_pw = Key::FromPasswordFile(dir / "pw");
  ASSERT_OK(tight_pw);
  EXPECT_EQ(tight_pw->warning(), "");

  ASSERT_EQ(::chmod((dir / "k.key").c_str(), 0644), 0);
  ASSERT_EQ(::chmod((dir / "pw").c_str(), 0640), 0);
  auto loose = Key::FromKeyFile(dir / "k.key");
  ASSERT_OK(loose);
  EXPECT_EQ(loose->warning(),
            "permissions 0644 for '" + (dir / "k.key") +
                "' are too open; it is used anyway, but other users may be "
                "able to read this key file: chmod 600 '" +
                (dir / "k.key") + "'");
  auto loose_pw = Key::FromPasswordFile(dir / "pw");
  ASSERT_OK(loose_pw);
  EXPECT_NE(loose_pw->warning().find("permissions 0640 for '" + (dir / "pw") +
                                     "' are too open"),
            std::string::npos)
      << loose_pw->warning();
  EXPECT_NE(loose_pw->warning().find("this password file"), std::string::npos);
  // Used all the same: the loose key opens what the tight one locked.
  EXPECT_OK(ListWith(dir, *tight, *loose));
  EXPECT_OK(ListWith(dir, *tight_pw, *loose_pw));
  // Copies share it; a password from memory has nothing to warn about.
  Key copy = *loose;
  EXPECT_EQ(copy.warning(), loose->warning());
  EXPECT_EQ(Key::FromPassword("x")->warning(), "");
  EXPECT_EQ(Key().warning(), "");
}

}  // namespace
}  // namespace migstore
