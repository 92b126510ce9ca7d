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
// UsmtProgressLog (--progress-log): date, local time with UTC offset and
// elapsed time, then key/value pairs:
//   22 Nov 2026, 10:00:05 +01:00, 00:00:05, PHASE, Saving
//
// Both append to their file, as USMT does, and flush every line, so a log
// survives a crash up to its last line. Text is written as given: callers
// escape whatever came from a store or an input file (the CLI shows it with
// DisplayBytes, docs/cli.md "Names"), so a line stays one line.
//
// Thread safety: every method may be called from any thread; lines are
// written whole.

#ifndef MIGSTORE_USMT_LOG_H_
#define MIGSTORE_USMT_LOG_H_

#include <chrono>
#include <cstdio>
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
  // Opens (creating or appending to) the main log.
  static Result<std::unique_ptr<UsmtLog>> Open(const std::string& path);
  ~UsmtLog();

  void Info(const std::string& text);
  void Warning(const std::string& text);
  void Status(const std::string& text);
  // An error with one file. `sys_errno` 0 when not from the OS.
  void Error(const std::string& text, int sys_errno, bool caused_abort);

  // The closing lines and the error summary. `outcome` is written as the
  // last Status line when the run failed ("Failed: ..."); empty for success.
  void Finish(const std::string& outcome, size_t ignored_errors);

 private:
  explicit UsmtLog(std::FILE* f) : f_(f) {}
  void Line(const char* level, unsigned id, const std::string& text, int gle);

  struct SummaryRow {
    size_t order;
    bool caused_abort;
    size_t recurrence;
    std::string first;
  };
  std::mutex mu_;
  std::FILE* f_;
  std::map<int, SummaryRow> summary_;  // by error code
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
