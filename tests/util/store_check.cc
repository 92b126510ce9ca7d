#include "tests/util/store_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

namespace migstore::testing {
namespace {

int64_t Nanos(const struct timespec& t) {
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

std::string CheckEntry(const format::ContainerReader& r, const format::Entry& e,
                       const std::string& root, StoreCheck* out,
                       format::BlockCache* cache) {
  const std::string path = root + "/" + e.path;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return "missing at the source";
  using format::EntryType;
  EntryType type = S_ISREG(st.st_mode)    ? EntryType::kFile
                   : S_ISDIR(st.st_mode)  ? EntryType::kDirectory
                   : S_ISLNK(st.st_mode)  ? EntryType::kSymlink
                   : S_ISFIFO(st.st_mode) ? EntryType::kFifo
                                          : static_cast<EntryType>(0);
  if (type != e.type) return "type differs";
  if ((st.st_mode & 07777) != e.mode) return "mode differs";
  if (st.st_uid != e.uid || st.st_gid != e.gid) return "owner differs";
  if (e.type != EntryType::kDirectory && Nanos(st.st_mtim) != e.mtime_ns)
    return "mtime differs";
  if (e.type == EntryType::kSymlink) {
    std::string target(4096, '\0');
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    target.resize(n < 0 ? 0 : static_cast<size_t>(n));
    if (target != e.symlink_target()) return "symlink target differs";
    return "";
  }
  for (const format::Xattr& x : e.xattrs()) {
    std::string v(65536, '\0');
    ssize_t n = ::lgetxattr(path.c_str(), x.name.c_str(), v.data(), v.size());
    if (n < 0 || std::string(v.data(), static_cast<size_t>(n)) != x.value) {
      return "xattr " + x.name + " differs";
    }
  }
  if (e.type != EntryType::kFile) return "";
  ++out->files;
  if (static_cast<uint64_t>(st.st_size) != e.size) return "size differs";
  if (!e.content) return e.size == 0 ? "" : "no content";
  auto c = r.ReadContentFor(e);
  if (!c.ok()) return c.status().ToString();
  if (c->sparse) ++out->sparse_contents;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open the source";
  // Walk the stored bytes and the source's data ranges together.
  const std::vector<format::DataRange> whole = {{0, c->size}};
  const auto& ranges = c->sparse ? c->ranges : whole;
  size_t range = 0;
  uint64_t in_range = 0;
  std::string src;
  std::string mismatch;
  Status s = r.ReadContentData(
      *c,
      [&](std::string_view piece) {
        while (!piece.empty() && mismatch.empty()) {
          const format::DataRange& rg = ranges[range];
          size_t n = static_cast<size_t>(
              std::min<uint64_t>(piece.size(), rg.length - in_range));
          src.resize(n);
          if (::pread(fd, src.data(), n,
                      static_cast<off_t>(rg.offset + in_range)) !=
                  static_cast<ssize_t>(n) ||
              std::memcmp(src.data(), piece.data(), n) != 0) {
            mismatch = "bytes differ near offset " +
                       std::to_string(rg.offset + in_range);
          }
          piece.remove_prefix(n);
          in_range += n;
          if (in_range == rg.length) {
            ++range;
            in_range = 0;
          }
        }
        return Status::OK();
      },
      cache);
  // Holes in the store must be zeros at the source.
  if (mismatch.empty() && s.ok() && c->sparse) {
    uint64_t pos = 0;
    std::string zeros;
    for (size_t i = 0; i <= ranges.size() && mismatch.empty(); ++i) {
      uint64_t end = i < ranges.size() ? ranges[i].offset : c->size;
      for (uint64_t at = pos; at < end && mismatch.empty();) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(end - at, 1 << 20));
        src.resize(n);
        zeros.assign(n, '\0');
        if (::pread(fd, src.data(), n, static_cast<off_t>(at)) !=
                static_cast<ssize_t>(n) ||
            src != zeros) {
          mismatch = "a hole is not zeros at the source";
        }
        at += n;
      }
      if (i < ranges.size()) pos = ranges[i].offset + ranges[i].length;
    }
  }
  ::close(fd);
  if (!s.ok()) return s.ToString();
  return mismatch;
}

}  // namespace

StoreCheck CheckStoreAgainstTree(const format::ContainerReader& r,
                                 const std::string& root) {
  StoreCheck out;
  format::BlockCache cache;
  for (size_t i = 0; i < r.index().catalog_segments.size(); ++i) {
    auto entries = r.ReadCatalogSegment(i);
    if (!entries.ok()) {
      out.first_mismatch = entries.status().ToString();
      return out;
    }
    for (const format::Entry& e : *entries) {
      out.paths.insert(e.path);
      std::string why = CheckEntry(r, e, root, &out, &cache);
      if (!why.empty() && out.first_mismatch.empty())
        out.first_mismatch = e.path + ": " + why;
    }
  }
  return out;
}

}  // namespace migstore::testing
