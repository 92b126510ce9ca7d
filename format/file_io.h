// Thin, checked wrappers over the POSIX calls the container needs: positional
// reads that count the bytes they read, whole writes, and directory fsync.
// Every failure becomes an IOError Status that names the file.
//
// RandomAccessFile is the local file's StoreSource (store_io.h).
//
// Thread safety: ReadAt on one RandomAccessFile may run from many threads at
// once (pread has no shared offset). A WritableFile is used by one thread.

#ifndef MIGSTORE_FORMAT_FILE_IO_H_
#define MIGSTORE_FORMAT_FILE_IO_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/unique_fd.h"
#include "format/store_io.h"
#include "migstore/result.h"
#include "migstore/status.h"

namespace migstore::format {

class RandomAccessFile final : public StoreSource {
 public:
  // Opens an existing regular file read-only. A directory or other
  // non-regular file gives NotAStore, since the only callers open stores.
  static Result<RandomAccessFile> Open(const std::string& path);
  // The same checks on a descriptor the caller opened (O_RDONLY; below a
  // directory handle, say, without following symlinks). `path` names it in
  // errors.
  static Result<RandomAccessFile> FromFd(UniqueFd fd, const std::string& path);

  RandomAccessFile(RandomAccessFile&& o) noexcept
      : fd_(std::move(o.fd_)),
        path_(std::move(o.path_)),
        size_(o.size_),
        bytes_read_(o.bytes_read_.load()) {}

  // Reads exactly n bytes at offset into out. A short read (the file ends
  // first) is Corruption: the caller asked for bytes the structure promised.
  Status ReadAt(uint64_t offset, size_t n, char* out) const override;

  uint64_t size() const override { return size_; }
  const std::string& name() const override { return path_; }
  const std::string& path() const { return path_; }
  uint64_t bytes_read() const override { return bytes_read_.load(); }

 private:
  RandomAccessFile(UniqueFd fd, std::string path, uint64_t size)
      : fd_(std::move(fd)), path_(std::move(path)), size_(size) {}

  UniqueFd fd_;
  std::string path_;
  uint64_t size_ = 0;
  mutable std::atomic<uint64_t> bytes_read_{0};
};

// Reads up to n bytes at offset into out, retrying short reads and EINTR,
// stopping only at the end of the file: the bytes read, or an IOError
// naming `what`.
Result<size_t> PreadFull(int fd, uint64_t offset, size_t n, char* out,
                         std::string_view what);

// Writes all of data to fd, retrying short writes and EINTR.
Status WriteAll(int fd, std::string_view data, std::string_view what);

// fsync()s the directory holding `path`, so a rename into it is durable.
Status SyncParentDir(const std::string& path);

// Reads a whole small file (key files, rule files): at most max_bytes, more is
// InvalidArgument.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_FILE_IO_H_
