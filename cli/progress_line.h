// The one-line progress display on a terminal: phase, bytes and files done
// of the totals, rate and time left, redrawn in place on stderr. Silent
// unless both stdout and stderr are terminals, so logs and pipes get none.

#ifndef MIGSTORE_CLI_PROGRESS_LINE_H_
#define MIGSTORE_CLI_PROGRESS_LINE_H_

#include <cstdint>
#include <string>

#include "migstore/capture.h"

namespace migstore::cli {

class ProgressLine {
 public:
  ProgressLine();
  bool enabled() const { return enabled_; }
  void Update(const char* phase, uint64_t files_done, uint64_t files_total,
              uint64_t bytes_done, uint64_t bytes_total, double seconds);
  // Clears the line (before other output, and at the end).
  void Clear();

 private:
  bool enabled_ = false;
  size_t width_ = 0;
};

// "1.5 GB", "340 MB", "12 KB", "512 B".
std::string HumanBytes(uint64_t bytes);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_PROGRESS_LINE_H_
