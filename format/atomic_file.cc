#include "format/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "format/secret.h"

namespace migstore::format {
namespace {

constexpr std::string_view kTempMarker = ".migtmp-";

// Direct writes go out a stage at a time: large enough that the device
// sees big sequential writes, a multiple of every alignment accepted.
constexpr size_t kStageBytes = size_t{8} << 20;
constexpr uint32_t kMaxDirectAlign = 4096;

// Local block filesystems, where O_DIRECT means "to the device, no page
// cache copy". Elsewhere (NFS, SMB, FUSE, tmpfs, overlay) it means other
// things, often slower ones, so ordinary writes stay.
bool LocalBlockFilesystem(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
      return true;
    default:
      return false;
  }
}

// Splits "dir/name" into ("dir", "name"); a bare name lives in ".".
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string TempPrefix(const std::string& final_name) {
  return "." + final_name + std::string(kTempMarker);
}

// A temporary made without a name in `dir` (O_TMPFILE), locked, and only
// then linked in as `stem` + random hex: it is never seen unlocked, so a
// cleaner (another run's RemoveStaleTemporaries) cannot take it between its
// creation and its lock. An invalid fd where the filesystem or the system
// cannot (no O_TMPFILE on NFS or SMB, no /proc): the caller makes one by
// name instead.
std::atomic<bool> named_temporaries{false};  // tests only

std::pair<UniqueFd, std::string> LockedBeforeNamed(const std::string& dir,
                                                   const std::string& stem) {
  if (named_temporaries.load(std::memory_order_relaxed)) return {};
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
  if (!fd.valid() || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return {};
  const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string temp = stem + RandomHex(8);
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, temp.c_str(),
                 AT_SYMLINK_FOLLOW) == 0) {
      return {std::move(fd), std::move(temp)};
    }
    if (errno != EEXIST) break;
  }
  return {};
}

}  // namespace

void UseNamedTemporariesForTesting(bool on) {
  named_temporaries.store(on, std::memory_order_relaxed);
}

bool IsTemporaryName(std::string_view name) {
  return !name.empty() && name[0] == '.' &&
         name.find(kTempMarker) != std::string_view::npos;
}

Result<std::unique_ptr<StoreSink>> CreateFileSink(const std::string& path,
                                                  bool overwrite, bool direct) {
  MIGSTORE_ASSIGN_OR_RETURN(AtomicFile file,
                            AtomicFile::Create(path, overwrite));
  if (direct) file.PreferDirectWrites();
  return std::unique_ptr<StoreSink>(new AtomicFile(std::move(file)));
}

int RemoveStaleTemporaries(const std::string& final_path) {
  auto [dir, name] = SplitPath(final_path);
  const std::string prefix = TempPrefix(name);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  int removed = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view entry(e->d_name);
    if (entry.substr(0, prefix.size()) != prefix) continue;
    // A live writer holds LOCK_EX on its temporary; if we can take the lock,
    // its writer is gone. O_NOFOLLOW: never act through a planted symlink.
    int fd = ::openat(::dirfd(d), e->d_name,
                      O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) continue;
    UniqueFd owned(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) continue;
    // Unlink only if the name still refers to the file we locked.
    struct stat now;
    if (::fstatat(::dirfd(d), e->d_name, &now, AT_SYMLINK_NOFOLLOW) != 0 ||
        now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
      continue;
    }
    if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

Result<AtomicFile> AtomicFile::Create(const std::string& final_path,
                                      bool overwrite) {
  if (final_path.empty()) return Status::InvalidArgument("empty output path");
  struct stat st;
  if (::lstat(final_path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return Status::AlreadyExists(final_path, "is a directory");
    }
    if (!overwrite) {
      return Status::AlreadyExists(
          final_path, "already exists (use --overwrite to replace it)");
    }
  }
  RemoveStaleTemporaries(final_path);

  auto [dir, name] = SplitPath(final_path);
  const std::string stem =
      final_path.substr(0, final_path.size() - name.size()) + TempPrefix(name);
  auto [locked, locked_name] = LockedBeforeNamed(dir, stem);
  if (locked.valid()) {
    return AtomicFile(std::move(locked), final_path, std::move(locked_name),
                      overwrite);
  }
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string temp = stem + RandomHex(8);
    int fd = ::open(temp.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return Status::FromErrno("cannot create a temporary file in " + dir,
                               errno);
    }
    UniqueFd owned(fd);
    // Between open and flock a cleaner may have locked the new, still
    // unlocked file and removed it. Once locked, it is safe; check the name
    // still refers to it, else start again with a new name.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) continue;
    struct stat mine, named;
    if (::fstat(fd, &mine) != 0 || ::lstat(temp.c_str(), &named) != 0 ||
        mine.st_ino != named.st_ino || mine.st_dev != named.st_dev) {
      continue;
    }
    return AtomicFile(std::move(owned), final_path, std::move(temp), overwrite);
  }
  return Status::IOError("cannot find a free temporary name in " + dir);
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : fd_(std::move(o.fd_)),
      stage_(std::move(o.stage_)),
      staged_(o.staged_),
      error_(std::move(o.error_)),
      final_path_(std::move(o.final_path_)),
      temp_path_(std::move(o.temp_path_)),
      overwrite_(o.overwrite_),
      done_(o.done_),
      size_(o.size_) {
  o.done_ = true;  // the moved-from object owns nothing to clean up
}

void AtomicFile::FreeAligned::operator()(char* p) const { std::free(p); }

void AtomicFile::PreferDirectWrites() {
  assert(size_ == 0 && "PreferDirectWrites before the first Append");
  if (size_ != 0 || stage_ != nullptr || !error_.ok() ||
      !LocalBlockFilesystem(fd_.get())) {
    return;
  }
  // The alignment the kernel asks of this file's direct I/O (Linux 6.1+);
  // without an answer, no direct writes.
  struct statx sx;
  if (::statx(fd_.get(), "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) != 0 ||
      !(sx.stx_mask & STATX_DIOALIGN) || sx.stx_dio_mem_align == 0 ||
      sx.stx_dio_offset_align == 0 || sx.stx_dio_mem_align > kMaxDirectAlign ||
      sx.stx_dio_offset_align > kMaxDirectAlign) {
    return;
  }
  char* stage =
      static_cast<char*>(std::aligned_alloc(kMaxDirectAlign, kStageBytes));
  if (stage == nullptr) return;
  int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags | O_DIRECT) != 0) {
    std::free(stage);
    return;
  }
  stage_.reset(stage);
  staged_ = 0;
}

Status AtomicFile::Append(std::string_view data) {
  assert(!done_ && "Append after Commit or Abandon");
  if (!error_.ok()) return error_;
  // Staged while direct writes are on...
  while (stage_ != nullptr && !data.empty()) {
    size_t n = std::min(data.size(), kStageBytes - staged_);
    std::memcpy(stage_.get() + staged_, data.data(), n);
    staged_ += n;
    size_ += n;
    data.remove_prefix(n);
    if (staged_ == kStageBytes) {
      MIGSTORE_RETURN_IF_ERROR(WriteStaged(kStageBytes));
      staged_ = 0;
    }
  }
  // ...written through otherwise, or from the moment they were refused.
  if (data.empty()) return Status::OK();
  MIGSTORE_RETURN_IF_ERROR(Fail(WriteAll(fd_.get(), data, temp_path_)));
  size_ += data.size();
  return Status::OK();
}

Status AtomicFile::WriteStaged(size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd_.get(), stage_.get() + done, n - done);
    if (w > 0) {
      done += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EINVAL) {
      // The filesystem said yes to O_DIRECT but refuses the write (or a
      // short write left the offset unaligned): the rest goes the
      // ordinary way, from the first byte not written.
      return StopDirect(done);
    }
    if (w == 0) errno = EIO;
    return Fail(Status::FromErrno("cannot write " + temp_path_, errno));
  }
  return Status::OK();
}

Status AtomicFile::StopDirect(size_t from) {
  int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_DIRECT) != 0) {
    return Fail(Status::FromErrno(
        "cannot turn off direct writes on " + temp_path_, errno));
  }
  Status s =
      WriteAll(fd_.get(), std::string_view(stage_.get() + from, staged_ - from),
               temp_path_);
  stage_.reset();
  staged_ = 0;
  return Fail(std::move(s));
}

Status AtomicFile::Fail(Status s) {
  if (!s.ok() && error_.ok()) error_ = s;
  return s;
}

Status AtomicFile::Commit() {
  assert(!done_ && "Commit after Commit or Abandon");
  if (!error_.ok()) return error_;
  // The last, partial stage: its whole aligned part still goes direct.
  if (stage_ != nullptr) {
    const size_t aligned = staged_ / kMaxDirectAlign * kMaxDirectAlign;
    if (aligned > 0) MIGSTORE_RETURN_IF_ERROR(WriteStaged(aligned));
    if (stage_ != nullptr) MIGSTORE_RETURN_IF_ERROR(StopDirect(aligned));
  }
  if (::fsync(fd_.get()) != 0) {
    return Status::FromErrno("fsync failed on " + temp_path_, errno);
  }
  if (overwrite_) {
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      return Status::FromErrno("cannot rename into " + final_path_, errno);
    }
  } else if (::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD,
                         final_path_.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EEXIST) {
      return Status::AlreadyExists(final_path_,
                                   "appeared while it was written");
    }
    if (err != EINVAL && err != ENOSYS) {
      return Status::FromErrno("cannot rename into " + final_path_, err);
    }
    // The filesystem lacks RENAME_NOREPLACE: link() refuses to replace too.
    if (::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
      err = errno;
      if (err == EEXIST) {
        return Status::AlreadyExists(final_path_,
                                     "appeared while it was written");
      }
      return Status::FromErrno("cannot link into " + final_path_, err);
    }
    ::unlink(temp_path_.c_str());
  }
  done_ = true;
  fd_.reset();
  Status synced = SyncParentDir(final_path_);
  if (!synced.ok()) {
    return synced.WithContext(
        final_path_ +
        " is complete and in place, but its directory could not be "
        "synced, so a crash now could still lose it");
  }
  return Status::OK();
}

void AtomicFile::Abandon() {
  if (done_) return;
  done_ = true;
  ::unlink(temp_path_.c_str());
  fd_.reset();
  stage_.reset();
}

}  // namespace migstore::format
