// Key escrow at the state migration point (engine/src/smp/key_escrow.h):
// the server key file's making and permissions, and store keys wrapped for
// one store by one server key, opening for nothing else.

#include "engine/src/smp/key_escrow.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "format/keys.h"
#include "tests/util/test_util.h"

namespace migstore::smp {
namespace {

using testing::Has;
using testing::TempDir;

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

constexpr char kStore[] = "00112233445566778899aabbccddeeff";
constexpr char kOtherStore[] = "ffeeddccbbaa99887766554433221100";

TEST(KeyEscrowTest, MakesAPrivateServerKeyOnFirstStart) {
  TempDir dir;
  const std::string path = dir / "server.key";
  const mode_t old_umask = ::umask(0);
  Result<KeyEscrow> escrow = KeyEscrow::OpenOrCreate(path);
  ::umask(old_umask);
  ASSERT_OK(escrow);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A key file as the rest of migstore reads them.
  ASSERT_OK(format::ParseKeyFile(testing::ReadFile(path)));

  // The next start reads the same key: what it wrapped still opens.
  const format::SecretBytes key = KeyEscrow::NewStoreKey();
  const std::string wrapped = escrow->Wrap(kStore, key);
  const std::string text = testing::ReadFile(path);
  Result<KeyEscrow> again = KeyEscrow::OpenOrCreate(path);
  ASSERT_OK(again);
  EXPECT_EQ(testing::ReadFile(path), text);
  Result<format::SecretBytes> back = again->Unwrap(kStore, wrapped);
  ASSERT_OK(back);
  EXPECT_TRUE(back->Equals(key));
}

TEST(KeyEscrowTest, RefusesAServerKeyOthersMayRead) {
  TempDir dir;
  const std::string path = dir / "server.key";
  ASSERT_OK(KeyEscrow::OpenOrCreate(path));
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    Result<KeyEscrow> escrow = KeyEscrow::OpenOrCreate(path);
    ASSERT_FALSE(escrow.ok()) << std::oct << mode;
    EXPECT_TRUE(escrow.status().IsRefused()) << escrow.status().ToString();
    EXPECT_TRUE(Has(escrow.status().ToString(), "chmod 600"))
        << escrow.status().ToString();
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_OK(KeyEscrow::OpenOrCreate(path));
}

TEST(KeyEscrowTest, RefusesAServerKeyThatIsNotAKeyFile) {
  TempDir dir;
  const std::string path = dir / "server.key";
  testing::WriteFile(path, "not a key\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  Result<KeyEscrow> escrow = KeyEscrow::OpenOrCreate(path);
  ASSERT_FALSE(escrow.ok());
  EXPECT_TRUE(escrow.status().IsKeyUnreadable()) << escrow.status().ToString();
  // Not replaced by a fresh key: that would orphan every escrowed key.
  EXPECT_EQ(testing::ReadFile(path), "not a key\n");
}

TEST(KeyEscrowTest, WrapAndUnwrapRoundTrip) {
  TempDir dir;
  Result<KeyEscrow> escrow = KeyEscrow::OpenOrCreate(dir / "server.key");
  ASSERT_OK(escrow);
  const format::SecretBytes key = KeyEscrow::NewStoreKey();
  EXPECT_EQ(key.size(), format::kKeySize);
  EXPECT_FALSE(key.Equals(KeyEscrow::NewStoreKey()));

  const std::string wrapped = escrow->Wrap(kStore, key);
  // Hex text, and none of the key's bytes in it.
  EXPECT_EQ(wrapped.find_first_not_of("0123456789abcdef"), std::string::npos);
  const std::string key_hex = Hex(key.view());
  EXPECT_FALSE(Has(wrapped, key_hex));
  // A fresh nonce each time.
  EXPECT_NE(escrow->Wrap(kStore, key), wrapped);

  Result<format::SecretBytes> back = escrow->Unwrap(kStore, wrapped);
  ASSERT_OK(back);
  EXPECT_TRUE(back->Equals(key));
}

TEST(KeyEscrowTest, AKeyWrappedForOneStoreDoesNotOpenForAnother) {
  TempDir dir;
  Result<KeyEscrow> escrow = KeyEscrow::OpenOrCreate(dir / "server.key");
  ASSERT_OK(escrow);
  const std::string wrapped = escrow->Wrap(kStore, KeyEscrow::NewStoreKey());
  Result<format::SecretBytes> other = escrow->Unwrap(kOtherStore, wrapped);
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(other.status().IsCorruption()) << other.status().ToString();
}

TEST(KeyEscrowTest, ATamperedWrappedKeyFails) {
  TempDir dir;
  Result<KeyEscrow> escrow = KeyEscrow::OpenOrCreate(dir / "server.key");
  ASSERT_OK(escrow);
  const std::string wrapped = escrow->Wrap(kStore, KeyEscrow::NewStoreKey());
  // Every byte, nonce, ciphertext and tag, is covered.
  for (size_t i = 0; i < wrapped.size(); ++i) {
    std::string bad = wrapped;
    bad[i] = bad[i] == '0' ? '1' : '0';
    Result<format::SecretBytes> got = escrow->Unwrap(kStore, bad);
    ASSERT_FALSE(got.ok()) << "hex digit " << i;
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  }
  // Malformed: cut short, too long, not hex, empty.
  for (const std::string& bad :
       {wrapped.substr(0, wrapped.size() - 2), wrapped + "00",
        "zz" + wrapped.substr(2), std::string()}) {
    Result<format::SecretBytes> got = escrow->Unwrap(kStore, bad);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  }
}

TEST(KeyEscrowTest, AnotherServerKeyFails) {
  TempDir dir;
  Result<KeyEscrow> mine = KeyEscrow::OpenOrCreate(dir / "server.key");
  Result<KeyEscrow> theirs = KeyEscrow::OpenOrCreate(dir / "other.key");
  ASSERT_OK(mine);
  ASSERT_OK(theirs);
  const std::string wrapped = mine->Wrap(kStore, KeyEscrow::NewStoreKey());
  Result<format::SecretBytes> got = theirs->Unwrap(kStore, wrapped);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  EXPECT_TRUE(Has(got.status().ToString(), "server"))
      << got.status().ToString();
}

}  // namespace
}  // namespace migstore::smp
