#include "engine/src/restore/plan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include "engine/base/time_ns.h"
#include "engine/src/fs/open_beneath.h"
#include "engine/src/restore/claims.h"
#include "engine/src/restore/location_modify.h"
#include "engine/src/restore/safe_path.h"
#include "format/hash.h"

namespace migstore::restore {
namespace {

using format::Entry;
using format::EntryType;

// What is at a destination in the target, looked up below the target
// without following symlinks. Entries come in path order, so the parent
// directory's handle is kept between lookups, and a parent found missing
// answers for everything below it.
class TargetProbe {
 public:
  explicit TargetProbe(int target_fd) : target_fd_(target_fd) {}

  struct Found {
    int err = 0;  // ELOOP, ENOTDIR, EACCES...: the way there is bad
    bool exists = false;
    struct stat st = {};
    int parent_fd = -1;  // valid until the next Probe
  };

  Found Probe(std::string_view dest) {
    Found f;
    std::string_view parent = ParentOf(dest);
    if (!OpenParent(parent, &f.err)) return f;
    f.parent_fd = parent_fd_;
    std::string name(NameOf(dest));
    if (::fstatat(parent_fd_, name.c_str(), &f.st, AT_SYMLINK_NOFOLLOW) == 0) {
      f.exists = true;
    } else if (errno != ENOENT) {
      f.err = errno;
    }
    return f;
  }

 private:
  // False when the parent does not exist (err 0) or cannot be reached.
  bool OpenParent(std::string_view parent, int* err) {
    if (target_fd_ < 0) return false;
    if (have_parent_ && parent == parent_) {
      *err = parent_err_;
      return parent_fd_ >= 0;
    }
    if (have_parent_ && parent_fd_ < 0 && parent_err_ == 0 &&
        IsAtOrBelow(parent, parent_, false)) {
      return false;  // below a folder that is not there
    }
    have_parent_ = true;
    parent_ = std::string(parent);
    owned_.reset();
    parent_fd_ = -1;
    parent_err_ = 0;
    if (parent.empty()) {
      parent_fd_ = target_fd_;
      return true;
    }
    auto fd = fs::OpenBeneath(target_fd_, parent, O_PATH | O_DIRECTORY);
    if (!fd.ok()) {
      int e = fs::LastOpenErrno();
      // A symlink as the last folder fails O_DIRECTORY | O_NOFOLLOW with
      // ENOTDIR: tell it from a file in the way.
      if (e == ENOTDIR && SymlinkOnTheWay(parent)) e = ELOOP;
      parent_err_ = e == ENOENT ? 0 : e;
      *err = parent_err_;
      return false;
    }
    owned_ = std::move(fd).value();
    parent_fd_ = owned_.get();
    return true;
  }

  // Whether a component of `dir` is a symlink, looked at one by one from
  // the target down without following any.
  bool SymlinkOnTheWay(std::string_view dir) const {
    UniqueFd cur;
    int at = target_fd_;
    size_t start = 0;
    while (start <= dir.size()) {
      size_t end = dir.find('/', start);
      if (end == std::string_view::npos) end = dir.size();
      std::string part(dir.substr(start, end - start));
      struct stat st;
      if (::fstatat(at, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return false;
      if (S_ISLNK(st.st_mode)) return true;
      if (!S_ISDIR(st.st_mode)) return false;
      int next = ::openat(at, part.c_str(),
                          O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) return false;
      cur.reset(next);
      at = next;
      start = end + 1;
    }
    return false;
  }

  int target_fd_;
  bool have_parent_ = false;
  std::string parent_;
  UniqueFd owned_;
  int parent_fd_ = -1;
  int parent_err_ = 0;
};

// Whether the target's file `name` in `dir_fd` holds exactly `content`'s
// data: its data ranges hashed as the store hashed them.
bool SameData(int dir_fd, const std::string& name,
              const format::Content& content) {
  int fd = ::openat(dir_fd, name.c_str(),
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) {
    fd = ::openat(dir_fd, name.c_str(),
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  }
  if (fd < 0) return false;
  UniqueFd owned(fd);
  std::vector<format::DataRange> dense;
  const std::vector<format::DataRange>* ranges = &content.ranges;
  if (!content.sparse) {
    dense.push_back({0, content.size});
    ranges = &dense;
  }
  format::ContentHasher hasher;
  // Sized for the file and left uninitialised: a restore run again over a
  // target of a million small files checks each, and a zeroed megabyte per
  // file was most of its time (a page fault per 4 KiB).
  const size_t buf_size =
      static_cast<size_t>(std::clamp<uint64_t>(content.size, 1, 1 << 20));
  std::unique_ptr<char[]> buf(new char[buf_size]);
  for (const format::DataRange& r : *ranges) {
    uint64_t done = 0;
    while (done < r.length) {
      size_t want =
          static_cast<size_t>(std::min<uint64_t>(buf_size, r.length - done));
      auto n = format::PreadFull(fd, r.offset + done, want, buf.get(), name);
      if (!n.ok() || *n != want) return false;
      hasher.Update(std::string_view(buf.get(), want));
      done += want;
    }
  }
  return hasher.Digest() == content.hash;
}

// Whether what the target holds is `e` already restored.
bool Identical(const TargetProbe::Found& f, const std::string& name,
               const Entry& e, const format::Content* content) {
  switch (e.type) {
    case EntryType::kDirectory:
      return S_ISDIR(f.st.st_mode);
    case EntryType::kFifo:
      return S_ISFIFO(f.st.st_mode);
    case EntryType::kSymlink: {
      if (!S_ISLNK(f.st.st_mode)) return false;
      std::string target(e.symlink_target().size() + 1, '\0');
      ssize_t n =
          ::readlinkat(f.parent_fd, name.c_str(), target.data(), target.size());
      return n >= 0 && static_cast<size_t>(n) == e.symlink_target().size() &&
             target.compare(0, static_cast<size_t>(n), e.symlink_target()) == 0;
    }
    case EntryType::kFile:
      if (!S_ISREG(f.st.st_mode) ||
          static_cast<uint64_t>(f.st.st_size) != e.size ||
          MtimeNanos(f.st) != e.mtime_ns) {
        return false;
      }
      return content == nullptr || SameData(f.parent_fd, name, *content);
  }
  return false;
}

EntryKind KindOf(const Entry& e) {
  return e.type == EntryType::kDirectory ? EntryKind::kDirectory
                                         : EntryKind::kFile;
}

// What a FileProperties filter reads, from the entry as captured.
FileFacts FactsOf(const Entry& e) {
  FileFacts f;
  f.size = e.size;
  f.modified_ns = e.mtime_ns;
  f.accessed_ns = e.atime_ns.value_or(0);
  f.knows_accessed = e.atime_ns.has_value();
  f.created_ns = e.btime_ns.value_or(e.ctime_ns.value_or(0));
  f.knows_created = e.btime_ns.has_value() || e.ctime_ns.has_value();
  return f;
}

std::string Where(const RestoreDirective& d) {
  return d.script + " (" + d.file + ":" + std::to_string(d.line) + ")";
}

bool IsDirClaim(Claim c) { return c == Claim::kDir || c == Claim::kParent; }

}  // namespace

class Planner::Impl {
 public:
  explicit Impl(const PlanInput& in)
      : in_(in), probe_(in.target_fd), claims_(in.claim_memory) {}

  Result<std::vector<Item>> PlanWindow(const std::vector<Entry>& entries,
                                       const std::vector<uint32_t>& order,
                                       const ContentTable& contents) {
    entries_ = &entries;
    contents_ = &contents;
    // Sized once: a window's items and no growth slack.
    std::vector<Item> items;
    items.reserve(order.size());
    items_ = &items;
    for (uint32_t index : order) {
      // A scratch file that failed answers from memory alone: stop.
      if (!claims_.status().ok()) break;
      Item& item = items.emplace_back();
      item.entry = index;
      PlanOne(entries[index], &item);
    }
    ++window_;
    entries_ = nullptr;
    contents_ = nullptr;
    items_ = nullptr;
    MIGSTORE_RETURN_IF_ERROR(claims_.status());
    return items;
  }

  std::vector<FileNote> TakeNotes() { return std::exchange(notes_, {}); }

 private:
  void Refuse(Item* item, Status error) {
    item->action = Action::kRefuse;
    item->mutable_detail().error = std::move(error);
  }

  void Note(std::string path, std::string what) {
    if (noted_.insert(what).second)
      notes_.push_back({std::move(path), std::move(what)});
  }

  void PlanOne(const Entry& e, Item* item) {
    if (std::string why = UnsafePathReason(e.path); !why.empty()) {
      return Refuse(
          item, Status::Corruption("unsafe path in the store refused", why));
    }
    const bool is_dir = e.type == EntryType::kDirectory;
    const bool is_file = e.type == EntryType::kFile;
    if (is_file && in_.catalog != nullptr) {
      if (Status s = in_.catalog->LinkGroupError(e); !s.ok())
        return Refuse(item, std::move(s));
    }
    if (e.attributes) {
      Note("",
           "file attribute flags recorded in the store (chattr flags or "
           "FILE_ATTRIBUTE_* bits) are not restored");
    }
    if (is_file && e.content) {
      auto c = contents_->For(e);
      if (!c.ok()) return Refuse(item, c.status());
      item->content = *c;
    }

    // Where it goes: the user's new profile folder (--map-user), then
    // <locationModify>. The rules are bound to the users where they land,
    // so they are asked about that place, as LoadState asks /mu's new user's
    // rules (a mapped user's %CSIDL_DESKTOP% is its destination Desktop).
    std::string dest = e.path;
    const PlanProfile* profile =
        e.profile < in_.profiles.size() ? &in_.profiles[e.profile] : nullptr;
    if (profile != nullptr && profile->dest_home != profile->home) {
      dest = Rebased(dest, profile->home, profile->dest_home, in_.fold);
    }
    std::optional<RestoreDirective> merge;
    if (in_.rules != nullptr) {
      if (in_.rules->has_never_restore() && NeverRestored(e, dest)) {
        // Stored, never applied (usmt.md §5): only what lies below it may
        // still be restored, each entry by its own rules.
        Note(e.path,
             "entries taken only by includes with the NeverRestore() filter "
             "are not restored");
        item->action = Action::kSkip;
        item->mutable_detail().reason =
            "not restored: its include has the NeverRestore() filter";
        return SetDest(e, item, std::move(dest));
      }
      RestoreDirectives d = in_.rules->ForRestore(dest, KindOf(e));
      merge = std::move(d.merge);
      if (d.location_modify) {
        std::vector<std::string> folders;
        if (profile != nullptr) folders = profile->folders;
        folders.insert(folders.end(), in_.system_folders.begin(),
                       in_.system_folders.end());
        auto moved = Relocate(*d.location_modify, dest, folders, in_.fold);
        if (!moved.ok()) {
          Note(e.path,
               "locationModify " + Where(*d.location_modify) +
                   " not applied: " + std::string(moved.status().message()));
        } else if (*moved != dest) {
          dest = std::move(moved).value();
          item->moved = true;
          item->mutable_detail().reason =
              "moved by " + Where(*d.location_modify);
        }
      }
    }
    if (std::string why = UnsafePathReason(dest); !why.empty()) {
      return Refuse(
          item, Status::Corruption("destination " + dest + " refused", why));
    }
    // Folders renamed or skipped earlier take their contents along.
    if (!redirects_.empty() || !skipped_dirs_.empty()) {
      for (std::string_view a = ParentOf(dest);; a = ParentOf(a)) {
        if (auto it = redirects_.find(std::string(a)); it != redirects_.end()) {
          dest = it->second + dest.substr(a.size());
          break;
        }
        if (skipped_dirs_.count(std::string(a))) {
          item->action = Action::kSkip;
          item->mutable_detail().reason =
              "its folder " + std::string(a) + " was not restored";
          if (is_dir) skipped_dirs_.insert(dest);
          return SetDest(e, item, std::move(dest));
        }
        if (a.empty()) break;
      }
    }
    // Nothing the store itself puts on the way may be a symlink or a file.
    for (std::string_view a = ParentOf(dest); !a.empty(); a = ParentOf(a)) {
      std::optional<Claim> c = claims_.Find(a);
      if (!c) continue;
      if (IsDirClaim(*c)) break;  // its ancestors were checked
      return Refuse(
          item,
          Status::Corruption("refused: it would pass through " +
                             std::string(*c == Claim::kSymlink
                                             ? "a symlink the store creates at "
                                             : "a file the store creates at ") +
                             std::string(a)));
    }
    bool duplicate_dir = false;
    Decide(e, item, &dest, merge, &duplicate_dir);
    if (item->action == Action::kRefuse || item->action == Action::kSkip) {
      if (is_dir && item->action == Action::kSkip && !duplicate_dir) {
        skipped_dirs_.insert(dest);
      }
      return SetDest(e, item, std::move(dest));
    }
    SetDest(e, item, std::move(dest));
    ClaimPath(DestOf(*item, *entries_), is_dir ? Claim::kDir
                                        : e.type == EntryType::kSymlink
                                            ? Claim::kSymlink
                                            : Claim::kNonDir);
    if (is_file && e.link_group != 0) {
      const int64_t index = item - items_->data();
      auto [it, first] = leaders_.try_emplace(
          e.link_group, Leader{window_, index, DestOf(*item, *entries_)});
      if (first) {
        item->leads = true;
      } else if (item->action == Action::kWrite) {
        item->action = Action::kLink;
        if (it->second.window == window_) {
          item->leader = it->second.item;
        } else {
          item->mutable_detail().leader_dest = it->second.dest;
        }
      }
    }
    if (in_.owners != nullptr) {
      item->uid = in_.owners->Uid(e.uid);
      item->gid = in_.owners->Gid(e.gid);
    }
  }

  bool NeverRestored(const Entry& e, const std::string& dest) const {
    const FileFacts facts = FactsOf(e);
    return in_.rules->NeverRestored(dest, KindOf(e), &facts);
  }

  // Gives the item its destination: its entry's path, or one of its own
  // in its detail.
  static void SetDest(const Entry& e, Item* item, std::string dest) {
    if (dest == e.path) {
      item->dest_is_path = true;
    } else {
      item->mutable_detail().dest = std::move(dest);
    }
  }

  // Claims `dest` and the folders above it.
  void ClaimPath(std::string_view dest, Claim claim) {
    claims_.Set(dest, claim);
    for (std::string_view a = ParentOf(dest); !a.empty(); a = ParentOf(a)) {
      if (!claims_.Add(a, Claim::kParent)) break;
    }
  }

  // Settles what happens at *dest, which a rename may change.
  void Decide(const Entry& e, Item* item, std::string* dest,
              const std::optional<RestoreDirective>& merge,
              bool* duplicate_dir) {
    const bool is_dir = e.type == EntryType::kDirectory;
    const std::optional<Claim> claim = claims_.Find(*dest);
    if (claim && is_dir && *claim == Claim::kDir) {
      item->action = Action::kSkip;
      item->stock_reason = Item::StockReason::kSameFolder;
      *duplicate_dir = true;
      return;
    }
    // A folder made only to hold earlier entries is this directory entry's
    // to give metadata to; anything else the store put there conflicts.
    if (claim && !(is_dir && *claim == Claim::kParent)) {
      // Two entries of the store meet: the first keeps the name.
      Conflict(e, item, dest, merge, /*existing=*/nullptr, claim);
      return;
    }
    TargetProbe::Found f = probe_.Probe(*dest);
    if (f.err != 0) {
      return Refuse(item, WayError(f.err, *dest));
    }
    if (!f.exists) {
      item->action = Action::kWrite;
      return;
    }
    // <destinationCleanup> deletes that file before anything is written.
    if (in_.cleaned != nullptr && in_.cleaned->count(*dest) != 0) {
      item->action = Action::kWrite;
      item->mutable_detail().reason =
          "replaces a file <destinationCleanup> deletes first";
      return;
    }
    if (is_dir && S_ISDIR(f.st.st_mode)) {
      item->action = Action::kMerge;
      return;
    }
    if (!is_dir && Identical(f, std::string(NameOf(*dest)), e, item->content)) {
      item->action = Action::kIdentical;
      item->stock_reason = Item::StockReason::kAlreadyThere;
      return;
    }
    Conflict(e, item, dest, merge, &f.st, std::nullopt);
  }

  static Status WayError(int err, const std::string& dest) {
    if (err == ELOOP) {
      return Status::IOError("refused: the way to " + dest +
                             " passes through a symlink in the target");
    }
    if (err == ENOTDIR) {
      return Status::IOError("refused: a file in the target is in the way of " +
                             dest + "'s folder");
    }
    return Status::FromErrno("cannot look at " + dest + " in the target", err);
  }

  // `existing`: what the target holds at *dest; `in_store`: the claim an
  // earlier entry of the store made there instead.
  void Conflict(const Entry& e, Item* item, std::string* dest,
                const std::optional<RestoreDirective>& merge,
                const struct stat* existing, std::optional<Claim> in_store) {
    const bool is_dir = e.type == EntryType::kDirectory;
    const bool existing_dir =
        in_store ? IsDirClaim(*in_store) : S_ISDIR(existing->st_mode);
    Conflicts policy = in_.conflicts;
    std::string pattern(kDefaultRenamePattern);
    std::string why =
        in_store ? "another entry of the store goes there" : "exists";
    std::string by = std::string("--on-conflict ") +
                     (policy == Conflicts::kRename      ? "rename"
                      : policy == Conflicts::kOverwrite ? "overwrite"
                      : policy == Conflicts::kSkip      ? "skip"
                      : policy == Conflicts::kNewer     ? "newer"
                                                        : "");
    if (merge) {
      if (merge->function == "SourcePriority") {
        policy = Conflicts::kOverwrite;
        by = "merge " + Where(*merge);
      } else if (merge->function == "DestinationPriority") {
        policy = Conflicts::kSkip;
        by = "merge " + Where(*merge);
      } else if (merge->function == "FindFilePlaceByPattern" &&
                 merge->args.size() == 1 &&
                 ValidRenamePattern(merge->args[0])) {
        policy = Conflicts::kRename;
        pattern = merge->args[0];
        by = "merge " + Where(*merge);
      } else {
        Note(e.path, "merge " + Where(*merge) +
                         " is not a file merge migstore runs (SourcePriority, "
                         "DestinationPriority, FindFilePlaceByPattern); " +
                         by + " applies");
      }
    }
    // Store entries meeting cannot overwrite each other: which one would win
    // is an accident of order. They are told apart by renaming.
    if (in_store &&
        (policy == Conflicts::kOverwrite || policy == Conflicts::kNewer)) {
      policy = Conflicts::kRename;
    }
    if (policy == Conflicts::kNewer) {
      int64_t theirs = existing != nullptr ? MtimeNanos(*existing) : 0;
      if (e.mtime_ns > theirs) {
        policy = Conflicts::kOverwrite;
        by = "--on-conflict newer (the store's is newer)";
      } else {
        policy = Conflicts::kSkip;
        by = "--on-conflict newer (the target's is as new or newer)";
      }
    }
    item->mutable_detail().reason = why + "; " + by;
    switch (policy) {
      case Conflicts::kSkip:
        item->action = Action::kSkip;
        return;
      case Conflicts::kError:
        return Refuse(item, Status::AlreadyExists(
                                *dest + " already exists (use --overwrite)"));
      case Conflicts::kOverwrite:
        if (existing_dir) {
          return Refuse(item,
                        Status::IOError("a folder is in the way at " + *dest +
                                        " (folders are never replaced)"));
        }
        item->action = Action::kWrite;
        item->replace = true;
        return;
      case Conflicts::kRename:
      case Conflicts::kNewer:
        break;
    }
    // "name (1).ext", "name (2).ext"...: the first free name, or one that
    // holds this very entry from an earlier run.
    const std::string original = *dest;
    const std::string_view parent = ParentOf(original);
    const std::string name(NameOf(original));
    for (uint64_t n = 1; n <= 10000; ++n) {
      std::string candidate = JoinPath(parent, NumberedName(name, n, pattern));
      if (UnsafePathReason(candidate) != "") break;
      if (claims_.Find(candidate)) continue;
      TargetProbe::Found f = probe_.Probe(candidate);
      if (f.err != 0) return Refuse(item, WayError(f.err, candidate));
      *dest = candidate;
      item->renamed = true;
      if (!f.exists) {
        item->action = Action::kWrite;
      } else if (is_dir && S_ISDIR(f.st.st_mode)) {
        item->action = Action::kMerge;
      } else if (!is_dir && Identical(f, std::string(NameOf(candidate)), e,
                                      item->content)) {
        item->action = Action::kIdentical;
      } else {
        continue;
      }
      if (is_dir) redirects_[original] = candidate;
      return;
    }
    *dest = original;
    item->renamed = false;
    Refuse(item, Status::IOError("no free name for " + original));
  }

  // A hard-link group's first member placed.
  struct Leader {
    uint64_t window;
    int64_t item;      // in its window
    std::string dest;  // for members of later windows
  };

  const PlanInput& in_;
  TargetProbe probe_;
  // The window being planned.
  const std::vector<Entry>* entries_ = nullptr;
  const ContentTable* contents_ = nullptr;
  std::vector<Item>* items_ = nullptr;
  uint64_t window_ = 0;
  std::vector<FileNote> notes_;
  // Every destination the plan gives out, and the folders above them, for
  // the whole run: a later window's entry may meet any of them (a mapped
  // user, a later profile, a rename candidate sorting before its original).
  Claims claims_;
  std::map<std::string, std::string> redirects_;
  std::set<std::string> skipped_dirs_;
  std::unordered_map<uint64_t, Leader> leaders_;  // by link group
  std::set<std::string> noted_;
};

Planner::Planner(const PlanInput& input)
    : impl_(std::make_unique<Impl>(input)) {}
Planner::~Planner() = default;

Result<std::vector<Item>> Planner::PlanWindow(
    const std::vector<format::Entry>& entries,
    const std::vector<uint32_t>& order, const ContentTable& contents) {
  return impl_->PlanWindow(entries, order, contents);
}

std::vector<FileNote> Planner::TakeNotes() { return impl_->TakeNotes(); }

// A restore holds an item per entry: a million of them.
static_assert(sizeof(Item) <= 48, "an Item must stay small");

namespace {
const std::string& NoString() {
  static const std::string kNone;
  return kNone;
}
}  // namespace

const std::string& Item::reason() const {
  // A stock reason is the decision's, made after any "moved by" a rule
  // gave: it is what the item comes to.
  static const std::string kAlreadyThere = "already there";
  static const std::string kSameFolder = "same folder as an earlier entry";
  switch (stock_reason) {
    case StockReason::kNone:
      break;
    case StockReason::kAlreadyThere:
      return kAlreadyThere;
    case StockReason::kSameFolder:
      return kSameFolder;
  }
  return detail != nullptr ? detail->reason : NoString();
}

const Status& Item::error() const {
  static const Status kOk;
  return detail != nullptr ? detail->error : kOk;
}

const std::string& DestOf(const Item& item,
                          const std::vector<format::Entry>& entries) {
  if (item.dest_is_path) return entries[item.entry].path;
  return item.detail != nullptr ? item.detail->dest : NoString();
}

const char* ActionName(const Item& item) {
  switch (item.action) {
    case Action::kWrite:
      return item.replace ? "overwrite" : item.renamed ? "rename" : "create";
    case Action::kLink:
      return item.replace ? "overwrite" : "link";
    case Action::kMerge:
      return "merge";
    case Action::kSkip:
      return "skip";
    case Action::kIdentical:
      return "identical";
    case Action::kRefuse:
      return "refuse";
  }
  return "create";
}

}  // namespace migstore::restore
