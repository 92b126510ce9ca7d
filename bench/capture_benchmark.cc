// Incremental capture against a full one: Capture of a generated tree into
// a new store (BM_CaptureFull), and the same with base_store = a store of
// the unchanged tree (BM_CaptureAgain), which takes every unchanged file
// over from the base without reading it (docs/design.md "Incremental
// capture"). Both walk the same tree and write a store of about the same
// size; what the second saves is opening, reading, hashing and compressing
// the files. bench/guard checks the ratio of the two, so the incremental
// path reading files again shows up in CI.
//
// The tree (the "files" mix scaled to 20k files, as bench/walk_benchmark
// takes it) and the base store are made once per process in a temporary
// folder (TempParent) and removed at exit; the tree stays in memory, so
// this measures the capture, not the disk. Wall time (UseRealTime): the
// capture runs on 2 threads, and CPU time would count only the calling
// thread's share.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "bench/dataset.h"
#include "migstore/capture.h"
#include "migstore/key.h"

namespace migstore {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

// exit, not abort: the exit handler removes the temporary folder.
[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "capture_benchmark: %s: %s\n", what.c_str(),
               s.ToString().c_str());
  std::exit(1);
}

// Where the temporary folder goes: $TMPDIR if set, else /dev/shm where
// there is one (a tmpfs: the stores' fsyncs wait for no disk, and making
// the 20k files took 0.4 s there against 4 to 15 s on the ext4 disk of
// the shared 2-vCPU machine the guard's ceiling was set on), else /tmp.
std::string TempParent() {
  const char* tmp = std::getenv("TMPDIR");
  if (tmp != nullptr && *tmp != '\0') return tmp;
  if (::access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
  return "/tmp";
}

// The temporary folder: root/ (the tree) and the stores. Never destroyed:
// the exit handler that removes it runs after static destructors
// registered later, and would otherwise read a destroyed string.
const std::string& Dir() {
  static const std::string* const dir = [] {
    auto* d = new std::string(TempParent() + "/migstore-capture-XXXXXX");
    if (::mkdtemp(d->data()) == nullptr) std::abort();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(Dir(), ec);
    });
    return d;
  }();
  return *dir;
}

CaptureOptions Options(const std::string& store) {
  CaptureOptions o;
  o.root = Dir() + "/root";
  o.store_path = Dir() + "/" + store;
  Result<Key> key = Key::FromKeySecret(kSecret);
  if (!key.ok()) Die("key", key.status());
  o.key = std::move(key).value();
  o.threads = 2;  // CI's machines have 2 cores
  o.overwrite = true;
  // The tree is made just before; a minute's settling would take nothing.
  o.base_settle_ns = 2'000'000'000;
  return o;
}

// The base store's path, made (with the tree) on first use.
const std::string& Base() {
  static const std::string base = [] {
    bench::DatasetSpec spec;
    Status preset = bench::SpecForPreset("files", &spec);
    if (!preset.ok()) Die("the files preset", preset);
    spec.files = 20000;
    spec.bytes = spec.files * 100;
    Status s = bench::GenerateDataset(Dir() + "/root", spec);
    if (!s.ok()) Die("generating the tree", s);
    // Files changed within base_settle_ns (2 s here) of a base's capture
    // are read again (racily clean files): let the tree age past that, or
    // the incremental capture would read much of it.
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    Result<CaptureReport> r = Capture(Options("base.mig"));
    if (!r.ok()) Die("capturing the base", r.status());
    return Dir() + "/base.mig";
  }();
  return base;
}

void CaptureWith(benchmark::State& state, bool incremental) {
  CaptureOptions o = Options(incremental ? "again.mig" : "full.mig");
  if (incremental) o.base_store = Base();
  Base();  // the tree, made outside the timing either way
  CaptureReport last;
  for (auto _ : state) {
    Result<CaptureReport> r = Capture(o);
    if (!r.ok()) Die("capture", r.status());
    last = std::move(r).value();
  }
  state.SetItemsProcessed(
      static_cast<int64_t>(state.iterations() * last.files));
  state.counters["files"] = static_cast<double>(last.files);
  // What the incremental capture took over and what it read again: a
  // base_files far below files means the ratio is not measuring the path
  // it is meant to.
  state.counters["base_files"] = static_cast<double>(last.base_files);
  state.counters["read_again"] =
      static_cast<double>(last.base_files_read_again);
}

void BM_CaptureFull(benchmark::State& state) { CaptureWith(state, false); }
void BM_CaptureAgain(benchmark::State& state) { CaptureWith(state, true); }
BENCHMARK(BM_CaptureFull)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CaptureAgain)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace migstore

BENCHMARK_MAIN();
