// The catalog's records (docs/format.md "Catalog"): what a store says about
// the users it holds and every file, directory, symlink and fifo it captured.
//
// Entries are keyed by (profile, path). `path` is relative to the capture
// root ("home/alice/Documents/a.txt"), '/'-separated, and raw bytes: any byte
// but NUL, valid UTF-8 or not, so a name survives exactly. File contents are
// Content records, numbered in a separate table, so identical files share
// one (deduplication) and hard-linked files share one and a link group.
//
// Thread safety: plain values.

#ifndef MIGSTORE_FORMAT_CATALOG_H_
#define MIGSTORE_FORMAT_CATALOG_H_

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace migstore::format {

enum class EntryType : uint8_t {
  kFile = 1,
  kDirectory = 2,
  kSymlink = 3,
  kFifo = 4,
};

struct Xattr {
  std::string name;   // "user.x", "system.posix_acl_access", ...
  std::string value;  // raw bytes
  friend bool operator==(const Xattr&, const Xattr&) = default;
};

// Profile numbers in entries: 0 is "no profile" (a system-wide location such
// as a common Start Menu); 1..N are the profile table's entries in order.
inline constexpr uint32_t kNoProfile = 0;

// What few entries have, kept out of line (EntryExtras below).
struct EntryExtra {
  std::string symlink_target;  // symlinks only; raw bytes
  std::vector<Xattr> xattrs;   // in the order read; ACLs are xattrs
  friend bool operator==(const EntryExtra&, const EntryExtra&) = default;
};

// An EntryExtra behind a pointer that is null while it is empty: copied
// deeply, compared by value. A restore holds every entry of a store at
// once; inline, the empty string and vector cost a million entries 56 MB
// (docs/performance.md, "Scaling").
class EntryExtras {
 public:
  EntryExtras() = default;
  EntryExtras(const EntryExtras& other)
      : p_(other.p_ ? std::make_unique<EntryExtra>(*other.p_) : nullptr) {}
  EntryExtras& operator=(const EntryExtras& other) {
    EntryExtras copy(other);
    p_ = std::move(copy.p_);
    return *this;
  }
  EntryExtras(EntryExtras&&) noexcept = default;
  EntryExtras& operator=(EntryExtras&&) noexcept = default;

  const EntryExtra& get() const {
    static const EntryExtra kNone;
    return p_ ? *p_ : kNone;
  }
  EntryExtra& mutable_get() {
    if (!p_) p_ = std::make_unique<EntryExtra>();
    return *p_;
  }
  friend bool operator==(const EntryExtras& a, const EntryExtras& b) {
    return a.get() == b.get();
  }

 private:
  std::unique_ptr<EntryExtra> p_;
};

struct Entry {
  uint32_t profile = kNoProfile;
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits, setuid/setgid/sticky: st_mode & 07777
  uint32_t uid = 0;
  uint32_t gid = 0;
  // File attribute flags (chattr flags on Linux, FILE_ATTRIBUTE_* bits from a
  // Windows volume); absent when none were read.
  std::optional<uint32_t> attributes;
  std::string path;
  int64_t mtime_ns = 0;  // nanoseconds since the Unix epoch
  std::optional<int64_t> atime_ns;
  std::optional<int64_t>
      ctime_ns;  // recorded for change detection; not restorable
  std::optional<int64_t> btime_ns;  // birth time where the filesystem has one
  // Files: logical size in bytes (holes included). Symlinks: target length.
  uint64_t size = 0;
  // Files with at least one byte of data: the Content record number.
  std::optional<uint64_t> content;
  // Non-zero for files that were hard links of each other inside the
  // capture; every member of a group has the same number and content.
  uint64_t link_group = 0;
  // Catalogs with external content only (ContentLocation::kExternal): the
  // inode number of the file that holds the entry's content outside the
  // container, as it was when captured, so a reader can tell a replaced
  // file from the one captured. Absent in containers.
  std::optional<uint64_t> inode;
  EntryExtras extra;  // symlink_target(), xattrs()

  const std::string& symlink_target() const {
    return extra.get().symlink_target;
  }
  const std::vector<Xattr>& xattrs() const { return extra.get().xattrs; }
  // Setting an empty value to an entry without extras allocates nothing.
  void set_symlink_target(std::string target) {
    if (!target.empty() || !symlink_target().empty())
      extra.mutable_get().symlink_target = std::move(target);
  }
  void set_xattrs(std::vector<Xattr> list) {
    if (!list.empty() || !xattrs().empty())
      extra.mutable_get().xattrs = std::move(list);
  }
  std::vector<Xattr>& mutable_xattrs() { return extra.mutable_get().xattrs; }

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Where a piece of content lives: `length` bytes at `offset` inside the
// plain contents of data block `block`.
struct Chunk {
  uint64_t block = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  friend bool operator==(const Chunk&, const Chunk&) = default;
};

// A range of a sparse file that holds data; everything else is a hole.
struct DataRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  friend auto operator<=>(const DataRange&, const DataRange&) = default;
};

using Hash128 = std::array<unsigned char, 16>;

struct Content {
  uint64_t size = 0;  // logical size, holes included
  // XXH3-128 of the stored bytes (the data ranges' bytes, in order), in
  // xxHash's canonical big-endian form: checked on every read.
  Hash128 hash{};
  // false: the file is dense and its stored bytes are the whole file.
  // true: `ranges` lists the parts that hold data (ascending, disjoint, maybe
  // none at all); the rest are holes, and only the ranges' bytes are stored.
  bool sparse = false;
  std::vector<DataRange> ranges;
  // The stored bytes, in order, as pieces of data blocks.
  std::vector<Chunk> chunks;

  // Stored bytes: the sum of the chunks' lengths.
  uint64_t stored_size() const;
  friend bool operator==(const Content&, const Content&) = default;
};

// Where the contents of a catalog's files live (docs/format.md "Header",
// required feature bit 1). kInContainer: in the container's data blocks,
// through content records; a file with data has a content number.
// kExternal: outside the container, at a place the application derives
// from the entry's path (a hard-link store's links); file entries have no
// content number, may carry `inode`, and the container has no data blocks
// and no content records.
enum class ContentLocation : uint8_t { kInContainer, kExternal };

enum class Layout : uint8_t { kUnknown = 0, kLinux = 1, kWindows = 2 };

struct Profile {
  std::string name;  // user name
  std::string home;  // root-relative profile directory
  Layout layout = Layout::kUnknown;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string sid;  // Windows SID when known
  int64_t last_use_ns = 0;
  // Known folders: ("DOCUMENTS", "home/alice/Documents"), ...
  std::vector<std::pair<std::string, std::string>> folders;
  friend bool operator==(const Profile&, const Profile&) = default;
};

// Orders entries as the catalog stores them: by profile, then path bytes.
inline bool EntryKeyLess(uint32_t pa, std::string_view a, uint32_t pb,
                         std::string_view b) {
  return pa != pb ? pa < pb : a < b;
}

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_CATALOG_H_
