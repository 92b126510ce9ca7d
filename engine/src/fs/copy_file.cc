#include "engine/src/fs/copy_file.h"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

namespace migstore::fs {
namespace {

// Copies [offset, offset + length) of src to the same place in dst.
Status CopyRange(int src, int dst, uint64_t offset, uint64_t length,
                 const std::string& what, bool* use_copy_range) {
  uint64_t done = 0;
  while (done < length && *use_copy_range) {
    off_t in = static_cast<off_t>(offset + done);
    off_t out = in;
    size_t want = static_cast<size_t>(
        std::min<uint64_t>(length - done, uint64_t{1} << 30));
    ssize_t n = ::copy_file_range(src, &in, dst, &out, want, 0);
    if (n > 0) {
      done += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {
      return Status::IOError("cannot copy " + what,
                             "it shrank while it was copied");
    }
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
        errno == EOPNOTSUPP || errno == EBADF) {
      *use_copy_range = false;  // the rest with read and write
      break;
    }
    return Status::FromErrno("cannot copy " + what, errno);
  }
  std::string buf;
  while (done < length) {
    if (buf.empty()) buf.resize(1 << 20);
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(length - done, buf.size()));
    ssize_t n =
        ::pread(src, buf.data(), want, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot read " + what, errno);
    }
    if (n == 0) {
      return Status::IOError("cannot copy " + what,
                             "it shrank while it was copied");
    }
    size_t written = 0;
    while (written < static_cast<size_t>(n)) {
      ssize_t w =
          ::pwrite(dst, buf.data() + written, static_cast<size_t>(n) - written,
                   static_cast<off_t>(offset + done + written));
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno("cannot write the copy of " + what, errno);
      }
      written += static_cast<size_t>(w);
    }
    done += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

}  // namespace

Status CopyFileData(int src, int dst, uint64_t size, const std::string& what,
                    uint64_t* copied) {
  *copied = 0;
  bool use_copy_range = true;
  uint64_t at = 0;
  while (at < size) {
    off_t data = ::lseek(src, static_cast<off_t>(at), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole from here on
      if (errno == EINVAL) {      // no SEEK_DATA here: copy it all
        MIGSTORE_RETURN_IF_ERROR(
            CopyRange(src, dst, at, size - at, what, &use_copy_range));
        *copied += size - at;
        at = size;
        break;
      }
      return Status::FromErrno("cannot read " + what, errno);
    }
    uint64_t start = static_cast<uint64_t>(data);
    if (start >= size) break;
    off_t hole = ::lseek(src, data, SEEK_HOLE);
    uint64_t end =
        hole < 0 ? size : std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    if (end <= start) end = size;
    MIGSTORE_RETURN_IF_ERROR(
        CopyRange(src, dst, start, end - start, what, &use_copy_range));
    *copied += end - start;
    at = end;
  }
  if (::ftruncate(dst, static_cast<off_t>(size)) != 0) {
    return Status::FromErrno("cannot set the size of the copy of " + what,
                             errno);
  }
  return Status::OK();
}

Status CopyXattrs(
    int src, int dst, const std::string& what,
    const std::function<void(const std::string& name, int err)>& refused,
    const char* leave_out) {
  std::string names(1024, '\0');
  ssize_t n;
  for (;;) {
    n = ::flistxattr(src, names.data(), names.size());
    if (n >= 0) break;
    if (errno == ERANGE) {
      names.resize(names.size() * 4);
      continue;
    }
    if (errno == ENOTSUP) return Status::OK();
    return Status::FromErrno("cannot list the extended attributes of " + what,
                             errno);
  }
  names.resize(static_cast<size_t>(n));
  std::string value;
  for (size_t start = 0; start < names.size();) {
    size_t end = names.find('\0', start);
    if (end == std::string::npos) end = names.size();
    const std::string name = names.substr(start, end - start);
    start = end + 1;
    if (name.empty() || (leave_out != nullptr && name == leave_out)) continue;
    ssize_t v = ::fgetxattr(src, name.c_str(), nullptr, 0);
    if (v < 0) {
      if (errno == ENODATA) continue;  // removed since it was listed
      return Status::FromErrno(
          "cannot read extended attribute " + name + " of " + what, errno);
    }
    value.resize(static_cast<size_t>(v));
    v = ::fgetxattr(src, name.c_str(), value.data(), value.size());
    if (v < 0) {
      if (errno == ENODATA) continue;
      return Status::FromErrno(
          "cannot read extended attribute " + name + " of " + what, errno);
    }
    value.resize(static_cast<size_t>(v));
    if (::fsetxattr(dst, name.c_str(), value.data(), value.size(), 0) != 0) {
      int err = errno;
      if (err == ENOTSUP || err == EOPNOTSUPP || err == EPERM ||
          err == EACCES) {
        refused(name, err);
        continue;
      }
      return Status::FromErrno(
          "cannot set extended attribute " + name + " on the copy of " + what,
          err);
    }
  }
  return Status::OK();
}

}  // namespace migstore::fs
