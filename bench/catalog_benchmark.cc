// Catalog encode and decode: entries per second through the segment codec
// (docs/format.md "Catalog"), on entries shaped like a profile's — deep
// paths sharing long prefixes, a few xattrs, optional times. Capture pays the
// encode once per entry; list, verify, restore and extract pay the decode.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/base/deterministic_random.h"
#include "format/catalog.h"
#include "format/catalog_codec.h"

namespace migstore::format {
namespace {

// Sorted entries under a few profiles' homes, as a capture emits them.
std::vector<Entry> MakeEntries(size_t n) {
  static const char* const kDirs[] = {
      "Documents/2023/work",  "Documents/notes",          "Pictures/holiday",
      ".config/app/profiles", "Projects/src/engine/base", "Desktop"};
  static const char* const kExt[] = {".txt", ".docx", ".jpg", ".json", ".cc"};
  DeterministicRandom r(7);
  std::vector<Entry> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Entry e;
    e.profile = 1;
    char name[32];
    std::snprintf(name, sizeof(name), "/file%07zu", i);
    e.path = std::string("home/alice/") + kDirs[(i / 64) % 6] + name +
             kExt[r.Below(5)];
    e.type = EntryType::kFile;
    e.mode = 0644;
    e.uid = e.gid = 1000;
    e.mtime_ns =
        1'700'000'000'000'000'000 + static_cast<int64_t>(r.Below(1u << 30));
    e.ctime_ns = e.mtime_ns;
    e.size = 1 + r.Below(1 << 20);
    e.content = i;
    if (r.Below(8) == 0)
      e.mutable_xattrs().push_back({"user.origin", "downloads"});
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  return out;
}

void BM_EncodeSegment(benchmark::State& state) {
  const std::vector<Entry> entries =
      MakeEntries(static_cast<size_t>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string seg = EncodeCatalogSegment(entries);
    bytes = seg.size();
    benchmark::DoNotOptimize(seg.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes_per_entry"] =
      static_cast<double>(bytes) / static_cast<double>(entries.size());
}

void BM_DecodeSegment(benchmark::State& state) {
  const std::string seg =
      EncodeCatalogSegment(MakeEntries(static_cast<size_t>(state.range(0))));
  for (auto _ : state) {
    auto entries = DecodeCatalogSegment(seg);
    if (!entries.ok()) state.SkipWithError(entries.status().ToString().c_str());
    benchmark::DoNotOptimize(entries->data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(seg.size()));
}

BENCHMARK(BM_EncodeSegment)->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeSegment)->Arg(4096)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace migstore::format

BENCHMARK_MAIN();
