#include "format/block_codec.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <xxhash.h>
#include <zstd.h>

#include <cassert>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "format/coding.h"
#include "format/limits.h"

namespace migstore::format {
namespace {

static_assert(limits::kMaxPayload <= INT_MAX,
              "OpenSSL's EVP calls take int lengths");

// OpenSSL's AEADs, fetched once for the process (a fetch per block would
// cost a lookup and a lock). Never freed: contexts hold references to them
// until their threads end, which may be after static destruction.
struct OpenSslCiphers {
  // Null when the OpenSSL configuration lacks it (a FIPS-only provider has
  // no ChaCha20-Poly1305): XChaCha20-Poly1305 then falls back to libsodium,
  // which gives the same bytes.
  EVP_CIPHER* chacha20_poly1305 =
      EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  EVP_CIPHER* aes_256_gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
};

const OpenSslCiphers& Ciphers() {
  static const OpenSslCiphers* ciphers = new OpenSslCiphers;
  return *ciphers;
}

// Per-thread zstd and cipher contexts and scratch space, so concurrent
// Seal/Open calls share nothing and a worker allocates them once, not per
// block.
struct ThreadState {
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  // One per BlockCipher, made on first use (RunAead).
  EVP_CIPHER_CTX* aead[2] = {nullptr, nullptr};
  std::string scratch;

  ~ThreadState() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    for (EVP_CIPHER_CTX* ctx : aead) EVP_CIPHER_CTX_free(ctx);
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

// A frame's key and IV for the RFC 8439 / GCM AEAD OpenSSL runs.
struct FrameKey {
  unsigned char key[32];
  unsigned char iv[12];
  ~FrameKey() { sodium_memzero(key, sizeof(key)); }
};

// docs/format.md "Block frame". XChaCha20-Poly1305-IETF is, as libsodium
// defines it, ChaCha20-Poly1305 (RFC 8439) under the subkey
// HChaCha20(key, nonce[0..16]) with the 96-bit nonce 0^32 || nonce[16..24].
// AES-256-GCM takes the subkey BLAKE2b-256(key, label || nonce[0..12]) and
// the IV nonce[12..24] (XAES-256-GCM's construction with BLAKE2b): a random
// 192-bit nonce chooses both, so a (key, IV) pair recurs only if a whole
// nonce does.
void DeriveFrameKey(BlockCipher cipher, const unsigned char* key,
                    const unsigned char* nonce, FrameKey* out) {
  if (cipher == BlockCipher::kXChaCha20Poly1305) {
    crypto_core_hchacha20(out->key, nonce, key, nullptr);
    std::memset(out->iv, 0, 4);
    std::memcpy(out->iv + 4, nonce + 16, 8);
    return;
  }
  unsigned char message[kAesGcmSubkeyLabelSize + 12];
  std::memcpy(message, kAesGcmSubkeyLabel, kAesGcmSubkeyLabelSize);
  std::memcpy(message + kAesGcmSubkeyLabelSize, nonce, 12);
  crypto_generichash(out->key, sizeof(out->key), message, sizeof(message), key,
                     kKeySize);
  std::memcpy(out->iv, nonce + 12, 12);
}

// Runs the AEAD of `cipher` over len bytes of `in` into `out` (the same
// length) under `nonce` and the associated data: sealing writes the tag,
// opening checks it. False when the tag does not verify (or OpenSSL
// fails); `out` then holds unauthenticated bytes the caller must discard.
bool RunAead(BlockCipher cipher, bool seal, const unsigned char* key,
             const unsigned char* nonce, const unsigned char* ad, size_t ad_len,
             const unsigned char* in, size_t len, unsigned char* out,
             unsigned char* tag) {
  const EVP_CIPHER* evp = cipher == BlockCipher::kAes256Gcm
                              ? Ciphers().aes_256_gcm
                              : Ciphers().chacha20_poly1305;
  if (evp == nullptr && cipher == BlockCipher::kXChaCha20Poly1305) {
    if (seal) {
      crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
          out, tag, nullptr, in, len, ad, ad_len, nullptr, nonce, key);
      return true;
    }
    return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
               out, nullptr, in, len, tag, ad, ad_len, nonce, key) == 0;
  }
  // AES-256-GCM is in every OpenSSL 3 provider, FIPS's included.
  if (evp == nullptr) std::abort();
  EVP_CIPHER_CTX*& ctx = Tls().aead[static_cast<int>(cipher)];
  if (ctx == nullptr) {
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == nullptr) std::abort();  // out of memory: as std::bad_alloc
  }
  // The cipher once; after that only the key, IV and direction change.
  const EVP_CIPHER* init_with =
      EVP_CIPHER_CTX_get0_cipher(ctx) == nullptr ? evp : nullptr;
  FrameKey fk;
  DeriveFrameKey(cipher, key, nonce, &fk);
  int n = 0, last = 0;
  bool ok =
      EVP_CipherInit_ex(ctx, init_with, nullptr, fk.key, fk.iv, seal ? 1 : 0) ==
          1 &&
      EVP_CipherUpdate(ctx, nullptr, &n, ad, static_cast<int>(ad_len)) == 1;
  n = 0;
  if (ok && len > 0) {
    ok = EVP_CipherUpdate(ctx, out, &n, in, static_cast<int>(len)) == 1;
  }
  if (ok && !seal) {
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
                             static_cast<int>(kTagSize), tag) == 1;
  }
  // Opening: Final is where the tag is checked.
  ok = ok && EVP_CipherFinal_ex(ctx, out + n, &last) == 1 &&
       static_cast<size_t>(n) + static_cast<size_t>(last) == len;
  if (ok && seal) {
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
                             static_cast<int>(kTagSize), tag) == 1;
  }
  // Sealing bytes in memory with a valid key cannot fail; a failure would
  // be a broken library, and a frame without a tag must never be written.
  if (!ok && seal) std::abort();
  return ok;
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
  WriteFrame(number, type, codec, plain.size(), encoded, out);
}

void BlockCodec::SealEncoded(uint64_t number, const FrameHeader& header,
                             std::string_view encoded,
                             std::string* frame) const {
  assert(header.codec != Codec::kStored || encoded.size() == header.plain_len);
  WriteFrame(number, static_cast<BlockType>(header.type), header.codec,
             header.plain_len, encoded, frame);
}

void BlockCodec::WriteFrame(uint64_t number, BlockType type, Codec codec,
                            size_t plain_len, std::string_view encoded,
                            std::string* out) const {
  const size_t payload_len = encoded.size() + Overhead(encrypted());
  // Every byte is written below; resize only fills what the buffer grows by.
  out->resize(kFrameHeaderSize + payload_len);
  char* p = out->data();
  std::memset(p, 0, kFrameHeaderSize);  // reserved header bytes
  p[0] = static_cast<char>(type);
  p[1] = static_cast<char>(codec);
  EncodeFixed32(p + 4, static_cast<uint32_t>(payload_len));
  EncodeFixed32(p + 8, static_cast<uint32_t>(plain_len));
  unsigned char ad[kBlockAdSize];
  BuildAd(number, p, ad);
  const uint64_t ad_hash = XXH3_64bits(ad, sizeof(ad));
  EncodeFixed32(p + 12, static_cast<uint32_t>(ad_hash));

  char* payload = p + kFrameHeaderSize;
  if (encrypted()) {
    auto* nonce = reinterpret_cast<unsigned char*>(payload);
    RandomFill(nonce, kNonceSize);
    auto* c = nonce + kNonceSize;
    RunAead(cipher_, /*seal=*/true, key_.data(), nonce, ad, sizeof(ad),
            reinterpret_cast<const unsigned char*>(encoded.data()),
            encoded.size(), c, c + encoded.size());
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

template <typename Dst>
Status BlockCodec::Authenticate(uint64_t number, std::string_view frame,
                                FrameHeader* header, Dst dst,
                                std::string_view* encoded) const {
  MIGSTORE_ASSIGN_OR_RETURN(*header, ParseHeader(number, frame));
  if (frame.size() != kFrameHeaderSize + size_t{header->payload_len}) {
    return Status::Corruption(BlockName(number),
                              "frame length does not match its header");
  }
  unsigned char ad[kBlockAdSize];
  BuildAd(number, frame.data(), ad);
  std::string_view payload = frame.substr(kFrameHeaderSize);
  const size_t encoded_len = payload.size() - Overhead(encrypted());
  if (encrypted()) {
    const auto* nonce = reinterpret_cast<const unsigned char*>(payload.data());
    const auto* c = nonce + kNonceSize;
    char* out = dst(encoded_len);
    // The tag is in the frame, which is const; OpenSSL only reads it.
    auto* tag = const_cast<unsigned char*>(c + encoded_len);
    if (!RunAead(cipher_, /*seal=*/false, key_.data(), nonce, ad, sizeof(ad), c,
                 encoded_len, reinterpret_cast<unsigned char*>(out), tag)) {
      return Status::Corruption(
          BlockName(number),
          "authentication failed: the block is damaged or does "
          "not belong here");
    }
    *encoded = std::string_view(out, encoded_len);
    return Status::OK();
  }
  *encoded = payload.substr(0, encoded_len);
  const uint64_t seed = XXH3_64bits(ad, sizeof(ad));
  if (XXH3_64bits_withSeed(encoded->data(), encoded->size(), seed) !=
      DecodeFixed64(payload.data() + encoded_len)) {
    return Status::Corruption(BlockName(number),
                              "checksum mismatch: the block is damaged or "
                              "does not belong here");
  }
  return Status::OK();
}

namespace {

// zstd: exactly one frame, declaring exactly plain_len (ZSTD_decompressDCtx
// would accept further or skippable frames).
Status CheckZstdFrame(uint64_t number, std::string_view encoded,
                      uint32_t plain_len) {
  unsigned long long declared =
      ZSTD_getFrameContentSize(encoded.data(), encoded.size());
  if (declared != plain_len ||
      ZSTD_findFrameCompressedSize(encoded.data(), encoded.size()) !=
          encoded.size()) {
    return Status::Corruption(BlockName(number),
                              "not exactly one zstd frame of the right size");
  }
  return Status::OK();
}

}  // namespace

Status BlockCodec::Open(uint64_t number, std::string_view frame,
                        std::string* plain, FrameHeader* header_out) const {
  ThreadState& tls = Tls();
  FrameHeader h;
  std::string_view encoded;
  // A stored block decrypts straight into the output.
  Status s = Authenticate(
      number, frame, &h,
      [&](size_t n) {
        if (h.codec != Codec::kStored) return tls.Scratch(n);
        plain->resize(n);
        return plain->data();
      },
      &encoded);
  if (!s.ok()) {
    plain->clear();
    return s;
  }
  if (h.codec == Codec::kStored) {
    if (!encrypted()) plain->assign(encoded);
    if (header_out != nullptr) *header_out = h;
    return Status::OK();
  }
  s = CheckZstdFrame(number, encoded, h.plain_len);
  if (!s.ok()) {
    plain->clear();
    return s;
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

Status BlockCodec::OpenEncoded(uint64_t number, std::string_view frame,
                               std::string* encoded,
                               FrameHeader* header) const {
  std::string_view bytes;
  Status s = Authenticate(
      number, frame, header,
      [&](size_t n) {
        encoded->resize(n);
        return encoded->data();
      },
      &bytes);
  if (s.ok() && header->codec == Codec::kZstd)
    s = CheckZstdFrame(number, bytes, header->plain_len);
  if (!s.ok()) {
    encoded->clear();
    return s;
  }
  if (!encrypted()) encoded->assign(bytes);
  return Status::OK();
}

}  // namespace migstore::format
