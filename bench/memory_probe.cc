// memory_probe: the peak resident memory of one capture, one restore and
// one incremental capture of a generated tree, for bench/memory_guard
// (docs/performance.md, "CI guard").
//
//   memory_probe --files N --work DIR [--window N] [--segment N]
//                [--block BYTES] [--claims BYTES]
//
// Makes the "files" mix scaled to N files (as `make_dataset --preset files
// --files N --bytes N*100` does) in DIR/tree, then captures it into
// DIR/s.mig, restores that into DIR/out and captures the tree again into
// DIR/again.mig against DIR/s.mig (`--base`: every file taken over), small
// windows for all, and prints one JSON line:
//
//   {"files": N, "capture_peak_kb": ..., "restore_peak_kb": ...,
//    "again_peak_kb": ..., "capture_files": ..., "restore_files": ...,
//    "again_base_files": ..., "capture_start_kb": ...,
//    "restore_start_kb": ..., "again_start_kb": ...}
//
// Each peak is VmHWM (/proc/self/status) after the run, the mark reset just
// before it (writing "5" to /proc/self/clear_refs, after malloc_trim), so
// the generation does not count and the restore's peak is its own, though
// it starts from what the capture left mapped. It includes what the process
// already holds (code, libraries, ~11 MB): memory_guard compares two sizes,
// never a peak with a number. The windows are small (4,096 entries,
// 512-entry segments) so that a few thousand files span many of them: what
// a window holds is then the same at every size, and the growth between
// sizes is what the runs keep of every file. The blocks are small (64
// KiB, --block) so that the restore's decoded blocks are few. The
// "start" fields are the resident memory each run started from: growth
// there is the process's, not the run's. The restore's claimed
// destinations are held in 256 KiB (--claims), the rest on its scratch
// file, as a 10M-file restore holds 32 MiB of them. Both runs use 2
// threads, so the numbers do not depend on the machine's cores. --window
// 1073741824 --claims 0 shows what the windows save.
//
// Exit 0 with the line printed; 1 when a run fails or the restore did not
// write every file captured; 2 on a usage error or when the peak cannot be
// reset or read (no /proc, or a kernel without clear_refs). DIR's tree,
// store and restored copy are removed at the end either way.

#include <malloc.h>

#include <CLI/CLI.hpp>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include "bench/dataset.h"
#include "migstore/capture.h"
#include "migstore/key.h"
#include "migstore/restore.h"

namespace migstore {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

// Resets the process's peak RSS mark to its current RSS, first handing
// back the heap's free pages: glibc keeps what the generator (or the
// capture) freed, and each run's peak should start from what is live.
bool ResetPeak() {
  ::malloc_trim(0);
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// VmHWM in kB, or -1 when it cannot be read.
int64_t PeakKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "VmHWM: %lld kB", &kb) == 1) return kb;
  }
  return -1;
}

// Removes what the probe made under DIR, whatever the exit.
class Cleanup {
 public:
  explicit Cleanup(std::string work) : work_(std::move(work)) {}
  ~Cleanup() {
    std::error_code ec;
    for (const char* name : {"tree", "s.mig", "out", "again.mig"}) {
      std::filesystem::remove_all(work_ + "/" + name, ec);
    }
  }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  std::string work_;
};

int Probe(uint64_t files, const std::string& work, size_t window,
          size_t segment, size_t claims, size_t block) {
  Cleanup cleanup(work);
  bench::DatasetSpec spec;
  Status s = bench::SpecForPreset("files", &spec);
  spec.files = files;
  spec.bytes = files * 100;
  if (s.ok()) s = bench::GenerateDataset(work + "/tree", spec);
  if (!s.ok()) {
    std::fprintf(stderr, "memory_probe: generating the tree: %s\n",
                 s.ToString().c_str());
    return 1;
  }
  Result<Key> key = Key::FromKeySecret(kSecret);
  if (!key.ok()) {
    std::fprintf(stderr, "memory_probe: key: %s\n",
                 key.status().ToString().c_str());
    return 1;
  }

  CaptureOptions c;
  c.root = work + "/tree";
  c.store_path = work + "/s.mig";
  c.key = *key;
  c.threads = 2;  // the guard's numbers should not depend on the core count
  c.window_entries = window;
  c.catalog_segment_entries = segment;
  c.block_size = block;
  if (!ResetPeak()) {
    std::fprintf(stderr,
                 "memory_probe: cannot reset the peak RSS mark "
                 "(/proc/self/clear_refs)\n");
    return 2;
  }
  const int64_t capture_start = PeakKb();
  Result<CaptureReport> captured = Capture(c);
  const int64_t capture_peak = PeakKb();
  if (!captured.ok()) {
    std::fprintf(stderr, "memory_probe: capture: %s\n",
                 captured.status().ToString().c_str());
    return 1;
  }

  RestoreOptions r;
  r.store_path = c.store_path;
  r.key = *key;
  r.target = work + "/out";
  r.threads = 2;
  r.window_entries = window;
  r.claim_memory = claims;
  if (!ResetPeak()) {
    std::fprintf(stderr, "memory_probe: cannot reset the peak RSS mark\n");
    return 2;
  }
  const int64_t restore_start = PeakKb();
  Result<RestoreReport> restored = Restore(r);
  const int64_t restore_peak = PeakKb();
  if (!restored.ok()) {
    std::fprintf(stderr, "memory_probe: restore: %s\n",
                 restored.status().ToString().c_str());
    return 1;
  }
  // Nothing changes the tree while the probe runs: every file may be taken
  // over however fresh.
  CaptureOptions again = c;
  again.store_path = work + "/again.mig";
  again.base_store = c.store_path;
  again.base_settle_ns = 0;
  if (!ResetPeak()) {
    std::fprintf(stderr, "memory_probe: cannot reset the peak RSS mark\n");
    return 2;
  }
  const int64_t again_start = PeakKb();
  Result<CaptureReport> recaptured = Capture(again);
  const int64_t again_peak = PeakKb();
  if (!recaptured.ok()) {
    std::fprintf(stderr, "memory_probe: incremental capture: %s\n",
                 recaptured.status().ToString().c_str());
    return 1;
  }
  if (capture_peak < 0 || restore_peak < 0 || again_peak < 0) {
    std::fprintf(stderr, "memory_probe: no VmHWM in /proc/self/status\n");
    return 2;
  }

  std::printf(
      "{\"files\": %" PRIu64 ", \"capture_peak_kb\": %" PRId64
      ", \"restore_peak_kb\": %" PRId64 ", \"again_peak_kb\": %" PRId64
      ", \"capture_files\": %" PRIu64 ", \"restore_files\": %" PRIu64
      ", \"again_base_files\": %" PRIu64 ", \"capture_start_kb\": %" PRId64
      ", \"restore_start_kb\": %" PRId64 ", \"again_start_kb\": %" PRId64 "}\n",
      files, capture_peak, restore_peak, again_peak, captured->files,
      restored->files, recaptured->base_files, capture_start, restore_start,
      again_start);
  // A restore that wrote fewer files, a capture that took almost none of
  // the tree, or an incremental one that took little over, would make a
  // flat peak mean nothing.
  if (captured->files == 0 || captured->files < files / 2 ||
      restored->files != captured->files ||
      recaptured->base_files < captured->files / 2) {
    std::fprintf(stderr,
                 "memory_probe: captured %" PRIu64 " files, restored %" PRIu64
                 " and took over %" PRIu64 " of a tree of about %" PRIu64 "\n",
                 captured->files, restored->files, recaptured->base_files,
                 files);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace migstore

int main(int argc, char** argv) {
  // As the migstore binary does (cli/main.cc): the guard measures the
  // engine as it ships, not glibc's moving mmap threshold.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  CLI::App app{
      "Peak RSS of a capture and a restore of a generated tree of tiny "
      "files (bench/memory_guard)"};
  uint64_t files = 0;
  std::string work;
  size_t window = 4096, segment = 512, claims = 256 * 1024, block = 64 * 1024;
  app.add_option("--files", files, "Approximate file count")->required();
  app.add_option("--work", work, "Directory for the tree, store and copy")
      ->required();
  app.add_option("--window", window,
                 "window_entries of the capture and the restore")
      ->capture_default_str();
  app.add_option("--segment", segment, "catalog_segment_entries")
      ->capture_default_str();
  app.add_option("--block", block, "block_size of the capture")
      ->capture_default_str();
  app.add_option("--claims", claims,
                 "claim_memory of the restore (0: every claim in memory)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help, or a usage error
  }
  if (files < 10 || window == 0 || segment == 0) {
    std::fprintf(stderr,
                 "memory_probe: --files must be at least 10, --window and "
                 "--segment above 0\n");
    return 2;
  }
  return migstore::Probe(files, work, window, segment, claims, block);
}
