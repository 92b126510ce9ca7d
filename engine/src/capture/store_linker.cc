#include "engine/src/capture/store_linker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/base/rel_path.h"
#include "engine/src/fs/copy_file.h"
#include "engine/src/fs/open_beneath.h"

namespace migstore::capture {
namespace {

Result<struct statx> StatxAt(int dir_fd, const char* name, int flags) {
  struct statx sx;
  if (::statx(dir_fd, name, AT_SYMLINK_NOFOLLOW | flags,
              STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) {
    if (errno == ENOENT) return Status::NotFound("gone since it was listed");
    return Status::FromErrno("cannot look at the file", errno);
  }
  return sx;
}

// The status that says a copy is still of the same file: size and times.
bool SameFile(const struct statx& a, const struct statx& b) {
  return a.stx_ino == b.stx_ino && a.stx_size == b.stx_size &&
         a.stx_mtime.tv_sec == b.stx_mtime.tv_sec &&
         a.stx_mtime.tv_nsec == b.stx_mtime.tv_nsec &&
         a.stx_ctime.tv_sec == b.stx_ctime.tv_sec &&
         a.stx_ctime.tv_nsec == b.stx_ctime.tv_nsec;
}

constexpr int kCopyAttempts = 3;

}  // namespace

// Makes the directories of `rel` below files/ that are missing (0700 until
// the store is committed), recording those it made.
Status StoreLinker::MakeDirs(const std::string& rel,
                             std::vector<std::string>* made) {
  size_t at = 0;
  while (at <= rel.size()) {
    size_t slash = rel.find('/', at);
    if (slash == std::string::npos) slash = rel.size();
    std::string prefix = rel.substr(0, slash);
    if (::mkdirat(o_.files_fd, prefix.c_str(), 0700) == 0) {
      made->push_back(prefix);
    } else if (errno != EEXIST) {
      return Status::FromErrno("cannot make " + prefix + " in the store",
                               errno);
    }
    at = slash + 1;
  }
  return Status::OK();
}

Result<int> StoreLinker::StoreDir(PerThread* t, std::string_view dir) {
  if (dir.empty()) return o_.files_fd;
  if (t->have_dir && t->dir == dir) return t->dir_fd.get();
  t->have_dir = false;
  std::string rel(dir);
  auto fd = fs::OpenBeneath(o_.files_fd, rel, O_PATH | O_DIRECTORY);
  if (!fd.ok()) {
    MIGSTORE_RETURN_IF_ERROR(MakeDirs(rel, &t->made));
    fd = fs::OpenBeneath(o_.files_fd, rel, O_PATH | O_DIRECTORY);
    if (!fd.ok()) return fd.status();
  }
  t->dir_fd = std::move(*fd);
  t->dir = std::move(rel);
  t->have_dir = true;
  return t->dir_fd.get();
}

void StoreLinker::Done(PerThread* t, const WalkedEntry& e) {
  t->pending_bytes += e.size;
  if (++t->pending_files >= 256) {
    if (o_.progress) o_.progress(t->pending_bytes, t->pending_files);
    t->pending_bytes = 0;
    t->pending_files = 0;
  }
}

Status StoreLinker::Add(int dir_fd, const char* name, WalkedEntry* e) {
  PerThread& t = threads_.local();
  MIGSTORE_ASSIGN_OR_RETURN(int store_dir, StoreDir(&t, ParentOf(e->path)));
  const std::string base(NameOf(e->path));
  if (::linkat(dir_fd, name, store_dir, base.c_str(), 0) != 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("gone since it was listed");
    if (err != EXDEV && err != EMLINK && err != EPERM) {
      return Status::FromErrno("cannot link it into the store", err);
    }
    if (o_.fallback == HardLinkFallback::kError) {
      return Status::IOError(
          "cannot be linked into the store: " + std::string(std::strerror(err)),
          err == EXDEV ? "it is on another filesystem than the store "
                         "(--hardlink-fallback error)"
                       : "--hardlink-fallback error");
    }
    return Copy(&t, dir_fd, name, store_dir, e, err);
  }
  // The link holds the inode the walk stat'ed a moment before, unless the
  // name was replaced in between: then the catalog's inode (the walk's)
  // tells it apart, and verify and restore report it. Stat'ing the new name
  // again would narrow that window at the cost of a second stat per file,
  // without closing the one that matters: until the profiles are wiped,
  // whatever is written through either name is in the store.
  e->store_ino = e->ino;
  linked_.fetch_add(1, std::memory_order_relaxed);
  Done(&t, *e);
  return Status::OK();
}

Status StoreLinker::Copy(PerThread* t, int src_dir, const char* name,
                         int dst_dir, WalkedEntry* e, int why) {
  const std::string base(NameOf(e->path));
  // A path in a descriptor table for the open calls that take no handle.
  int src_fd =
      ::openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
  if (src_fd < 0 && errno == EPERM) {
    src_fd = ::openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (src_fd < 0) {
    if (errno == ENOENT) return Status::NotFound("gone since it was listed");
    return Status::FromErrno("cannot open it to copy it into the store", errno);
  }
  UniqueFd src(src_fd);
  for (int attempt = 0; attempt < kCopyAttempts; ++attempt) {
    auto before = StatxAt(src_fd, "", AT_EMPTY_PATH);
    if (!before.ok()) return before.status();
    if (!S_ISREG(before->stx_mode)) {
      return Status::NotFound("replaced by something not a file");
    }
    ::unlinkat(dst_dir, base.c_str(), 0);  // an earlier attempt's
    UniqueFd dst(::openat(dst_dir, base.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0600));
    if (!dst.valid()) {
      return Status::FromErrno("cannot create its copy in the store", errno);
    }
    auto fail = [&](Status s) {
      ::unlinkat(dst_dir, base.c_str(), 0);
      return s;
    };
    uint64_t copied = 0;
    Status s =
        fs::CopyFileData(src_fd, dst.get(), before->stx_size, e->path, &copied);
    if (!s.ok()) return fail(s);
    // The owner before the extended attributes: fchown drops file
    // capabilities (security.capability), as it drops setuid.
    if (o_.set_owner &&
        ::fchown(dst.get(), before->stx_uid, before->stx_gid) != 0) {
      return fail(Status::FromErrno("cannot set its copy's owner", errno));
    }
    s = fs::CopyXattrs(
        src_fd, dst.get(), e->path, [&](const std::string& attr, int err) {
          t->notes.push_back({e->path, "extended attribute " + attr +
                                           " not copied into the store: " +
                                           std::strerror(err)});
        });
    if (!s.ok()) return fail(s);
    if (::fchmod(dst.get(), before->stx_mode & 07777) != 0) {
      return fail(Status::FromErrno("cannot set its copy's mode", errno));
    }
    struct timespec times[2] = {
        {before->stx_atime.tv_sec, before->stx_atime.tv_nsec},
        {before->stx_mtime.tv_sec, before->stx_mtime.tv_nsec}};
    if (::futimens(dst.get(), times) != 0) {
      return fail(Status::FromErrno("cannot set its copy's times", errno));
    }
    auto after = StatxAt(src_fd, "", AT_EMPTY_PATH);
    if (!after.ok()) return fail(after.status());
    if (!SameFile(*before, *after)) continue;  // changed meanwhile: again
    auto copy = StatxAt(dst.get(), "", AT_EMPTY_PATH);
    if (!copy.ok()) return fail(copy.status());
    FillFromStatx(*before, e);
    e->store_ino = copy->stx_ino;
    copied_.fetch_add(1, std::memory_order_relaxed);
    copied_bytes_.fetch_add(copied, std::memory_order_relaxed);
    t->notes.push_back(
        {e->path,
         std::string("copied into the store, not linked (") +
             (why == EXDEV ? "another filesystem" : std::strerror(why)) + ")"});
    Done(t, *e);
    return Status::OK();
  }
  ::unlinkat(dst_dir, base.c_str(), 0);
  return Status::IOError("kept changing while it was copied into the store");
}

std::vector<std::string> StoreLinker::Directories() {
  std::vector<std::string> out;
  for (PerThread& t : threads_) {
    out.insert(out.end(), t.made.begin(), t.made.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<FileNote> StoreLinker::Notes() {
  std::vector<FileNote> out;
  for (PerThread& t : threads_) {
    out.insert(out.end(), t.notes.begin(), t.notes.end());
  }
  std::sort(out.begin(), out.end(), [](const FileNote& a, const FileNote& b) {
    return a.path < b.path;
  });
  return out;
}

void StoreLinker::FlushProgress() {
  for (PerThread& t : threads_) {
    if (t.pending_files > 0 && o_.progress) {
      o_.progress(t.pending_bytes, t.pending_files);
    }
    t.pending_bytes = 0;
    t.pending_files = 0;
  }
}

}  // namespace migstore::capture
