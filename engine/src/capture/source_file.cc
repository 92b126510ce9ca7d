#include "engine/src/capture/source_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "engine/base/time_ns.h"
#include "engine/src/fs/open_beneath.h"
#include "format/file_io.h"
#include "format/hash.h"

namespace migstore::capture {
namespace {

Snapshot ToSnapshot(const struct stat& st) {
  Snapshot s;
  s.size = static_cast<uint64_t>(st.st_size);
  s.blocks = static_cast<uint64_t>(st.st_blocks);
  s.mtime_ns = NanosFrom(st.st_mtim);
  s.ctime_ns = NanosFrom(st.st_ctim);
  return s;
}

}  // namespace

int64_t NowNs() {
  struct timespec t;
  ::clock_gettime(CLOCK_REALTIME, &t);
  return NanosFrom(t);
}

Result<format::Hash128> HashStored(
    const SourceFile& file, uint64_t size,
    const std::optional<std::vector<format::DataRange>>& ranges) {
  format::ContentHasher hasher;
  const std::vector<format::DataRange> whole = {{0, size}};
  std::string buf;
  for (const format::DataRange& r : ranges ? *ranges : whole) {
    for (uint64_t at = 0; at < r.length;) {
      size_t n = static_cast<size_t>(
          std::min<uint64_t>(uint64_t{4} << 20, r.length - at));
      buf.resize(n);
      MIGSTORE_RETURN_IF_ERROR(file.ReadAt(r.offset + at, n, buf.data()));
      hasher.Update(buf);
      at += n;
    }
  }
  return hasher.Digest();
}

uint64_t StoredSize(
    uint64_t size,
    const std::optional<std::vector<format::DataRange>>& ranges) {
  if (!ranges) return size;
  uint64_t n = 0;
  for (const format::DataRange& r : *ranges) n += r.length;
  return n;
}

Result<SourceFile> SourceFile::Open(int root_fd, const WalkedEntry& walked) {
  // O_NOATIME keeps a capture from changing what it reads; only the owner
  // (or a capable process) may ask for it, so fall back without it.
  auto fd = fs::OpenBeneath(root_fd, walked.path, O_RDONLY | O_NOATIME);
  if (!fd.ok() && fs::LastOpenErrno() == EPERM) {
    fd = fs::OpenBeneath(root_fd, walked.path, O_RDONLY);
  }
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0)
    return Status::FromErrno("cannot stat " + walked.path, errno);
  if (!S_ISREG(st.st_mode) || st.st_dev != walked.dev ||
      st.st_ino != walked.ino) {
    return Status::IOError(walked.path, "was replaced during the capture");
  }
  return SourceFile(std::move(fd).value(), walked.path, ToSnapshot(st));
}

Result<Snapshot> SourceFile::Stat() const {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0)
    return Status::FromErrno("cannot stat " + path_, errno);
  return ToSnapshot(st);
}

Result<std::optional<std::vector<format::DataRange>>> SourceFile::DataRanges(
    uint64_t size) const {
  std::vector<format::DataRange> ranges;
  uint64_t pos = 0;
  while (pos < size) {
    off_t data = ::lseek(fd_.get(), static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole remains
      if (errno == EINVAL || errno == ENOTSUP)
        return std::optional<std::vector<format::DataRange>>();
      return Status::FromErrno("cannot find the data of " + path_, errno);
    }
    off_t hole = ::lseek(fd_.get(), data, SEEK_HOLE);
    if (hole < 0)
      return Status::FromErrno("cannot find the holes of " + path_, errno);
    uint64_t begin = static_cast<uint64_t>(data);
    uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    if (begin >= size) break;
    if (end > begin) ranges.push_back({begin, end - begin});
    pos = end;
  }
  if (ranges.size() == 1 && ranges[0].offset == 0 && ranges[0].length == size) {
    return std::optional<std::vector<format::DataRange>>();  // dense after all
  }
  return std::optional<std::vector<format::DataRange>>(std::move(ranges));
}

Status SourceFile::ReadAt(uint64_t offset, size_t n, char* out) const {
  MIGSTORE_ASSIGN_OR_RETURN(
      size_t got, format::PreadFull(fd_.get(), offset, n, out, path_));
  if (got < n)
    return Status::IOError(path_, "became shorter while it was read");
  return Status::OK();
}

Status SourceFile::ReadStored(
    uint64_t size, const std::optional<std::vector<format::DataRange>>& ranges,
    std::string* out) const {
  out->resize(static_cast<size_t>(StoredSize(size, ranges)));
  if (!ranges) return ReadAt(0, out->size(), out->data());
  size_t at = 0;
  for (const format::DataRange& r : *ranges) {
    MIGSTORE_RETURN_IF_ERROR(
        ReadAt(r.offset, static_cast<size_t>(r.length), out->data() + at));
    at += static_cast<size_t>(r.length);
  }
  return Status::OK();
}

}  // namespace migstore::capture
