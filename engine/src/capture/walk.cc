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
#include <mutex>
#include <string_view>

#include "engine/base/parallel.h"
#include "engine/base/time_ns.h"
#include "engine/src/fs/locality.h"
#include "engine/src/fs/open_beneath.h"
#include "format/coding.h"
#include "format/limits.h"
#include "format/sorted_runs.h"

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
  size_t start = 0, bytes = 0;
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
    auto& xattrs = e->extra.mutable_get().xattrs;
    bytes += attr.size() + value.size();
    if (xattrs.size() == format::limits::kMaxXattrsPerEntry ||
        bytes > format::limits::kMaxXattrBytesPerEntry) {
      return Status::InvalidArgument(
          "more extended attributes than a store holds (" +
          std::to_string(format::limits::kMaxXattrsPerEntry) + ", " +
          std::to_string(format::limits::kMaxXattrBytesPerEntry >> 20) +
          " MiB)");
    }
    xattrs.push_back({std::move(attr), std::move(value)});
  }
  return Status::OK();
}

// A directory the walk considered, with what decides whether it is kept:
// the rules take it, or something kept lies below it (a restore needs it,
// with its own metadata). Marked from below as entries are found, so the
// walk need not hold the entries to decide.
struct DirNode {
  WalkedEntry entry;
  DirNode* parent = nullptr;  // null: a child of the root
  std::atomic<bool> needed{false};
};

// Marks `dir` and its ancestors needed, stopping at one already marked.
void Need(DirNode* dir) {
  for (; dir != nullptr; dir = dir->parent) {
    if (dir->needed.exchange(true, std::memory_order_relaxed)) return;
  }
}

struct Local {
  // Deques: they grow without a copy of what they hold, and give their
  // memory back as they are emptied from the front; a DirNode stays where
  // it was made (its children point at it).
  WalkedEntries entries;
  std::deque<DirNode> dirs;
  WalkedEntries apart;
  Owners owners;
  std::vector<WalkError> errors;
  std::vector<WalkNote> notes;
  uint64_t directories_read = 0;
  uint64_t count = 0;  // entries kept, directories not yet counted
  uint64_t path_bytes = 0;
  Status spill_status;  // the first failure to write a run
};

template <typename Container>
void SortByPath(Container* v) {
  using T = typename Container::value_type;
  std::sort(v->begin(), v->end(),
            [](const T& a, const T& b) { return a.path < b.path; });
}

// A walked entry in a sorted run: the path is the key; the value holds the
// rest. Only ever read back by the same process.
void EncodeWalked(const WalkedEntry& e, std::string* out) {
  using format::PutBytes;
  using format::PutFixed64;
  using format::PutVarint;
  out->clear();
  PutVarint(out, static_cast<uint64_t>(e.type));
  PutVarint(out, (e.taken ? 1u : 0u) | (e.has_btime ? 2u : 0u));
  PutVarint(out, e.mode);
  PutVarint(out, e.nlink);
  PutVarint(out, e.uid);
  PutVarint(out, e.gid);
  PutVarint(out, static_cast<uint64_t>(int64_t{e.profile} + 1));
  PutVarint(out, e.size);
  PutVarint(out, e.dev);
  PutVarint(out, e.ino);
  PutVarint(out, e.store_ino);
  PutVarint(out, e.blocks_);
  PutFixed64(out, static_cast<uint64_t>(e.mtime_ns));
  PutFixed64(out, static_cast<uint64_t>(e.atime_ns));
  PutFixed64(out, static_cast<uint64_t>(e.ctime_ns));
  PutFixed64(out, static_cast<uint64_t>(e.btime_ns));
  PutBytes(out, e.symlink_target());
  PutVarint(out, e.xattrs().size());
  for (const format::Xattr& x : e.xattrs()) {
    PutBytes(out, x.name);
    PutBytes(out, x.value);
  }
}

bool DecodeWalked(std::string_view path, std::string_view value,
                  WalkedEntry* e) {
  format::Decoder d(value);
  e->path.assign(path);
  const uint64_t type = d.VarintAtMost(static_cast<uint64_t>(EntryType::kFifo));
  if (type == 0) d.Fail();
  e->type = static_cast<EntryType>(type);
  const uint64_t flags = d.VarintAtMost(3);
  e->taken = (flags & 1) != 0;
  e->has_btime = (flags & 2) != 0;
  e->mode = static_cast<uint16_t>(d.VarintAtMost(UINT16_MAX));
  e->nlink = static_cast<uint16_t>(d.VarintAtMost(UINT16_MAX));
  e->uid = static_cast<uint32_t>(d.VarintAtMost(UINT32_MAX));
  e->gid = static_cast<uint32_t>(d.VarintAtMost(UINT32_MAX));
  e->profile = static_cast<int32_t>(
      static_cast<int64_t>(d.VarintAtMost(uint64_t{INT32_MAX} + 1)) - 1);
  e->size = d.Varint();
  e->dev = d.Varint();
  e->ino = d.Varint();
  e->store_ino = d.Varint();
  e->blocks_ = static_cast<uint32_t>(d.VarintAtMost(UINT32_MAX));
  e->mtime_ns = static_cast<int64_t>(d.U64());
  e->atime_ns = static_cast<int64_t>(d.U64());
  e->ctime_ns = static_cast<int64_t>(d.U64());
  e->btime_ns = static_cast<int64_t>(d.U64());
  e->extra = format::EntryExtras();
  const std::string_view target = d.Bytes(format::limits::kMaxSymlinkTarget);
  if (!target.empty()) e->extra.mutable_get().symlink_target = target;
  const uint64_t xattrs = d.VarintAtMost(format::limits::kMaxXattrsPerEntry);
  for (uint64_t i = 0; i < xattrs && d.ok(); ++i) {
    const std::string_view name = d.Bytes(format::limits::kMaxXattrName);
    const std::string_view v = d.Bytes(format::limits::kMaxXattrValue);
    e->extra.mutable_get().xattrs.push_back(
        {std::string(name), std::string(v)});
  }
  return d.ok() && d.empty();
}

// A walk of ten million files writes hundreds of runs, and their merge
// holds a piece of each: 16 KiB pieces, not the writer's 64 (at 305 runs,
// 5 MB rather than 20).
constexpr size_t kWalkPieceBytes = 16 * 1024;

// Sorts `entries` and writes them to `spill` as a run.
Result<format::SortedRun> WriteRun(WalkedEntries* entries,
                                   format::SpillFile* spill, std::mutex* lock) {
  SortByPath(entries);
  format::RunWriter run(spill, lock, kWalkPieceBytes);
  std::string value;
  for (const WalkedEntry& e : *entries) {
    EncodeWalked(e, &value);
    MIGSTORE_RETURN_IF_ERROR(run.Add(e.path, value));
  }
  entries->clear();
  return run.Finish();
}

class Walker {
 public:
  explicit Walker(const WalkOptions& o, int root_fd)
      : o_(o), root_fd_(root_fd) {}

  void Run() {
    parallel::Run(group_,
                  [this] { ReadDir(std::string(), root_dev_, nullptr); });
    parallel::Wait(group_);
  }

  void set_root_dev(uint64_t dev) { root_dev_ = dev; }
  tbb::enumerable_thread_specific<Local>& locals() { return locals_; }
  // The runs written to the scratch file so far; `lock` guards the file.
  std::vector<format::SortedRun>& runs() { return runs_; }
  std::mutex* spill_lock() { return &spill_lock_; }

 private:
  bool Cancelled() const {
    return (o_.cancel != nullptr &&
            o_.cancel->load(std::memory_order_relaxed)) ||
           failed_.load(std::memory_order_relaxed);
  }

  // Keeps `e`, found in the directory `dir`: in the thread's list, or held
  // apart; a thread holding run_entries writes them out as a run.
  void Keep(WalkedEntry e, DirNode* dir, Local* local) {
    Need(dir);
    local->owners.uids.insert(e.uid);
    local->owners.gids.insert(e.gid);
    if (e.type == EntryType::kFile && o_.set_apart && o_.set_apart(e)) {
      local->apart.push_back(std::move(e));
      return;
    }
    ++local->count;
    local->path_bytes += e.path.size();
    local->entries.push_back(std::move(e));
    if (o_.spill == nullptr || local->entries.size() < o_.run_entries) return;
    Result<format::SortedRun> run =
        WriteRun(&local->entries, o_.spill, &spill_lock_);
    if (!run.ok()) {
      if (local->spill_status.ok()) local->spill_status = run.status();
      failed_.store(true, std::memory_order_relaxed);
      return;
    }
    std::lock_guard<std::mutex> hold(spill_lock_);
    runs_.push_back(std::move(*run));
  }

  // True when `path` lies strictly inside a selected profile's home: the
  // walk does not cross a mount point there unless asked.
  bool InsideProfile(const std::string& path, int32_t profile) const {
    if (profile < 0) return false;
    return path != o_.machine->profiles[static_cast<size_t>(profile)].home;
  }

  void ReadDir(const std::string& path, uint64_t dev, DirNode* node) {
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
      Entry(dir_fd, path, d, dev, node, &local);
      if (Cancelled()) break;
    }
    ::closedir(dir);
  }

  void Entry(int dir_fd, const std::string& parent, const struct dirent* d,
             uint64_t parent_dev, DirNode* parent_node, Local* local) {
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
      DirNode& node = local->dirs.emplace_back();
      node.entry = std::move(e);
      node.parent = parent_node;
      if (decision.taken) Need(parent_node);
      if (descend) {
        DirNode* at = &node;
        parallel::Run(group_,
                      [this, path, dev, at] { ReadDir(path, dev, at); });
      }
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
    Keep(std::move(e), parent_node, local);
  }

  const WalkOptions& o_;
  int root_fd_;
  uint64_t root_dev_ = 0;
  tbb::task_group group_;
  tbb::enumerable_thread_specific<Local> locals_;
  std::mutex spill_lock_;
  std::vector<format::SortedRun> runs_;  // guarded by spill_lock_
  std::atomic<bool> failed_{false};      // a run could not be written
};

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

// The runs of a walk that spilled, and a merge over them that sits on the
// next record to hand over.
struct WalkedStream::Merged {
  const format::SpillFile* spill = nullptr;
  std::vector<format::SortedRun> runs;  // read by `merge`: never moved
  std::unique_ptr<format::RunMerge> merge;
  bool at_record = false;
};

// Builds a walk's stream from what its threads kept.
class StreamBuilder {
 public:
  static WalkedStream Held(WalkedEntries entries, uint64_t count,
                           uint64_t path_bytes) {
    WalkedStream s;
    s.held_ = std::move(entries);
    s.count_ = count;
    s.path_bytes_ = path_bytes;
    return s;
  }

  static Result<WalkedStream> Merged(const format::SpillFile* spill,
                                     std::vector<format::SortedRun> runs,
                                     uint64_t count, uint64_t path_bytes) {
    WalkedStream s;
    s.merged_ = std::make_unique<WalkedStream::Merged>();
    WalkedStream::Merged& m = *s.merged_;
    m.spill = spill;
    m.runs = std::move(runs);
    m.merge = std::make_unique<format::RunMerge>(spill, &m.runs);
    bool done = false;
    MIGSTORE_RETURN_IF_ERROR(m.merge->Next(&done));
    m.at_record = !done;
    s.count_ = count;
    s.path_bytes_ = path_bytes;
    return s;
  }
};

WalkedStream::WalkedStream() = default;
WalkedStream::~WalkedStream() = default;
WalkedStream::WalkedStream(WalkedStream&&) noexcept = default;
WalkedStream& WalkedStream::operator=(WalkedStream&&) noexcept = default;

bool WalkedStream::empty() const {
  return merged_ ? !merged_->at_record : held_.empty();
}

size_t WalkedStream::runs() const { return merged_ ? merged_->runs.size() : 0; }

Status WalkedStream::Take(size_t n, WalkedEntries* out) {
  taken_ = true;
  if (!merged_) {
    for (; n > 0 && !held_.empty(); --n) {
      out->push_back(std::move(held_.front()));
      held_.pop_front();
    }
    return Status::OK();
  }
  Merged& m = *merged_;
  for (; n > 0 && m.at_record; --n) {
    if (!DecodeWalked(m.merge->key(), m.merge->value(), &out->emplace_back())) {
      out->pop_back();
      m.at_record = false;
      return Status::Corruption(
          "a walked entry in the capture's scratch file does not decode");
    }
    bool done = false;
    Status s = m.merge->Next(&done);
    m.at_record = s.ok() && !done;
    MIGSTORE_RETURN_IF_ERROR(s);
  }
  return Status::OK();
}

Status WalkedStream::ForEach(
    const std::function<Status(const WalkedEntry&)>& fn) const {
  if (taken_) {
    return Status::InvalidArgument(
        "the walk's entries are visited before any is taken");
  }
  if (!merged_) {
    for (const WalkedEntry& e : held_) MIGSTORE_RETURN_IF_ERROR(fn(e));
    return Status::OK();
  }
  // A merge of its own over the same runs: the stream's stays on its first
  // record for Take.
  format::RunMerge merge(merged_->spill, &merged_->runs);
  WalkedEntry e;
  for (;;) {
    bool done = false;
    MIGSTORE_RETURN_IF_ERROR(merge.Next(&done));
    if (done) return Status::OK();
    if (!DecodeWalked(merge.key(), merge.value(), &e)) {
      return Status::Corruption(
          "a walked entry in the capture's scratch file does not decode");
    }
    MIGSTORE_RETURN_IF_ERROR(fn(e));
  }
}

Result<WalkedEntries> WalkedStream::TakeAll() {
  WalkedEntries all;
  MIGSTORE_RETURN_IF_ERROR(Take(SIZE_MAX, &all));
  return all;
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
  for (const Local& l : walker.locals())
    MIGSTORE_RETURN_IF_ERROR(l.spill_status);
  if (o.cancel != nullptr && o.cancel->load())
    return Status::Cancelled("walk cancelled");

  WalkResult result;
  // What no run took, and the directories kept. Each thread's lists are
  // emptied from the front as they are moved: a copy of every entry next
  // to the originals would be the peak of a capture of a million files.
  WalkedEntries rest, dirs;
  auto move_all = [](WalkedEntries* from, WalkedEntries* to) {
    while (!from->empty()) {
      to->push_back(std::move(from->front()));
      from->pop_front();
    }
  };
  uint64_t count = 0, path_bytes = 0;
  for (Local& l : walker.locals()) {
    move_all(&l.entries, &rest);
    move_all(&l.apart, &result.apart);
    // A node's parent may be another thread's: every mark was made before
    // the walk returned, and only a node's own mark is read here.
    for (DirNode& d : l.dirs) {
      if (!d.entry.taken && !d.needed.load(std::memory_order_relaxed)) continue;
      result.owners.uids.insert(d.entry.uid);
      result.owners.gids.insert(d.entry.gid);
      ++count;
      path_bytes += d.entry.path.size();
      dirs.push_back(std::move(d.entry));
    }
    std::deque<DirNode>().swap(l.dirs);
    result.owners.uids.merge(l.owners.uids);
    result.owners.gids.merge(l.owners.gids);
    for (auto& e : l.errors) result.errors.push_back(std::move(e));
    for (auto& n : l.notes) result.notes.push_back(std::move(n));
    result.directories_read += l.directories_read;
    count += l.count;
    path_bytes += l.path_bytes;
  }
  SortByPath(&result.apart);
  SortByPath(&result.errors);
  SortByPath(&result.notes);
  std::vector<format::SortedRun>& runs = walker.runs();
  if (runs.empty()) {
    move_all(&dirs, &rest);
    SortByPath(&rest);
    result.entries = StreamBuilder::Held(std::move(rest), count, path_bytes);
    return result;
  }
  // Some went to the scratch file: so does the rest, and the runs merge.
  for (WalkedEntries* last : {&rest, &dirs}) {
    if (last->empty()) continue;
    MIGSTORE_ASSIGN_OR_RETURN(format::SortedRun run,
                              WriteRun(last, o.spill, walker.spill_lock()));
    runs.push_back(std::move(run));
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      result.entries,
      StreamBuilder::Merged(o.spill, std::move(runs), count, path_bytes));
  return result;
}

}  // namespace migstore::capture
