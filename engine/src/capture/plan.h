// Planning a capture's file work from the walk: which files are read (one
// per hard-link group), in which order and class, and which large files are
// byte-identical so that only one of them is read again.
//
// Thread safety: call from one thread; PrepareLargeJobs runs TBB tasks on
// the caller's arena.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_PLAN_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_PLAN_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "engine/src/capture/pack_pipeline.h"
#include "engine/src/capture/walk.h"
#include "migstore/capture.h"

namespace migstore::capture {

struct CapturePlan {
  std::vector<size_t> others;  // directories, symlinks, fifos (entry indices)
  std::vector<FileJob> jobs;   // regular files, in pipeline order
  uint64_t files = 0;          // regular files, hard links included
  uint64_t bytes = 0;          // their logical bytes, each inode once
  uint64_t data_bytes = 0;     // the same without holes: what will be read
  uint64_t hardlinked_files = 0;
};

// Bytes a file holds without its holes, as far as its status tells.
inline uint64_t DataBytes(const WalkedEntry& e) {
  return std::min(e.size, e.blocks() * 512);
}

// Which sizes of small files (0 to a block's bytes) were seen, and which
// more than once: two bits a size, 1 MiB for the default 4 MiB block
// however many files there are (a map of counts was 40 bytes a distinct
// size). Add is safe from any number of threads at once.
class SmallSizes {
 public:
  explicit SmallSizes(size_t block_size)
      : once_(block_size / 64 + 1), twice_(block_size / 64 + 1) {}

  // REQUIRES: size <= the block size
  void Add(uint64_t size) {
    const uint64_t bit = uint64_t{1} << (size % 64);
    if ((once_[size / 64].fetch_or(bit, std::memory_order_relaxed) & bit) != 0)
      twice_[size / 64].fetch_or(bit, std::memory_order_relaxed);
  }
  // True when more than one file had `size`.
  bool Shared(uint64_t size) const {
    return size / 64 < twice_.size() &&
           (twice_[size / 64].load(std::memory_order_relaxed) &
            (uint64_t{1} << (size % 64))) != 0;
  }

 private:
  std::vector<std::atomic<uint64_t>> once_;
  std::vector<std::atomic<uint64_t>> twice_;
};

// Whether a file is read in pieces (and checked against other large files
// of its size before the pipeline) rather than whole.
inline bool IsLarge(const WalkedEntry& e, size_t block_size) {
  return e.size > block_size;
}

// Groups hard links (same device and inode), classes files (small or large
// against block_size; already compressed by name), and orders the jobs:
// small compressible files, small compressed ones, then large files, each
// in path order, so a block rarely mixes classes. A small file is a
// possible duplicate when another has its size: among `entries`, or in
// `sizes` when given (a capture planned a window at a time counts them
// over the whole tree).
CapturePlan PlanCapture(const WalkedEntries& entries, size_t block_size,
                        const SmallSizes* sizes = nullptr);

// For every large job without a snapshot: takes its status and data ranges.
// Then hashes large files that share a size and confirms candidates byte for
// byte: each confirmed duplicate leaves the job list and joins its first
// copy's `duplicates`. Files that cannot be opened are appended to *errors
// and dropped from the jobs.
void PrepareLargeJobs(int root_fd, const WalkedEntries& entries,
                      std::vector<FileJob>* jobs,
                      std::vector<FileIssue>* errors,
                      const std::atomic<bool>* cancel);

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_PLAN_H_
