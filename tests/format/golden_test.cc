// The committed golden stores: what an earlier writer wrote, today's reader
// must read exactly; what is broken, it must refuse with the right status.

#include <gtest/gtest.h>

#include "format/container_reader.h"
#include "format/memory_store.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

std::string Valid(const std::string& name) {
  return testing::SourcePath("tests/golden/valid/" + name);
}
std::string Invalid(const std::string& name) {
  return testing::SourcePath("tests/golden/invalid/" + name);
}

Result<MemoryStore> ReadAll(const std::string& path, const KeySource& key) {
  MIGSTORE_ASSIGN_OR_RETURN(auto reader, ContainerReader::Open(path, key));
  return ReadMemoryStore(*reader);
}

KeySource GoldenKey() {
  auto k = KeySource::FromKeyFile(Valid("keyfile.key"));
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  return k.ok() ? std::move(k).value() : KeySource::None();
}

TEST(Golden, ValidStoresReadExactlyAsWritten) {
  const std::string want = testing::ReadFile(Valid("golden-store.txt"));
  ASSERT_FALSE(want.empty());
  struct Case {
    const char* file;
    KeySource key;
  } cases[] = {
      {"plain.mig", KeySource::None()},
      {"keyfile.mig", GoldenKey()},
      {"password.mig",
       KeySource::Password(SecretBytes::Copy("golden password"))},
  };
  for (const Case& c : cases) {
    auto got = ReadAll(Valid(c.file), c.key);
    ASSERT_OK(got);
    EXPECT_EQ(testing::DescribeStore(*got), want) << c.file;
  }
}

TEST(Golden, ValidStoresAreSmall) {
  for (const char* f : {"plain.mig", "keyfile.mig", "password.mig"}) {
    EXPECT_LT(testing::ReadFile(Valid(f)).size(), 8192u) << f;
  }
}

TEST(Golden, InvalidStoresAreRefusedWithTheRightStatus) {
  struct Case {
    const char* file;
    bool (Status::*is)() const;
  } at_open[] = {
      {"truncated.mig", &Status::IsCorruption},
      {"bad-magic.mig", &Status::IsNotAStore},
      {"damaged-index.mig", &Status::IsCorruption},
      {"future-version.mig", &Status::IsUnsupportedVersion},
      {"unknown-feature.mig", &Status::IsUnsupportedVersion},
      {"not-a-store.mig", &Status::IsNotAStore},
  };
  for (const Case& c : at_open) {
    auto r = ContainerReader::Open(Invalid(c.file), KeySource::None());
    ASSERT_FALSE(r.ok()) << c.file;
    EXPECT_TRUE((r.status().*c.is)())
        << c.file << ": " << r.status().ToString();
  }
  // The catalog's damage shows when the catalog is read, not before.
  auto damaged = ReadAll(Invalid("damaged-catalog.mig"), KeySource::None());
  EXPECT_TRUE(damaged.status().IsCorruption()) << damaged.status().ToString();
}

TEST(Golden, WrongAndUnreadableKeysAreRefused) {
  auto wrong = KeySource::FromKeyFile(Invalid("wrong.key"));
  ASSERT_OK(wrong);
  EXPECT_TRUE(ContainerReader::Open(Valid("keyfile.mig"), *wrong)
                  .status()
                  .IsWrongKey());
  EXPECT_TRUE(ContainerReader::Open(
                  Valid("password.mig"),
                  KeySource::Password(SecretBytes::Copy("Golden password")))
                  .status()
                  .IsWrongKey());
  EXPECT_TRUE(
      KeySource::FromKeyFile(Invalid("empty.key")).status().IsKeyUnreadable());
}

}  // namespace
}  // namespace migstore::format
