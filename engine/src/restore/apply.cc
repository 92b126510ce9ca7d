#include "engine/src/restore/apply.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/base/parallel.h"
#include "engine/base/time_ns.h"
#include "engine/src/fs/copy_file.h"
#include "engine/src/fs/open_beneath.h"
#include "engine/src/hardlink/linked_file.h"
#include "engine/src/restore/content_writer.h"
#include "engine/src/restore/privileges.h"
#include "engine/src/restore/safe_path.h"

namespace migstore::restore {
namespace {

using format::Entry;
using format::EntryType;

// atime and mtime for utimensat; an unknown atime is left alone.
void Times(const Entry& e, struct timespec out[2]) {
  if (e.atime_ns) {
    out[0] = TimespecFrom(*e.atime_ns);
  } else {
    out[0].tv_sec = 0;
    out[0].tv_nsec = UTIME_OMIT;
  }
  out[1] = TimespecFrom(e.mtime_ns);
}

// Removes a file's temporary unless it was placed.
struct TempCleanup {
  int dir_fd;
  const std::string& tmp;
  const bool& placed;
  ~TempCleanup() {
    if (!placed) ::unlinkat(dir_fd, tmp.c_str(), 0);
  }
};

bool XattrRefused(int err) {
  return err == ENOTSUP || err == EOPNOTSUPP || err == EPERM || err == EACCES;
}

// The file capabilities on `fd`'s inode into *value; false when it has none
// (or they cannot be read, which a restore treats alike).
bool ReadCapability(int fd, std::string* value) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    ssize_t n = ::fgetxattr(fd, kCapabilityXattr, nullptr, 0);
    if (n < 0) return false;
    value->resize(static_cast<size_t>(n));
    n = ::fgetxattr(fd, kCapabilityXattr, value->data(), value->size());
    if (n >= 0) {
      value->resize(static_cast<size_t>(n));
      return true;
    }
    if (errno != ERANGE) return false;  // ERANGE: it grew meanwhile
  }
  return false;
}

}  // namespace

// Handles on the folders files are written into, opened below the target
// without following symlinks. Items come in block order, which is mostly
// path order, so a few recent handles serve most lookups.
class Applier::DirCache {
 public:
  explicit DirCache(int target_fd) : target_fd_(target_fd) {}

  Result<int> Get(std::string_view dir) {
    if (dir.empty()) return target_fd_;
    for (Slot& s : slots_) {
      if (s.path == dir) {
        s.used = ++clock_;
        return s.fd.get();
      }
    }
    MIGSTORE_ASSIGN_OR_RETURN(
        UniqueFd fd, fs::OpenBeneath(target_fd_, dir, O_PATH | O_DIRECTORY));
    Slot* slot = nullptr;
    if (slots_.size() < kSlots) {
      slot = &slots_.emplace_back();
    } else {
      slot = &*std::min_element(
          slots_.begin(), slots_.end(),
          [](const Slot& a, const Slot& b) { return a.used < b.used; });
    }
    slot->path = std::string(dir);
    slot->fd = std::move(fd);
    slot->used = ++clock_;
    return slot->fd.get();
  }

 private:
  static constexpr size_t kSlots = 8;
  struct Slot {
    std::string path;
    UniqueFd fd;
    uint64_t used = 0;
  };
  int target_fd_;
  std::vector<Slot> slots_;
  uint64_t clock_ = 0;
};

void CountBlockUses(const std::vector<format::Entry>& entries,
                    const std::vector<Item>& items,
                    std::vector<uint32_t>* uses) {
  for (const Item& item : items) {
    if (item.action != Action::kWrite || item.content == nullptr ||
        entries[item.entry].type != EntryType::kFile) {
      continue;
    }
    for (uint64_t b : BlocksOf(*item.content)) {
      if (b < uses->size()) ++(*uses)[b];
    }
  }
}

Applier::Applier(const ApplyOptions& options, std::vector<uint32_t> block_uses,
                 ApplyCallbacks callbacks)
    : o_(options), cb_(std::move(callbacks)) {
  preexisting_.insert("");
  made_.insert("");
  pool_ = std::make_unique<BlockPool>(*o_.store->reader, std::move(block_uses),
                                      o_.block_memory);
}

void Applier::ApplyWindow(const std::vector<format::Entry>& entries,
                          std::vector<Item>* items) {
  entries_ = &entries;
  items_ = items;
  done_.assign(items->size(), 0);
  kept_.assign(items->size(), 0);
  // Already in place from an earlier run: as good as written (a hard-link
  // member may link to it).
  for (size_t i = 0; i < items->size(); ++i) {
    if ((*items)[i].action == Action::kIdentical) done_[i] = 1;
  }
  if (!ShouldStop()) {
    MakeFolders();
    WriteFiles();
    MakeLinksAndSpecials(/*specials=*/false);
  }
  for (size_t i = 0; i < items->size(); ++i) {
    const Item& item = (*items)[i];
    if (item.leads && !done_[i])
      failed_leaders_.insert(entries[item.entry].link_group);
  }
  KeepForFinish();
}

void Applier::KeepForFinish() {
  for (size_t i = 0; i < items_->size(); ++i) {
    Item& item = (*items_)[i];
    const Entry& e = EntryOf(item);
    const bool special =
        item.action == Action::kWrite &&
        (e.type == EntryType::kSymlink || e.type == EntryType::kFifo);
    const bool folder =
        e.type == EntryType::kDirectory &&
        (item.action == Action::kMerge ||
         (item.action == Action::kWrite && made_.count(Dest(item))));
    if (!special && !folder) continue;
    kept_[i] = 1;
    Item copy = std::move(item);
    copy.entry = static_cast<uint32_t>(kept_entries_.size());
    kept_entries_.push_back(e);
    kept_items_.push_back(std::move(copy));
    kept_done_.push_back(done_[i]);
  }
}

void Applier::Finish() {
  entries_ = &kept_entries_;
  items_ = &kept_items_;
  done_ = std::move(kept_done_);
  kept_.assign(kept_items_.size(), 0);
  MakeLinksAndSpecials(/*specials=*/true);
  FinishFolders();
}

Applier::~Applier() = default;

uint64_t Applier::blocks_opened() const {
  return pool_ ? pool_->blocks_opened() : 0;
}

bool Applier::Fail(size_t item, const Status& error) {
  if (!cb_.error(EntryOf((*items_)[item]).path, error)) stop_.store(true);
  return false;
}

bool Applier::ShouldStop() {
  if (stop_.load(std::memory_order_relaxed)) return true;
  if (cb_.cancelled()) {
    stop_.store(true);
    return true;
  }
  return false;
}

// Makes `path` and the folders above it that are missing. Folders made only
// to hold entries get 0755; the store's own (`own`) get `mode` (0700 until
// FinishFolders gives them theirs).
Status Applier::EnsureFolder(const std::string& path, bool own, uint32_t mode) {
  if (made_.count(path)) return Status::OK();
  std::string_view parent = ParentOf(path);
  MIGSTORE_RETURN_IF_ERROR(EnsureFolder(std::string(parent), false, 0755));
  auto pfd = parent.empty()
                 ? Result<UniqueFd>(UniqueFd())
                 : fs::OpenBeneath(o_.target_fd, parent, O_PATH | O_DIRECTORY);
  if (!pfd.ok()) return pfd.status();
  int dir_fd = parent.empty() ? o_.target_fd : pfd->get();
  std::string name(NameOf(path));
  if (::mkdirat(dir_fd, name.c_str(), own ? mode : 0755) != 0) {
    int err = errno;
    struct stat st;
    if (err != EEXIST ||
        ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(st.st_mode)) {
      return Status::FromErrno("cannot make the folder " + path, err);
    }
    preexisting_.insert(path);
  }
  made_.insert(path);
  return Status::OK();
}

void Applier::MakeFolders() {
  for (size_t i = 0; i < items_->size() && !ShouldStop(); ++i) {
    Item& item = (*items_)[i];
    const Entry& e = EntryOf(item);
    const bool is_dir = e.type == EntryType::kDirectory;
    if (is_dir && item.action == Action::kMerge) {
      made_.insert(Dest(item));
      preexisting_.insert(Dest(item));
      // The folders above it exist too.
      for (std::string_view a = ParentOf(Dest(item)); !a.empty();
           a = ParentOf(a)) {
        if (!made_.insert(std::string(a)).second) break;
        preexisting_.insert(std::string(a));
      }
      continue;
    }
    if (item.action != Action::kWrite && item.action != Action::kLink) continue;
    Status s;
    if (is_dir) {
      s = EnsureFolder(std::string(ParentOf(Dest(item))), false, 0755);
      if (s.ok() && item.replace) {
        // A non-directory is in the way and the policy replaces it.
        auto pfd = fs::OpenBeneath(o_.target_fd, ParentOf(Dest(item)),
                                   O_PATH | O_DIRECTORY);
        std::string name(NameOf(Dest(item)));
        if (!pfd.ok()) {
          s = pfd.status();
        } else if (::unlinkat(pfd->get(), name.c_str(), 0) != 0 &&
                   errno != ENOENT) {
          s = Status::FromErrno(
              "cannot remove what is in the way of " + Dest(item), errno);
        }
      }
      if (s.ok()) s = EnsureFolder(Dest(item), true, 0700);
      if (s.ok()) done_[i] = 1;
    } else {
      s = EnsureFolder(std::string(ParentOf(Dest(item))), false, 0755);
    }
    if (!s.ok()) {
      Fail(i, s);
      // Its blocks' uses, counted with the plan, are over.
      if (item.action == Action::kWrite && item.content != nullptr &&
          e.type == EntryType::kFile) {
        for (uint64_t b : BlocksOf(*item.content)) pool_->Release(b);
      }
      item.action = Action::kRefuse;
      item.mutable_detail().error = s;
    }
  }
  // Temporaries a killed run left in folders that were already there.
  std::set<std::string> dirs;
  for (const Item& item : *items_) {
    if ((item.action == Action::kWrite || item.action == Action::kLink) &&
        EntryOf(item).type != EntryType::kDirectory) {
      std::string parent(ParentOf(Dest(item)));
      if (preexisting_.count(parent) && !scanned_.count(parent))
        dirs.insert(parent);
    }
  }
  // A symlink or fifo temporary cannot hold a lock of its own, so it is
  // known to be a dead run's only while this run is the target's sole
  // restore: a run that gets LOCK_EX on the target folder keeps it to its
  // end. (flock needs a handle that is not O_PATH.)
  if (!dirs.empty() && !target_lock_.valid()) {
    auto lock = fs::OpenBeneath(o_.target_fd, "", O_RDONLY | O_DIRECTORY);
    if (lock.ok() && ::flock(lock->get(), LOCK_EX | LOCK_NB) == 0)
      target_lock_ = std::move(lock).value();
  }
  for (const std::string& d : dirs) {
    RemoveStaleTemporaries(d);
    scanned_.insert(d);
  }
}

void Applier::RemoveStaleTemporaries(const std::string& dir) {
  auto fd = fs::OpenBeneath(o_.target_fd, dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return;
  int dir_fd = fd->get();
  DIR* d = ::fdopendir(::dup(dir_fd));
  if (d == nullptr) return;
  std::vector<std::string> candidates;
  while (struct dirent* de = ::readdir(d)) {
    if (IsRestoreTemporary(de->d_name)) candidates.emplace_back(de->d_name);
  }
  ::closedir(d);
  for (const std::string& name : candidates) {
    struct stat what;
    if (::fstatat(dir_fd, name.c_str(), &what, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    if (S_ISLNK(what.st_mode) || S_ISFIFO(what.st_mode)) {
      if (target_lock_.valid() && ::unlinkat(dir_fd, name.c_str(), 0) == 0)
        ++temporaries_removed_;
      continue;
    }
    // A live writer holds LOCK_EX on its temporary: only files whose lock
    // can be taken belong to a dead run. O_NOFOLLOW: never through a link.
    int f = ::openat(dir_fd, name.c_str(),
                     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) continue;
    UniqueFd owned(f);
    struct stat st, now;
    if (::fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::flock(f, LOCK_EX | LOCK_NB) != 0) continue;
    if (::fstatat(dir_fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 ||
        now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
      continue;
    }
    if (::unlinkat(dir_fd, name.c_str(), 0) == 0) ++temporaries_removed_;
  }
}

Status Applier::Place(int dir_fd, const std::string& tmp, const Item& item) {
  std::string name(NameOf(Dest(item)));
  if (item.replace) {
    if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) == 0)
      return Status::OK();
    return Status::FromErrno("cannot rename into place " + Dest(item), errno);
  }
  if (::renameat2(dir_fd, tmp.c_str(), dir_fd, name.c_str(),
                  RENAME_NOREPLACE) == 0) {
    return Status::OK();
  }
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    // A filesystem without RENAME_NOREPLACE: link() also refuses to replace.
    if (::linkat(dir_fd, tmp.c_str(), dir_fd, name.c_str(), 0) == 0) {
      ::unlinkat(dir_fd, tmp.c_str(), 0);
      return Status::OK();
    }
    err = errno;
  }
  if (err == EEXIST) {
    return Status::AlreadyExists(Dest(item),
                                 "appeared in the target during the restore");
  }
  return Status::FromErrno("cannot rename into place " + Dest(item), err);
}

Status Applier::SetXattrs(int fd, const std::string& proc_path, const Entry& e,
                          const std::string& dest) {
  if (!o_.set_xattrs) return Status::OK();
  for (const format::Xattr& x : e.xattrs()) {
    if (o_.strip_privileges && x.name == kCapabilityXattr) continue;
    int r = fd >= 0 ? ::fsetxattr(fd, x.name.c_str(), x.value.data(),
                                  x.value.size(), 0)
                    : ::lsetxattr(proc_path.c_str(), x.name.c_str(),
                                  x.value.data(), x.value.size(), 0);
    if (r == 0) continue;
    int err = errno;
    if (XattrRefused(err)) {
      cb_.note(dest, "extended attribute " + x.name +
                         " not restored: " + std::strerror(err));
      continue;
    }
    return Status::FromErrno(
        "cannot set extended attribute " + x.name + " of " + dest, err);
  }
  return Status::OK();
}

Status Applier::WriteFile(size_t index, DirCache* dirs) {
  if (o_.store->hardlink()) return WriteFromLinkStore(index, dirs);
  Item& item = (*items_)[index];
  const Entry& e = EntryOf(item);
  MIGSTORE_ASSIGN_OR_RETURN(int dir_fd, dirs->Get(ParentOf(Dest(item))));
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    tmp = TempName(NameOf(Dest(item)));
    fd = ::openat(dir_fd, tmp.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      return Status::FromErrno(
          "cannot create a file in the folder of " + Dest(item), errno);
    }
  }
  if (fd < 0)
    return Status::IOError("no free temporary name for " + Dest(item));
  UniqueFd owned(fd);
  // Whatever happens before the rename, the temporary goes.
  bool placed = false;
  TempCleanup cleanup{dir_fd, tmp, placed};
  // Held while the file is written: a cleaner of stale temporaries (another
  // run) leaves a locked file alone.
  ::flock(fd, LOCK_EX | LOCK_NB);

  uint64_t written = 0;
  if (item.content != nullptr) {
    const format::Content& c = *item.content;
    RangeWriter out(fd, c, Dest(item));
    Status s;
    // Isolated: a worker waiting for its read-ahead tasks runs only those,
    // never another file's work in the middle of this one.
    tbb::this_task_arena::isolate([&] {
      ReadAhead ahead(pool_.get(), c, fd,
                      static_cast<size_t>(std::max(o_.threads, 1)));
      s = o_.store->reader->ReadContentDataFrom(
          c,
          [&](std::string_view piece) -> Status {
            if (ahead.Written(out.written(), piece.size())) {
              out.Skip(piece.size());
              return Status::OK();
            }
            return out.Write(piece);
          },
          [&](uint64_t block) -> Result<std::shared_ptr<const std::string>> {
            if (ahead.enabled()) ahead.Asked(block);
            return pool_->Acquire(block);
          });
      ahead.Wait();
    });
    if (!s.ok()) return s.WithContext(e.path);
    written = out.written();
    if (out.end() < c.size &&
        ::ftruncate(fd, static_cast<off_t>(c.size)) != 0) {
      return Status::FromErrno("cannot set the size of " + Dest(item), errno);
    }
  } else if (e.size > 0 && ::ftruncate(fd, static_cast<off_t>(e.size)) != 0) {
    return Status::FromErrno("cannot set the size of " + Dest(item), errno);
  }
  MIGSTORE_RETURN_IF_ERROR(SetFileMetadata(fd, item, e));
  MIGSTORE_RETURN_IF_ERROR(Place(dir_fd, tmp, item));
  placed = true;
  NotePrivileges(item, e, false);
  cb_.progress(written, 1);
  return Status::OK();
}

void Applier::NotePrivileges(const Item& item, const Entry& e,
                             bool store_capability) {
  if (!o_.note_privileges || e.type != EntryType::kFile) return;
  const bool root_owned = o_.set_owner ? item.uid == 0 : ::geteuid() == 0;
  const std::string what =
      PrivilegesOf(e.mode, root_owned, store_capability || HasCapability(e));
  if (what.empty()) return;
  privileged_files_.fetch_add(1, std::memory_order_relaxed);
  cb_.note(Dest(item), PrivilegeNote(what, o_.strip_privileges));
}

// Metadata after the data: owner first (chown clears setuid, setgid and
// file capabilities), then mode, extended attributes (ACLs included, as
// captured), times last.
Status Applier::SetFileMetadata(int fd, const Item& item, const Entry& e,
                                const std::string* capability) {
  if (o_.set_owner && ::fchown(fd, item.uid, item.gid) != 0) {
    return Status::FromErrno("cannot set the owner of " + Dest(item), errno);
  }
  uint32_t mode = e.mode & o_.mode_mask;
  if (o_.strip_privileges) mode &= ~kPrivilegeModeBits;
  if (::fchmod(fd, mode) != 0) {
    return Status::FromErrno("cannot set the mode of " + Dest(item), errno);
  }
  MIGSTORE_RETURN_IF_ERROR(SetXattrs(fd, {}, e, Dest(item)));
  if (capability != nullptr && !o_.strip_privileges &&
      ::fsetxattr(fd, kCapabilityXattr, capability->data(), capability->size(),
                  0) != 0) {
    const int err = errno;
    if (!XattrRefused(err)) {
      return Status::FromErrno(std::string("cannot set extended attribute ") +
                                   kCapabilityXattr + " of " + Dest(item),
                               err);
    }
    cb_.note(Dest(item), std::string("extended attribute ") + kCapabilityXattr +
                             " not restored: " + std::strerror(err));
  }
  struct timespec times[2];
  Times(e, times);
  if (::futimens(fd, times) != 0) {
    return Status::FromErrno("cannot set the times of " + Dest(item), errno);
  }
  return Status::OK();
}

// A file of a hard-link store: the store's file, checked to be the one
// captured (hardlink::LinkedFiles::Open), is linked back under a temporary
// name (through /proc/self/fd, so exactly the inode opened and checked is
// linked) when allowed and possible, else copied; then given the
// entry's metadata and renamed into place like any other file. A link
// shares its inode with the store, so the metadata set on it is the
// store's file's too: the same metadata it was captured with.
Status Applier::WriteFromLinkStore(size_t index, DirCache* dirs) {
  Item& item = (*items_)[index];
  const Entry& e = EntryOf(item);
  // The file checked is the descriptor linked or copied from: a store file
  // replaced or written since the capture is damage, never restored.
  struct stat st;
  MIGSTORE_ASSIGN_OR_RETURN(UniqueFd src,
                            o_.store->linked->Open(e, O_RDONLY, &st));
  // A hard-link store's file capabilities are on its file, not in the
  // catalog. A file stripped of its privileges is copied: a link would
  // strip the store's own file (the original inode) too.
  std::string capability;
  const bool has_capability = (o_.set_xattrs || o_.note_privileges) &&
                              ReadCapability(src.get(), &capability);
  const bool privileged = has_capability || (e.mode & kPrivilegeModeBits) != 0;
  MIGSTORE_ASSIGN_OR_RETURN(int dir_fd, dirs->Get(ParentOf(Dest(item))));
  const std::string proc = "/proc/self/fd/" + std::to_string(src.get());
  std::string tmp;
  UniqueFd copy;
  bool made = false;
  bool linked = false;
  bool try_link = o_.link_back && !(o_.strip_privileges && privileged);
  for (int attempt = 0; attempt < 8 && !made; ++attempt) {
    tmp = TempName(NameOf(Dest(item)));
    if (try_link) {
      if (::linkat(AT_FDCWD, proc.c_str(), dir_fd, tmp.c_str(),
                   AT_SYMLINK_FOLLOW) == 0) {
        made = linked = true;
        break;
      }
      const int err = errno;
      if (err == EEXIST) continue;
      if (err != EXDEV && err != EMLINK && err != EPERM && err != EACCES) {
        return Status::FromErrno(
            "cannot link " + Dest(item) + " back from the store", err);
      }
      try_link = false;  // another filesystem, or not allowed: copy
    }
    copy.reset(::openat(dir_fd, tmp.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600));
    if (copy.valid()) {
      made = true;
    } else if (errno != EEXIST) {
      return Status::FromErrno(
          "cannot create a file in the folder of " + Dest(item), errno);
    }
  }
  if (!made) return Status::IOError("no free temporary name for " + Dest(item));
  bool placed = false;
  TempCleanup cleanup{dir_fd, tmp, placed};
  uint64_t written = 0;
  if (!linked) {
    ::flock(copy.get(), LOCK_EX | LOCK_NB);
    MIGSTORE_RETURN_IF_ERROR(fs::CopyFileData(src.get(), copy.get(),
                                              static_cast<uint64_t>(st.st_size),
                                              Dest(item), &written));
    if (o_.set_xattrs) {
      // All but the capabilities, which go on after the owner.
      MIGSTORE_RETURN_IF_ERROR(fs::CopyXattrs(
          src.get(), copy.get(), Dest(item),
          [&](const std::string& name, int err) {
            cb_.note(Dest(item), "extended attribute " + name +
                                     " not restored: " + std::strerror(err));
          },
          kCapabilityXattr));
    }
  }
  // The capabilities are set again where they are gone: on a copy, and on
  // the link when fchown dropped them from the inode it shares.
  const bool set_capability =
      has_capability && o_.set_xattrs && (!linked || o_.set_owner);
  MIGSTORE_RETURN_IF_ERROR(
      SetFileMetadata(linked ? src.get() : copy.get(), item, e,
                      set_capability ? &capability : nullptr));
  MIGSTORE_RETURN_IF_ERROR(Place(dir_fd, tmp, item));
  placed = true;
  NotePrivileges(item, e, has_capability);
  cb_.progress(written, 1);
  return Status::OK();
}

void Applier::WriteFiles() {
  if (ShouldStop()) return;
  // Files with data in the order of their first block, then the rest.
  std::vector<size_t> list;
  for (size_t i = 0; i < items_->size(); ++i) {
    const Item& item = (*items_)[i];
    if (item.action == Action::kWrite &&
        EntryOf(item).type == EntryType::kFile) {
      list.push_back(i);
    }
  }
  auto first_chunk = [&](size_t i) -> std::pair<uint64_t, uint64_t> {
    const format::Content* c = (*items_)[i].content;
    if (c == nullptr || c->chunks.empty()) return {UINT64_MAX, 0};
    return {c->chunks[0].block, c->chunks[0].offset};
  };
  std::stable_sort(list.begin(), list.end(), [&](size_t a, size_t b) {
    return first_chunk(a) < first_chunk(b);
  });
  parallel::ParallelFor(tbb::blocked_range<size_t>(0, list.size()),
                        [&](const tbb::blocked_range<size_t>& r) {
                          DirCache dirs(o_.target_fd);
                          for (size_t k = r.begin(); k != r.end(); ++k) {
                            size_t i = list[k];
                            if (!ShouldStop()) {
                              Status s = WriteFile(i, &dirs);
                              if (s.ok()) {
                                done_[i] = 1;
                              } else {
                                Fail(i, s);
                              }
                            }
                            // Its planned uses of its blocks are over, written
                            // or not.
                            if ((*items_)[i].content != nullptr) {
                              for (uint64_t b : BlocksOf(*(*items_)[i].content))
                                pool_->Release(b);
                            }
                          }
                        });
}

Status Applier::LinkMember(size_t index, DirCache* dirs) {
  Item& item = (*items_)[index];
  // The leader is this window's, or an earlier one's (by destination).
  const bool here = item.leader >= 0;
  const std::string& leader_dest =
      here ? Dest((*items_)[static_cast<size_t>(item.leader)])
           : item.detail->leader_dest;
  if (here ? !done_[static_cast<size_t>(item.leader)]
           : failed_leaders_.count(EntryOf(item).link_group) != 0) {
    return Status::IOError(Dest(item), "its hard-link leader " + leader_dest +
                                           " was not restored");
  }
  MIGSTORE_ASSIGN_OR_RETURN(int leader_dir, dirs->Get(ParentOf(leader_dest)));
  UniqueFd leader_dir_owned;
  // The cache may evict the leader's handle when the member's is opened.
  int ld = ::dup(leader_dir);
  if (ld < 0) return Status::FromErrno("dup", errno);
  leader_dir_owned.reset(ld);
  MIGSTORE_ASSIGN_OR_RETURN(int dir_fd, dirs->Get(ParentOf(Dest(item))));
  std::string leader_name(NameOf(leader_dest));
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string tmp = TempName(NameOf(Dest(item)));
    if (::linkat(ld, leader_name.c_str(), dir_fd, tmp.c_str(), 0) != 0) {
      if (errno == EEXIST) continue;
      int err = errno;
      if (err == EXDEV || err == EMLINK || err == EPERM) {
        // Cannot link here: write it as a file of its own.
        item.action = Action::kWrite;
        return WriteFile(index, dirs);
      }
      return Status::FromErrno(
          "cannot link " + Dest(item) + " to " + leader_dest, err);
    }
    Status s = Place(dir_fd, tmp, item);
    if (!s.ok()) {
      ::unlinkat(dir_fd, tmp.c_str(), 0);
    } else {
      NotePrivileges(item, EntryOf(item), false);
    }
    return s;
  }
  return Status::IOError("no free temporary name for " + Dest(item));
}

Status Applier::MakeSpecial(size_t index, DirCache* dirs) {
  Item& item = (*items_)[index];
  const Entry& e = EntryOf(item);
  MIGSTORE_ASSIGN_OR_RETURN(int dir_fd, dirs->Get(ParentOf(Dest(item))));
  std::string tmp;
  bool made = false;
  for (int attempt = 0; attempt < 8 && !made; ++attempt) {
    tmp = TempName(NameOf(Dest(item)));
    int r = e.type == EntryType::kSymlink
                ? ::symlinkat(e.symlink_target().c_str(), dir_fd, tmp.c_str())
                : ::mknodat(dir_fd, tmp.c_str(), S_IFIFO | 0600, 0);
    if (r == 0) {
      made = true;
    } else if (errno != EEXIST) {
      return Status::FromErrno("cannot make " + Dest(item), errno);
    }
  }
  if (!made) return Status::IOError("no free temporary name for " + Dest(item));
  Status s = [&]() -> Status {
    if (o_.set_owner && ::fchownat(dir_fd, tmp.c_str(), item.uid, item.gid,
                                   AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno("cannot set the owner of " + Dest(item), errno);
    }
    // A fifo we just made (the name cannot be a symlink: we made it).
    if (e.type == EntryType::kFifo &&
        ::fchmodat(dir_fd, tmp.c_str(), e.mode & o_.mode_mask, 0) != 0) {
      return Status::FromErrno("cannot set the mode of " + Dest(item), errno);
    }
    // No descriptor for a symlink or fifo: the l* calls on the name, found
    // through the folder's handle.
    MIGSTORE_RETURN_IF_ERROR(
        SetXattrs(-1, "/proc/self/fd/" + std::to_string(dir_fd) + "/" + tmp, e,
                  Dest(item)));
    struct timespec times[2];
    Times(e, times);
    if (::utimensat(dir_fd, tmp.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno("cannot set the times of " + Dest(item), errno);
    }
    return Place(dir_fd, tmp, item);
  }();
  if (!s.ok()) ::unlinkat(dir_fd, tmp.c_str(), 0);
  return s;
}

void Applier::MakeLinksAndSpecials(bool specials) {
  if (ShouldStop()) return;
  std::vector<size_t> list;
  for (size_t i = 0; i < items_->size(); ++i) {
    const Item& item = (*items_)[i];
    EntryType t = EntryOf(item).type;
    if (item.action == Action::kLink ||
        (specials && item.action == Action::kWrite &&
         (t == EntryType::kSymlink || t == EntryType::kFifo))) {
      list.push_back(i);
    }
  }
  parallel::ParallelFor(
      tbb::blocked_range<size_t>(0, list.size()),
      [&](const tbb::blocked_range<size_t>& r) {
        DirCache dirs(o_.target_fd);
        for (size_t k = r.begin(); k != r.end(); ++k) {
          size_t i = list[k];
          if (ShouldStop()) return;
          Status s = (*items_)[i].action == Action::kLink
                         ? LinkMember(i, &dirs)
                         : MakeSpecial(i, &dirs);
          if (s.ok()) {
            done_[i] = 1;
            // (A link that fell back to a copy counted itself.)
            if ((*items_)[i].action == Action::kLink ||
                EntryOf((*items_)[i]).type != EntryType::kFile) {
              cb_.progress(0, 1);
            }
          } else {
            Fail(i, s);
          }
        }
      });
}

void Applier::FinishFolders() {
  // Deepest first, so setting a folder's times is the last thing that
  // happens inside its parent. Done even after a stop: the folders made so
  // far hold only whole files.
  std::vector<size_t> dirs;
  for (size_t i = 0; i < items_->size(); ++i) {
    const Item& item = (*items_)[i];
    if (EntryOf(item).type == EntryType::kDirectory &&
        (item.action == Action::kMerge ||
         (item.action == Action::kWrite && made_.count(Dest(item))))) {
      dirs.push_back(i);
    }
  }
  auto depth = [&](size_t i) {
    const std::string& dest = Dest((*items_)[i]);
    return std::count(dest.begin(), dest.end(), '/');
  };
  std::stable_sort(dirs.begin(), dirs.end(),
                   [&](size_t a, size_t b) { return depth(a) > depth(b); });
  for (size_t i : dirs) {
    if (cb_.cancelled()) return;
    Item& item = (*items_)[i];
    const Entry& e = EntryOf(item);
    Status s = [&]() -> Status {
      MIGSTORE_ASSIGN_OR_RETURN(
          UniqueFd fd,
          fs::OpenBeneath(o_.target_fd, Dest(item), O_RDONLY | O_DIRECTORY));
      if (o_.set_owner && ::fchown(fd.get(), item.uid, item.gid) != 0) {
        return Status::FromErrno("cannot set the owner of " + Dest(item),
                                 errno);
      }
      if (::fchmod(fd.get(), e.mode & o_.mode_mask) != 0) {
        return Status::FromErrno("cannot set the mode of " + Dest(item), errno);
      }
      MIGSTORE_RETURN_IF_ERROR(SetXattrs(fd.get(), {}, e, Dest(item)));
      struct timespec times[2];
      Times(e, times);
      if (::futimens(fd.get(), times) != 0) {
        return Status::FromErrno("cannot set the times of " + Dest(item),
                                 errno);
      }
      return Status::OK();
    }();
    if (s.ok()) {
      done_[i] = 1;
    } else if (!stop_.load()) {
      Fail(i, s);
    }
  }
}

}  // namespace migstore::restore
