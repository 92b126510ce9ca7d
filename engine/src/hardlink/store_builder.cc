#include "engine/src/hardlink/store_builder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "engine/src/hardlink/remove_store.h"
#include "engine/src/hardlink/store_layout.h"
#include "format/file_io.h"
#include "format/secret.h"

namespace migstore::hardlink {
namespace {

std::pair<std::string, std::string> SplitPath(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string TempPrefix(const std::string& name) {
  return "." + name + ".migtmp-";
}

// Removes the directories killed captures left for the same final name:
// only those whose lock can be taken (their capture is gone), and only if
// they are hard-link stores (remove_store.h checks).
void RemoveStaleTemporaries(int parent_fd, const std::string& dir,
                            const std::string& name) {
  const std::string prefix = TempPrefix(name);
  int dup = ::dup(parent_fd);
  if (dup < 0) return;
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return;
  }
  ::rewinddir(d);  // the duplicate shares parent_fd's position
  std::vector<std::string> candidates;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view entry(e->d_name);
    if (entry.size() > prefix.size() &&
        entry.substr(0, prefix.size()) == prefix) {
      candidates.emplace_back(entry);
    }
  }
  ::closedir(d);
  for (const std::string& c : candidates) {
    UniqueFd fd(::openat(parent_fd, c.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    (void)RemoveStoreAt(parent_fd, c, dir + "/" + c).status();
  }
}

}  // namespace

Result<std::unique_ptr<StoreBuilder>> StoreBuilder::Create(
    const std::string& final_path, bool overwrite, const format::StoreId& id) {
  if (final_path.empty()) return Status::InvalidArgument("empty store path");
  auto [dir, name] = SplitPath(final_path);
  if (name.empty() || name == "." || name == ".." || name == "/") {
    return Status::InvalidArgument("give the store directory by its name",
                                   final_path);
  }
  std::unique_ptr<StoreBuilder> b(new StoreBuilder());
  b->final_path_ = final_path;
  b->final_name_ = name;
  b->parent_fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!b->parent_fd_.valid()) {
    return Status::FromErrno("cannot open " + dir + ", where the store goes",
                             errno);
  }
  const int parent = b->parent_fd_.get();
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!overwrite) {
      return Status::AlreadyExists(
          final_path, "already exists (use --overwrite to replace it)");
    }
    auto old = InspectStoreAt(parent, name, final_path);
    if (!old.ok()) {
      return Status::AlreadyExists(
          final_path,
          "is not a migstore hard-link store, and --overwrite replaces "
          "nothing else (" +
              std::string(old.status().message()) + ")");
    }
    b->replace_ = true;
    b->old_dev_ = st.st_dev;
    b->old_ino_ = st.st_ino;
    b->exclusions_.insert({st.st_dev, st.st_ino});
  } else if (errno != ENOENT) {
    return Status::FromErrno("cannot look at " + final_path, errno);
  }
  RemoveStaleTemporaries(parent, dir, name);

  for (int attempt = 0; attempt < 16 && b->temp_name_.empty(); ++attempt) {
    std::string temp = TempPrefix(name) + format::RandomHex(8);
    if (::mkdirat(parent, temp.c_str(), 0700) == 0) {
      b->temp_name_ = temp;
    } else if (errno != EEXIST) {
      return Status::FromErrno("cannot make a directory in " + dir, errno);
    }
  }
  if (b->temp_name_.empty()) {
    return Status::IOError("cannot find a free temporary name in " + dir);
  }
  b->temp_path_ = (dir == "/" ? "" : dir) + "/" + b->temp_name_;
  b->dir_fd_.reset(::openat(parent, b->temp_name_.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!b->dir_fd_.valid()) {
    int err = errno;
    ::unlinkat(parent, b->temp_name_.c_str(), AT_REMOVEDIR);
    b->done_ = true;
    return Status::FromErrno("cannot open " + b->temp_path_, err);
  }
  const int fd = b->dir_fd_.get();
  // Nobody else can hold it yet: a cleaner only removes marked stores, and
  // the marker comes after the lock.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::unlinkat(parent, b->temp_name_.c_str(), AT_REMOVEDIR);
    b->done_ = true;
    return Status::FromErrno("cannot lock " + b->temp_path_, err);
  }
  if (::fstat(fd, &st) != 0) {
    return Status::FromErrno("cannot stat " + b->temp_path_, errno);
  }
  b->exclusions_.insert({st.st_dev, st.st_ino});
  {
    UniqueFd marker(
        ::openat(fd, kMarkerName,
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!marker.valid()) {
      int err = errno;
      ::unlinkat(parent, b->temp_name_.c_str(), AT_REMOVEDIR);
      b->done_ = true;
      return Status::FromErrno("cannot write the store's marker", err);
    }
    Status written =
        format::WriteAll(marker.get(), EncodeMarker(id), kMarkerName);
    if (!written.ok()) {
      ::unlinkat(fd, kMarkerName, 0);
      ::unlinkat(parent, b->temp_name_.c_str(), AT_REMOVEDIR);
      b->done_ = true;
      return written;
    }
  }
  if (::mkdirat(fd, kFilesName, 0700) != 0) {
    return Status::FromErrno("cannot make " + b->temp_path_ + "/" + kFilesName,
                             errno);
  }
  b->files_fd_.reset(
      ::openat(fd, kFilesName, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!b->files_fd_.valid()) {
    return Status::FromErrno("cannot open " + b->temp_path_ + "/" + kFilesName,
                             errno);
  }
  return b;
}

std::string StoreBuilder::catalog_path() const {
  return temp_path_ + "/" + kCatalogName;
}

Status StoreBuilder::Place() {
  const int parent = parent_fd_.get();
  const char* from = temp_name_.c_str();
  const char* to = final_name_.c_str();
  if (replace_) {
    if (::renameat2(parent, from, parent, to, RENAME_EXCHANGE) == 0) {
      // What went out must be the store checked at the start.
      struct stat st;
      if (::fstatat(parent, from, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          st.st_dev == old_dev_ && st.st_ino == old_ino_) {
        return Status::OK();
      }
      ::renameat2(parent, from, parent, to, RENAME_EXCHANGE);  // put it back
      return Status::AlreadyExists(
          final_path_, "was replaced by something else during the capture");
    }
    if (errno != ENOENT) {
      return Status::FromErrno(
          "cannot put the new store in place of " + final_path_, errno);
    }
    replace_ = false;  // the old store went away meanwhile
  }
  if (::renameat2(parent, from, parent, to, RENAME_NOREPLACE) == 0) {
    return Status::OK();
  }
  int err = errno;
  if (err == EEXIST || err == ENOTEMPTY) {
    return Status::AlreadyExists(final_path_, "appeared during the capture");
  }
  if (err == EINVAL || err == ENOSYS) {
    // No RENAME_NOREPLACE here: a plain rename, having checked; a rename
    // can only replace an empty directory.
    struct stat st;
    if (::fstatat(parent, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return Status::AlreadyExists(final_path_, "appeared during the capture");
    }
    if (::renameat(parent, from, parent, to) == 0) return Status::OK();
    err = errno;
  }
  return Status::FromErrno("cannot rename the store into " + final_path_, err);
}

Status StoreBuilder::Commit(const std::vector<std::string>& dirs,
                            std::string* note) {
  if (done_) return Status::InvalidArgument("commit after commit or abandon");
  const int fd = dir_fd_.get();
  // Read-only, so nobody edits the store by accident.
  for (const std::string& rel : dirs) {
    if (::fchmodat(files_fd_.get(), rel.c_str(), 0500, 0) != 0) {
      return Status::FromErrno("cannot make " + rel + " in the store read-only",
                               errno);
    }
  }
  for (auto [name, mode] : {std::pair<const char*, mode_t>{kFilesName, 0500},
                            {kCatalogName, 0400},
                            {kMarkerName, 0400}}) {
    if (::fchmodat(fd, name, mode, 0) != 0) {
      return Status::FromErrno(
          std::string("cannot make the store's ") + name + " read-only", errno);
    }
  }
  if (::fchmod(fd, 0500) != 0) {
    return Status::FromErrno("cannot make the store read-only", errno);
  }
  // The links must be on disk before anyone wipes the originals.
  if (::syncfs(fd) != 0) {
    return Status::FromErrno("cannot sync the store's filesystem", errno);
  }
  MIGSTORE_RETURN_IF_ERROR(Place());
  done_ = true;
  files_fd_.reset();
  dir_fd_.reset();
  Status synced;
  if (::fsync(parent_fd_.get()) != 0) {
    synced = Status::FromErrno(
        final_path_ +
            " is complete and in place, but its directory could not be "
            "synced",
        errno);
  }
  if (replace_) {
    auto removed = RemoveStoreAt(parent_fd_.get(), temp_name_, temp_path_);
    if (!removed.ok()) {
      *note = "the store it replaced could not be removed and is at " +
              temp_path_ + " (" + removed.status().ToString() +
              "); remove it with migstore delete";
    }
  }
  return synced;
}

void StoreBuilder::Abandon() {
  if (done_) return;
  done_ = true;
  files_fd_.reset();
  dir_fd_.reset();
  (void)RemoveStoreAt(parent_fd_.get(), temp_name_, temp_path_).status();
}

}  // namespace migstore::hardlink
