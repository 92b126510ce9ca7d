// What a command shows while the engine works, the same for capture and
// restore: the progress line on a terminal, USMT's main and progress logs
// (phases, percentages, each file error with its USMT error kind), and each
// file error and note on stderr.

#ifndef MIGSTORE_CLI_RUN_DISPLAY_H_
#define MIGSTORE_CLI_RUN_DISPLAY_H_

#include <memory>
#include <string>
#include <vector>

#include "migstore/file_issue.h"
#include "migstore/progress.h"
#include "migstore/usmt_log.h"
#include "progress_line.h"

namespace migstore::cli {

// The USMT logs a command writes, from their opening lines to their last.
struct RunLogs {
  std::unique_ptr<UsmtLog> log;
  std::unique_ptr<UsmtProgressLog> progress;

  // Opens the logs named (either may be empty: not written) and writes the
  // program, version, computer name and command line.
  Status Open(const std::string& log_path, const std::string& progress_path,
              const char* program, const std::vector<std::string>& argv);
  // The run's end in both logs, and its exit code: 0, 3 when files were
  // skipped, or the code of the status that stopped it.
  int Finish(const char* command, const Status& status, size_t skipped);
};

class RunDisplay {
 public:
  // The words USMT's logs use for this kind of run.
  struct Words {
    const char* work_phase;  // the phase whose percentage is logged: "Saving",
                             // "Applying"
    const char*
        error_kind;  // progress-log error kind: "UnableToCopy", "UnableToApply"
    const char* error_verb;  // main-log wording: "Read error", "Apply error"
  };
  static constexpr Words kCapture = {"Saving", "UnableToCopy", "Read error"};
  static constexpr Words kRestore = {"Applying", "UnableToApply",
                                     "Apply error"};

  // `log` and `progress_log` may be null. Whether each error stops the run
  // comes with it (FileIssue::skipped).
  RunDisplay(UsmtLog* log, UsmtProgressLog* progress_log, Words words)
      : log_(log), progress_log_(progress_log), words_(words) {}

  void Progress(const migstore::Progress& p);
  void FileError(const FileIssue& issue);
  void Note(const FileNote& note);
  // Clears the progress line (before other output, and at the end).
  void Clear() { line_.Clear(); }

 private:
  UsmtLog* log_;
  UsmtProgressLog* progress_log_;
  Words words_;
  ProgressLine line_;
  std::string phase_;
  int percent_ = -1;
  size_t errors_ = 0;
  size_t ignored_ = 0;  // errors the run went on past
};

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_RUN_DISPLAY_H_
