#include "format/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace migstore::format {

Result<RandomAccessFile> RandomAccessFile::Open(const std::string& path) {
  // O_NONBLOCK: opening a fifo must not wait for a writer; it is refused
  // below as not a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("no such store", path);
    return Status::FromErrno("cannot open " + path, err);
  }
  return FromFd(UniqueFd(fd), path);
}

Result<RandomAccessFile> RandomAccessFile::FromFd(UniqueFd owned,
                                                  const std::string& path) {
  const int fd = owned.get();
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return Status::FromErrno("cannot stat " + path, errno);
  if (S_ISDIR(st.st_mode)) {
    return Status::NotAStore(path, "is a directory, not a store file");
  }
  if (!S_ISREG(st.st_mode))
    return Status::NotAStore(path, "is not a regular file");
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return RandomAccessFile(std::move(owned), path,
                          static_cast<uint64_t>(st.st_size));
}

Result<size_t> PreadFull(int fd, uint64_t offset, size_t n, char* out,
                         std::string_view what) {
  size_t done = 0;
  while (done < n) {
    ssize_t r =
        ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(std::string("read failed on ").append(what),
                               errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

Status RandomAccessFile::ReadAt(uint64_t offset, size_t n, char* out) const {
  MIGSTORE_ASSIGN_OR_RETURN(size_t got,
                            PreadFull(fd_.get(), offset, n, out, path_));
  if (got < n)
    return Status::Corruption(path_, "file ends before the data it promises");
  bytes_read_.fetch_add(n, std::memory_order_relaxed);
  return Status::OK();
}

Status WriteAll(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(std::string("write failed on ").append(what),
                               errno);
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::OK();
}

Status SyncParentDir(const std::string& path) {
  std::string dir = ".";
  size_t slash = path.rfind('/');
  if (slash == 0) {
    dir = "/";
  } else if (slash != std::string::npos) {
    dir = path.substr(0, slash);
  }
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open directory " + dir, errno);
  UniqueFd owned(fd);
  if (::fsync(fd) != 0)
    return Status::FromErrno("fsync failed on " + dir, errno);
  return Status::OK();
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  UniqueFd owned(fd);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot read " + path, errno);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
    if (out.size() > max_bytes) {
      return Status::InvalidArgument(path, "file is larger than expected");
    }
  }
  return out;
}

}  // namespace migstore::format
