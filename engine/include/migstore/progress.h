// Progress: how far a capture, restore, extract or verify has come, as its
// observer is told a few times a second and at each phase change.
//
// Thread safety: a plain value.

#ifndef MIGSTORE_PROGRESS_H_
#define MIGSTORE_PROGRESS_H_

#include <cstdint>

namespace migstore {

struct Progress {
  // USMT's phase names: Initializing, Scanning, Saving (capture), Estimating,
  // Applying (restore, extract), Verifying, Done.
  const char* phase = "Initializing";
  uint64_t files_done = 0;
  uint64_t files_total = 0;
  // File data read (capture) or written (restore), holes excluded.
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  double seconds = 0;  // since the run started
};

}  // namespace migstore

#endif  // MIGSTORE_PROGRESS_H_
