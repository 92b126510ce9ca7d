// The block codec: round trips, raw fallback, binding to store and position,
// damage detection, limits, and concurrent use, unencrypted and under each
// cipher; XChaCha20-Poly1305 frames checked against libsodium byte for byte,
// AES-256-GCM frames against the spec (docs/format.md "Block frame").

#include "format/block_codec.h"

#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <xxhash.h>
#include <zstd.h>

#include "format/coding.h"
#include "format/limits.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

StoreId RandomId() {
  StoreId id;
  RandomFill(id.data(), id.size());
  return id;
}

BlockCodec Encrypted(const StoreId& id,
                     BlockCipher cipher = BlockCipher::kXChaCha20Poly1305) {
  return BlockCodec(id, SecretBytes::Random(kKeySize), cipher);
}
BlockCodec Plain(const StoreId& id) { return BlockCodec(id, SecretBytes()); }

enum class Mode { kPlain, kXChaCha20Poly1305, kAes256Gcm };

BlockCodec CodecFor(Mode mode, const StoreId& id) {
  switch (mode) {
    case Mode::kPlain:
      return Plain(id);
    case Mode::kXChaCha20Poly1305:
      return Encrypted(id, BlockCipher::kXChaCha20Poly1305);
    case Mode::kAes256Gcm:
      return Encrypted(id, BlockCipher::kAes256Gcm);
  }
  return Plain(id);
}

class BlockCodecTest : public ::testing::TestWithParam<Mode> {
 protected:
  BlockCodecTest() : id_(RandomId()), codec_(CodecFor(GetParam(), id_)) {}

  bool Encrypted() const { return GetParam() != Mode::kPlain; }
  size_t Overhead() const {
    return Encrypted() ? kNonceSize + kTagSize : kChecksumSize;
  }

  StoreId id_;
  BlockCodec codec_;
  DeterministicRandom gen_{1};
};

// The capture pipeline seals into frames it appended before: whatever a
// reused buffer held, longer or shorter, the frame must be what a fresh one
// would be (byte for byte without encryption, where nothing is random).
TEST_P(BlockCodecTest, SealIntoAReusedFrameIgnoresWhatItHeld) {
  const std::string plains[] = {gen_.Text(1 << 20), "x", gen_.Bytes(70000), "",
                                gen_.Text(3000)};
  std::string reused(2 << 20, '\xAB');
  uint64_t n = 0;
  for (const std::string& plain : plains) {
    SCOPED_TRACE(plain.size());
    codec_.Seal(n, BlockType::kData, plain, SealOptions{}, &reused);
    std::string out;
    ASSERT_OK(codec_.Open(n, reused, &out));
    EXPECT_EQ(out, plain);
    if (!Encrypted()) {
      EXPECT_EQ(reused, codec_.Seal(n, BlockType::kData, plain, SealOptions{}));
    }
    ++n;
  }
}

TEST_P(BlockCodecTest, RoundTripsEverySizeClass) {
  struct Case {
    const char* name;
    std::string plain;
    bool expect_compressed;
  } cases[] = {
      {"empty", "", false},
      {"tiny", "x", false},
      {"compressible", gen_.Text(1 << 20), true},
      {"incompressible", gen_.Bytes(1 << 20), false},
      {"maximum compressible", gen_.Text(limits::kMaxBlockPlain), true},
      {"maximum incompressible", gen_.Bytes(limits::kMaxBlockPlain), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string frame =
        codec_.Seal(5, BlockType::kData, c.plain, SealOptions{});
    FrameHeader h;
    std::string back;
    ASSERT_OK(codec_.Open(5, frame, &back, &h));
    EXPECT_EQ(back, c.plain);
    EXPECT_EQ(h.plain_len, c.plain.size());
    EXPECT_EQ(h.type, static_cast<uint8_t>(BlockType::kData));
    EXPECT_EQ(h.codec, c.expect_compressed ? Codec::kZstd : Codec::kStored);
    if (c.expect_compressed) {
      EXPECT_LT(frame.size(), c.plain.size() / 2);
    } else {
      // The raw fallback costs only the frame's fixed overhead.
      EXPECT_EQ(frame.size(), kFrameHeaderSize + c.plain.size() + Overhead());
    }
  }
}

TEST_P(BlockCodecTest, CompressOffStoresRaw) {
  std::string plain = gen_.Text(100000);
  SealOptions raw;
  raw.compress = false;
  std::string frame = codec_.Seal(0, BlockType::kData, plain, raw);
  EXPECT_EQ(frame.size(), kFrameHeaderSize + plain.size() + Overhead());
  std::string back;
  ASSERT_OK(codec_.Open(0, frame, &back));
  EXPECT_EQ(back, plain);
}

TEST_P(BlockCodecTest, AnIncompressibleStartDoesNotKeepTheRestRaw) {
  // Packed small files alternate: a photo's bytes, then text. The text after
  // an incompressible start is compressed all the same.
  FrameHeader h;
  std::string out;
  const std::string noise = gen_.Bytes(100000);
  const std::string mixed = noise + gen_.Text(1 << 20);
  std::string frame = codec_.Seal(0, BlockType::kData, mixed, SealOptions{});
  ASSERT_OK(codec_.Open(0, frame, &out, &h));
  EXPECT_EQ(h.codec, Codec::kZstd);
  EXPECT_EQ(out, mixed);
  EXPECT_LT(frame.size(), noise.size() + (1 << 20) / 2);
  // Nothing that shrinks: stored raw.
  frame = codec_.Seal(0, BlockType::kData, noise, SealOptions{});
  ASSERT_OK(codec_.Open(0, frame, &out, &h));
  EXPECT_EQ(h.codec, Codec::kStored);
  EXPECT_EQ(out, noise);
}

TEST_P(BlockCodecTest, ABlockOpensOnlyAtItsOwnNumberInItsOwnStore) {
  std::string plain = gen_.Text(5000);
  std::string frame = codec_.Seal(7, BlockType::kData, plain, SealOptions{});
  std::string out;
  EXPECT_TRUE(codec_.Open(8, frame, &out).IsCorruption());
  EXPECT_TRUE(codec_.Open(6, frame, &out).IsCorruption());
  BlockCodec other_store = CodecFor(GetParam(), RandomId());
  EXPECT_TRUE(other_store.Open(7, frame, &out).IsCorruption());
  if (Encrypted()) {
    // Same store id, another key: still refused.
    BlockCodec other_key = CodecFor(GetParam(), id_);
    Status s = other_key.Open(7, frame, &out);
    EXPECT_TRUE(s.IsCorruption());
    EXPECT_NE(s.ToString().find("authentication failed"), std::string::npos);
  }
  ASSERT_OK(codec_.Open(7, frame, &out));
}

TEST_P(BlockCodecTest, EveryBitFlipAndTruncationOfAFrameIsCaught) {
  for (const std::string& plain : {gen_.Text(3000), gen_.Bytes(300)}) {
    const std::string frame =
        codec_.Seal(3, BlockType::kCatalogSegment, plain, SealOptions{});
    std::string out;
    for (size_t bit = 0; bit < frame.size() * 8; ++bit) {
      std::string bad = frame;
      bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      Status s = codec_.Open(3, bad, &out);
      ASSERT_TRUE(s.IsCorruption()) << "bit " << bit << ": " << s.ToString();
    }
    for (size_t len = 0; len < frame.size(); ++len) {
      ASSERT_TRUE(codec_.Open(3, frame.substr(0, len), &out).IsCorruption())
          << len;
    }
  }
}

TEST(BlockCodec, EncryptionUsesAFreshNonceEveryTime) {
  BlockCodec codec = Encrypted(RandomId());
  std::string plain = DeterministicRandom(3).Text(1000);
  std::string a = codec.Seal(1, BlockType::kData, plain, SealOptions{});
  std::string b = codec.Seal(1, BlockType::kData, plain, SealOptions{});
  EXPECT_NE(a.substr(kFrameHeaderSize, kNonceSize),
            b.substr(kFrameHeaderSize, kNonceSize));
  EXPECT_NE(a, b);
  // The plaintext does not show through.
  EXPECT_EQ(a.find("profile"), std::string::npos);
}

// Builds a frame header by the spec (docs/format.md "Block frame"), so the
// limits behind a valid header check can be probed.
std::string ForgedHeader(const StoreId& id, uint64_t number, uint8_t type,
                         uint8_t codec, uint32_t payload_len,
                         uint32_t plain_len) {
  std::string h(kFrameHeaderSize, '\0');
  h[0] = static_cast<char>(type);
  h[1] = static_cast<char>(codec);
  EncodeFixed32(h.data() + 4, payload_len);
  EncodeFixed32(h.data() + 8, plain_len);
  std::string ad(reinterpret_cast<const char*>(id.data()), id.size());
  PutFixed64(&ad, number);
  ad.append(h, 0, 12);
  EncodeFixed32(h.data() + 12,
                static_cast<uint32_t>(XXH3_64bits(ad.data(), ad.size())));
  return h;
}

TEST(BlockCodec, AZstdPayloadMustBeExactlyOneFrame) {
  // Forge an unencrypted frame whose payload is a valid frame followed by an
  // empty one, with a correct checksum: only the codec rule rejects it.
  StoreId id = RandomId();
  BlockCodec codec = Plain(id);
  std::string plain = DeterministicRandom(4).Text(1000);
  std::string frame = codec.Seal(2, BlockType::kData, plain, SealOptions{});
  std::string out;
  ASSERT_OK(codec.Open(2, frame, &out));
  std::string encoded =
      frame.substr(kFrameHeaderSize, frame.size() - kFrameHeaderSize - 8);
  std::string empty_frame(64, '\0');
  empty_frame.resize(
      ZSTD_compress(empty_frame.data(), empty_frame.size(), "", 0, 1));
  encoded += empty_frame;
  std::string forged = ForgedHeader(
      id, 2, 1, 1, static_cast<uint32_t>(encoded.size() + 8), 1000);
  std::string ad(reinterpret_cast<const char*>(id.data()), id.size());
  PutFixed64(&ad, 2);
  ad.append(forged, 0, 12);
  forged += encoded;
  PutFixed64(&forged, XXH3_64bits_withSeed(encoded.data(), encoded.size(),
                                           XXH3_64bits(ad.data(), ad.size())));
  Status s = codec.Open(2, forged, &out);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_P(BlockCodecTest, HeadersBeyondTheLimitsAreRefusedBeforeAnyAllocation) {
  const uint32_t over = static_cast<uint32_t>(limits::kMaxBlockPlain + 1);
  EXPECT_TRUE(codec_.ParseHeader(0, ForgedHeader(id_, 0, 1, 1, 100, over))
                  .status()
                  .IsCorruption());
  // The index block may be larger than a data block.
  EXPECT_TRUE(
      codec_.ParseHeader(0, ForgedHeader(id_, 0, 4, 1, 100, over)).ok());
  EXPECT_TRUE(codec_.ParseHeader(0, ForgedHeader(id_, 0, 1, 2, 100, 10))
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(codec_.ParseHeader(0, ForgedHeader(id_, 0, 1, 1, 0xffffffffu, 10))
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(codec_.ParseHeader(0, ForgedHeader(id_, 0, 1, 1, 2, 10))
                  .status()
                  .IsCorruption());
  // A stored block whose sizes disagree.
  auto stored =
      ForgedHeader(id_, 0, 1, 0, static_cast<uint32_t>(10 + Overhead()), 11);
  EXPECT_TRUE(codec_.ParseHeader(0, stored).status().IsCorruption());
  // Reserved bytes must be zero, even under a valid check value.
  std::string reserved = ForgedHeader(id_, 0, 1, 1, 100, 10);
  reserved[2] = 1;
  EXPECT_TRUE(codec_.ParseHeader(0, reserved).status().IsCorruption());
}

TEST_P(BlockCodecTest, IsSafeToShareBetweenThreads) {
  constexpr int kBlocks = 256;
  std::vector<std::string> plains(kBlocks), frames(kBlocks);
  for (int i = 0; i < kBlocks; ++i) {
    plains[i] = i % 3 == 0 ? gen_.Bytes(20000 + i) : gen_.Text(50000 + 97 * i);
  }
  tbb::parallel_for(0, kBlocks, [&](int i) {
    frames[i] = codec_.Seal(static_cast<uint64_t>(i), BlockType::kData,
                            plains[i], SealOptions{});
  });
  std::vector<int> ok(kBlocks, 0);
  tbb::parallel_for(0, kBlocks, [&](int i) {
    std::string out;
    ok[i] = codec_.Open(static_cast<uint64_t>(i), frames[i], &out).ok() &&
            out == plains[i];
  });
  for (int i = 0; i < kBlocks; ++i) EXPECT_TRUE(ok[i]) << i;
}

// An incremental capture's copy: a block moved into another store (any of
// the three modes, as its own block number) without being decoded opens
// there to the same bytes with the same codec, and only there.
TEST_P(BlockCodecTest, ABlockMovesToAnotherStoreWithoutDecoding) {
  const std::string text = gen_.Text(300000), noise = gen_.Bytes(70000);
  for (Mode to_mode :
       {Mode::kXChaCha20Poly1305, Mode::kAes256Gcm, Mode::kPlain}) {
    const BlockCodec to = CodecFor(to_mode, RandomId());
    for (const std::string* plain : {&text, &noise}) {
      const std::string frame =
          codec_.Seal(7, BlockType::kData, *plain, SealOptions{});
      std::string encoded, moved, back;
      FrameHeader h;
      ASSERT_OK(codec_.OpenEncoded(7, frame, &encoded, &h));
      EXPECT_EQ(h.codec, plain == &text ? Codec::kZstd : Codec::kStored);
      EXPECT_EQ(h.plain_len, plain->size());
      to.SealEncoded(1234, h, encoded, &moved);
      FrameHeader h2;
      ASSERT_OK(to.Open(1234, moved, &back, &h2));
      EXPECT_TRUE(back == *plain);
      EXPECT_EQ(h2.codec, h.codec) << "zstd is not run again";
      EXPECT_TRUE(to.Open(1235, moved, &back).IsCorruption());
      EXPECT_TRUE(codec_.Open(1234, moved, &back).IsCorruption());
    }
    // A damaged frame is not moved.
    std::string frame = codec_.Seal(7, BlockType::kData, text, SealOptions{});
    frame[frame.size() / 2] ^= 4;
    std::string encoded;
    FrameHeader h;
    EXPECT_TRUE(codec_.OpenEncoded(7, frame, &encoded, &h).IsCorruption());
    EXPECT_TRUE(encoded.empty());
  }
  // Nor is one whose sealed bytes are no zstd frame of the header's size
  // (only a holder of the key could seal such a thing).
  FrameHeader forged;
  forged.type = static_cast<uint8_t>(BlockType::kData);
  forged.codec = Codec::kZstd;
  forged.plain_len = 100;
  std::string frame, encoded;
  codec_.SealEncoded(9, forged, "not zstd at all", &frame);
  FrameHeader h;
  EXPECT_TRUE(codec_.OpenEncoded(9, frame, &encoded, &h).IsCorruption());
  std::string plain;
  EXPECT_TRUE(codec_.Open(9, frame, &plain).IsCorruption());
}

// --- The ciphers against their definitions (docs/format.md "Block frame").

// Sizes around the AEADs' 16-byte and 64-byte steps, and a full data block.
const size_t kCipherSizes[] = {
    0, 1, 15, 16, 17, 64 * 1024 + 3, size_t{4} << 20};

// The 36 bytes of associated data a frame of block `number` carries.
std::string AdOf(const StoreId& id, uint64_t number, std::string_view frame) {
  std::string ad(reinterpret_cast<const char*>(id.data()), id.size());
  PutFixed64(&ad, number);
  ad.append(frame.substr(0, 12));
  return ad;
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string* s) {
  return reinterpret_cast<unsigned char*>(s->data());
}

// A stored (uncompressed) frame's parts: nonce, ciphertext, tag.
struct SealedParts {
  std::string header, nonce, ciphertext, tag;
};
SealedParts Split(const std::string& frame) {
  const size_t c_len = frame.size() - kFrameHeaderSize - kNonceSize - kTagSize;
  return {frame.substr(0, kFrameHeaderSize),
          frame.substr(kFrameHeaderSize, kNonceSize),
          frame.substr(kFrameHeaderSize + kNonceSize, c_len),
          frame.substr(frame.size() - kTagSize)};
}

SealOptions Stored() {
  SealOptions o;
  o.compress = false;
  return o;
}

// OpenSSL's AES-256-GCM with the subkey and IV the spec derives from the
// data key and the nonce, written here from docs/format.md rather than
// taken from the codec.
bool SpecAesGcm(bool seal, const std::string& key, std::string_view nonce,
                std::string_view ad, std::string_view in, std::string* out,
                std::string* tag) {
  const std::string message =
      "migstore aes-256-gcm v1" + std::string(nonce.substr(0, 12));
  unsigned char subkey[32];
  crypto_generichash(subkey, sizeof(subkey), U(message), message.size(), U(key),
                     key.size());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  out->assign(in.size(), '\0');
  int n = 0, last = 0;
  bool ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, subkey,
                              U(nonce.substr(12)), seal ? 1 : 0) == 1 &&
            EVP_CipherUpdate(ctx, nullptr, &n, U(ad),
                             static_cast<int>(ad.size())) == 1 &&
            EVP_CipherUpdate(ctx, U(out), &n, U(in),
                             static_cast<int>(in.size())) == 1;
  if (ok && !seal) {
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag->data()) == 1;
  }
  ok = ok && EVP_CipherFinal_ex(ctx, U(out) + n, &last) == 1;
  if (ok && seal) {
    tag->assign(16, '\0');
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag->data()) == 1;
  }
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

// One random case of a cipher test: a data key, a store, a block number,
// plain bytes of `size` and the stored frame `cipher` seals them into.
struct SealedCase {
  std::string key;
  StoreId id;
  uint64_t number = 0;
  std::string plain, frame, ad;
  SealedParts parts;
};
SealedCase SealCase(DeterministicRandom& gen, size_t size, BlockCipher cipher) {
  SealedCase c;
  c.key = gen.Bytes(kKeySize);
  c.id = RandomId();
  RandomFill(&c.number, sizeof(c.number));
  c.plain = gen.Bytes(size);
  const BlockCodec codec(c.id, SecretBytes::Copy(c.key), cipher);
  c.frame = codec.Seal(c.number, BlockType::kData, c.plain, Stored());
  c.parts = Split(c.frame);
  c.ad = AdOf(c.id, c.number, c.frame);
  return c;
}

// The codec runs XChaCha20-Poly1305 on OpenSSL (HChaCha20 subkey, then RFC
// 8439): every frame must be exactly what libsodium seals with the same
// key, nonce and associated data, and each must open the other's.
TEST(BlockCodecCiphers, XChaChaFramesAreLibsodiumsByteForByte) {
  DeterministicRandom gen(11);
  for (size_t size : kCipherSizes) {
    SCOPED_TRACE(size);
    const SealedCase sc = SealCase(gen, size, BlockCipher::kXChaCha20Poly1305);
    const std::string &key = sc.key, &plain = sc.plain, &ad = sc.ad;
    const uint64_t number = sc.number;
    const BlockCodec codec(sc.id, SecretBytes::Copy(key),
                           BlockCipher::kXChaCha20Poly1305);
    ASSERT_EQ(sc.frame.size(), kFrameHeaderSize + kNonceSize + size + kTagSize);
    const SealedParts& ours = sc.parts;

    // libsodium seals the same bytes under the codec's nonce.
    std::string c(size, '\0'), tag(kTagSize, '\0');
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        U(&c), U(&tag), nullptr, U(plain), plain.size(), U(ad), ad.size(),
        nullptr, U(ours.nonce), U(key));
    EXPECT_TRUE(c == ours.ciphertext) << "ciphertext differs";
    EXPECT_EQ(tag, ours.tag);

    // libsodium opens the codec's frame.
    std::string m(size, '\0');
    ASSERT_EQ(crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
                  U(&m), nullptr, U(ours.ciphertext), size, U(ours.tag), U(ad),
                  ad.size(), U(ours.nonce), U(key)),
              0);
    EXPECT_TRUE(m == plain);

    // The codec opens a frame libsodium sealed under a nonce of its own.
    std::string nonce(kNonceSize, '\0');
    randombytes_buf(nonce.data(), nonce.size());
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        U(&c), U(&tag), nullptr, U(plain), plain.size(), U(ad), ad.size(),
        nullptr, U(nonce), U(key));
    std::string back;
    ASSERT_OK(codec.Open(number, ours.header + nonce + c + tag, &back));
    EXPECT_TRUE(back == plain);
    // And refuses it with one byte of the tag changed.
    tag[size % kTagSize] ^= 0x40;
    EXPECT_TRUE(codec.Open(number, ours.header + nonce + c + tag, &back)
                    .IsCorruption());
  }
}

// A frame computed outside this code base (Python's hashlib.blake2b and
// cryptography's AESGCM, from the spec): key 00..1f, store id 64..73, block
// 0x0102030405060708, nonce c8..df, 100 plain bytes (7i+3) mod 256, stored.
TEST(BlockCodecCiphers, AesGcmOpensAKnownAnswer) {
  std::string key;
  for (int i = 0; i < 32; ++i) key.push_back(static_cast<char>(i));
  StoreId id;
  for (int i = 0; i < 16; ++i) id[i] = static_cast<unsigned char>(100 + i);
  std::string plain;
  for (int i = 0; i < 100; ++i) plain.push_back(static_cast<char>(7 * i + 3));
  const uint64_t number = 0x0102030405060708;
  std::string payload;
  const char* hex =
      "c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfd68228607bd03c82e543af"
      "464136e24dd8ae7c8f146bb5d3cc12a30ea01dffe86010709da9e228385287bd291b94"
      "3b5ed6dcf87a403386b53e294bf67680429c2ae99b79849cfefd4bb40159717e88b984"
      "08f75f58a6cfbaf5bc3d47e2de50ac3c57a549d25cebc97fe371ebc43b2fdb0f2e03bf";
  for (size_t i = 0; hex[i] != 0; i += 2) {
    payload.push_back(
        static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
  }
  ASSERT_EQ(payload.size(), 140u);
  const std::string frame = ForgedHeader(id, number, 1, 0, 140, 100) + payload;
  std::string back;
  const BlockCodec aes(id, SecretBytes::Copy(key), BlockCipher::kAes256Gcm);
  ASSERT_OK(aes.Open(number, frame, &back));
  EXPECT_EQ(back, plain);
  // The same bytes are no XChaCha20-Poly1305 frame.
  const BlockCodec xchacha(id, SecretBytes::Copy(key));
  EXPECT_TRUE(xchacha.Open(number, frame, &back).IsCorruption());
}

// Both directions against the spec's derivation, at every size.
TEST(BlockCodecCiphers, AesGcmFramesFollowTheSpec) {
  DeterministicRandom gen(12);
  for (size_t size : kCipherSizes) {
    SCOPED_TRACE(size);
    SealedCase sc = SealCase(gen, size, BlockCipher::kAes256Gcm);
    const std::string &key = sc.key, &plain = sc.plain, &ad = sc.ad;
    const uint64_t number = sc.number;
    const BlockCodec codec(sc.id, SecretBytes::Copy(key),
                           BlockCipher::kAes256Gcm);
    ASSERT_EQ(sc.frame.size(), kFrameHeaderSize + kNonceSize + size + kTagSize);
    SealedParts& ours = sc.parts;

    std::string m;
    ASSERT_TRUE(
        SpecAesGcm(false, key, ours.nonce, ad, ours.ciphertext, &m, &ours.tag));
    EXPECT_TRUE(m == plain);

    std::string nonce(kNonceSize, '\0'), c, tag;
    randombytes_buf(nonce.data(), nonce.size());
    ASSERT_TRUE(SpecAesGcm(true, key, nonce, ad, plain, &c, &tag));
    std::string back;
    ASSERT_OK(codec.Open(number, ours.header + nonce + c + tag, &back));
    EXPECT_TRUE(back == plain);
    // The subkey depends on the first 12 bytes of the nonce, the IV on the
    // last 12: a change to either refuses the frame.
    for (size_t at : {size_t{0}, size_t{11}, size_t{12}, size_t{23}}) {
      std::string bad = nonce;
      bad[at] ^= 1;
      EXPECT_TRUE(
          codec.Open(number, ours.header + bad + c + tag, &back).IsCorruption())
          << at;
    }
  }
}

// One key, two ciphers: a frame opens only under the cipher that sealed it,
// and a thread's cipher contexts serve the next frame after a failure.
TEST(BlockCodecCiphers, AFrameOpensOnlyUnderItsOwnCipher) {
  const StoreId id = RandomId();
  const std::string key = DeterministicRandom(13).Bytes(kKeySize);
  const BlockCodec xchacha(id, SecretBytes::Copy(key),
                           BlockCipher::kXChaCha20Poly1305);
  const BlockCodec aes(id, SecretBytes::Copy(key), BlockCipher::kAes256Gcm);
  DeterministicRandom gen(14);
  for (const std::string& plain :
       {gen.Text(70000), gen.Bytes(5000), std::string()}) {
    const std::string a = xchacha.Seal(3, BlockType::kData, plain, {});
    const std::string b = aes.Seal(3, BlockType::kData, plain, {});
    std::string out;
    Status s = aes.Open(3, a, &out);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find("authentication failed"), std::string::npos);
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(xchacha.Open(3, b, &out).IsCorruption());
    ASSERT_OK(xchacha.Open(3, a, &out));
    EXPECT_EQ(out, plain);
    ASSERT_OK(aes.Open(3, b, &out));
    EXPECT_EQ(out, plain);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, BlockCodecTest,
                         ::testing::Values(Mode::kXChaCha20Poly1305,
                                           Mode::kAes256Gcm, Mode::kPlain),
                         [](const auto& p) {
                           switch (p.param) {
                             case Mode::kXChaCha20Poly1305:
                               return "XChaCha20Poly1305";
                             case Mode::kAes256Gcm:
                               return "Aes256Gcm";
                             case Mode::kPlain:
                               break;
                           }
                           return "Plain";
                         });

}  // namespace
}  // namespace migstore::format
