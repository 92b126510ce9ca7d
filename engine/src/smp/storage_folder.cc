// A storage folder (storage.h): `F/ID.mig.part` while a store is uploaded,
// `F/ID.mig` once it is published; nothing written outside F, and no link
// planted in F followed.
//
// The commit's cost is kept off the end of the upload (docs/smp.md,
// "Uploads"): each chunk is hashed as it is written and its write-back to
// the disk is started at once, so that publishing needs neither to read
// the whole partial back nor to wait for all of it to reach the disk.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "engine/base/unique_fd.h"
#include "engine/src/smp/location_store.h"
#include "format/file_io.h"

namespace migstore::smp {
namespace {

// What a partial looked like after this process last wrote it: when it
// still looks so, nobody else (another node on a shared folder, a restart
// of this one) has written it since.
struct PartialLook {
  uint64_t size = 0;
  ino_t inode = 0;
  int64_t mtime_ns = 0;
  bool operator==(const PartialLook&) const = default;
};

PartialLook LookOf(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_size), st.st_ino,
          int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
}

// The SHA-256 of each partial's bytes as this process wrote them, from its
// first byte on. A partial this process did not write from the start (it
// restarted, or another node wrote part of it) has none, and its commit
// reads it back instead.
class RunningHashes {
 public:
  // `data` was written at `offset` of `id`'s partial, which looked like
  // `before` just before and `after` just after.
  void Wrote(std::string_view id, uint64_t offset, std::string_view data,
             const PartialLook& before, const PartialLook& after) {
    std::shared_ptr<Entry> e;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (offset == 0) {
        // A fresh partial, as this write found it (truncated).
        e = std::make_shared<Entry>();
        e->look = before;
        hashes_[std::string(id)] = e;
      } else if (auto it = hashes_.find(std::string(id)); it != hashes_.end()) {
        e = it->second;
      }
    }
    // Not started here: its commit reads it back.
    if (e == nullptr) return;
    std::lock_guard<std::mutex> lock(e->mu);
    // (WritePartial refused a write anywhere but the end, so `before` is
    // the look this entry recorded exactly when nobody else wrote since.)
    if (!e->valid || !(e->look == before)) {
      e->valid = false;  // a gap this process did not see
      return;
    }
    e->hash.Update(data);
    e->look = after;
  }

  // Whether the partial, looking like `now`, has the SHA-256 `sha256`:
  // nullopt when this process cannot tell without reading it.
  std::optional<bool> Matches(std::string_view id, const PartialLook& now,
                              std::string_view sha256) {
    std::shared_ptr<Entry> e = Take(id);
    if (e == nullptr) return std::nullopt;
    std::lock_guard<std::mutex> lock(e->mu);
    if (!e->valid || !(e->look == now) || !e->hash.ok()) return std::nullopt;
    const bool same = e->hash.Matches(sha256);
    if (!e->hash.ok()) return std::nullopt;
    return same;
  }

  void Forget(std::string_view id) { Take(id); }

 private:
  struct Entry {
    std::mutex mu;
    Sha256Stream hash;
    PartialLook look;  // after this process's latest write
    bool valid = true;
  };
  std::shared_ptr<Entry> Take(std::string_view id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = hashes_.find(std::string(id));
    if (it == hashes_.end()) return nullptr;
    std::shared_ptr<Entry> e = std::move(it->second);
    hashes_.erase(it);
    return e;
  }

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> hashes_;
};

// Reads of the file open as `fd` at `path`, for CheckSha256.
ReadFn ReadOf(int fd, const std::string& path) {
  return [fd, &path](uint64_t at, size_t n, char* out) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(size_t got,
                              format::PreadFull(fd, at, n, out, path));
    if (got != n) return Status::Corruption(path, "shorter than it was");
    return Status::OK();
  };
}

class FolderStore final : public LocationStore {
 public:
  explicit FolderStore(std::string folder) : folder_(std::move(folder)) {}

  Status Check() override;
  Result<uint64_t> FreeBytes() override;
  Result<uint64_t> WritePartial(std::string_view id, uint64_t offset,
                                std::string_view data) override;
  Result<uint64_t> PartialSize(std::string_view id) override;
  Status Publish(std::string_view id, uint64_t size,
                 std::string_view sha256) override;
  Result<std::unique_ptr<format::StoreSource>> OpenCommitted(
      std::string_view id, uint64_t committed_size) override;
  Status Remove(std::string_view id) override;

 private:
  std::string CommittedPath(std::string_view id) const {
    return folder_ + "/" + std::string(id) + ".mig";
  }
  std::string PartialPath(std::string_view id) const {
    return CommittedPath(id) + ".part";
  }
  // Publish's answer when there is no partial: the committed file, if
  // any, checked against `size` and `sha256`.
  Status CheckPublished(std::string_view id, uint64_t size,
                        std::string_view sha256);

  std::string folder_;
  RunningHashes hashes_;
};

Status FolderStore::Check() {
  struct stat st;
  if (::stat(folder_.c_str(), &st) != 0)
    return Status::FromErrno("storage folder " + folder_, errno);
  if (!S_ISDIR(st.st_mode))
    return Status::InvalidArgument("storage folder " + folder_,
                                   "is not a folder");
  // A name of its own, made exclusively: two nodes starting at once on a
  // shared folder do not remove each other's probe, and a link planted at
  // a fixed name is not followed.
  std::string probe = folder_ + "/.migstore-probe-XXXXXX";
  UniqueFd fd(::mkostemp(probe.data(), O_CLOEXEC));
  if (!fd.valid())
    return Status::FromErrno("storage folder " + folder_ + " is not writable",
                             errno);
  ::unlink(probe.c_str());
  return Status::OK();
}

Result<uint64_t> FolderStore::FreeBytes() {
  struct statvfs vfs;
  if (::statvfs(folder_.c_str(), &vfs) != 0)
    return Status::FromErrno("storage folder " + folder_, errno);
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

Result<uint64_t> FolderStore::WritePartial(std::string_view id, uint64_t offset,
                                           std::string_view data) {
  const std::string path = PartialPath(id);
  // Only the first chunk makes the partial: a later one for a partial that
  // is gone (the store was deleted or abandoned meanwhile, or the folder
  // lost it) is told to start over, and leaves no empty file behind.
  const int flags =
      O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (offset == 0 ? O_CREAT | O_TRUNC : 0);
  UniqueFd fd(::open(path.c_str(), flags, 0600));
  if (!fd.valid()) {
    if (errno == ENOENT && offset != 0) return NotAtTheEnd(id, offset, 0);
    return Status::FromErrno("cannot open " + path, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    return Status::FromErrno("cannot look at " + path, errno);
  const PartialLook before = LookOf(st);
  if (offset != before.size) return NotAtTheEnd(id, offset, before.size);
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::pwrite(fd.get(), data.data() + done, data.size() - done,
                               static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot write " + path, errno);
    }
    done += static_cast<size_t>(n);
  }
  // Start the chunk's write-back now rather than leave it all to the
  // commit's fsync. Only a hint: where the file system cannot, the fsync
  // does the whole work as before.
  ::sync_file_range(fd.get(), static_cast<off_t>(offset),
                    static_cast<off_t>(data.size()), SYNC_FILE_RANGE_WRITE);
  if (::fstat(fd.get(), &st) != 0)
    return Status::FromErrno("cannot look at " + path, errno);
  hashes_.Wrote(id, offset, data, before, LookOf(st));
  return offset + data.size();
}

Result<uint64_t> FolderStore::PartialSize(std::string_view id) {
  const std::string path = PartialPath(id);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return uint64_t{0};
    return Status::FromErrno("cannot look at " + path, errno);
  }
  return static_cast<uint64_t>(st.st_size);
}

Status FolderStore::Publish(std::string_view id, uint64_t size,
                            std::string_view sha256) {
  const std::string path = PartialPath(id);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return CheckPublished(id, size, sha256);
    return Status::FromErrno("cannot open " + path, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    return Status::FromErrno("cannot look at " + path, errno);
  if (static_cast<uint64_t>(st.st_size) != size)
    return SizeDiffers(id, static_cast<uint64_t>(st.st_size), size);
  // The hash kept while the bytes were written settles a match; anything
  // else (no such hash, or one that differs) is settled by reading the
  // partial back, so a stale or partial view here never refuses an upload
  // that arrived whole.
  if (hashes_.Matches(id, LookOf(st), sha256) != std::optional<bool>(true)) {
    MIGSTORE_RETURN_IF_ERROR(CheckSha256(size, ReadOf(fd.get(), path), sha256,
                                         "upload of store " + std::string(id)));
  }
  if (::fsync(fd.get()) != 0)
    return Status::FromErrno("cannot sync " + path, errno);
  const std::string final_path = CommittedPath(id);
  if (::rename(path.c_str(), final_path.c_str()) != 0)
    return Status::FromErrno("cannot publish " + final_path, errno);
  return format::SyncParentDir(final_path);
}

Status FolderStore::CheckPublished(std::string_view id, uint64_t size,
                                   std::string_view sha256) {
  // No partial: a commit sent again after a crash (or a commit request
  // that timed out) that came between the rename and the database's record
  // finds the committed file instead, and checks it as the partial would
  // have been checked. On a mismatch the file is kept, as a partial is: it
  // may be a capture's committed before the capture was run again, and
  // nothing is served before the database records a commit.
  const std::string path = CommittedPath(id);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return NothingUploaded(id);
    return Status::FromErrno("cannot open " + path, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    return Status::FromErrno("cannot look at " + path, errno);
  if (!S_ISREG(st.st_mode))
    return Status::Corruption(path, "is not a regular file");
  if (static_cast<uint64_t>(st.st_size) != size)
    return SizeDiffers(id, static_cast<uint64_t>(st.st_size), size);
  MIGSTORE_RETURN_IF_ERROR(CheckSha256(size, ReadOf(fd.get(), path), sha256,
                                       "upload of store " + std::string(id)));
  // The crash may have come before the rename reached the disk (the file's
  // bytes did: they were synced before it).
  return format::SyncParentDir(path);
}

Result<std::unique_ptr<format::StoreSource>> FolderStore::OpenCommitted(
    std::string_view id, uint64_t committed_size) {
  const std::string path = CommittedPath(id);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return Status::NotFound("store " + std::string(id),
                              "its bytes are missing from " + folder_);
    }
    return Status::FromErrno("cannot open " + path, errno);
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      format::RandomAccessFile file,
      format::RandomAccessFile::FromFd(std::move(fd), path));
  if (file.size() != committed_size) {
    return Status::Corruption(
        path, "holds " + std::to_string(file.size()) + " bytes, " +
                  std::to_string(committed_size) + " were committed");
  }
  return std::unique_ptr<format::StoreSource>(
      std::make_unique<format::RandomAccessFile>(std::move(file)));
}

Status FolderStore::Remove(std::string_view id) {
  hashes_.Forget(id);
  for (const std::string& path : {CommittedPath(id), PartialPath(id)}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Status::FromErrno("cannot remove " + path, errno);
  }
  return format::SyncParentDir(CommittedPath(id));
}

}  // namespace

Result<std::unique_ptr<LocationStore>> NewFolderStore(
    const StorageLocation& location) {
  if (location.path.empty() || location.path[0] != '/') {
    return Status::InvalidArgument("storage folder " + location.path,
                                   "must be an absolute path");
  }
  return std::unique_ptr<LocationStore>(
      std::make_unique<FolderStore>(location.path));
}

}  // namespace migstore::smp
