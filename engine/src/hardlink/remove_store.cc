#include "engine/src/hardlink/remove_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <vector>

#include "engine/base/unique_fd.h"
#include "engine/src/fs/open_beneath.h"
#include "engine/src/hardlink/store_layout.h"

namespace migstore::hardlink {
namespace {

std::string Join(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

// Not part of a store as a capture makes it: refuse the whole removal.
Status Foreign(const std::string& what, const std::string& rel,
               const std::string& why) {
  return Status::NotAStore(
      what, "holds " + rel + ", " + why +
                ", which a migstore capture never puts in a store: not "
                "removing anything");
}

std::string Describe(int dir_fd, const char* name, const struct stat& st) {
  if (S_ISLNK(st.st_mode)) {
    std::string target(4096, '\0');
    ssize_t n = ::readlinkat(dir_fd, name, target.data(), target.size());
    target.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return "a symlink (to " + target + ")";
  }
  if (S_ISFIFO(st.st_mode)) return "a fifo";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
  return "a special file";
}

struct Names {
  std::vector<std::string> dirs;
  std::vector<std::string> others;
};

// The names in directory `fd` (which it consumes a duplicate of), split by
// type, looked at without following anything. `check`: refuse what a store
// never holds.
Result<Names> ReadNames(int fd, const std::string& rel, uint64_t dev,
                        bool check, const std::string& what) {
  int dup = ::dup(fd);
  if (dup < 0) return Status::FromErrno("dup", errno);
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return Status::FromErrno("cannot read " + Join(what, rel), errno);
  }
  // The duplicate shares the position of `fd`, which an earlier read of
  // the same directory may have left at its end.
  ::rewinddir(d);
  Names out;
  Status s;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) s = Status::FromErrno("cannot read " + rel, errno);
      break;
    }
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      s = Status::FromErrno("cannot look at " + Join(rel, name), errno);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      if (check && st.st_dev != dev) {
        s = Foreign(what, Join(rel, name), "another filesystem mounted there");
        break;
      }
      out.dirs.emplace_back(name);
    } else if (S_ISREG(st.st_mode) || !check) {
      out.others.emplace_back(name);
    } else {
      s = Foreign(what, Join(rel, name), Describe(fd, e->d_name, st));
      break;
    }
  }
  ::closedir(d);
  if (!s.ok()) return s;
  return out;
}

// Counts (and checks) the tree below `rel` of the store `root_fd`.
Status Inspect(int root_fd, const std::string& rel, uint64_t dev,
               const std::string& what, StoreTree* tree) {
  MIGSTORE_ASSIGN_OR_RETURN(
      UniqueFd fd, fs::OpenBeneath(root_fd, rel, O_RDONLY | O_DIRECTORY));
  MIGSTORE_ASSIGN_OR_RETURN(Names names,
                            ReadNames(fd.get(), rel, dev, true, what));
  fd.reset();
  ++tree->directories;
  tree->files += names.others.size();
  for (const std::string& sub : names.dirs) {
    MIGSTORE_RETURN_IF_ERROR(Inspect(root_fd, Join(rel, sub), dev, what, tree));
  }
  return Status::OK();
}

// Gives the store's own directory back its write permission.
Status MakeWritable(int fd, const std::string& rel) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return Status::FromErrno("cannot stat " + rel, errno);
  if ((st.st_mode & 0700) == 0700) return Status::OK();
  if (::fchmod(fd, 0700) != 0) {
    return Status::FromErrno("cannot make " + rel + " writable", errno);
  }
  return Status::OK();
}

// Empties the directory `rel` of the store `root_fd`, depth first. No
// handle is held across the recursion, so depth costs no descriptors.
Status Empty(int root_fd, const std::string& rel, StoreTree* removed) {
  std::vector<std::string> dirs;
  {
    MIGSTORE_ASSIGN_OR_RETURN(
        UniqueFd fd, fs::OpenBeneath(root_fd, rel, O_RDONLY | O_DIRECTORY));
    MIGSTORE_RETURN_IF_ERROR(MakeWritable(fd.get(), rel));
    MIGSTORE_ASSIGN_OR_RETURN(Names names,
                              ReadNames(fd.get(), rel, 0, false, rel));
    for (const std::string& name : names.others) {
      if (::unlinkat(fd.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
        return Status::FromErrno("cannot remove " + Join(rel, name), errno);
      }
      ++removed->files;
    }
    dirs = std::move(names.dirs);
  }
  for (const std::string& sub : dirs) {
    MIGSTORE_RETURN_IF_ERROR(Empty(root_fd, Join(rel, sub), removed));
  }
  if (dirs.empty()) return Status::OK();
  MIGSTORE_ASSIGN_OR_RETURN(
      UniqueFd fd, fs::OpenBeneath(root_fd, rel, O_RDONLY | O_DIRECTORY));
  for (const std::string& sub : dirs) {
    if (::unlinkat(fd.get(), sub.c_str(), AT_REMOVEDIR) != 0 &&
        errno != ENOENT) {
      return Status::FromErrno("cannot remove " + Join(rel, sub), errno);
    }
    ++removed->directories;
  }
  return Status::OK();
}

struct OpenedStore {
  UniqueFd fd;
  struct stat st;
};

Result<OpenedStore> OpenStoreDir(int parent_fd, const std::string& name,
                                 const std::string& what) {
  OpenedStore out;
  if (::fstatat(parent_fd, name.c_str(), &out.st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::NotFound("no such store", what);
    return Status::FromErrno("cannot look at " + what, errno);
  }
  if (S_ISLNK(out.st.st_mode)) {
    return Status::NotAStore(
        what, "is a symlink: give the store's own directory, not a link to it");
  }
  if (!S_ISDIR(out.st.st_mode)) {
    return Status::NotAStore(what, "is not a directory: not a hard-link store");
  }
  out.fd.reset(::openat(parent_fd, name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!out.fd.valid()) return Status::FromErrno("cannot open " + what, errno);
  if (::fstat(out.fd.get(), &out.st) != 0) {
    return Status::FromErrno("cannot stat " + what, errno);
  }
  return out;
}

Result<StoreTree> InspectOpened(const OpenedStore& store,
                                const std::string& what) {
  StoreTree tree;
  MIGSTORE_ASSIGN_OR_RETURN(tree.id, ReadMarker(store.fd.get(), what));
  MIGSTORE_ASSIGN_OR_RETURN(
      Names top, ReadNames(store.fd.get(), "", store.st.st_dev, true, what));
  for (const std::string& name : top.others) {
    if (name != kMarkerName && name != kCatalogName &&
        !IsCatalogTemporary(name)) {
      return Foreign(what, name, "a file that is not the store's own");
    }
  }
  for (const std::string& name : top.dirs) {
    if (name != kFilesName) {
      return Foreign(what, name, "a directory that is not the store's own");
    }
    MIGSTORE_RETURN_IF_ERROR(
        Inspect(store.fd.get(), name, store.st.st_dev, what, &tree));
  }
  return tree;
}

std::pair<std::string, std::string> Split(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return {".", p};
  return {slash == 0 ? "/" : p.substr(0, slash), p.substr(slash + 1)};
}

Result<UniqueFd> OpenParent(const std::string& path, std::string* name) {
  auto [dir, base] = Split(path);
  if (base.empty() || base == "." || base == "..") {
    return Status::InvalidArgument("give the store's path by its name", path);
  }
  *name = base;
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::NotFound("no such store", path);
    return Status::FromErrno("cannot open " + dir, errno);
  }
  return fd;
}

}  // namespace

Result<StoreTree> InspectStoreAt(int parent_fd, const std::string& name,
                                 const std::string& what) {
  MIGSTORE_ASSIGN_OR_RETURN(OpenedStore store,
                            OpenStoreDir(parent_fd, name, what));
  return InspectOpened(store, what);
}

Result<StoreTree> RemoveStoreAt(int parent_fd, const std::string& name,
                                const std::string& what) {
  MIGSTORE_ASSIGN_OR_RETURN(OpenedStore store,
                            OpenStoreDir(parent_fd, name, what));
  MIGSTORE_ASSIGN_OR_RETURN(StoreTree tree, InspectOpened(store, what));
  const int root = store.fd.get();
  MIGSTORE_RETURN_IF_ERROR(MakeWritable(root, what));
  StoreTree removed;
  removed.id = tree.id;
  struct stat st;
  if (::fstatat(root, kFilesName, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    MIGSTORE_RETURN_IF_ERROR(Empty(root, kFilesName, &removed));
    if (::unlinkat(root, kFilesName, AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Status::FromErrno(
          "cannot remove " + what + "/" + std::string(kFilesName), errno);
    }
    ++removed.directories;
  }
  // The catalog, its temporaries, then the marker: the store stays a
  // store until its very last name goes.
  MIGSTORE_ASSIGN_OR_RETURN(Names top,
                            ReadNames(root, "", store.st.st_dev, false, what));
  for (const std::string& n : top.others) {
    if (n == kMarkerName) continue;
    if (::unlinkat(root, n.c_str(), 0) != 0 && errno != ENOENT) {
      return Status::FromErrno("cannot remove " + what + "/" + n, errno);
    }
  }
  if (::unlinkat(root, kMarkerName, 0) != 0 && errno != ENOENT) {
    return Status::FromErrno("cannot remove the marker of " + what, errno);
  }
  // The directory itself, if its name still means the directory removed.
  struct stat now;
  if (::fstatat(parent_fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 ||
      now.st_dev != store.st.st_dev || now.st_ino != store.st.st_ino) {
    return Status::IOError(what, "was replaced while it was removed");
  }
  if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) {
    return Status::FromErrno("cannot remove " + what, errno);
  }
  return removed;
}

Result<StoreTree> InspectStore(const std::string& path) {
  std::string name;
  MIGSTORE_ASSIGN_OR_RETURN(UniqueFd parent, OpenParent(path, &name));
  return InspectStoreAt(parent.get(), name, path);
}

Result<StoreTree> RemoveStore(const std::string& path) {
  std::string name;
  MIGSTORE_ASSIGN_OR_RETURN(UniqueFd parent, OpenParent(path, &name));
  return RemoveStoreAt(parent.get(), name, path);
}

}  // namespace migstore::hardlink
