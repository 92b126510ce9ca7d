#include "engine/src/smp/storage.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>

#include "format/file_io.h"

namespace migstore::smp {
namespace {

constexpr size_t kHashBlock = 1 << 20;

std::string CommittedPath(const std::string& location, std::string_view id) {
  return location + "/" + std::string(id) + ".mig";
}

std::string PartialPath(const std::string& location, std::string_view id) {
  return CommittedPath(location, id) + ".part";
}

Status CheckId(std::string_view id) {
  if (Storage::IsStoreId(id)) return Status::OK();
  return Status::InvalidArgument("not a store id: " + std::string(id));
}

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

Result<std::string> Sha256OfFile(int fd, uint64_t size,
                                 const std::string& what) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(),
                                                         EVP_MD_CTX_free);
  if (ctx == nullptr ||
      EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Status::IOError("cannot hash " + what, "OpenSSL failed");
  std::string buf(kHashBlock, '\0');
  for (uint64_t at = 0; at < size;) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kHashBlock, size - at));
    MIGSTORE_ASSIGN_OR_RETURN(size_t got,
                              format::PreadFull(fd, at, n, buf.data(), what));
    if (got != n) return Status::Corruption(what, "shorter than it was");
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
    at += n;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return Hex(digest, len);
}

}  // namespace

bool Storage::IsStoreId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<Storage> Storage::Open(std::vector<StorageLocation> locations) {
  if (locations.empty())
    return Status::InvalidArgument("no storage folder given (--storage DIR)");
  for (const StorageLocation& l : locations) {
    if (l.path.empty() || l.path[0] != '/') {
      return Status::InvalidArgument("storage folder " + l.path,
                                     "must be an absolute path");
    }
    struct stat st;
    if (::stat(l.path.c_str(), &st) != 0)
      return Status::FromErrno("storage folder " + l.path, errno);
    if (!S_ISDIR(st.st_mode))
      return Status::InvalidArgument("storage folder " + l.path,
                                     "is not a folder");
    // A name of its own, made exclusively: two nodes starting at once on
    // a shared folder do not remove each other's probe, and a link planted
    // at a fixed name is not followed.
    std::string probe = l.path + "/.migstore-probe-XXXXXX";
    UniqueFd fd(::mkostemp(probe.data(), O_CLOEXEC));
    if (!fd.valid())
      return Status::FromErrno("storage folder " + l.path + " is not writable",
                               errno);
    ::unlink(probe.c_str());
  }
  return Storage(std::move(locations));
}

Result<uint64_t> Storage::FreeBytes(const std::string& location) const {
  struct statvfs vfs;
  if (::statvfs(location.c_str(), &vfs) != 0)
    return Status::FromErrno("storage folder " + location, errno);
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

Result<uint64_t> Storage::WritePartial(const std::string& location,
                                       std::string_view id, uint64_t offset,
                                       std::string_view data) const {
  MIGSTORE_RETURN_IF_ERROR(CheckId(id));
  const std::string path = PartialPath(location, id);
  const int flags =
      O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (offset == 0 ? O_TRUNC : 0);
  UniqueFd fd(::open(path.c_str(), flags, 0600));
  if (!fd.valid()) return Status::FromErrno("cannot open " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    return Status::FromErrno("cannot look at " + path, errno);
  const auto have = static_cast<uint64_t>(st.st_size);
  if (offset != have) {
    return Status::InvalidArgument("upload of store " + std::string(id),
                                   "bytes sent at " + std::to_string(offset) +
                                       " but " + std::to_string(have) +
                                       " were received: resume from there");
  }
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::pwrite(fd.get(), data.data() + done, data.size() - done,
                               static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot write " + path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return offset + data.size();
}

Result<uint64_t> Storage::PartialSize(const std::string& location,
                                      std::string_view id) const {
  MIGSTORE_RETURN_IF_ERROR(CheckId(id));
  const std::string path = PartialPath(location, id);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return uint64_t{0};
    return Status::FromErrno("cannot look at " + path, errno);
  }
  return static_cast<uint64_t>(st.st_size);
}

Status Storage::Publish(const std::string& location, std::string_view id,
                        uint64_t size, std::string_view sha256) const {
  MIGSTORE_RETURN_IF_ERROR(CheckId(id));
  const std::string path = PartialPath(location, id);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return Status::InvalidArgument("store " + std::string(id),
                                     "nothing was uploaded");
    }
    return Status::FromErrno("cannot open " + path, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    return Status::FromErrno("cannot look at " + path, errno);
  if (static_cast<uint64_t>(st.st_size) != size) {
    return Status::Corruption("upload of store " + std::string(id),
                              std::to_string(st.st_size) +
                                  " bytes arrived, the client sent " +
                                  std::to_string(size));
  }
  MIGSTORE_ASSIGN_OR_RETURN(std::string have,
                            Sha256OfFile(fd.get(), size, path));
  // Hex digits in either case name the same hash.
  if (!EqualsIgnoringCase(have, sha256)) {
    return Status::Corruption("upload of store " + std::string(id),
                              "the bytes that arrived are not the bytes the "
                              "client sent (SHA-256 differs)");
  }
  if (::fsync(fd.get()) != 0)
    return Status::FromErrno("cannot sync " + path, errno);
  const std::string final_path = CommittedPath(location, id);
  if (::rename(path.c_str(), final_path.c_str()) != 0)
    return Status::FromErrno("cannot publish " + final_path, errno);
  return format::SyncParentDir(final_path);
}

Result<StoreBytes> Storage::OpenCommitted(const std::string& location,
                                          std::string_view id) const {
  MIGSTORE_RETURN_IF_ERROR(CheckId(id));
  const std::string path = CommittedPath(location, id);
  StoreBytes out;
  out.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!out.fd.valid()) {
    if (errno == ENOENT) {
      return Status::NotFound("store " + std::string(id),
                              "its bytes are missing from " + location);
    }
    return Status::FromErrno("cannot open " + path, errno);
  }
  struct stat st;
  if (::fstat(out.fd.get(), &st) != 0)
    return Status::FromErrno("cannot look at " + path, errno);
  out.size = static_cast<uint64_t>(st.st_size);
  return out;
}

Status Storage::Remove(const std::string& location, std::string_view id) const {
  MIGSTORE_RETURN_IF_ERROR(CheckId(id));
  for (const std::string& path :
       {CommittedPath(location, id), PartialPath(location, id)}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Status::FromErrno("cannot remove " + path, errno);
  }
  return format::SyncParentDir(CommittedPath(location, id));
}

}  // namespace migstore::smp
