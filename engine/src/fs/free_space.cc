#include "engine/src/fs/free_space.h"

#include <sys/statvfs.h>

#include <cerrno>

namespace migstore::fs {
namespace {

std::string Mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

Status CheckFreeSpace(const std::string& path, uint64_t min_bytes,
                      const std::string& what) {
  if (min_bytes == 0) return Status::OK();
  std::string at = path.empty() ? "." : path;
  struct statvfs fs {};
  while (::statvfs(at.c_str(), &fs) != 0) {
    if (errno != ENOENT && errno != ENOTDIR)
      return Status::FromErrno("cannot tell the free space of " + at, errno);
    const size_t slash = at.find_last_of('/');
    if (slash == std::string::npos) {
      at = ".";
    } else if (slash == 0) {
      at = "/";
    } else {
      at.resize(slash);
    }
  }
  const uint64_t free_bytes =
      static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
  if (free_bytes >= min_bytes) return Status::OK();
  return Status::NoSpace(what + " " + path,
                         Mib(free_bytes) +
                             " free on its filesystem, below "
                             "the " +
                             Mib(min_bytes) +
                             " --min-free asks for; "
                             "nothing was written");
}

}  // namespace migstore::fs
