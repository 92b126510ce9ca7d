#include "engine/src/fs/open_beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace migstore::fs {
namespace {

thread_local int last_errno = 0;
// Cleared the first time the kernel says it has no openat2.
std::atomic<bool> have_openat2{true};

bool ValidRelative(std::string_view p) {
  if (p.empty()) return true;
  if (p.front() == '/' || p.back() == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// Component by component: every step O_NOFOLLOW, every intermediate step a
// directory opened with O_PATH.
int OpenByComponents(int dir_fd, std::string_view p, int flags, unsigned mode) {
  if (p.empty()) return ::openat(dir_fd, ".", flags, mode);
  int cur = dir_fd;
  UniqueFd owned;
  size_t start = 0;
  for (;;) {
    size_t end = p.find('/', start);
    std::string part(
        p.substr(start, end == std::string_view::npos ? p.npos : end - start));
    if (end == std::string_view::npos)
      return ::openat(cur, part.c_str(), flags, mode);
    int next = ::openat(cur, part.c_str(),
                        O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return -1;
    owned.reset(next);
    cur = next;
    start = end + 1;
  }
}

}  // namespace

int LastOpenErrno() { return last_errno; }

Result<UniqueFd> OpenBeneath(int dir_fd, std::string_view relative, int flags,
                             unsigned mode) {
  last_errno = 0;
  if (!ValidRelative(relative)) {
    last_errno = EINVAL;
    return Status::InvalidArgument("unsafe path", std::string(relative));
  }
  flags |= O_CLOEXEC | O_NOFOLLOW;
  int fd = -1;
  if (have_openat2.load(std::memory_order_relaxed)) {
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags);
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    std::string path =
        relative.empty() ? std::string(".") : std::string(relative);
    do {
      fd = static_cast<int>(
          ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof(how)));
    } while (fd < 0 && (errno == EAGAIN || errno == EINTR));
    if (fd < 0 && errno == ENOSYS)
      have_openat2.store(false, std::memory_order_relaxed);
  }
  if (!have_openat2.load(std::memory_order_relaxed)) {
    fd = OpenByComponents(dir_fd, relative, flags, mode);
  }
  if (fd < 0) {
    last_errno = errno;
    return Status::FromErrno(
        "cannot open " + std::string(relative.empty() ? "." : relative),
        last_errno);
  }
  return UniqueFd(fd);
}

}  // namespace migstore::fs
