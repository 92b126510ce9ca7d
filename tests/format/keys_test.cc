// Keys, key files, and the header's key fields.

#include "format/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "format/coding.h"
#include "format/header.h"
#include "format/limits.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

using testing::TempDir;

std::string ValidKeyText() {
  return "migstore-key-v1 " + std::string(64, 'a') + "\n";
}

TEST(KeyFile, ParsesTheDocumentedForm) {
  auto k = ParseKeyFile(ValidKeyText());
  ASSERT_OK(k);
  EXPECT_EQ(k->size(), kKeySize);
  EXPECT_EQ(k->data()[0], 0xaa);
  // Trailing whitespace of any kind is fine (CR LF from an editor).
  EXPECT_TRUE(
      ParseKeyFile("migstore-key-v1 " + std::string(64, 'B') + " \r\n\n").ok());
}

TEST(KeyFile, EveryMalformedFileIsKeyUnreadableWithAReason) {
  struct Case {
    std::string text;
    std::string reason;
  } cases[] = {
      {"", "empty"},
      {"\n\n", "empty"},
      {"migstore-key-v1 " + std::string(63, 'a'), "too short"},
      {"migstore-key-v1 " + std::string(65, 'a'), "too long"},
      {std::string(64, 'a'), "not a migstore key file"},
      {"migstore-key-v2 " + std::string(64, 'a'), "not a migstore key file"},
      {"migstore-key-v1 " + std::string(63, 'a') + "g", "not hex"},
  };
  for (const Case& c : cases) {
    auto k = ParseKeyFile(c.text);
    ASSERT_FALSE(k.ok()) << c.text;
    EXPECT_TRUE(k.status().IsKeyUnreadable()) << k.status().ToString();
    EXPECT_NE(k.status().ToString().find(c.reason), std::string::npos)
        << k.status().ToString();
  }
}

TEST(KeyFile, FormatAndParseRoundTrip) {
  SecretBytes secret = SecretBytes::Random(kKeySize);
  SecretBytes text = FormatKeyFile(secret);
  auto back = ParseKeyFile(text.view());
  ASSERT_OK(back);
  EXPECT_TRUE(back->Equals(secret));
}

TEST(KeyFile, NewKeyFilesArePrivateAndNeverOverwrittenSilently) {
  TempDir dir;
  const std::string path = dir / "store.key";
  ASSERT_OK(WriteNewKeyFile(path, /*overwrite=*/false));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto first = KeySource::FromKeyFile(path);
  ASSERT_OK(first);
  EXPECT_EQ(first->mode(), KeyMode::kKeyFile);

  Status again = WriteNewKeyFile(path, false);
  EXPECT_TRUE(again.IsAlreadyExists()) << again.ToString();
  auto unchanged = KeySource::FromKeyFile(path);
  ASSERT_OK(unchanged);
  EXPECT_TRUE(unchanged->secret().Equals(first->secret()));

  ASSERT_OK(WriteNewKeyFile(path, true));
  auto replaced = KeySource::FromKeyFile(path);
  ASSERT_OK(replaced);
  EXPECT_FALSE(replaced->secret().Equals(first->secret()));
  EXPECT_EQ(testing::ListDir(dir.path()),
            std::vector<std::string>{"store.key"});
}

TEST(KeyFile, UnreadableFilesSayWhy) {
  TempDir dir;
  auto missing = KeySource::FromKeyFile(dir / "missing.key");
  EXPECT_TRUE(missing.status().IsKeyUnreadable());
  EXPECT_NE(missing.status().ToString().find("missing.key"), std::string::npos);

  testing::WriteFile(dir / "short.key", "m");
  EXPECT_TRUE(
      KeySource::FromKeyFile(dir / "short.key").status().IsKeyUnreadable());
  testing::WriteFile(dir / "empty.key", "");
  EXPECT_TRUE(
      KeySource::FromKeyFile(dir / "empty.key").status().IsKeyUnreadable());
  testing::WriteFile(dir / "huge.key", std::string(100000, 'x'));
  EXPECT_TRUE(
      KeySource::FromKeyFile(dir / "huge.key").status().IsKeyUnreadable());
  EXPECT_TRUE(KeySource::FromKeyFile(dir.path()).status().IsKeyUnreadable());
}

Header NewHeader() {
  Header h;
  RandomFill(h.store_id.data(), h.store_id.size());
  return h;
}

TEST(Keys, PasswordOpensOnlyWithThePassword) {
  Header h = NewHeader();
  auto key = SetUpKeys(KeySource::Password(SecretBytes::Copy("hunter2")),
                       KdfParams::Fast(), &h);
  ASSERT_OK(key);
  EXPECT_EQ(h.key_mode, KeyMode::kPassword);
  EXPECT_EQ(h.kdf, Kdf::kArgon2id13);
  EXPECT_EQ(h.kdf_opslimit, KdfParams::Fast().opslimit);

  auto good = OpenDataKey(h, KeySource::Password(SecretBytes::Copy("hunter2")));
  ASSERT_OK(good);
  EXPECT_TRUE(good->Equals(*key));

  for (const char* wrong : {"hunter3", "Hunter2", "hunter2 ", "h"}) {
    auto bad = OpenDataKey(h, KeySource::Password(SecretBytes::Copy(wrong)));
    EXPECT_TRUE(bad.status().IsWrongKey()) << wrong;
    EXPECT_NE(bad.status().ToString().find("wrong password"),
              std::string::npos);
  }
}

TEST(Keys, KeyFileOpensOnlyWithTheKeyFile) {
  Header h = NewHeader();
  SecretBytes secret = SecretBytes::Random(kKeySize);
  auto key =
      SetUpKeys(KeySource::KeyFileSecret(SecretBytes::Copy(secret.view())),
                KdfParams::Fast(), &h);
  ASSERT_OK(key);
  EXPECT_EQ(h.kdf, Kdf::kBlake2bKeyed);
  EXPECT_EQ(h.kdf_opslimit, 0u);
  auto good = OpenDataKey(h, KeySource::KeyFileSecret(std::move(secret)));
  ASSERT_OK(good);
  EXPECT_TRUE(good->Equals(*key));
  auto bad =
      OpenDataKey(h, KeySource::KeyFileSecret(SecretBytes::Random(kKeySize)));
  EXPECT_TRUE(bad.status().IsWrongKey());
}

TEST(Keys, MissingOrMismatchedKeyKindsAreWrongKey) {
  Header h = NewHeader();
  ASSERT_OK(SetUpKeys(KeySource::Password(SecretBytes::Copy("pw")),
                      KdfParams::Fast(), &h));
  auto none = OpenDataKey(h, KeySource::None());
  EXPECT_TRUE(none.status().IsWrongKey());
  EXPECT_NE(none.status().ToString().find("needs a password"),
            std::string::npos);
  auto file =
      OpenDataKey(h, KeySource::KeyFileSecret(SecretBytes::Random(kKeySize)));
  EXPECT_TRUE(file.status().IsWrongKey());
  EXPECT_NE(file.status().ToString().find("a key file was given"),
            std::string::npos);
}

TEST(Keys, EachStoreGetsItsOwnSaltAndDataKey) {
  Header a = NewHeader(), b = NewHeader();
  auto ka = SetUpKeys(KeySource::Password(SecretBytes::Copy("pw")),
                      KdfParams::Fast(), &a);
  auto kb = SetUpKeys(KeySource::Password(SecretBytes::Copy("pw")),
                      KdfParams::Fast(), &b);
  ASSERT_OK(ka);
  ASSERT_OK(kb);
  EXPECT_NE(a.salt, b.salt);
  EXPECT_NE(a.wrapped_key, b.wrapped_key);
  EXPECT_FALSE(ka->Equals(*kb));
}

TEST(Keys, UnencryptedStoresNeedNoKeyAndIgnoreOne) {
  Header h = NewHeader();
  auto k = SetUpKeys(KeySource::None(), KdfParams::Fast(), &h);
  ASSERT_OK(k);
  EXPECT_TRUE(k->empty());
  EXPECT_TRUE(OpenDataKey(h, KeySource::None())->empty());
  EXPECT_TRUE(
      OpenDataKey(h, KeySource::Password(SecretBytes::Copy("x")))->empty());
}

TEST(Keys, RejectsUnusableParameters) {
  Header h = NewHeader();
  EXPECT_TRUE(SetUpKeys(KeySource::Password(SecretBytes::Copy("pw")),
                        {100, 1 << 20}, &h)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      SetUpKeys(KeySource::Password(SecretBytes()), KdfParams::Fast(), &h)
          .status()
          .IsInvalidArgument());
  EXPECT_TRUE(SetUpKeys(KeySource::KeyFileSecret(SecretBytes::Random(16)),
                        KdfParams::Fast(), &h)
                  .status()
                  .IsInvalidArgument());
}

// Re-seals the header checksum after a test edits header bytes, as an
// attacker (not a random bit flip) could.
void Reseal(std::string* bytes) {
  EncodeFixed64(bytes->data() + header::kChecksum,
                XXH3_64bits(bytes->data(), header::kChecksum));
}

TEST(Header, RoundTripsEveryField) {
  Header h = NewHeader();
  ASSERT_OK(SetUpKeys(KeySource::Password(SecretBytes::Copy("pw")),
                      KdfParams::Fast(), &h));
  h.optional_features = 0x80000000u;
  std::string bytes = EncodeHeader(h);
  ASSERT_EQ(bytes.size(), kHeaderSize);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89MIG\r\n\x1a\n"));
  auto back = DecodeHeader(bytes);
  ASSERT_OK(back);
  EXPECT_EQ(back->store_id, h.store_id);
  EXPECT_EQ(back->salt, h.salt);
  EXPECT_EQ(back->wrap_nonce, h.wrap_nonce);
  EXPECT_EQ(back->wrapped_key, h.wrapped_key);
  EXPECT_EQ(back->kdf_memlimit, h.kdf_memlimit);
  EXPECT_EQ(back->optional_features,
            0x80000000u);  // unknown optional bits are kept
}

TEST(Header, RejectsWhatItMustWithTheRightStatus) {
  Header h = NewHeader();
  ASSERT_OK(SetUpKeys(KeySource::Password(SecretBytes::Copy("pw")),
                      KdfParams::Fast(), &h));
  const std::string good = EncodeHeader(h);
  auto edit = [&](size_t offset, char value, bool reseal) {
    std::string b = good;
    b[offset] = value;
    if (reseal) Reseal(&b);
    return DecodeHeader(b).status();
  };
  EXPECT_TRUE(edit(0, 'X', false).IsNotAStore());
  EXPECT_TRUE(edit(header::kVersion, 2, false).IsUnsupportedVersion());
  EXPECT_TRUE(edit(header::kVersion, 0, true).IsCorruption());
  EXPECT_TRUE(edit(header::kRequiredFeatures, 1, true).IsUnsupportedVersion());
  EXPECT_TRUE(edit(header::kRequiredFeatures, 8, true).IsUnsupportedVersion());
  // Bit 2, AES-256-GCM blocks, is known (the wrap, not the header decoder,
  // catches a forged one in an encrypted store).
  EXPECT_OK(edit(header::kRequiredFeatures, 4, true));
  EXPECT_TRUE(edit(header::kReserved0, 1, true).IsCorruption());
  EXPECT_TRUE(edit(header::kReserved2 + 10, 1, true).IsCorruption());
  EXPECT_TRUE(edit(header::kKeyMode, 9, true).IsCorruption());
  EXPECT_TRUE(edit(header::kKdfOpsLimit, 100, true).IsCorruption());
  EXPECT_TRUE(
      edit(header::kSalt, good[header::kSalt] ^ 1, false).IsCorruption());
  EXPECT_TRUE(DecodeHeader(good.substr(0, 100)).status().IsCorruption());
  EXPECT_TRUE(DecodeHeader("").status().IsNotAStore());
}

TEST(Keys, ACostlierKeyDerivationThanTheReaderAllowsIsRefusedFirst) {
  Header h = NewHeader();
  const KeySource pw = KeySource::Password(SecretBytes::Copy("pw"));
  ASSERT_OK(SetUpKeys(KeySource::Password(SecretBytes::Copy("pw")),
                      {2, 16 * 1024}, &h));
  EXPECT_OK(OpenDataKey(h, pw));
  EXPECT_OK(OpenDataKey(h, pw, {2, 16 * 1024}));
  EXPECT_TRUE(OpenDataKey(h, pw, {1, 16 * 1024}).status().IsRefused());
  EXPECT_TRUE(OpenDataKey(h, pw, {2, 8 * 1024}).status().IsRefused());

  // The format's maximum, 16 passes over 1 GiB (about 11 s per try): a
  // reader with the default limits refuses it before deriving anything.
  // Had it derived, the changed parameters would fail the wrap (WrongKey)
  // after those seconds; Refused proves it never started.
  h.kdf_opslimit = limits::kMaxKdfOps;
  h.kdf_memlimit = limits::kMaxKdfMem;
  Status s = OpenDataKey(h, pw).status();
  EXPECT_TRUE(s.IsRefused()) << s.ToString();
  EXPECT_EQ(s.ToString(),
            "Refused: the store's password needs Argon2id with 16 passes over "
            "1024 MiB, more than this reader spends unless told (6 passes, "
            "512 MiB): a crafted header could make every open that costly. If "
            "the store is yours, allow it with --max-kdf-passes 16 "
            "--max-kdf-memory 1024");
  // Just over the default in either dimension is enough.
  h.kdf_opslimit = limits::kReaderKdfOps + 1;
  h.kdf_memlimit = limits::kReaderKdfMem;
  EXPECT_TRUE(OpenDataKey(h, pw).status().IsRefused());
  h.kdf_opslimit = limits::kReaderKdfOps;
  h.kdf_memlimit = limits::kReaderKdfMem + 1024;
  EXPECT_TRUE(OpenDataKey(h, pw).status().IsRefused());
  // A key file's store has no Argon2id; the limits do not apply to it.
  Header k = NewHeader();
  SecretBytes secret = SecretBytes::Random(kKeySize);
  ASSERT_OK(
      SetUpKeys(KeySource::KeyFileSecret(SecretBytes::Copy(secret.view())),
                KdfParams::Fast(), &k));
  EXPECT_OK(OpenDataKey(k, KeySource::KeyFileSecret(std::move(secret)),
                        {1, 8 * 1024}));
}

TEST(Header, ACipherBitNeedsAnEncryptedStore) {
  Header h = NewHeader();
  h.required_features = kFeatureAes256Gcm;
  Status s = DecodeHeader(EncodeHeader(h)).status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  ASSERT_OK(SetUpKeys(KeySource::KeyFileSecret(SecretBytes::Random(kKeySize)),
                      KdfParams::Fast(), &h));
  auto back = DecodeHeader(EncodeHeader(h));
  ASSERT_OK(back);
  EXPECT_EQ(CipherOf(*back), BlockCipher::kAes256Gcm);
  back->required_features = 0;
  EXPECT_EQ(CipherOf(*back), BlockCipher::kXChaCha20Poly1305);
}

TEST(Header, TamperedKeyFieldsFailTheKeyCheck) {
  // With a valid checksum (forged), a changed KDF parameter or salt makes
  // the unwrap fail: the wrap authenticates the header before the nonce.
  Header h = NewHeader();
  ASSERT_OK(SetUpKeys(KeySource::Password(SecretBytes::Copy("pw")),
                      KdfParams::Fast(), &h));
  for (size_t offset : {header::kKdfMemLimit + 1, header::kSalt + 3,
                        header::kStoreId, header::kOptionalFeatures}) {
    std::string b = EncodeHeader(h);
    b[offset] ^= 1;
    Reseal(&b);
    auto tampered = DecodeHeader(b);
    ASSERT_OK(tampered);
    EXPECT_TRUE(
        OpenDataKey(*tampered, KeySource::Password(SecretBytes::Copy("pw")))
            .status()
            .IsWrongKey())
        << offset;
  }
}

TEST(Trailer, RoundTripsAndRejectsDamage) {
  Trailer t;
  t.index_offset = 123456789012ULL;
  t.index_frame_len = 4242;
  t.index_block_number = 77;
  t.store_id[3] = 9;
  std::string b = EncodeTrailer(t);
  ASSERT_EQ(b.size(), kTrailerSize);
  auto back = DecodeTrailer(b);
  ASSERT_OK(back);
  EXPECT_EQ(back->index_offset, t.index_offset);
  EXPECT_EQ(back->index_frame_len, t.index_frame_len);
  EXPECT_EQ(back->index_block_number, t.index_block_number);
  EXPECT_EQ(back->store_id, t.store_id);
  for (size_t i = 0; i < b.size(); ++i) {
    std::string d = b;
    d[i] ^= 0x10;
    EXPECT_TRUE(DecodeTrailer(d).status().IsCorruption()) << i;
  }
}

}  // namespace
}  // namespace migstore::format
