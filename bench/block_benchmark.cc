// The block path: BlockCodec::Seal (compress + encrypt) and Open (decrypt +
// decompress) on 4 MiB blocks, against the same work done with raw zstd and
// raw libsodium calls on the same bytes. The ratio between the two is what
// matters (docs/performance.md): the codec should add next to nothing.

#include <benchmark/benchmark.h>
#include <sodium.h>
#include <zstd.h>

#include <string>

#include "engine/base/deterministic_random.h"
#include "format/block_codec.h"

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

const BlockCodec& Codec() {
  static const BlockCodec codec(Id(), SecretBytes::Random(kKeySize));
  return codec;
}

void BM_Seal(benchmark::State& state) {
  const std::string& plain = Data(state.range(0) != 0);
  for (auto _ : state) {
    std::string frame = Codec().Seal(1, BlockType::kData, plain, SealOptions{});
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

// What capture does: seal into the frame it appended before (the pipeline
// recycles frames), so no allocation or zero-fill per block.
void BM_SealReusingFrame(benchmark::State& state) {
  const std::string& plain = Data(state.range(0) != 0);
  std::string frame;
  for (auto _ : state) {
    Codec().Seal(1, BlockType::kData, plain, SealOptions{}, &frame);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

void BM_Open(benchmark::State& state) {
  const std::string& plain = Data(state.range(0) != 0);
  const std::string frame =
      Codec().Seal(1, BlockType::kData, plain, SealOptions{});
  std::string out;
  for (auto _ : state) {
    Status s = Codec().Open(1, frame, &out);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

// The same work by hand: zstd level 3 (kept only if smaller) then
// XChaCha20-Poly1305, reusing buffers and contexts as the codec does.
void BM_RawZstdThenAead(benchmark::State& state) {
  const std::string& plain = Data(state.range(0) != 0);
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
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        reinterpret_cast<unsigned char*>(c.data()), tag, nullptr,
        reinterpret_cast<const unsigned char*>(src.data()), src.size(), ad,
        sizeof(ad), nullptr, nonce, key);
    benchmark::DoNotOptimize(c.data());
  }
  ZSTD_freeCCtx(cctx);
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * plain.size()));
}

void BM_RawAeadThenZstd(benchmark::State& state) {
  const std::string& plain = Data(state.range(0) != 0);
  unsigned char key[32], nonce[24], tag[16], ad[36] = {};
  randombytes_buf(key, sizeof(key));
  randombytes_buf(nonce, sizeof(nonce));
  std::string z(ZSTD_compressBound(plain.size()), '\0');
  size_t zn = ZSTD_compress(z.data(), z.size(), plain.data(), plain.size(), 3);
  const bool stored = zn >= plain.size();
  std::string_view src =
      stored ? std::string_view(plain) : std::string_view(z.data(), zn);
  std::string c(src.size(), '\0'), m(src.size(), '\0'), out(plain.size(), '\0');
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      reinterpret_cast<unsigned char*>(c.data()), tag, nullptr,
      reinterpret_cast<const unsigned char*>(src.data()), src.size(), ad,
      sizeof(ad), nullptr, nonce, key);
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  for (auto _ : state) {
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            reinterpret_cast<unsigned char*>(m.data()), nullptr,
            reinterpret_cast<const unsigned char*>(c.data()), c.size(), tag, ad,
            sizeof(ad), nonce, key) != 0) {
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
BENCHMARK(BM_SealReusingFrame)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawZstdThenAead)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Open)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawAeadThenZstd)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace migstore::format

BENCHMARK_MAIN();
