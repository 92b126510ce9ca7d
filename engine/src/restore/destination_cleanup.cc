#include "engine/src/restore/destination_cleanup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "engine/base/unique_fd.h"
#include "engine/src/fs/open_beneath.h"

namespace migstore::restore {
namespace {

// Deeper than any real tree; a crafted one ends here rather than the stack.
constexpr int kMaxDepth = 1024;

// The mount a folder is on: statx's mount id where the kernel gives one
// (a bind mount of a folder of the same filesystem has its own), else its
// device.
struct MountOf {
  dev_t dev = 0;
  uint64_t mnt_id = 0;
  bool has_mnt_id = false;
  bool operator==(const MountOf& o) const {
    return dev == o.dev && (!has_mnt_id || !o.has_mnt_id || mnt_id == o.mnt_id);
  }
};

bool Mount(int fd, MountOf* out, ino_t* ino) {
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &sx) != 0)
    return false;
  out->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  out->has_mnt_id = (sx.stx_mask & STATX_MNT_ID) != 0;
  out->mnt_id = sx.stx_mnt_id;
  *ino = sx.stx_ino;
  return true;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

Status CannotDelete(const std::string& path, int err) {
  return Status::FromErrno("destinationCleanup cannot delete " + path, err);
}

class Scanner {
 public:
  Scanner(const Matcher& rules, const FileIds& keep, MountOf mount,
          CleanupScan* out)
      : rules_(rules), keep_(keep), mount_(mount), out_(out) {}

  // Lists below the folder `dir` (owned; closed here), at `rel`.
  void Folder(UniqueFd dir_fd, const std::string& rel, int depth) {
    if (depth > kMaxDepth) {
      out_->errors.push_back(
          {rel, Status::InvalidArgument(rel, "folders nested too deep")});
      return;
    }
    DIR* dir = ::fdopendir(dir_fd.get());
    if (dir == nullptr) return Error(rel, errno);
    dir_fd.release();
    std::vector<std::string> folders;
    for (;;) {
      errno = 0;
      struct dirent* d = ::readdir(dir);
      if (d == nullptr) {
        if (errno != 0) Error(rel, errno);
        break;
      }
      std::string name = d->d_name;
      if (name == "." || name == "..") continue;
      std::string path = Join(rel, name);
      if (d->d_type == DT_DIR) {
        if (rules_.MayCleanUpBelow(path)) folders.push_back(std::move(name));
        continue;
      }
      if (d->d_type != DT_UNKNOWN &&
          !rules_.CleansUp(path, EntryKind::kFile).taken) {
        continue;
      }
      // Its own identity (d_ino and the folder's device are not always the
      // file's: overlayfs), for `keep` and for the deletion to check.
      struct stat st {};
      if (::fstatat(::dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) Error(path, errno);
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        if (rules_.MayCleanUpBelow(path)) folders.push_back(std::move(name));
        continue;
      }
      if (d->d_type == DT_UNKNOWN &&
          !rules_.CleansUp(path, EntryKind::kFile).taken) {
        continue;
      }
      if (keep_.count({st.st_dev, st.st_ino}) != 0) continue;  // the store
      out_->paths.insert(path);
      out_->files.push_back({std::move(path), st.st_dev, st.st_ino});
    }
    const int fd = ::dirfd(dir);
    for (const std::string& name : folders) {
      std::string path = Join(rel, name);
      UniqueFd sub(::openat(fd, name.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) {
        if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR)
          Error(path, errno);
        continue;
      }
      MountOf m;
      ino_t ino = 0;
      if (!Mount(sub.get(), &m, &ino) || !(m == mount_) ||
          keep_.count({m.dev, ino}) != 0) {
        continue;  // another mount, or the store: never entered
      }
      Folder(std::move(sub), path, depth + 1);
    }
    ::closedir(dir);
  }

 private:
  void Error(const std::string& path, int err) {
    out_->errors.push_back(
        {path,
         Status::FromErrno("destinationCleanup cannot read " + path, err)});
  }

  const Matcher& rules_;
  const FileIds& keep_;
  MountOf mount_;
  CleanupScan* out_;
};

}  // namespace

CleanupScan ScanCleanup(int target_fd, const Matcher& rules,
                        const FileIds& keep) {
  CleanupScan out;
  MountOf mount;
  ino_t ino = 0;
  if (rules.cleanup_rule_count() == 0 || target_fd < 0 ||
      !Mount(target_fd, &mount, &ino)) {
    return out;
  }
  UniqueFd own(::openat(target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!own.valid()) {
    out.errors.push_back({"", CannotDelete("the target", errno)});
    return out;
  }
  Scanner scanner(rules, keep, mount, &out);
  scanner.Folder(std::move(own), "", 0);
  return out;
}

CleanupResult DeleteScanned(int target_fd, const CleanupScan& scan) {
  CleanupResult out;
  for (const CleanupScan::File& f : scan.files) {
    const size_t slash = f.path.rfind('/');
    const std::string parent =
        slash == std::string::npos ? "" : f.path.substr(0, slash);
    const std::string name =
        slash == std::string::npos ? f.path : f.path.substr(slash + 1);
    auto dir = fs::OpenBeneath(target_fd, parent, O_RDONLY | O_DIRECTORY);
    if (!dir.ok()) {
      out.errors.push_back(
          {f.path, dir.status().WithContext(
                       "destinationCleanup cannot delete " + f.path)});
      continue;
    }
    struct stat st {};
    if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT)
        out.errors.push_back({f.path, CannotDelete(f.path, errno)});
      continue;
    }
    if (st.st_dev != f.dev || st.st_ino != f.ino || S_ISDIR(st.st_mode)) {
      out.notes.push_back(
          {f.path, "replaced since the cleanup looked; not deleted"});
      continue;
    }
    if (::unlinkat(dir->get(), name.c_str(), 0) != 0) {
      if (errno != ENOENT)
        out.errors.push_back({f.path, CannotDelete(f.path, errno)});
      continue;
    }
    ++out.deleted;
  }
  return out;
}

}  // namespace migstore::restore
