#include "migstore/usmt_log.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace migstore {
namespace {

constexpr const char* kRule =
    "+-------------------------------------------------------------------------"
    "-----------------"
    "--------------------------";

Result<std::FILE*> OpenAppend(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) return Status::FromErrno("cannot open log " + path, errno);
  return f;
}

struct tm LocalNow() {
  time_t now = std::time(nullptr);
  struct tm tm;
  localtime_r(&now, &tm);
  return tm;
}

}  // namespace

bool UsmtLog::IsValidVerbosity(int level) {
  return level >= 0 && level <= 13 &&
         (level & ~static_cast<int>(kVerbose | kStatus | kDebugger)) == 0;
}

Result<std::unique_ptr<UsmtLog>> UsmtLog::Open(const std::string& path) {
  MIGSTORE_ASSIGN_OR_RETURN(std::FILE * f, OpenAppend(path));
  // Room for a second's worth of Info lines between flushes (Line).
  std::setvbuf(f, nullptr, _IOFBF, 64 * 1024);
  return std::unique_ptr<UsmtLog>(new UsmtLog(f));
}

UsmtLog::~UsmtLog() { std::fclose(f_); }

void UsmtLog::SetVerbosity(unsigned level) {
  level_.store(level, std::memory_order_relaxed);
  if ((level & kDebugger) != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    Line("Info", 0,
         "Verbosity " + std::to_string(level) +
             ": debugger output (0x08) is not available in migstore; "
             "ignored",
         0);
  }
}

void UsmtLog::Line(const char* level, unsigned id, const std::string& text,
                   int gle, bool flush) {
  // A verbose log writes a line for every object: the stamp is formatted
  // once a second.
  const time_t now = std::time(nullptr);
  if (now != stamp_time_ || stamp_[0] == '\0') {
    struct tm tm;
    localtime_r(&now, &tm);
    std::strftime(stamp_, sizeof(stamp_), "%Y-%m-%d %H:%M:%S", &tm);
    stamp_time_ = now;
  }
  std::fprintf(f_, "%s, %-22s[0x%06x] %s", stamp_, level, id, text.c_str());
  if (gle != 0) std::fprintf(f_, "[gle=0x%08x]", static_cast<unsigned>(gle));
  std::fputc('\n', f_);
  // Info lines (one per object in a verbose log) reach the file at most
  // once a second: a million-file run is not a million write(2)s under
  // the lock. Every other line goes out at once, with what is buffered.
  if (flush || now != flushed_time_) {
    std::fflush(f_);
    flushed_time_ = now;
  }
}

void UsmtLog::Info(const std::string& text) {
  if (!verbose()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Line("Info", 0, text, 0, /*flush=*/false);
}

void UsmtLog::Warning(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  Line("Warning", 0x0803ea, text, 0);
}

void UsmtLog::Status(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  if ((level_.load(std::memory_order_relaxed) & kStatus) == 0) {
    // Not written, but a phase ends here: the Info lines before it go out
    // rather than wait for the next line, however long the phase.
    std::fflush(f_);
    return;
  }
  Line("Status", 0, text, 0);
}

void UsmtLog::Error(const std::string& text, int sys_errno, bool caused_abort) {
  std::lock_guard<std::mutex> lock(mu_);
  Line("Error", 0x080000 + static_cast<unsigned>(sys_errno), text, sys_errno);
  auto [it, inserted] = summary_.try_emplace(
      sys_errno, SummaryRow{summary_.size(), caused_abort, 0, text});
  it->second.recurrence++;
  it->second.caused_abort |= caused_abort;
}

void UsmtLog::Finish(const std::string& outcome, size_t ignored_errors) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!outcome.empty()) {
    Line("Status", 0, outcome, 0);
  } else if (ignored_errors == 0) {
    Line("Status", 0, "Success.", 0);
  } else {
    Line("Status", 0,
         "Success, " + std::to_string(ignored_errors) + " errors ignored.", 0);
  }
  struct tm tm = LocalNow();
  char when[40];
  std::strftime(when, sizeof(when), "%Y/%m/%d:%H:%M:%S", &tm);
  Line("Info", 0, std::string("USMT Completed at ") + when, 0);
  if (summary_.empty()) return;
  std::vector<std::pair<int, const SummaryRow*>> rows;
  for (const auto& [code, row] : summary_) rows.emplace_back(code, &row);
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second->order < b.second->order;
  });
  std::fprintf(
      f_,
      "----------------------------------- USMT ERROR SUMMARY "
      "-----------------------------------\n"
      "* One or more errors were encountered in migration (ordered by first "
      "occurence)\n"
      "%s\n| Error Code | Caused Abort | Recurrence | First Occurence\n%s\n",
      kRule, kRule);
  for (const auto& [code, row] : rows) {
    std::fprintf(f_, "| %-10d | %-12s | %-10zu | %s\n", code,
                 row->caused_abort ? "Yes" : "No", row->recurrence,
                 row->first.c_str());
  }
  std::fprintf(f_, "%s\n", kRule);
  std::fflush(f_);
}

Result<std::unique_ptr<UsmtProgressLog>> UsmtProgressLog::Open(
    const std::string& path) {
  MIGSTORE_ASSIGN_OR_RETURN(std::FILE * f, OpenAppend(path));
  return std::unique_ptr<UsmtProgressLog>(new UsmtProgressLog(f));
}

UsmtProgressLog::~UsmtProgressLog() { std::fclose(f_); }

void UsmtProgressLog::Write(
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::lock_guard<std::mutex> lock(mu_);
  struct tm tm = LocalNow();
  char stamp[40];
  std::strftime(stamp, sizeof(stamp), "%d %b %Y, %H:%M:%S", &tm);
  // UTC offset as +HH:MM; offsets stay within a day.
  const int off = static_cast<int>(tm.tm_gmtoff / 60) % (24 * 60);
  char zone[16];
  std::snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+',
                std::abs(off) / 60, std::abs(off) % 60);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::steady_clock::now() - start_)
                  .count();
  std::fprintf(f_, "%s %s, %02lld:%02lld:%02lld", stamp, zone,
               static_cast<long long>(secs / 3600),
               static_cast<long long>(secs / 60 % 60),
               static_cast<long long>(secs % 60));
  for (const auto& [k, v] : pairs)
    std::fprintf(f_, ", %s, %s", k.c_str(), v.c_str());
  std::fputc('\n', f_);
  std::fflush(f_);
}

}  // namespace migstore
