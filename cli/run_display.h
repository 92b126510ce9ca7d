// What a command shows while the engine works, the same for capture and
// restore: the progress line on a terminal, USMT's main and progress logs
// (phases, percentages, each file error with its USMT error kind, and at
// verbosity 1 every object), and each file error and note on stderr.

#ifndef MIGSTORE_CLI_RUN_DISPLAY_H_
#define MIGSTORE_CLI_RUN_DISPLAY_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "migstore/file_issue.h"
#include "migstore/progress.h"
#include "migstore/restore.h"
#include "migstore/usmt_log.h"
#include "progress_line.h"

namespace migstore::cli {

// The USMT logs a command writes, from their opening lines to their last.
struct RunLogs {
  std::unique_ptr<UsmtLog> log;
  std::unique_ptr<UsmtProgressLog> progress;

  // Opens the logs named (either may be empty: not written), sets the main
  // log's --verbosity (-1: the default), and writes the program, version,
  // computer name and command line.
  Status Open(const std::string& log_path, const std::string& progress_path,
              const char* program, const std::vector<std::string>& argv,
              int verbosity = -1);
  // Whether the main log records every object (verbosity bit 0x01).
  bool verbose() const { return log != nullptr && log->verbose(); }
  // The run's end in both logs, and its exit code: 0, 3 when files were
  // skipped, or the code of the status that stopped it.
  int Finish(const char* command, const Status& status, size_t skipped);
};

// How the verbose log names an object: on a windows layout USMT's form,
// the folder then the name in brackets ("C:\Users\alice [a.txt]"; a
// folder itself as "C:\Users\alice"), each name shown as in "Names"; else
// the root-relative path as --list-files shows it.
std::string LogObjectName(std::string_view path, bool windows, bool folder);

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
  // The verbose log's line for each object (nothing unless the log is
  // verbose): an entry put in the store, or an entry of a restore's plan
  // (named where it lands).
  void Stored(const std::string& path);
  void Planned(const PlannedEntry& entry);
  // Names objects in USMT's Windows form ("C:\Users\alice [a.txt]") rather
  // than by path. A capture gives its root: the engine reports an entry
  // stored by its path alone, so a folder is told by looking at it there.
  void set_windows_objects(bool windows, std::string root = std::string()) {
    windows_objects_ = windows;
    objects_root_ = std::move(root);
  }
  // Clears the progress line (before other output, and at the end).
  void Clear() { line_.Clear(); }

 private:
  UsmtLog* log_;
  UsmtProgressLog* progress_log_;
  Words words_;
  bool windows_objects_ = false;
  std::string objects_root_;
  ProgressLine line_;
  std::string phase_;
  std::string logged_phase_;  // the last phase the main log was told
  int percent_ = -1;
  size_t errors_ = 0;
  size_t ignored_ = 0;  // errors the run went on past
};

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_RUN_DISPLAY_H_
