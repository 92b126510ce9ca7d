// Reporter: the one door through which a run (capture, restore, extract,
// verify) talks to its observer. The work runs on many threads; the
// observer is promised calls from one thread at a time, so every call is
// serialised here. Progress is throttled to ten updates a second (phase
// changes always go through), and cancellation is polled with it.
//
// Thread safety: every method may be called from any thread.

#ifndef MIGSTORE_ENGINE_SRC_REPORT_REPORTER_H_
#define MIGSTORE_ENGINE_SRC_REPORT_REPORTER_H_

#include <atomic>
#include <chrono>
#include <mutex>

#include "migstore/file_issue.h"
#include "migstore/progress.h"

namespace migstore::report {

// `Observer` has OnProgress(const Progress&), OnFileError(const FileIssue&),
// OnNote(const FileNote&) and ShouldCancel().
template <typename Observer>
class Reporter {
 public:
  using Clock = std::chrono::steady_clock;

  Reporter(Observer* observer, Clock::time_point start)
      : observer_(observer), start_(start) {}

  void Phase(const char* phase) {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.phase = phase;
    EmitLocked(true);
  }
  void SetTotals(uint64_t files, uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.files_total = files;
    progress_.bytes_total = bytes;
  }
  void Add(uint64_t bytes, uint64_t files) {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.bytes_done += bytes;
    progress_.files_done += files;
    EmitLocked(false);
  }
  // Emits progress if it is due, polls for cancellation; true when cancelled.
  bool Poll() {
    if (cancelled()) return true;
    std::lock_guard<std::mutex> lock(mu_);
    EmitLocked(false);
    return cancelled();
  }
  void Error(const FileIssue& issue) {
    Notify([&](Observer& o) { o.OnFileError(issue); });
  }
  void Note(const FileNote& note) {
    Notify([&](Observer& o) { o.OnNote(note); });
  }
  // Any other observer call, serialised with the rest.
  template <typename F>
  void Notify(F&& call) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_ != nullptr) call(*observer_);
  }

  const std::atomic<bool>* cancel_flag() const { return &cancel_; }
  bool cancelled() const { return cancel_.load(std::memory_order_relaxed); }

 private:
  void EmitLocked(bool force) {
    if (observer_ == nullptr) return;
    auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    progress_.seconds = std::chrono::duration<double>(now - start_).count();
    observer_->OnProgress(progress_);
    if (observer_->ShouldCancel()) cancel_.store(true);
  }

  Observer* observer_;
  Clock::time_point start_;
  Clock::time_point last_{};
  std::mutex mu_;
  Progress progress_;
  std::atomic<bool> cancel_{false};
};

}  // namespace migstore::report

#endif  // MIGSTORE_ENGINE_SRC_REPORT_REPORTER_H_
