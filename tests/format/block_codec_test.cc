// The block codec: round trips, raw fallback, binding to store and position,
// damage detection, limits, and concurrent use.

#include "format/block_codec.h"

#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>
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

BlockCodec Encrypted(const StoreId& id) {
  return BlockCodec(id, SecretBytes::Random(kKeySize));
}
BlockCodec Plain(const StoreId& id) { return BlockCodec(id, SecretBytes()); }

class BlockCodecTest : public ::testing::TestWithParam<bool> {
 protected:
  BlockCodecTest()
      : id_(RandomId()), codec_(GetParam() ? Encrypted(id_) : Plain(id_)) {}

  size_t Overhead() const {
    return GetParam() ? kNonceSize + kTagSize : kChecksumSize;
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
    if (!GetParam()) {
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
  BlockCodec other_store =
      GetParam() ? Encrypted(RandomId()) : Plain(RandomId());
  EXPECT_TRUE(other_store.Open(7, frame, &out).IsCorruption());
  if (GetParam()) {
    // Same store id, another key: still refused.
    BlockCodec other_key = Encrypted(id_);
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

INSTANTIATE_TEST_SUITE_P(Modes, BlockCodecTest, ::testing::Values(true, false),
                         [](const auto& p) {
                           return p.param ? "Encrypted" : "Plain";
                         });

}  // namespace
}  // namespace migstore::format
