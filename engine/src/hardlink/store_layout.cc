#include "engine/src/hardlink/store_layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "format/file_io.h"

namespace migstore::hardlink {
namespace {

constexpr std::string_view kFirstLine = "migstore-hardlink-store ";
constexpr std::string_view kIdPrefix = "store-id ";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string StoreIdHex(const format::StoreId& id) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : id) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string EncodeMarker(const format::StoreId& id) {
  std::string out(kFirstLine);
  out += std::to_string(kLayoutVersion);
  out += '\n';
  out += kIdPrefix;
  out += StoreIdHex(id);
  out += '\n';
  return out;
}

Result<format::StoreId> DecodeMarker(std::string_view b) {
  if (b.substr(0, kFirstLine.size()) != kFirstLine) {
    return Status::NotAStore("no migstore hard-link store marker");
  }
  b.remove_prefix(kFirstLine.size());
  size_t nl = b.find('\n');
  if (nl == std::string_view::npos || nl == 0 || nl > 9) {
    return Status::NotAStore("malformed hard-link store marker");
  }
  int version = 0;
  for (char c : b.substr(0, nl)) {
    if (c < '0' || c > '9') {
      return Status::NotAStore("malformed hard-link store marker");
    }
    version = version * 10 + (c - '0');
  }
  if (version > kLayoutVersion) {
    return Status::UnsupportedVersion(
        "hard-link store layout " + std::to_string(version),
        "this build reads layout " + std::to_string(kLayoutVersion) +
            "; use a newer migstore");
  }
  if (version < 1) return Status::NotAStore("malformed hard-link store marker");
  b.remove_prefix(nl + 1);
  format::StoreId id{};
  if (b.size() != kIdPrefix.size() + 2 * id.size() + 1 ||
      b.substr(0, kIdPrefix.size()) != kIdPrefix || b.back() != '\n') {
    return Status::NotAStore("malformed hard-link store marker");
  }
  b.remove_prefix(kIdPrefix.size());
  for (size_t i = 0; i < id.size(); ++i) {
    int hi = HexValue(b[2 * i]), lo = HexValue(b[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::NotAStore("malformed hard-link store marker");
    }
    id[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return id;
}

Result<format::StoreId> ReadMarker(int dir_fd, const std::string& what) {
  int fd = ::openat(dir_fd, kMarkerName,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ELOOP) {
      return Status::NotAStore(
          what, "is a directory but not a migstore hard-link store (no " +
                    std::string(kMarkerName) + " marker)");
    }
    return Status::FromErrno("cannot open the marker of " + what, err);
  }
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return Status::FromErrno("cannot stat the marker of " + what, errno);
  }
  if (!S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > kMaxMarkerBytes) {
    return Status::NotAStore(what, "has no valid hard-link store marker");
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  MIGSTORE_ASSIGN_OR_RETURN(
      size_t n, format::PreadFull(fd, 0, bytes.size(), bytes.data(), what));
  bytes.resize(n);
  auto id = DecodeMarker(bytes);
  if (!id.ok()) return id.status().WithContext(what);
  return id;
}

bool IsCatalogTemporary(std::string_view name) {
  const std::string prefix = std::string(".") + kCatalogName + ".migtmp-";
  return name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix;
}

}  // namespace migstore::hardlink
