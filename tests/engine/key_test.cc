// migstore::Key: every way a key or password reaches migstore, and every way
// that can go wrong; and KeyPolicy, what a reading run accepts of a store's
// encryption.

#include "migstore/key.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "engine/src/store/key_rep.h"
#include "format/memory_store.h"
#include "migstore/exit_codes.h"
#include "migstore/extract.h"
#include "migstore/listing.h"
#include "migstore/restore.h"
#include "migstore/verify.h"
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

// Every reading run (list, verify, restore, extract) opens its store the
// same way; `policy` is what each is given.
class KeyPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(WriteKeyFile(dir_ / "k.key", false));
    key_ = *Key::FromKeyFile(dir_ / "k.key");
  }

  // A store protected by `key` (Fast Argon2id for a password unless `kdf`).
  void Write(const Key& key,
             format::KdfParams kdf = format::KdfParams::Fast()) {
    format::MemoryWriteOptions o = testing::QuickOptions();
    o.writer.overwrite = true;
    o.writer.kdf = kdf;
    ASSERT_OK(format::WriteMemoryStore(Store(), internal::SourceOf(key),
                                       testing::GoldenStore(), o));
  }
  std::string Store() const { return dir_ / "s.mig"; }

  // The status of each run, in the order list, verify, restore, extract.
  // Restore and extract write into targets that must not exist unless the
  // run got going.
  std::vector<Status> RunAll(const Key& key, const KeyPolicy& policy) {
    std::vector<Status> out;
    StoreSummary summary;
    out.push_back(ListStore(Store(), key, policy, &summary,
                            [](const StoreEntry&) { return Status::OK(); }));
    VerifyOptions v;
    v.store_path = Store();
    v.key = key;
    v.key_policy = policy;
    out.push_back(Verify(v).status());
    std::filesystem::remove_all(dir_ / "restored");
    RestoreOptions r;
    r.store_path = Store();
    r.key = key;
    r.key_policy = policy;
    r.target = dir_ / "restored";
    auto restored = Restore(r);
    EXPECT_EQ(std::filesystem::exists(dir_ / "restored"), restored.ok());
    out.push_back(restored.status());
    std::filesystem::remove_all(dir_ / "extracted");
    ExtractOptions x;
    x.store_path = Store();
    x.key = key;
    x.key_policy = policy;
    x.to = dir_ / "extracted";
    auto extracted = Extract(x);
    EXPECT_EQ(std::filesystem::exists(dir_ / "extracted"), extracted.ok());
    out.push_back(extracted.status());
    return out;
  }

  TempDir dir_;
  Key key_;
};

const char* const kRuns[] = {"list", "verify", "restore", "extract"};

TEST_F(KeyPolicyTest, AKeyRefusesAnUnencryptedStoreInEveryReadingRun) {
  Write(Key());
  std::vector<Status> refused = RunAll(key_, KeyPolicy());
  for (size_t i = 0; i < refused.size(); ++i) {
    const Status& s = refused[i];
    EXPECT_TRUE(s.IsRefused()) << kRuns[i] << ": " << s.ToString();
    EXPECT_EQ(static_cast<int>(ExitCodeFor(s)), 27) << kRuns[i];
    EXPECT_EQ(s.ToString(),
              "Refused: " + Store() +
                  ": is not encrypted, but a key was given: nothing in it is "
                  "authenticated by the key, and whoever could replace it "
                  "could have written it. If an unencrypted store is what you "
                  "expect, say so with --allow-unencrypted (or give no key)")
        << kRuns[i];
  }
  // A password is a key too.
  for (const Status& s : RunAll(*Key::FromPassword("pw"), KeyPolicy()))
    EXPECT_TRUE(s.IsRefused()) << s.ToString();
  // Said on purpose, or without a key, the store is read.
  KeyPolicy allow;
  allow.allow_unencrypted = true;
  std::vector<Status> allowed = RunAll(key_, allow);
  for (size_t i = 0; i < allowed.size(); ++i)
    EXPECT_TRUE(allowed[i].ok()) << kRuns[i] << ": " << allowed[i].ToString();
  for (const Status& s : RunAll(Key(), KeyPolicy())) EXPECT_OK(s);
  // The policy does not loosen anything for an encrypted store.
  Write(key_);
  for (const Status& s : RunAll(key_, allow)) EXPECT_OK(s);
  for (const Status& s : RunAll(Key(), allow))
    EXPECT_TRUE(s.IsWrongKey()) << s.ToString();
}

TEST_F(KeyPolicyTest, AKeyDerivationCostlierThanAllowedIsRefused) {
  // 2 passes over 16 KiB: cheap, and above the limits set below to show
  // the mechanism (the defaults, 6 passes and 512 MiB, are far above).
  Key pw = *Key::FromPassword("hunter2");
  Write(pw, {2, 16 * 1024});
  for (const Status& s : RunAll(pw, KeyPolicy())) EXPECT_OK(s);
  KeyPolicy memory;
  memory.max_kdf_memory = 8 * 1024;
  std::vector<Status> refused = RunAll(pw, memory);
  for (size_t i = 0; i < refused.size(); ++i) {
    const Status& s = refused[i];
    EXPECT_TRUE(s.IsRefused()) << kRuns[i] << ": " << s.ToString();
    EXPECT_EQ(static_cast<int>(ExitCodeFor(s)), 27);
    EXPECT_NE(s.ToString().find(
                  Store() +
                  ": the store's password needs Argon2id with 2 passes over "
                  "16 KiB, more than this reader spends unless told (6 "
                  "passes, 8 KiB)"),
              std::string::npos)
        << s.ToString();
  }
  KeyPolicy passes;
  passes.max_kdf_passes = 1;
  for (const Status& s : RunAll(pw, passes)) {
    EXPECT_TRUE(s.IsRefused()) << s.ToString();
    EXPECT_NE(s.ToString().find("(1 passes, 512 MiB)"), std::string::npos)
        << s.ToString();
  }
  // Allowed exactly what it asks for, it opens; refused or not, a wrong
  // password is still WrongKey, not a cheaper answer.
  KeyPolicy exact;
  exact.max_kdf_passes = 2;
  exact.max_kdf_memory = 16 * 1024;
  for (const Status& s : RunAll(pw, exact)) EXPECT_OK(s);
  for (const Status& s : RunAll(*Key::FromPassword("hunter3"), exact))
    EXPECT_TRUE(s.IsWrongKey()) << s.ToString();
}

}  // namespace
}  // namespace migstore
