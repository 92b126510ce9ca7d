#include "engine/src/restore/destination_cleanup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "engine/base/unique_fd.h"

namespace migstore::restore {
namespace {

constexpr size_t kPathsShown = 20;
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

class Cleaner {
 public:
  Cleaner(const Matcher& rules, const FileIds& keep, bool dry_run,
          MountOf mount, CleanupReport* out)
      : rules_(rules),
        keep_(keep),
        dry_run_(dry_run),
        mount_(mount),
        out_(out) {}

  void Folder(int dir_fd, const std::string& rel, int depth) {
    if (depth > kMaxDepth) {
      out_->errors.push_back(
          {rel, Status::InvalidArgument(rel, "folders nested too deep")});
      return;
    }
    // A descriptor of its own: readdir moves the offset it shares with
    // `dir_fd`, which is rewound first.
    UniqueFd own(::dup(dir_fd));
    if (!own.valid()) return Error(rel, errno);
    DIR* dir = ::fdopendir(own.get());
    if (dir == nullptr) return Error(rel, errno);
    own.release();
    ::rewinddir(dir);
    std::vector<std::string> files, folders;
    for (;;) {
      errno = 0;
      struct dirent* d = ::readdir(dir);
      if (d == nullptr) {
        if (errno != 0) Error(rel, errno);
        break;
      }
      std::string name = d->d_name;
      if (name == "." || name == "..") continue;
      if (keep_.count({mount_.dev, d->d_ino}) != 0) continue;  // the store
      std::string path = rel.empty() ? name : rel + "/" + name;
      unsigned char type = d->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st {};
        if (::fstatat(::dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno != ENOENT) Error(path, errno);
          continue;
        }
        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
      }
      if (type == DT_DIR) {
        if (rules_.MayCleanUpBelow(path)) folders.push_back(std::move(name));
      } else if (rules_.CleansUp(path, EntryKind::kFile).taken) {
        files.push_back(std::move(name));
      }
    }
    const int fd = ::dirfd(dir);
    for (const std::string& name : files) {
      std::string path = rel.empty() ? name : rel + "/" + name;
      if (!dry_run_ && ::unlinkat(fd, name.c_str(), 0) != 0) {
        if (errno != ENOENT) Error(path, errno);
        continue;
      }
      ++out_->deleted;
      if (out_->paths.size() < kPathsShown) out_->paths.push_back(path);
    }
    for (const std::string& name : folders) {
      std::string path = rel.empty() ? name : rel + "/" + name;
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
      Folder(sub.get(), path, depth + 1);
    }
    ::closedir(dir);
  }

 private:
  void Error(const std::string& path, int err) {
    out_->errors.push_back(
        {path,
         Status::FromErrno("destinationCleanup cannot delete " + path, err)});
  }

  const Matcher& rules_;
  const FileIds& keep_;
  bool dry_run_;
  MountOf mount_;
  CleanupReport* out_;
};

}  // namespace

CleanupReport CleanUpTarget(int target_fd, const Matcher& rules,
                            const FileIds& keep, bool dry_run) {
  CleanupReport out;
  MountOf mount;
  ino_t ino = 0;
  if (rules.cleanup_rule_count() == 0 || target_fd < 0 ||
      !Mount(target_fd, &mount, &ino)) {
    return out;
  }
  Cleaner cleaner(rules, keep, dry_run, mount, &out);
  cleaner.Folder(target_fd, "", 0);
  return out;
}

}  // namespace migstore::restore
