#include "run_display.h"

#include <sys/stat.h>

#include <cstdio>

#include "cli_common.h"
#include "migstore/build_info.h"

namespace migstore::cli {

Status RunLogs::Open(const std::string& log_path,
                     const std::string& progress_path, const char* program,
                     const std::vector<std::string>& argv, int verbosity) {
  if (!log_path.empty()) {
    MIGSTORE_ASSIGN_OR_RETURN(log, UsmtLog::Open(log_path));
    log->SetVerbosity(verbosity < 0 ? UsmtLog::kDefaultVerbosity
                                    : static_cast<unsigned>(verbosity));
  }
  if (!progress_path.empty()) {
    MIGSTORE_ASSIGN_OR_RETURN(progress, UsmtProgressLog::Open(progress_path));
  }
  const std::string version = Version();
  if (log) {
    log->Info(std::string(program) + " " + version + " (migstore)");
    log->Info("Command line: " + JoinArgs(argv));
  }
  if (progress) {
    progress->Write({{"program", program}});
    progress->Write({{"productVersion", version}});
    progress->Write({{"computerName", ComputerName()}});
    progress->Write({{"commandLine", JoinArgs(argv)}});
  }
  return Status::OK();
}

int RunLogs::Finish(const char* command, const Status& status, size_t skipped) {
  if (log)
    log->Finish(status.ok() ? std::string()
                            : "Failed: " + DisplayText(status.ToString()),
                skipped);
  if (progress) progress->Write({{"PHASE", status.ok() ? "Done" : "Failed"}});
  if (!status.ok()) return Fail(command, status);
  return Code(skipped > 0 ? ExitCode::kDoneWithErrors : ExitCode::kSuccess);
}

void RunDisplay::Progress(const migstore::Progress& p) {
  line_.Update(p.phase, p.files_done, p.files_total, p.bytes_done,
               p.bytes_total, p.seconds);
  // The main log's Status lines: each phase as it starts (the closing
  // lines say how the run ended).
  if (log_ != nullptr && logged_phase_ != p.phase) {
    logged_phase_ = p.phase;
    if (logged_phase_ != "Done") log_->Status("Phase: " + logged_phase_);
  }
  if (progress_log_ == nullptr) return;
  if (phase_ != p.phase) {
    // The work phase is over, and it ended well (a failed run ends without
    // another phase): the log's percentage reaches 100 however coarse the
    // progress reports were.
    if (phase_ == words_.work_phase && percent_ != 100) {
      percent_ = 100;
      progress_log_->Write({{"totalPercentageCompleted", "100"}});
      progress_log_->Write({{"totalMinutesRemaining", "0"}});
    }
    phase_ = p.phase;
    if (phase_ == "Done") return;  // the command writes the last phase itself
    progress_log_->Write({{"PHASE", phase_}});
    if (phase_ == words_.work_phase) {
      char mb[32];
      std::snprintf(mb, sizeof(mb), "%.2f",
                    static_cast<double>(p.bytes_total) / (1 << 20));
      progress_log_->Write({{"totalSizeInMBToTransfer", mb}});
    }
  }
  if (p.bytes_total > 0 && phase_ == words_.work_phase) {
    int pct = static_cast<int>(100 * p.bytes_done / p.bytes_total);
    if (pct != percent_) {
      percent_ = pct;
      double rate =
          p.seconds > 0 ? static_cast<double>(p.bytes_done) / p.seconds : 0;
      double left =
          rate > 0 ? static_cast<double>(p.bytes_total - p.bytes_done) / rate
                   : 0;
      progress_log_->Write({{"totalPercentageCompleted", std::to_string(pct)}});
      progress_log_->Write({{"totalMinutesRemaining",
                             std::to_string(static_cast<int>(left / 60))}});
    }
  }
}

void RunDisplay::FileError(const FileIssue& issue) {
  ++errors_;
  // Whether the run goes on is the engine's to say: --continue-on-error
  // decides, unless a Config.xml <ErrorControl> rule does.
  const bool skipped = issue.skipped;
  line_.Clear();
  // The status may quote the store (a symlink target, a name).
  const std::string status = DisplayText(issue.status.ToString());
  std::fprintf(stderr, "migstore: %s: %s%s\n", DisplayBytes(issue.path).c_str(),
               status.c_str(), skipped ? " (skipped)" : "");
  if (log_ != nullptr) {
    log_->Error(std::string(words_.error_verb) + " for " +
                    DisplayBytes(issue.path) + ": " + status,
                issue.status.sys_errno(), !skipped);
  }
  if (progress_log_ != nullptr) {
    progress_log_->Write(
        {{"error", words_.error_kind},
         {"objectName", DisplayBytes(issue.path)},
         {"action", skipped ? "Ignore" : "Abort"},
         {"errorCode", std::to_string(issue.status.sys_errno())},
         {"numberOfIgnoredErrors", std::to_string(ignored_ += skipped)},
         {"message", status}});
  }
}

std::string LogObjectName(std::string_view path, bool windows, bool folder) {
  if (!windows) return DisplayBytes(path);
  std::string_view dir = path, name;
  if (!folder) {
    const size_t slash = path.rfind('/');
    dir = slash == std::string_view::npos ? std::string_view()
                                          : path.substr(0, slash);
    name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  }
  // Each name shown on its own, so a '\' in a name is doubled and tells
  // from the separator.
  std::string out = "C:";
  if (dir.empty()) out += '\\';
  while (!dir.empty()) {
    const size_t slash = dir.find('/');
    out += '\\';
    out += DisplayBytes(dir.substr(0, slash));
    dir = slash == std::string_view::npos ? std::string_view()
                                          : dir.substr(slash + 1);
  }
  if (!folder) out += " [" + DisplayBytes(name) + "]";
  return out;
}

void RunDisplay::Stored(const std::string& path) {
  if (log_ == nullptr || !log_->verbose()) return;
  bool folder = false;
  if (windows_objects_ && !objects_root_.empty()) {
    struct stat st;
    folder = ::lstat((objects_root_ + "/" + path).c_str(), &st) == 0 &&
             S_ISDIR(st.st_mode);
  }
  log_->Info("Store " + LogObjectName(path, windows_objects_, folder));
}

void RunDisplay::Planned(const PlannedEntry& e) {
  if (log_ == nullptr || !log_->verbose()) return;
  const bool folder = std::string_view(e.type) == "dir";
  std::string text =
      "Apply " + LogObjectName(e.destination.empty() ? e.path : e.destination,
                               windows_objects_, folder);
  if (!e.destination.empty() && e.destination != e.path)
    text += " from " + DisplayBytes(e.path);
  text += std::string(": ") + e.action;
  // A reason may name store paths ("its folder ... was not restored").
  if (!e.reason.empty()) text += " (" + DisplayText(e.reason) + ")";
  log_->Info(text);
}

void RunDisplay::Note(const FileNote& note) {
  // Notes name owners, groups and users as the store has them.
  std::string text = note.path.empty() ? DisplayText(note.what)
                                       : DisplayBytes(note.path) + ": " +
                                             DisplayText(note.what);
  line_.Clear();
  std::fprintf(stderr, "migstore: note: %s\n", text.c_str());
  if (log_ != nullptr) log_->Warning(text);
}

}  // namespace migstore::cli
