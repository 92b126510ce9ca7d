// USMT's log formats, so tools that read ScanState and LoadState logs read
// migstore's (../shared/reference/usmt.md §9 in the development tree;
// docs/cli.md, "Logs").
//
// UsmtLog, the main log (--log):
//   2026-11-22 10:00:00, Info                  [0x000000] text
// levels Info, Warning, Error and Status padded to 22 columns, a message id,
// and for errors the errno as [gle=0x0000000d]. Finish() writes the result
// line ("Success." or "Success, 3 errors ignored."), "USMT Completed at ...",
// and the USMT ERROR SUMMARY table (code, caused abort, recurrence, first
// occurrence).
//
// Which lines are written follows USMT's /v bitmask (SetVerbosity):
// errors, warnings and the closing lines always; Status lines with bit
// 0x04; Info lines with bit 0x01, which is also when callers record every
// object processed (verbose()). Bit 0x08 (a debugger) has nothing to drive
// here and is ignored, which the log says.
//
// UsmtProgressLog (--progress-log): date, local time with UTC offset and
// elapsed time, then key/value pairs:
//   22 Nov 2026, 10:00:05 +01:00, 00:00:05, PHASE, Saving
//
// Both append to their file, as USMT does. Warning, Error and Status lines
// and the closing lines are flushed as written, with whatever is buffered;
// Info lines (one per object in a verbose log) at most once a second, so a
// million-file run is not a million writes, and a log survives a crash up
// to about its last second. The progress log flushes every line. Text is
// written as given: callers escape whatever came from a store or an input
// file (the CLI shows it with DisplayBytes, docs/cli.md "Names"), so a line
// stays one line.
//
// Thread safety: every method may be called from any thread; lines are
// written whole.

#ifndef MIGSTORE_USMT_LOG_H_
#define MIGSTORE_USMT_LOG_H_

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "migstore/result.h"

namespace migstore {

class UsmtLog {
 public:
  // USMT's /v bits (usmt.md §1).
  static constexpr unsigned kVerbose = 0x01;   // Info lines, every object
  static constexpr unsigned kStatus = 0x04;    // Status lines (phases)
  static constexpr unsigned kDebugger = 0x08;  // accepted, ignored
  // What a log writes until told otherwise: verbose and status, which is
  // what migstore's logs always held (docs/cli.md, "Logs").
  static constexpr unsigned kDefaultVerbosity = kVerbose | kStatus;

  // Whether `level` is a sum USMT accepts: 0, 1, 4, 5, 8, 9, 12 or 13.
  static bool IsValidVerbosity(int level);

  // Opens (creating or appending to) the main log.
  static Result<std::unique_ptr<UsmtLog>> Open(const std::string& path);
  ~UsmtLog();

  // Sets which lines are written from now on. REQUIRES:
  // IsValidVerbosity(level). With the debugger bit, writes one Info line
  // saying it is ignored (whatever the Info bit).
  void SetVerbosity(unsigned level);
  // Whether Info lines are written: callers that log every object test it
  // before building the line.
  bool verbose() const {
    return (level_.load(std::memory_order_relaxed) & kVerbose) != 0;
  }

  void Info(const std::string& text);  // with kVerbose
  void Warning(const std::string& text);
  void Status(const std::string& text);  // with kStatus
  // An error with one file. `sys_errno` 0 when not from the OS.
  void Error(const std::string& text, int sys_errno, bool caused_abort);

  // The closing lines and the error summary. `outcome` is written as the
  // last Status line when the run failed ("Failed: ..."); empty for success.
  void Finish(const std::string& outcome, size_t ignored_errors);

 private:
  explicit UsmtLog(std::FILE* f) : f_(f) {}
  // One line, under mu_; flushed when `flush`, else when the last flush
  // was in an earlier second.
  void Line(const char* level, unsigned id, const std::string& text, int gle,
            bool flush = true);

  struct SummaryRow {
    size_t order;
    bool caused_abort;
    size_t recurrence;
    std::string first;
  };
  std::mutex mu_;
  std::FILE* f_;
  std::atomic<unsigned> level_{kDefaultVerbosity};
  std::map<int, SummaryRow> summary_;  // by error code
  // The time stamp of the last line, reused within the same second.
  time_t stamp_time_ = 0;
  char stamp_[32] = {};
  time_t flushed_time_ = 0;  // when Line last flushed
};

class UsmtProgressLog {
 public:
  static Result<std::unique_ptr<UsmtProgressLog>> Open(const std::string& path);
  ~UsmtProgressLog();

  // One line of key, value pairs.
  void Write(const std::vector<std::pair<std::string, std::string>>& pairs);

 private:
  explicit UsmtProgressLog(std::FILE* f)
      : f_(f), start_(std::chrono::steady_clock::now()) {}

  std::mutex mu_;
  std::FILE* f_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace migstore

#endif  // MIGSTORE_USMT_LOG_H_
