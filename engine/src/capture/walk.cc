#include "engine/src/capture/walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <deque>
#include <string_view>
#include <unordered_set>

#include "engine/base/parallel.h"
#include "engine/base/time_ns.h"
#include "engine/src/fs/locality.h"
#include "engine/src/fs/open_beneath.h"
#include "format/limits.h"

namespace migstore::capture {
namespace {

using format::EntryType;

// The locality of the filesystem mounted on directory `name` in `dir_fd`
// (opened without following a link); local when it cannot be opened (the
// walk then reports the directory as it would).
fs::Locality MountLocality(int dir_fd, const char* name) {
  const int fd =
      ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fs::Locality::kLocal;
  const fs::Locality l = fs::LocalityOf(fd);
  ::close(fd);
  return l;
}

int64_t Nanos(const struct statx_timestamp& t) {
  return NanosFrom(t.tv_sec, t.tv_nsec);
}

// What a FileProperties filter reads (matcher.h): the birth time where the
// filesystem records one, else the change time.
FileFacts FactsOf(const struct statx& sx) {
  FileFacts f;
  f.size = sx.stx_size;
  f.modified_ns = Nanos(sx.stx_mtime);
  f.accessed_ns = Nanos(sx.stx_atime);
  f.created_ns = (sx.stx_mask & STATX_BTIME) != 0 ? Nanos(sx.stx_btime)
                                                  : Nanos(sx.stx_ctime);
  return f;
}

std::string Join(const std::string& dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir).push_back('/');
  out.append(name);
  return out;
}

// listxattrat(2) (Linux 6.13; the same number on every architecture, and
// not yet in Debian 12's headers): the names of `name`'s extended
// attributes relative to `dir_fd`, not following a final symlink.
constexpr long kSysListxattrat = 465;
std::atomic<bool> listxattrat_missing{false};

// The names of `name`'s extended attributes, as llistxattr. Through
// listxattrat where the kernel has it: one lookup of one name. Else through
// /proc/self/fd/<dir_fd>/<name> (`path`), which costs a walk through procfs
// per file: on a tree of tiny files that alone held the walk to a quarter
// of the readdir + statx floor, where listxattrat leaves it at half
// (bench/walk_benchmark). Neither resolves a path from the root again.
ssize_t ListXattrs(int dir_fd, const char* name, const std::string& path,
                   char* list, size_t size) {
  if (!listxattrat_missing.load(std::memory_order_relaxed)) {
    long n = ::syscall(kSysListxattrat, dir_fd, name, AT_SYMLINK_NOFOLLOW, list,
                       size);
    if (n >= 0 || errno != ENOSYS) return static_cast<ssize_t>(n);
    listxattrat_missing.store(true, std::memory_order_relaxed);
  }
  return ::llistxattr(path.c_str(), list, size);
}

// Extended attributes of `name` in the directory `dir_fd`, never through a
// path from the root. Not following a final symlink (the l* calls).
Status ReadXattrs(int dir_fd, const char* name, WalkedEntry* e) {
  std::string path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
  std::string names(1024, '\0');
  ssize_t n;
  for (;;) {
    n = ListXattrs(dir_fd, name, path, names.data(), names.size());
    if (n >= 0) break;
    if (errno == ERANGE) {
      names.resize(names.size() * 4);
      continue;
    }
    if (errno == ENOTSUP || errno == ENODATA) return Status::OK();
    return Status::FromErrno("cannot list extended attributes", errno);
  }
  names.resize(static_cast<size_t>(n));
  size_t start = 0;
  while (start < names.size()) {
    size_t end = names.find('\0', start);
    if (end == std::string::npos) end = names.size();
    std::string attr = names.substr(start, end - start);
    start = end + 1;
    if (attr.empty()) continue;
    std::string value(256, '\0');
    ssize_t v;
    for (;;) {
      v = ::lgetxattr(path.c_str(), attr.c_str(), value.data(), value.size());
      if (v >= 0) break;
      if (errno == ERANGE) {
        ssize_t need = ::lgetxattr(path.c_str(), attr.c_str(), nullptr, 0);
        if (need < 0) break;
        value.resize(static_cast<size_t>(need) + 1);
        continue;
      }
      break;
    }
    if (v < 0) {
      if (errno == ENODATA) continue;  // removed since it was listed
      return Status::FromErrno("cannot read extended attribute " + attr, errno);
    }
    value.resize(static_cast<size_t>(v));
    e->extra.mutable_get().xattrs.push_back(
        {std::move(attr), std::move(value)});
  }
  return Status::OK();
}

struct Local {
  // Deques: they grow without a copy of what they hold, and give their
  // memory back as they are emptied from the front.
  WalkedEntries entries;
  WalkedEntries dirs;  // every directory considered, taken or not
  std::vector<WalkError> errors;
  std::vector<WalkNote> notes;
  uint64_t directories_read = 0;
};

class Walker {
 public:
  explicit Walker(const WalkOptions& o, int root_fd)
      : o_(o), root_fd_(root_fd) {}

  void Run() {
    parallel::Run(group_, [this] { ReadDir(std::string(), root_dev_); });
    parallel::Wait(group_);
  }

  void set_root_dev(uint64_t dev) { root_dev_ = dev; }
  tbb::enumerable_thread_specific<Local>& locals() { return locals_; }

 private:
  bool Cancelled() const {
    return o_.cancel != nullptr && o_.cancel->load(std::memory_order_relaxed);
  }

  // True when `path` lies strictly inside a selected profile's home: the
  // walk does not cross a mount point there unless asked.
  bool InsideProfile(const std::string& path, int32_t profile) const {
    if (profile < 0) return false;
    return path != o_.machine->profiles[static_cast<size_t>(profile)].home;
  }

  void ReadDir(const std::string& path, uint64_t dev) {
    if (Cancelled()) return;
    Local& local = locals_.local();
    auto fd = fs::OpenBeneath(root_fd_, path, O_RDONLY | O_DIRECTORY);
    if (!fd.ok()) {
      int err = fs::LastOpenErrno();
      if (err == ENOENT) return;  // removed since its parent was read
      local.errors.push_back({path, fd.status()});
      return;
    }
    int dir_fd = fd->get();
    DIR* dir = ::fdopendir(fd->release());
    if (dir == nullptr) {
      local.errors.push_back(
          {path, Status::FromErrno("cannot read directory " + path, errno)});
      ::close(dir_fd);
      return;
    }
    ++local.directories_read;
    if (o_.tick) o_.tick();
    for (;;) {
      errno = 0;
      struct dirent* d = ::readdir(dir);
      if (d == nullptr) {
        if (errno != 0) {
          local.errors.push_back(
              {path,
               Status::FromErrno("cannot read directory " + path, errno)});
        }
        break;
      }
      std::string_view name(d->d_name);
      if (name == "." || name == "..") continue;
      Entry(dir_fd, path, d, dev, &local);
      if (Cancelled()) break;
    }
    ::closedir(dir);
  }

  void Entry(int dir_fd, const std::string& parent, const struct dirent* d,
             uint64_t parent_dev, Local* local) {
    const std::string path = Join(parent, d->d_name);
    bool is_dir = d->d_type == DT_DIR;
    bool known = d->d_type != DT_UNKNOWN;
    struct statx sx;
    auto do_stat = [&]() -> bool {
      if (::statx(dir_fd, d->d_name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                  STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) {
        if (errno == ENOENT)
          return false;  // gone since readdir: nothing to take
        local->errors.push_back(
            {path, Status::FromErrno("cannot stat " + path, errno)});
        return false;
      }
      return true;
    };
    if (!known) {
      if (!do_stat()) return;
      is_dir = S_ISDIR(sx.stx_mode);
    }

    // A store holds paths of at most kMaxPathBytes (PATH_MAX - 1): a longer
    // one, below folders nested deeper than that, is a file error that names
    // it, never a capture that fails as a whole when the catalog refuses it.
    auto too_long = [&] {
      if (path.size() <= format::limits::kMaxPathBytes) return false;
      local->errors.push_back(
          {path, Status::FromErrno("cannot take " + path, ENAMETOOLONG)});
      return true;
    };
    if (is_dir) {
      Decision decision = o_.matcher->Decide(path, EntryKind::kDirectory);
      bool descend = o_.matcher->MayTakeBelow(path);
      if (!decision.taken && !descend) return;
      if (too_long()) return;
      if (known && !do_stat()) return;
      WalkedEntry e;
      e.path = path;
      e.type = EntryType::kDirectory;
      e.profile = decision.profile;
      e.taken = decision.taken;
      FillFromStatx(sx, &e);
      e.size = 0;
      if (o_.exclude.count({e.dev, e.ino}) != 0) return;  // the store itself
      if (e.dev != parent_dev && !o_.cross_mounts &&
          InsideProfile(path, decision.profile)) {
        local->notes.push_back(
            {path, "mount point not crossed (use --cross-mounts)"});
        descend = false;
      }
      if (e.dev != parent_dev && descend && o_.local_only) {
        const fs::Locality where = MountLocality(dir_fd, d->d_name);
        if (where != fs::Locality::kLocal) {
          local->notes.push_back(
              {path, std::string("mount point of a ") +
                         fs::LocalityName(where) +
                         " filesystem not crossed (--local-only)"});
          descend = false;
        }
      }
      if (decision.taken) {
        Status s = ReadXattrs(dir_fd, d->d_name, &e);
        if (!s.ok()) local->errors.push_back({path, s.WithContext(path)});
      }
      uint64_t dev = e.dev;
      local->dirs.push_back(std::move(e));
      if (descend)
        parallel::Run(group_, [this, path, dev] { ReadDir(path, dev); });
      return;
    }

    Decision decision = o_.matcher->Decide(path, EntryKind::kFile);
    bool stated = !known;
    if (!decision.taken && decision.needs_facts) {
      // An include filters by FileProperties: its answer needs the stat.
      if (!stated && !do_stat()) return;
      stated = true;
      const FileFacts facts = FactsOf(sx);
      decision = o_.matcher->Decide(path, EntryKind::kFile, &facts);
    }
    if (!decision.taken) return;
    if (too_long()) return;
    if (!stated && !do_stat()) return;
    WalkedEntry e;
    e.path = path;
    e.profile = decision.profile;
    FillFromStatx(sx, &e);
    if (o_.exclude.count({e.dev, e.ino}) != 0) return;  // the store itself
    const mode_t fmt = sx.stx_mode & S_IFMT;
    if (fmt == S_IFREG) {
      e.type = EntryType::kFile;
    } else if (fmt == S_IFLNK) {
      e.type = EntryType::kSymlink;
      std::string target(
          static_cast<size_t>(std::max<uint64_t>(e.size, 64)) + 1, '\0');
      ssize_t n = ::readlinkat(dir_fd, d->d_name, target.data(), target.size());
      if (n < 0) {
        local->errors.push_back(
            {path, Status::FromErrno("cannot read symlink " + path, errno)});
        return;
      }
      target.resize(static_cast<size_t>(n));
      e.size = target.size();
      if (!target.empty())
        e.extra.mutable_get().symlink_target = std::move(target);
      if (e.size == 0) {
        local->notes.push_back({path, "symlink with an empty target skipped"});
        return;
      }
    } else if (fmt == S_IFIFO) {
      e.type = EntryType::kFifo;
      e.size = 0;
    } else {
      const char* what = fmt == S_IFSOCK  ? "socket"
                         : fmt == S_IFCHR ? "character device"
                         : fmt == S_IFBLK ? "block device"
                                          : "special file";
      local->notes.push_back({path, std::string(what) + " skipped"});
      return;
    }
    if (e.type != EntryType::kFile || o_.file_xattrs) {
      Status s = ReadXattrs(dir_fd, d->d_name, &e);
      if (!s.ok()) {
        local->errors.push_back({path, s.WithContext(path)});
        return;
      }
    }
    if (e.type == EntryType::kFile && o_.on_file) {
      Status s = o_.on_file(dir_fd, d->d_name, &e);
      if (s.IsNotFound()) return;  // gone since readdir
      if (!s.ok()) {
        local->errors.push_back({path, s.WithContext(path)});
        return;
      }
    }
    local->entries.push_back(std::move(e));
  }

  const WalkOptions& o_;
  int root_fd_;
  uint64_t root_dev_ = 0;
  tbb::task_group group_;
  tbb::enumerable_thread_specific<Local> locals_;
};

template <typename Container>
void SortByPath(Container* v) {
  using T = typename Container::value_type;
  std::sort(v->begin(), v->end(),
            [](const T& a, const T& b) { return a.path < b.path; });
}

}  // namespace

void FillFromStatx(const struct statx& sx, WalkedEntry* e) {
  e->mode = sx.stx_mode & 07777;
  e->uid = sx.stx_uid;
  e->gid = sx.stx_gid;
  e->size = sx.stx_size;
  e->set_blocks(sx.stx_blocks);
  e->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  e->ino = sx.stx_ino;
  e->set_nlink(sx.stx_nlink);
  e->mtime_ns = Nanos(sx.stx_mtime);
  e->atime_ns = Nanos(sx.stx_atime);
  e->ctime_ns = Nanos(sx.stx_ctime);
  e->has_btime = (sx.stx_mask & STATX_BTIME) != 0;
  if (e->has_btime) e->btime_ns = Nanos(sx.stx_btime);
}

void UseProcfsXattrsForTesting(bool on) {
  listxattrat_missing.store(on, std::memory_order_relaxed);
}

Result<WalkResult> Walk(const WalkOptions& o) {
  assert(o.machine != nullptr && o.matcher != nullptr);
  int fd = ::open(o.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open the root " + o.root, errno);
  UniqueFd root(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return Status::FromErrno("cannot stat the root " + o.root, errno);

  Walker walker(o, fd);
  walker.set_root_dev(st.st_dev);
  walker.Run();
  if (o.cancel != nullptr && o.cancel->load())
    return Status::Cancelled("walk cancelled");

  WalkResult result;
  WalkedEntries dirs;
  // Each thread's lists are emptied from the front as they are moved: a
  // copy of every entry next to the originals would be the peak of a
  // capture of a million files.
  auto move_all = [](WalkedEntries* from, WalkedEntries* to) {
    while (!from->empty()) {
      to->push_back(std::move(from->front()));
      from->pop_front();
    }
  };
  for (Local& l : walker.locals()) {
    move_all(&l.entries, &result.entries);
    move_all(&l.dirs, &dirs);
    for (auto& e : l.errors) result.errors.push_back(std::move(e));
    for (auto& n : l.notes) result.notes.push_back(std::move(n));
    result.directories_read += l.directories_read;
  }
  // A directory stays when the rules take it, or when something taken lies
  // below it (a restore needs it, with its own metadata).
  std::unordered_set<std::string_view> needed;
  auto need_ancestors = [&](std::string_view path) {
    for (size_t slash = path.rfind('/');
         slash != std::string_view::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      if (!needed.insert(path.substr(0, slash)).second) break;
    }
  };
  for (const WalkedEntry& e : result.entries) need_ancestors(e.path);
  for (const WalkedEntry& d : dirs) {
    if (d.taken) need_ancestors(d.path);
  }
  // Decide every directory before moving any: `needed` views their paths.
  std::vector<bool> keep(dirs.size());
  for (size_t i = 0; i < dirs.size(); ++i) {
    keep[i] = dirs[i].taken || needed.count(dirs[i].path) != 0;
  }
  needed.clear();
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (keep[i]) result.entries.push_back(std::move(dirs[i]));
  }
  SortByPath(&result.entries);
  SortByPath(&result.errors);
  SortByPath(&result.notes);
  return result;
}

}  // namespace migstore::capture
