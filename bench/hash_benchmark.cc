// Dedup hashing: ContentHasher (XXH3-128, streamed as the pipeline reads a
// file in chunks) against one raw XXH3_128bits call over the same bytes.
// Two shapes: a 1 MiB chunk of a large file, and a 4 KiB small file, where
// per-file overhead (state reset, digest, canonical form) would show.

#include <benchmark/benchmark.h>
#include <xxhash.h>

#include <string>

#include "engine/base/deterministic_random.h"
#include "format/hash.h"

namespace migstore::format {
namespace {

// Incompressible bytes, as a hash sees every file.
std::string_view Data(size_t n) {
  static const std::string bytes =
      DeterministicRandom(3).Bytes(size_t{1} << 20);
  return std::string_view(bytes).substr(0, n);
}

void BM_ContentHasher(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string_view bytes = Data(n);
  ContentHasher h;
  for (auto _ : state) {
    h.Reset();
    h.Update(bytes);
    Hash128 d = h.Digest();
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_RawXxh3(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string_view bytes = Data(n);
  for (auto _ : state) {
    XXH128_hash_t d = XXH3_128bits(bytes.data(), bytes.size());
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_ContentHasher)->Arg(4096)->Arg(1 << 20);
BENCHMARK(BM_RawXxh3)->Arg(4096)->Arg(1 << 20);

}  // namespace
}  // namespace migstore::format

BENCHMARK_MAIN();
