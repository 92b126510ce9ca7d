// An owned file descriptor, closed on destruction. The one fd owner every
// layer uses (format/ included: engine/base is below everything, see
// docs/design.md, "Layers").
//
// Thread safety: like an int; one UniqueFd is not shared between threads
// while it is moved or reset.

#ifndef MIGSTORE_ENGINE_BASE_UNIQUE_FD_H_
#define MIGSTORE_ENGINE_BASE_UNIQUE_FD_H_

#include <unistd.h>

namespace migstore {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the descriptor held, if any, and holds `fd`. close()'s error is
  // not reported: data that must be durable is fsync()ed before.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace migstore

#endif  // MIGSTORE_ENGINE_BASE_UNIQUE_FD_H_
