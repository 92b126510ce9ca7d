// The block path: BlockCodec::Seal (compress + encrypt) and Open (decrypt +
// decompress) on 4 MiB blocks under each cipher, against the same work done
// by hand with raw zstd and the ciphers' construction (docs/format.md "Block
// frame") on raw OpenSSL calls, over the same bytes. The ratio between the
// two is what matters (docs/performance.md, bench/guard): the codec should
// add next to nothing. The AEAD alone (BM_SealStored, BM_OpenStored against
// BM_RawOpenSslSeal, BM_RawOpenSslOpen, and libsodium's XChaCha20-Poly1305
// in BM_SodiumXChaCha*) is what chose OpenSSL for the bulk ciphers
// (docs/design.md "Why OpenSSL seals the blocks").

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <zstd.h>

#include <cstring>
#include <string>

#include "engine/base/deterministic_random.h"
#include "format/block_codec.h"
#include "format/coding.h"
#include "format/layout.h"

namespace migstore::format {
namespace {

constexpr size_t kBlock = size_t{4} << 20;

const std::string& Data(bool compressible) {
  static const std::string text = DeterministicRandom(1).Text(kBlock);
  static const std::string noise = DeterministicRandom(2).Bytes(kBlock);
  return compressible ? text : noise;
}

StoreId Id() {
  StoreId id{};
  id[0] = 1;
  return id;
}

const BlockCodec& Codec(BlockCipher cipher) {
  static const BlockCodec xchacha(Id(), SecretBytes::Random(kKeySize),
                                  BlockCipher::kXChaCha20Poly1305);
  static const BlockCodec aes(Id(), SecretBytes::Random(kKeySize),
                              BlockCipher::kAes256Gcm);
  return cipher == BlockCipher::kAes256Gcm ? aes : xchacha;
}

void Seal(benchmark::State& state, BlockCipher cipher) {
  const std::string& plain = Data(state.range(0) != 0);
  const BlockCodec& codec = Codec(cipher);
  for (auto _ : state) {
    std::string frame = codec.Seal(1, BlockType::kData, plain, SealOptions{});
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

// What capture does: seal into the frame it appended before (the pipeline
// recycles frames), so no allocation or zero-fill per block.
void SealReusingFrame(benchmark::State& state, BlockCipher cipher,
                      const std::string& plain, const SealOptions& options) {
  const BlockCodec& codec = Codec(cipher);
  std::string frame;
  for (auto _ : state) {
    codec.Seal(1, BlockType::kData, plain, options, &frame);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

void Open(benchmark::State& state, BlockCipher cipher, const std::string& plain,
          const SealOptions& options) {
  const BlockCodec& codec = Codec(cipher);
  const std::string frame = codec.Seal(1, BlockType::kData, plain, options);
  std::string out;
  for (auto _ : state) {
    Status s = codec.Open(1, frame, &out);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

// The default cipher keeps the plain names bench/guard checks.
void BM_Seal(benchmark::State& state) {
  Seal(state, BlockCipher::kXChaCha20Poly1305);
}
void BM_SealAesGcm(benchmark::State& state) {
  Seal(state, BlockCipher::kAes256Gcm);
}
void BM_SealReusingFrame(benchmark::State& state) {
  SealReusingFrame(state, BlockCipher::kXChaCha20Poly1305,
                   Data(state.range(0) != 0), SealOptions{});
}
void BM_SealReusingFrameAesGcm(benchmark::State& state) {
  SealReusingFrame(state, BlockCipher::kAes256Gcm, Data(state.range(0) != 0),
                   SealOptions{});
}
void BM_Open(benchmark::State& state) {
  Open(state, BlockCipher::kXChaCha20Poly1305, Data(state.range(0) != 0),
       SealOptions{});
}
void BM_OpenAesGcm(benchmark::State& state) {
  Open(state, BlockCipher::kAes256Gcm, Data(state.range(0) != 0),
       SealOptions{});
}

// The AEAD alone through the codec: a stored block (no zstd), reusing the
// frame. Argument: the cipher, 0 XChaCha20-Poly1305, 1 AES-256-GCM.
BlockCipher CipherArg(const benchmark::State& state) {
  return state.range(0) == 1 ? BlockCipher::kAes256Gcm
                             : BlockCipher::kXChaCha20Poly1305;
}

SealOptions Stored() {
  SealOptions stored;
  stored.compress = false;
  return stored;
}

void BM_SealStored(benchmark::State& state) {
  SealReusingFrame(state, CipherArg(state), Data(false), Stored());
}

void BM_OpenStored(benchmark::State& state) {
  Open(state, CipherArg(state), Data(false), Stored());
}

// libsodium's XChaCha20-Poly1305 over the same 4 MiB: what the codec used
// before it ran the same construction on OpenSSL.
void BM_SodiumXChaChaSeal(benchmark::State& state) {
  const std::string& plain = Data(false);
  unsigned char key[32], nonce[24], tag[16], ad[36] = {};
  randombytes_buf(key, sizeof(key));
  std::string c(plain.size(), '\0');
  for (auto _ : state) {
    randombytes_buf(nonce, sizeof(nonce));
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        reinterpret_cast<unsigned char*>(c.data()), tag, nullptr,
        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), ad,
        sizeof(ad), nullptr, nonce, key);
    benchmark::DoNotOptimize(c.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

void BM_SodiumXChaChaOpen(benchmark::State& state) {
  const std::string& plain = Data(false);
  unsigned char key[32], nonce[24], tag[16], ad[36] = {};
  randombytes_buf(key, sizeof(key));
  randombytes_buf(nonce, sizeof(nonce));
  std::string c(plain.size(), '\0'), m(plain.size(), '\0');
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      reinterpret_cast<unsigned char*>(c.data()), tag, nullptr,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), ad,
      sizeof(ad), nullptr, nonce, key);
  for (auto _ : state) {
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            reinterpret_cast<unsigned char*>(m.data()), nullptr,
            reinterpret_cast<const unsigned char*>(c.data()), c.size(), tag, ad,
            sizeof(ad), nonce, key) != 0) {
      state.SkipWithError("decrypt failed");
    }
    benchmark::DoNotOptimize(m.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

// The ciphers by hand, as docs/format.md "Block frame" defines them, on
// OpenSSL's AEADs as the codec runs them: one context per cipher, set up
// once, then per frame a subkey and IV from the 24-byte nonce and the key
// and IV set on the same context. XChaCha20-Poly1305-IETF is ChaCha20-
// Poly1305 under HChaCha20(key, nonce[0..16]) with the IV 0^32 ||
// nonce[16..24]; AES-256-GCM is AES-256-GCM under BLAKE2b-256 keyed with the
// key over label || nonce[0..12], with the IV nonce[12..24]. These are the
// yardsticks that keep the codec honest about its speed: the codec falling
// back to libsodium's XChaCha20 (BM_SodiumXChaCha*) would be 2.5x slower
// than them.
class RawAead {
 public:
  // cipher: 0 XChaCha20-Poly1305, 1 AES-256-GCM (the benchmarks' argument).
  explicit RawAead(int64_t cipher)
      : aes_(cipher == 1),
        evp_(EVP_CIPHER_fetch(
            nullptr, aes_ ? "AES-256-GCM" : "ChaCha20-Poly1305", nullptr)),
        ctx_(EVP_CIPHER_CTX_new()) {
    ok_ = evp_ != nullptr && ctx_ != nullptr &&
          EVP_CipherInit_ex(ctx_, evp_, nullptr, nullptr, nullptr, 1) == 1;
  }
  ~RawAead() {
    EVP_CIPHER_CTX_free(ctx_);
    EVP_CIPHER_free(evp_);
  }
  RawAead(const RawAead&) = delete;
  RawAead& operator=(const RawAead&) = delete;

  // False when this OpenSSL lacks the cipher (a FIPS-only provider has no
  // ChaCha20-Poly1305).
  bool ok() const { return ok_; }

  // Seals len bytes of `in` into `out` and `tag`; false if OpenSSL fails.
  bool Seal(const unsigned char* key, const unsigned char* nonce,
            const unsigned char* ad, size_t ad_len, const unsigned char* in,
            size_t len, unsigned char* out, unsigned char* tag) {
    return Run(true, key, nonce, ad, ad_len, in, len, out, tag);
  }
  // Opens; false when the tag does not verify.
  bool Open(const unsigned char* key, const unsigned char* nonce,
            const unsigned char* ad, size_t ad_len, const unsigned char* in,
            size_t len, unsigned char* out, unsigned char* tag) {
    return Run(false, key, nonce, ad, ad_len, in, len, out, tag);
  }

 private:
  bool Run(bool seal, const unsigned char* key, const unsigned char* nonce,
           const unsigned char* ad, size_t ad_len, const unsigned char* in,
           size_t len, unsigned char* out, unsigned char* tag) {
    unsigned char subkey[32], iv[12];
    if (aes_) {
      unsigned char message[kAesGcmSubkeyLabelSize + 12];
      std::memcpy(message, kAesGcmSubkeyLabel, kAesGcmSubkeyLabelSize);
      std::memcpy(message + kAesGcmSubkeyLabelSize, nonce, 12);
      crypto_generichash(subkey, sizeof(subkey), message, sizeof(message), key,
                         32);
      std::memcpy(iv, nonce + 12, 12);
    } else {
      crypto_core_hchacha20(subkey, nonce, key, nullptr);
      std::memset(iv, 0, 4);
      std::memcpy(iv + 4, nonce + 16, 8);
    }
    int n = 0, last = 0;
    bool ok = EVP_CipherInit_ex(ctx_, nullptr, nullptr, subkey, iv,
                                seal ? 1 : 0) == 1 &&
              EVP_CipherUpdate(ctx_, nullptr, &n, ad,
                               static_cast<int>(ad_len)) == 1 &&
              EVP_CipherUpdate(ctx_, out, &n, in, static_cast<int>(len)) == 1;
    if (ok && !seal) {
      ok = EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1;
    }
    ok = ok && EVP_CipherFinal_ex(ctx_, out + n, &last) == 1;
    if (ok && seal) {
      ok = EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
    }
    sodium_memzero(subkey, sizeof(subkey));
    return ok;
  }

  bool aes_;
  EVP_CIPHER* evp_;
  EVP_CIPHER_CTX* ctx_;
  bool ok_ = false;
};

unsigned char* U(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}
const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Whether RawAead opens a stored frame the codec sealed under the same
// key (associated data: store id, block number, frame header bytes
// 0..11): the yardstick runs the codec's very construction, not merely one
// of the same cost.
bool OpensCodecFrame(int64_t cipher) {
  unsigned char key[kKeySize];
  randombytes_buf(key, sizeof(key));
  const BlockCodec codec(
      Id(),
      SecretBytes::Copy(
          std::string_view(reinterpret_cast<char*>(key), sizeof(key))),
      cipher == 1 ? BlockCipher::kAes256Gcm : BlockCipher::kXChaCha20Poly1305);
  const std::string plain = DeterministicRandom(3).Bytes(1000);
  const uint64_t number = 7;
  const std::string frame =
      codec.Seal(number, BlockType::kData, plain, Stored());
  if (frame.size() != kFrameHeaderSize + kNonceSize + plain.size() + kTagSize)
    return false;
  unsigned char ad[kBlockAdSize];
  std::memcpy(ad, Id().data(), kStoreIdSize);
  EncodeFixed64(reinterpret_cast<char*>(ad) + kStoreIdSize, number);
  std::memcpy(ad + kStoreIdSize + 8, frame.data(), 12);
  const unsigned char* nonce = U(frame) + kFrameHeaderSize;
  const unsigned char* c = nonce + kNonceSize;
  unsigned char tag[kTagSize];
  std::memcpy(tag, c + plain.size(), sizeof(tag));
  std::string out(plain.size(), '\0');
  RawAead aead(cipher);
  return aead.ok() &&
         aead.Open(key, nonce, ad, sizeof(ad), c, plain.size(), U(out), tag) &&
         out == plain;
}

// The AEAD alone by hand, over the bytes BM_SealStored and BM_OpenStored
// take. Argument: the cipher, 0 XChaCha20-Poly1305, 1 AES-256-GCM.
void BM_RawOpenSslSeal(benchmark::State& state) {
  const std::string& plain = Data(false);
  RawAead aead(state.range(0));
  if (!aead.ok()) {
    state.SkipWithError("OpenSSL lacks the cipher");
    return;
  }
  if (!OpensCodecFrame(state.range(0))) {
    state.SkipWithError("the yardstick does not open the codec's frames");
    return;
  }
  unsigned char key[32], nonce[24], tag[16], ad[36] = {};
  randombytes_buf(key, sizeof(key));
  std::string c(plain.size(), '\0');
  for (auto _ : state) {
    randombytes_buf(nonce, sizeof(nonce));
    if (!aead.Seal(key, nonce, ad, sizeof(ad), U(plain), plain.size(), U(c),
                   tag)) {
      state.SkipWithError("seal failed");
    }
    benchmark::DoNotOptimize(c.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

void BM_RawOpenSslOpen(benchmark::State& state) {
  const std::string& plain = Data(false);
  RawAead aead(state.range(0));
  if (!aead.ok()) {
    state.SkipWithError("OpenSSL lacks the cipher");
    return;
  }
  unsigned char key[32], nonce[24], tag[16], ad[36] = {};
  randombytes_buf(key, sizeof(key));
  randombytes_buf(nonce, sizeof(nonce));
  std::string c(plain.size(), '\0'), m(plain.size(), '\0');
  if (!aead.Seal(key, nonce, ad, sizeof(ad), U(plain), plain.size(), U(c),
                 tag)) {
    state.SkipWithError("seal failed");
    return;
  }
  for (auto _ : state) {
    if (!aead.Open(key, nonce, ad, sizeof(ad), U(c), c.size(), U(m), tag)) {
      state.SkipWithError("decrypt failed");
    }
    benchmark::DoNotOptimize(m.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

// The same work by hand: zstd level 3 (kept only if smaller) then
// XChaCha20-Poly1305 on OpenSSL, reusing buffers and contexts as the codec
// does.
void BM_RawZstdThenAead(benchmark::State& state) {
  const std::string& plain = Data(state.range(0) != 0);
  RawAead aead(0);
  if (!aead.ok()) {
    state.SkipWithError("OpenSSL lacks the cipher");
    return;
  }
  unsigned char key[32], nonce[24], tag[16], ad[36] = {};
  randombytes_buf(key, sizeof(key));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string z(ZSTD_compressBound(plain.size()), '\0'), c(plain.size(), '\0');
  for (auto _ : state) {
    size_t n = ZSTD_compressCCtx(cctx, z.data(), z.size(), plain.data(),
                                 plain.size(), 3);
    std::string_view src =
        n < plain.size() ? std::string_view(z.data(), n) : plain;
    randombytes_buf(nonce, sizeof(nonce));
    if (!aead.Seal(key, nonce, ad, sizeof(ad), U(src), src.size(), U(c), tag)) {
      state.SkipWithError("seal failed");
    }
    benchmark::DoNotOptimize(c.data());
  }
  ZSTD_freeCCtx(cctx);
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

void BM_RawAeadThenZstd(benchmark::State& state) {
  const std::string& plain = Data(state.range(0) != 0);
  RawAead aead(0);
  if (!aead.ok()) {
    state.SkipWithError("OpenSSL lacks the cipher");
    return;
  }
  unsigned char key[32], nonce[24], tag[16], ad[36] = {};
  randombytes_buf(key, sizeof(key));
  randombytes_buf(nonce, sizeof(nonce));
  std::string z(ZSTD_compressBound(plain.size()), '\0');
  size_t zn = ZSTD_compress(z.data(), z.size(), plain.data(), plain.size(), 3);
  const bool stored = zn >= plain.size();
  std::string_view src =
      stored ? std::string_view(plain) : std::string_view(z.data(), zn);
  std::string c(src.size(), '\0'), m(src.size(), '\0'), out(plain.size(), '\0');
  if (!aead.Seal(key, nonce, ad, sizeof(ad), U(src), src.size(), U(c), tag)) {
    state.SkipWithError("seal failed");
    return;
  }
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  for (auto _ : state) {
    if (!aead.Open(key, nonce, ad, sizeof(ad), U(c), c.size(), U(m), tag)) {
      state.SkipWithError("decrypt failed");
    }
    if (!stored)
      ZSTD_decompressDCtx(dctx, out.data(), out.size(), m.data(), m.size());
    benchmark::DoNotOptimize(out.data());
  }
  ZSTD_freeDCtx(dctx);
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

// Argument: 1 = compressible text, 0 = incompressible bytes.
BENCHMARK(BM_Seal)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SealAesGcm)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SealReusingFrame)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SealReusingFrameAesGcm)
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawZstdThenAead)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Open)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenAesGcm)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawAeadThenZstd)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
// The AEAD alone; argument: the cipher.
BENCHMARK(BM_SealStored)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenStored)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawOpenSslSeal)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawOpenSslOpen)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SodiumXChaChaSeal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SodiumXChaChaOpen)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace migstore::format

BENCHMARK_MAIN();
