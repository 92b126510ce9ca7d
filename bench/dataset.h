// Generated profile trees: a deterministic, seeded generator of Linux- or
// Windows-layout roots with the mix a real migration meets — many small
// text and config files, office documents and photos that are already
// compressed, large binaries, the same files in several profiles, a sparse
// disk image, caches the rules leave out, deep and odd names. The demo, the
// tests and the benchmarks all capture trees made here.
//
// Thread safety: GenerateDataset may run concurrently on different roots.

#ifndef MIGSTORE_BENCH_DATASET_H_
#define MIGSTORE_BENCH_DATASET_H_

#include <cstdint>
#include <string>

#include "migstore/result.h"
#include "migstore/status.h"

namespace migstore::bench {

struct DatasetSpec {
  std::string layout = "linux";  // "linux" or "windows"
  uint64_t seed = 1;
  int users = 3;
  // Approximate totals across all profiles (the mix is scaled to them).
  uint64_t bytes = 20ull << 20;
  uint64_t files = 2000;
  // Extras, all on by default.
  bool duplicates = true;    // shared files in several profiles
  bool sparse_image = true;  // a sparse disk image per first profile
  bool caches = true;        // cache and trash folders the rules exclude
  bool odd_names = true;     // non-UTF-8, newline, deep paths
};

// Presets: "demo" (~20 MB, 2k files), "ci" (~50 MB, 5k files), "bench"
// (~1.2 GB, 60k files), "medium" (~2 GB, 80k files), "files" (1M tiny files).
// InvalidArgument for anything else.
Status SpecForPreset(const std::string& name, DatasetSpec* spec);

struct DatasetStats {
  uint64_t files = 0;
  uint64_t bytes = 0;  // logical bytes of regular files
  uint64_t directories = 0;
};

// Creates the tree under `root` (created if missing; must be empty).
Status GenerateDataset(const std::string& root, const DatasetSpec& spec,
                       DatasetStats* stats = nullptr);

}  // namespace migstore::bench

#endif  // MIGSTORE_BENCH_DATASET_H_
