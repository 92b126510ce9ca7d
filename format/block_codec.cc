#include "format/block_codec.h"

#include <sodium.h>
#include <xxhash.h>
#include <zstd.h>

#include <cassert>
#include <cstring>

#include "format/coding.h"
#include "format/limits.h"

namespace migstore::format {
namespace {

// Per-thread zstd contexts and scratch space, so concurrent Seal/Open calls
// share nothing and a worker allocates them once, not per block.
struct ThreadState {
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  std::string scratch;

  ~ThreadState() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }
  char* Scratch(size_t n) {
    if (scratch.size() < n) scratch.resize(n);
    return scratch.data();
  }
};

ThreadState& Tls() {
  thread_local ThreadState state;
  return state;
}

size_t Overhead(bool encrypted) {
  return encrypted ? kNonceSize + kTagSize : kChecksumSize;
}

size_t MaxPlainFor(uint8_t type) {
  return type == static_cast<uint8_t>(BlockType::kIndex)
             ? limits::kMaxIndexPlain
             : limits::kMaxBlockPlain;
}

std::string BlockName(uint64_t number) {
  return "block " + std::to_string(number);
}

}  // namespace

void BlockCodec::BuildAd(uint64_t number, const char* header12,
                         unsigned char* ad) const {
  std::memcpy(ad, store_id_.data(), kStoreIdSize);
  EncodeFixed64(reinterpret_cast<char*>(ad) + kStoreIdSize, number);
  std::memcpy(ad + kStoreIdSize + 8, header12, 12);
}

std::string BlockCodec::Seal(uint64_t number, BlockType type,
                             std::string_view plain,
                             const SealOptions& options) const {
  std::string frame;
  Seal(number, type, plain, options, &frame);
  return frame;
}

void BlockCodec::Seal(uint64_t number, BlockType type, std::string_view plain,
                      const SealOptions& options, std::string* out) const {
  assert(plain.size() <= limits::kMaxIndexPlain);
  ThreadState& tls = Tls();
  Codec codec = Codec::kStored;
  std::string_view encoded = plain;
  if (options.compress && !plain.empty()) {
    if (tls.cctx == nullptr) tls.cctx = ZSTD_createCCtx();
    size_t bound = ZSTD_compressBound(plain.size());
    char* dst = tls.Scratch(bound);
    int level = options.level;
    if (level < ZSTD_minCLevel()) level = ZSTD_minCLevel();
    if (level > ZSTD_maxCLevel()) level = ZSTD_maxCLevel();
    size_t n = ZSTD_compressCCtx(tls.cctx, dst, bound, plain.data(),
                                 plain.size(), level);
    // Keep the compressed form only when it shrinks the block.
    if (!ZSTD_isError(n) && n < plain.size()) {
      codec = Codec::kZstd;
      encoded = std::string_view(dst, n);
    }
  }

  const size_t payload_len = encoded.size() + Overhead(encrypted());
  // Every byte is written below; resize only fills what the buffer grows by.
  out->resize(kFrameHeaderSize + payload_len);
  char* p = out->data();
  std::memset(p, 0, kFrameHeaderSize);  // reserved header bytes
  p[0] = static_cast<char>(type);
  p[1] = static_cast<char>(codec);
  EncodeFixed32(p + 4, static_cast<uint32_t>(payload_len));
  EncodeFixed32(p + 8, static_cast<uint32_t>(plain.size()));
  unsigned char ad[kBlockAdSize];
  BuildAd(number, p, ad);
  const uint64_t ad_hash = XXH3_64bits(ad, sizeof(ad));
  EncodeFixed32(p + 12, static_cast<uint32_t>(ad_hash));

  char* payload = p + kFrameHeaderSize;
  if (encrypted()) {
    auto* nonce = reinterpret_cast<unsigned char*>(payload);
    RandomFill(nonce, kNonceSize);
    auto* c = nonce + kNonceSize;
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        c, c + encoded.size(), nullptr,
        reinterpret_cast<const unsigned char*>(encoded.data()), encoded.size(),
        ad, sizeof(ad), nullptr, nonce, key_.data());
  } else {
    if (!encoded.empty()) std::memcpy(payload, encoded.data(), encoded.size());
    EncodeFixed64(
        payload + encoded.size(),
        XXH3_64bits_withSeed(encoded.data(), encoded.size(), ad_hash));
  }
}

Result<FrameHeader> BlockCodec::ParseHeader(uint64_t number,
                                            std::string_view bytes) const {
  if (bytes.size() < kFrameHeaderSize) {
    return Status::Corruption(BlockName(number),
                              "frame is shorter than its header");
  }
  const char* p = bytes.data();
  unsigned char ad[kBlockAdSize];
  BuildAd(number, p, ad);
  if (static_cast<uint32_t>(XXH3_64bits(ad, sizeof(ad))) !=
      DecodeFixed32(p + 12)) {
    return Status::Corruption(
        BlockName(number),
        "frame header check failed: damaged, moved, or from "
        "another store");
  }
  FrameHeader h;
  h.type = static_cast<uint8_t>(p[0]);
  auto codec = static_cast<uint8_t>(p[1]);
  if (p[2] != 0 || p[3] != 0) {
    return Status::Corruption(BlockName(number), "reserved frame bits are set");
  }
  if (codec > static_cast<uint8_t>(Codec::kZstd)) {
    return Status::Corruption(BlockName(number), "unknown codec");
  }
  h.codec = static_cast<Codec>(codec);
  h.payload_len = DecodeFixed32(p + 4);
  h.plain_len = DecodeFixed32(p + 8);
  if (h.plain_len > MaxPlainFor(h.type)) {
    return Status::Corruption(BlockName(number),
                              "plain size is over the limit");
  }
  if (h.payload_len < Overhead(encrypted()) ||
      h.payload_len > limits::kMaxPayload) {
    return Status::Corruption(BlockName(number), "impossible payload length");
  }
  if (h.codec == Codec::kStored &&
      h.payload_len - Overhead(encrypted()) != h.plain_len) {
    return Status::Corruption(BlockName(number),
                              "stored block with a size mismatch");
  }
  return h;
}

Status BlockCodec::Open(uint64_t number, std::string_view frame,
                        std::string* plain, FrameHeader* header_out) const {
  MIGSTORE_ASSIGN_OR_RETURN(FrameHeader h, ParseHeader(number, frame));
  if (frame.size() != kFrameHeaderSize + size_t{h.payload_len}) {
    return Status::Corruption(BlockName(number),
                              "frame length does not match its header");
  }
  unsigned char ad[kBlockAdSize];
  BuildAd(number, frame.data(), ad);
  std::string_view payload = frame.substr(kFrameHeaderSize);
  const size_t encoded_len = payload.size() - Overhead(encrypted());
  ThreadState& tls = Tls();

  // `encoded` ends up holding the (decrypted) codec bytes.
  std::string_view encoded;
  if (encrypted()) {
    const auto* nonce = reinterpret_cast<const unsigned char*>(payload.data());
    const auto* c = nonce + kNonceSize;
    // A stored block decrypts straight into the output.
    char* dst;
    if (h.codec == Codec::kStored) {
      plain->resize(encoded_len);
      dst = plain->data();
    } else {
      dst = tls.Scratch(encoded_len);
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            reinterpret_cast<unsigned char*>(dst), nullptr, c, encoded_len,
            c + encoded_len, ad, sizeof(ad), nonce, key_.data()) != 0) {
      plain->clear();
      return Status::Corruption(
          BlockName(number),
          "authentication failed: the block is damaged or does "
          "not belong here");
    }
    if (h.codec == Codec::kStored) {
      if (header_out != nullptr) *header_out = h;
      return Status::OK();
    }
    encoded = std::string_view(dst, encoded_len);
  } else {
    encoded = payload.substr(0, encoded_len);
    const uint64_t seed = XXH3_64bits(ad, sizeof(ad));
    if (XXH3_64bits_withSeed(encoded.data(), encoded.size(), seed) !=
        DecodeFixed64(payload.data() + encoded_len)) {
      return Status::Corruption(
          BlockName(number),
          "checksum mismatch: the block is damaged or does not "
          "belong here");
    }
    if (h.codec == Codec::kStored) {
      plain->assign(encoded);
      if (header_out != nullptr) *header_out = h;
      return Status::OK();
    }
  }

  // zstd: exactly one frame, declaring exactly plain_len, producing exactly
  // that (ZSTD_decompressDCtx would accept further or skippable frames).
  unsigned long long declared =
      ZSTD_getFrameContentSize(encoded.data(), encoded.size());
  if (declared != h.plain_len ||
      ZSTD_findFrameCompressedSize(encoded.data(), encoded.size()) !=
          encoded.size()) {
    return Status::Corruption(BlockName(number),
                              "not exactly one zstd frame of the right size");
  }
  if (tls.dctx == nullptr) tls.dctx = ZSTD_createDCtx();
  plain->resize(h.plain_len);
  size_t n = ZSTD_decompressDCtx(tls.dctx, plain->data(), plain->size(),
                                 encoded.data(), encoded.size());
  if (ZSTD_isError(n) || n != h.plain_len) {
    plain->clear();
    return Status::Corruption(BlockName(number), "zstd data does not decode");
  }
  if (header_out != nullptr) *header_out = h;
  return Status::OK();
}

}  // namespace migstore::format
