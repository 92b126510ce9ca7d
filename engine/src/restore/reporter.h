// Every observer call of a restore, extract or verify goes through here:
// serialised (the work runs on many threads), progress throttled to a few
// calls a second, and the place cancellation is polled.
//
// Thread safety: every method may be called from any thread.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_REPORTER_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_REPORTER_H_

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "migstore/restore.h"

namespace migstore::restore {

class Reporter {
 public:
  using Clock = std::chrono::steady_clock;

  Reporter(RestoreObserver* observer, Clock::time_point start)
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
  void Error(const FileIssue& issue) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_ != nullptr) observer_->OnFileError(issue);
  }
  void Note(const FileNote& note) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_ != nullptr) observer_->OnNote(note);
  }
  void Users(const std::vector<RestoreUser>& users) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_ != nullptr) observer_->OnUsers(users);
  }
  void Planned(const PlannedEntry& entry) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_ != nullptr) observer_->OnPlanned(entry);
  }
  void Verified(const std::string& path, const Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_ != nullptr) observer_->OnVerified(path, status);
  }
  // Polls the observer at most every 100 ms.
  bool Cancelled() {
    if (cancel_.load(std::memory_order_relaxed)) return true;
    std::lock_guard<std::mutex> lock(mu_);
    EmitLocked(false);
    return cancel_.load(std::memory_order_relaxed);
  }
  bool cancelled() const { return cancel_.load(); }

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

  RestoreObserver* observer_;
  Clock::time_point start_;
  Clock::time_point last_{};
  std::mutex mu_;
  RestoreProgress progress_;
  std::atomic<bool> cancel_{false};
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_REPORTER_H_
