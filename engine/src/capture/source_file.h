// A source file opened for capture: read-only, below the root, never
// through a symlink, without touching its access time where permitted, and
// checked to be the regular file the walk saw (same device and inode).
//
// Consistency: a capture records a file as it was while it was read. The
// file's status is taken before reading and compared after; a difference in
// size, mtime or ctime means it changed under the read (the caller retries,
// then reports it).
//
// Thread safety: one SourceFile per thread; ReadAt is pread and may be
// called concurrently on one object.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_SOURCE_FILE_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_SOURCE_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/unique_fd.h"
#include "engine/src/capture/walk.h"
#include "format/catalog.h"
#include "migstore/result.h"

namespace migstore::capture {

// The parts of a file's status that tell whether its contents changed.
struct Snapshot {
  uint64_t size = 0;
  uint64_t blocks = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

class SourceFile {
 public:
  // IOError when it cannot be opened; Stopped-free: the caller applies the
  // per-file policy. A file that is no longer the walked one (replaced, or
  // not a regular file any more) is an IOError that says so.
  static Result<SourceFile> Open(int root_fd, const WalkedEntry& walked);

  Result<Snapshot> Stat() const;
  // The status Open() took to check the file is the walked one: a Stat()
  // from just before any read, without another system call.
  const Snapshot& opened() const { return opened_; }

  // The file's data ranges when it has holes: nullopt when it is dense (or
  // the filesystem does not report holes). `size` is the size to cover.
  Result<std::optional<std::vector<format::DataRange>>> DataRanges(
      uint64_t size) const;

  // Exactly n bytes at offset; a short read (the file shrank) is an IOError
  // saying so.
  Status ReadAt(uint64_t offset, size_t n, char* out) const;

  // Reads the stored bytes (the data ranges', or all) into *out.
  Status ReadStored(uint64_t size,
                    const std::optional<std::vector<format::DataRange>>& ranges,
                    std::string* out) const;

  const std::string& path() const { return path_; }

 private:
  SourceFile(UniqueFd fd, std::string path, const Snapshot& opened)
      : fd_(std::move(fd)), path_(std::move(path)), opened_(opened) {}

  UniqueFd fd_;
  std::string path_;
  Snapshot opened_;
};

// Timestamps are coarse (the kernel's clock ticks every few ms; FAT keeps
// 2 s), so a write during a read may leave size, mtime and ctime as they
// were. A file whose mtime or ctime is within this margin of the moment its
// read began is "hot": its bytes are verified by a second read.
inline constexpr int64_t kHotMarginNs = 2'000'000'000;
int64_t NowNs();
inline bool IsHot(const Snapshot& s, int64_t read_start_ns) {
  return s.mtime_ns > read_start_ns - kHotMarginNs ||
         s.ctime_ns > read_start_ns - kHotMarginNs;
}

// XXH3-128 of the stored bytes as they read now.
Result<format::Hash128> HashStored(
    const SourceFile& file, uint64_t size,
    const std::optional<std::vector<format::DataRange>>& ranges);

// The stored size of a file with these data ranges (or all of it).
uint64_t StoredSize(
    uint64_t size, const std::optional<std::vector<format::DataRange>>& ranges);

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_SOURCE_FILE_H_
