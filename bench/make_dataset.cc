// make_dataset: writes a generated profile tree (bench/dataset.h).
//
//   make_dataset [--preset demo|ci|bench|medium|files] [--layout linux|windows]
//                [--seed N] [--files N] [--bytes N] ROOT
//
// --files and --bytes scale the preset's mix to other totals (the scaling
// benchmark makes 10k and 100k-file versions of "files" this way).

#include <CLI/CLI.hpp>

#include <cstdio>

#include "bench/dataset.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Write a generated, deterministic profile tree for demos, tests and "
      "benchmarks"};
  std::string preset = "demo", layout = "linux", root;
  uint64_t seed = 1, files = 0, bytes = 0;
  app.add_option("--preset", preset, "demo, ci, bench, medium or files")
      ->capture_default_str();
  app.add_option("--layout", layout, "linux or windows")->capture_default_str();
  app.add_option("--seed", seed, "Seed of the generator")
      ->capture_default_str();
  app.add_option("--files", files,
                 "Approximate file count (default: the preset's)");
  app.add_option("--bytes", bytes,
                 "Approximate total bytes (default: the preset's)");
  app.add_option("root", root, "Directory to create (must be empty)")
      ->required();
  CLI11_PARSE(app, argc, argv);

  migstore::bench::DatasetSpec spec;
  migstore::Status s = migstore::bench::SpecForPreset(preset, &spec);
  spec.layout = layout;
  spec.seed = seed;
  if (files != 0) spec.files = files;
  if (bytes != 0) spec.bytes = bytes;
  migstore::bench::DatasetStats stats;
  if (s.ok()) s = migstore::bench::GenerateDataset(root, spec, &stats);
  if (!s.ok()) {
    std::fprintf(stderr, "make_dataset: %s\n", s.ToString().c_str());
    return 11;
  }
  std::printf(
      "%s: %llu files, %.1f MB, %llu directories (%s layout, preset %s)\n",
      root.c_str(), static_cast<unsigned long long>(stats.files),
      stats.bytes / 1e6, static_cast<unsigned long long>(stats.directories),
      layout.c_str(), preset.c_str());
  return 0;
}
