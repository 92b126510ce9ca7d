// Restore and extract plan and apply the catalog a window of whole catalog
// segments at a time (RestoreOptions::window_entries, issue 21), and the
// window must never show: whatever its size, a run gives the one-window
// result. Each test captures a tree into a store of many small catalog
// segments (CaptureOptions::catalog_segment_entries), runs it with the
// default window and with windows of one segment (and a few), and asserts
// that the runs are equal: the target trees, every count, error and note of
// the report, and the OnPlanned events, which come in catalog order before
// anything is written. The cases are the state that crosses windows
// (docs/design.md "Bounded memory"): claims of earlier profiles and rename
// candidates, folders renamed with contents in later segments, hard-link
// leaders in earlier segments, specials and folder metadata deferred to the
// end, refusals in the last window, extract's folders above taken entries,
// dry runs and lost catalog segments.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <tuple>

#include "engine/base/deterministic_random.h"
#include "engine/base/unique_fd.h"
#include "format/container_reader.h"
#include "format/layout.h"
#include "format/memory_store.h"
#include "migstore/capture.h"
#include "migstore/extract.h"
#include "migstore/restore.h"
#include "migstore/verify.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore {
namespace {

using testing::CompareTrees;
using testing::Has;
using testing::ReadFile;
using testing::TempDir;
using testing::TreeCompareOptions;
using testing::WriteFile;

const size_t kDefaultWindow = RestoreOptions().window_entries;

// The directory a test restores into with window `w`.
std::string At(const TempDir& dir, const std::string& prefix, size_t w) {
  return dir / (prefix + std::to_string(w));
}

bool Root() { return ::geteuid() == 0; }

bool Exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

void Put(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  WriteFile(path, data);
}

void SetNs(const std::string& path, int64_t ns) {
  struct timespec t[2] = {{ns / 1000000000, ns % 1000000000},
                          {ns / 1000000000, ns % 1000000000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0)
      << path;
}

// What a target holds before a restore, the same in each of a test's
// targets (down to its time, which the restore leaves alone).
void PutOld(const std::string& path, const std::string& data) {
  Put(path, data);
  SetNs(path, 1300000000000000001);
}

// A linux root whose etc/passwd holds `users` (uids 1000, 1001, ...), each
// with a home.
void MakeLinuxRoot(const std::string& root,
                   const std::vector<std::string>& users) {
  std::string passwd = "root:x:0:0::/root:/bin/sh\n", group = "root:x:0:\n";
  for (size_t i = 0; i < users.size(); ++i) {
    const std::string id = std::to_string(1000 + i);
    passwd +=
        users[i] + ":x:" + id + ":" + id + "::/home/" + users[i] + ":/bin/sh\n";
    group += users[i] + ":x:" + id + ":\n";
    std::filesystem::create_directories(root + "/home/" + users[i]);
  }
  Put(root + "/etc/passwd", passwd);
  Put(root + "/etc/group", group);
}

// Gives `dir` and everything below it to `uid` (and the group of that
// number) when running as root; a user cannot, and keeps them.
void Own(const std::string& dir, uid_t uid) {
  if (!Root()) return;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    ASSERT_EQ(::lchown(e.path().c_str(), uid, uid), 0) << e.path();
  ASSERT_EQ(::lchown(dir.c_str(), uid, uid), 0);
}

// Captures `root` (no encryption) into `store` with catalog segments of
// `segment_entries` entries; `rules` is a native rules file's text.
void CaptureTree(const std::string& root, const std::string& store,
                 size_t segment_entries,
                 const std::string& rules = "include %USERPROFILE%\n") {
  const std::string rules_file = store + ".rules";
  WriteFile(rules_file, rules);
  CaptureOptions o;
  o.root = root;
  o.store_path = store;
  o.rules_files = {rules_file};
  o.encrypt = false;
  o.threads = 2;
  o.catalog_segment_entries = segment_entries;
  auto r = Capture(o);
  ASSERT_OK(r);
  ASSERT_TRUE(r->errors.empty()) << r->errors[0].path;
}

// The store's catalog: (profile, path) of every entry, in catalog order,
// and how many segments hold it.
struct Listing {
  std::vector<std::pair<uint32_t, std::string>> entries;
  size_t segments = 0;
  std::vector<size_t> segment_start;  // index in `entries` of each's first
  std::vector<format::CatalogSegmentInfo> segment_info;  // the index's
};
Listing ListCatalog(const std::string& store) {
  Listing out;
  auto r = format::ContainerReader::Open(store, format::KeySource::None());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return out;
  out.segment_info = (*r)->index().catalog_segments;
  out.segments = out.segment_info.size();
  for (size_t s = 0; s < out.segments; ++s) {
    auto entries = (*r)->ReadCatalogSegment(s);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    out.segment_start.push_back(out.entries.size());
    if (!entries.ok()) continue;
    for (const format::Entry& e : *entries)
      out.entries.emplace_back(e.profile, e.path);
  }
  return out;
}

// A byte inside the sealed block of the store's catalog segment `segment`
// (its content segment, with `content`): flipped, the segment no longer
// reads.
uint64_t SealedByteOf(const std::string& store, size_t segment, bool content) {
  auto r = format::ContainerReader::Open(store, format::KeySource::None());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return 0;
  const format::StoreIndex& x = (*r)->index();
  const uint64_t block = content ? x.content_segments.at(segment).block
                                 : x.catalog_segments.at(segment).block;
  return (*r)->block_offset(block) + format::kFrameHeaderSize + 3;
}

// Flips a bit of the byte at `offset` of the file `path`, in place (a
// reader that has it open sees the change).
void FlipBit(const std::string& path, uint64_t offset) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(fd.valid()) << path;
  char b = 0;
  ASSERT_EQ(::pread(fd.get(), &b, 1, static_cast<off_t>(offset)), 1) << offset;
  b = static_cast<char>(b ^ 0x10);
  ASSERT_EQ(::pwrite(fd.get(), &b, 1, static_cast<off_t>(offset)), 1);
}

// One OnPlanned event, kept.
struct Planned {
  std::string path, destination, type, action, reason;
  uint64_t size = 0;
  bool operator==(const Planned&) const = default;
};
void PrintTo(const Planned& p, std::ostream* os) {
  *os << "{" << p.path << " -> " << p.destination << ", " << p.type << ", "
      << p.action << ", \"" << p.reason << "\", " << p.size << "}";
}

// What is below `root`, from lstat alone (type and mode, size, mtime,
// inode): cheap enough to take at every OnPlanned event, and it changes
// with any write (a temporary, a folder, a link, metadata set).
using Shape =
    std::map<std::string, std::tuple<uint32_t, uint64_t, int64_t, uint64_t>>;
Shape ShapeOf(const std::string& root) {
  Shape out;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(root, ec)))
    return out;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    out[it->path().string().substr(root.size())] = {
        st.st_mode, static_cast<uint64_t>(st.st_size),
        int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec,
        st.st_ino};
  }
  out[""] = {0, 0, 0, 0};  // the target exists
  return out;
}

// Records a run's plan and errors in the order they come, and whether
// anything below the target had changed by the time of any OnPlanned
// event (the plan must be announced before anything is written).
class Recorder : public RestoreObserver {
 public:
  explicit Recorder(std::string target)
      : target_(std::move(target)), before_(ShapeOf(target_)) {}

  void OnPlanned(const PlannedEntry& e) override {
    planned.push_back(
        {e.path, e.destination, e.type, e.action, e.reason, e.size});
    events.push_back("planned " + e.path);
    if (!written_while_planning && ShapeOf(target_) != before_) {
      written_while_planning = true;
      first_planned_after_a_write = e.path;
    }
  }
  void OnFileError(const FileIssue& issue) override {
    events.push_back("error " + issue.path + ": " + issue.status.ToString());
  }

  std::vector<Planned> planned;
  // "planned PATH" and "error PATH: MESSAGE", in the order called.
  std::vector<std::string> events;
  bool written_while_planning = false;
  std::string first_planned_after_a_write;

 private:
  std::string target_;
  Shape before_;
};

// Where and when a run damages its store (one bit, FlipBit): a catalog
// segment or a content segment, once pass zero has read the catalog
// (OnUsers, before pass one) or at the OnPlanned of `at_planned`.
struct Damage {
  size_t segment = 0;
  bool content = false;
  std::string at_planned;  // "": at OnUsers
};

// A Recorder that damages the store as `damage` says, once.
class Damager : public Recorder {
 public:
  Damager(std::string target, std::string store, Damage damage)
      : Recorder(std::move(target)),
        store_(std::move(store)),
        damage_(std::move(damage)),
        offset_(SealedByteOf(store_, damage_.segment, damage_.content)) {}

  void OnUsers(const std::vector<RestoreUser>&) override {
    if (damage_.at_planned.empty()) Flip();
  }
  void OnPlanned(const PlannedEntry& e) override {
    Recorder::OnPlanned(e);
    if (e.path == damage_.at_planned) Flip();
  }

  int flips = 0;

 private:
  void Flip() {
    FlipBit(store_, offset_);
    ++flips;
  }

  std::string store_;
  Damage damage_;
  uint64_t offset_;
};

// Everything a run told.
struct Outcome {
  size_t window = 0;
  Status status;
  std::optional<RestoreReport> report;
  std::vector<Planned> planned;
  std::vector<std::string> events;
  bool written_while_planning = false;
  std::string first_planned_after_a_write;
};

Outcome Finish(size_t window, Result<RestoreReport> r, Recorder* rec) {
  Outcome out;
  out.window = window;
  out.status = r.status();
  if (r.ok()) out.report = std::move(r).value();
  out.planned = std::move(rec->planned);
  out.events = std::move(rec->events);
  out.written_while_planning = rec->written_while_planning;
  out.first_planned_after_a_write = rec->first_planned_after_a_write;
  return out;
}

Outcome RunRestore(RestoreOptions o, size_t window, Recorder* rec) {
  o.window_entries = window;
  return Finish(window, Restore(o, rec), rec);
}

Outcome RunRestore(RestoreOptions o, size_t window) {
  Recorder rec(o.target);
  return RunRestore(std::move(o), window, &rec);
}

Outcome RunExtract(ExtractOptions o, size_t window) {
  o.window_entries = window;
  Recorder rec(o.to);
  return Finish(window, Extract(o, &rec), &rec);
}

std::string Text(const FileIssue& e) {
  return e.path + ": " + e.status.ToString() +
         (e.skipped ? " (skipped)" : " (stopped)");
}

// The first index where two sequences differ, as text ("" when equal).
template <typename T, typename Show>
std::string FirstDifference(const std::vector<T>& a, const std::vector<T>& b,
                            Show show) {
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i < a.size() && i < b.size() && a[i] == b[i]) continue;
    return "#" + std::to_string(i) + ": " +
           (i < a.size() ? show(a[i]) : std::string("<none>")) + " | " +
           (i < b.size() ? show(b[i]) : std::string("<none>"));
  }
  return "";
}

std::string Show(const Planned& p) {
  std::stringstream s;
  PrintTo(p, &s);
  return s.str();
}

// `windowed` tells exactly what `whole` (the default window) told: the
// status, the OnPlanned events, the errors in order, and every count, user
// and note of the report. Neither wrote before its plan was announced.
void ExpectSameOutcome(const Outcome& whole, const Outcome& windowed) {
  SCOPED_TRACE("window_entries " + std::to_string(windowed.window) +
               " against " + std::to_string(whole.window));
  EXPECT_FALSE(whole.written_while_planning)
      << "written before " << whole.first_planned_after_a_write
      << " was planned";
  EXPECT_FALSE(windowed.written_while_planning)
      << "written before " << windowed.first_planned_after_a_write
      << " was planned";
  EXPECT_EQ(whole.status.ToString(), windowed.status.ToString());
  EXPECT_EQ(whole.planned.size(), windowed.planned.size());
  EXPECT_EQ(FirstDifference(whole.planned, windowed.planned, Show), "");
  EXPECT_EQ(FirstDifference(whole.events, windowed.events,
                            [](const std::string& s) { return s; }),
            "");
  ASSERT_EQ(whole.report.has_value(), windowed.report.has_value());
  if (!whole.report) return;
  const RestoreReport &a = *whole.report, &b = *windowed.report;
  EXPECT_EQ(a.dry_run, b.dry_run);
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(a.directories, b.directories);
  EXPECT_EQ(a.symlinks, b.symlinks);
  EXPECT_EQ(a.fifos, b.fifos);
  EXPECT_EQ(a.hardlinks, b.hardlinks);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.renamed, b.renamed);
  EXPECT_EQ(a.overwritten, b.overwritten);
  EXPECT_EQ(a.skipped, b.skipped);
  EXPECT_EQ(a.identical, b.identical);
  EXPECT_EQ(a.moved, b.moved);
  EXPECT_EQ(a.not_selected, b.not_selected);
  EXPECT_EQ(a.registry_keys, b.registry_keys);
  EXPECT_EQ(a.registry_values, b.registry_values);
  // restore.h: every data block is opened once, however many files share
  // it; these stores are far below the decoded-block memory bound, so a
  // block shared by far-apart windows is still opened once.
  EXPECT_EQ(a.blocks_opened, b.blocks_opened);
  ASSERT_EQ(a.users.size(), b.users.size());
  for (size_t i = 0; i < a.users.size(); ++i) {
    EXPECT_EQ(a.users[i].name, b.users[i].name);
    EXPECT_EQ(a.users[i].home, b.users[i].home);
    EXPECT_EQ(a.users[i].selected, b.users[i].selected);
    EXPECT_EQ(a.users[i].reason, b.users[i].reason);
    EXPECT_EQ(a.users[i].mapped_to, b.users[i].mapped_to);
    EXPECT_EQ(a.users[i].destination_home, b.users[i].destination_home);
  }
  // Errors in order: each is a refusal of the plan (in plan order) or a
  // lost segment (in catalog order); none of these runs fails a write.
  std::vector<std::string> ea, eb;
  for (const FileIssue& e : a.errors) ea.push_back(Text(e));
  for (const FileIssue& e : b.errors) eb.push_back(Text(e));
  EXPECT_EQ(FirstDifference(ea, eb, [](const std::string& s) { return s; }),
            "");
  // Notes as a multiset: a windowed plan knows its notes only once planned.
  std::vector<std::string> na, nb;
  for (const FileNote& n : a.notes) na.push_back(n.path + ": " + n.what);
  for (const FileNote& n : b.notes) nb.push_back(n.path + ": " + n.what);
  std::sort(na.begin(), na.end());
  std::sort(nb.begin(), nb.end());
  EXPECT_EQ(FirstDifference(na, nb, [](const std::string& s) { return s; }),
            "");
  EXPECT_EQ(a.rule_diagnostics, b.rule_diagnostics);
}

// The planned paths are `listing`'s, in its order (a run plans a
// subsequence: the selected profiles' entries of the segments it read).
// With `all`, every entry of the listing.
void ExpectCatalogOrder(const std::vector<Planned>& planned,
                        const Listing& listing, bool all) {
  size_t at = 0;
  for (const Planned& p : planned) {
    while (at < listing.entries.size() && listing.entries[at].second != p.path)
      ++at;
    ASSERT_LT(at, listing.entries.size())
        << p.path << " is out of catalog order or not in the catalog";
    ++at;
  }
  if (all) {
    EXPECT_EQ(planned.size(), listing.entries.size());
  }
}

// The two targets hold the same tree: every entry with its type, bytes,
// mode, owner, xattrs, link target and hard-link group, and times (also
// folders' below each of `subtrees`; folders above them that the restore
// made without a store entry get the time they were made).
void ExpectSameTrees(const std::string& a, const std::string& b,
                     const std::vector<std::string>& subtrees) {
  TreeCompareOptions all;
  all.owners = true;  // both restored by this process
  all.directory_times = false;
  EXPECT_EQ(CompareTrees(a, b, all), "") << a << " against " << b;
  all.directory_times = true;
  for (const std::string& s : subtrees)
    EXPECT_EQ(CompareTrees(a + "/" + s, b + "/" + s, all), "") << s;
  EXPECT_TRUE(testing::FindTemporaries(b).empty());
}

// Every run told what the first told (runs that leave no tree, or trees
// compared otherwise).
void ExpectSameOutcomes(const std::vector<Outcome>& runs) {
  for (size_t i = 1; i < runs.size(); ++i) ExpectSameOutcome(runs[0], runs[i]);
}

// A run's plan ends with the refusal of the catalog's last entry, `path`,
// after planning every entry of `listing` in its order.
void ExpectRefusedLast(const Outcome& run, const Listing& listing,
                       const std::string& path) {
  ExpectCatalogOrder(run.planned, listing, /*all=*/true);
  ASSERT_FALSE(run.planned.empty());
  EXPECT_EQ(run.planned.back().path, path);
  EXPECT_EQ(run.planned.back().action, "refuse");
}

void ExpectStopped(const Outcome& run) {
  EXPECT_TRUE(run.status.IsStopped()) << run.status.ToString();
}

// "" when the restored `copy` holds what `original` held, with its owners
// when running as root (a user restores everything as its own).
std::string CompareToSource(const std::string& original,
                            const std::string& copy) {
  TreeCompareOptions cmp;
  cmp.owners = Root();
  return CompareTrees(original, copy, cmp);
}

void ContinueOnError(RestoreOptions* o) { o->continue_on_error = true; }

// What `run` planned for the store's `path`: a failure, and an empty one,
// when it planned nothing for it.
Planned PlannedFor(const Outcome& run, const std::string& path) {
  for (const Planned& p : run.planned) {
    if (p.path == path) return p;
  }
  ADD_FAILURE() << path << " was not planned";
  return {};
}

std::string Name(const char* prefix, int i) {
  char name[32];
  std::snprintf(name, sizeof(name), "%s-%02d.txt", prefix, i);
  return name;
}

// `count` files "`prefix`-NN.txt" in `dir`, each holding `text` and its
// number.
void PutNumbered(const std::string& dir, const char* prefix, int count,
                 const std::string& text) {
  for (int i = 0; i < count; ++i)
    Put(dir + "/" + Name(prefix, i), text + std::to_string(i));
}

// A store of a folder "d" holding files "f-NN.txt" ("f N"), outside every
// profile.
format::MemoryStore FolderOfFiles(int count) {
  format::MemoryStore s;
  s.files.push_back(testing::MakeDir(0, "d"));
  for (int i = 0; i < count; ++i)
    s.files.push_back(
        testing::MakeFile(0, "d/" + Name("f", i), "f " + std::to_string(i)));
  return s;
}

class RestoreWindows : public ::testing::Test {
 protected:
  std::string Src() const { return dir_ / "src"; }
  std::string Store() const { return dir_ / "s.mig"; }

  RestoreOptions Options(const std::string& target) const {
    RestoreOptions o;
    o.store_path = Store();
    o.target = target;
    o.threads = 2;
    return o;
  }

  // Captures Src() into Store() in catalog segments of `segment_entries`
  // entries (see CaptureTree) and lists it in listing_: at least
  // `min_segments` segments.
  void CaptureSrc(size_t segment_entries, size_t min_segments,
                  const std::string& rules = "include %USERPROFILE%\n") {
    CaptureTree(Src(), Store(), segment_entries, rules);
    if (HasFatalFailure()) return;
    listing_ = ListCatalog(Store());
    ASSERT_GE(listing_.segments, min_segments);
  }

  // Writes `s` as Store(), an entry a catalog segment, and lists it in
  // listing_.
  void WriteOneEntrySegments(const format::MemoryStore& s) {
    format::MemoryWriteOptions wo = testing::QuickOptions();
    wo.writer.catalog_segment_entries = 1;
    ASSERT_OK(
        format::WriteMemoryStore(Store(), format::KeySource::None(), s, wo));
    listing_ = ListCatalog(Store());
    ASSERT_EQ(listing_.segments, s.files.size());
  }

  // Restores the store with each of `windows` (the default first) into
  // At(dir_, prefix, window), with options changed by `adjust` when given;
  // each run must succeed.
  void RestoreEach(
      const std::vector<size_t>& windows, std::vector<Outcome>* runs,
      const std::string& prefix = "t",
      const std::function<void(RestoreOptions*)>& adjust = nullptr) {
    for (size_t w : windows) {
      RestoreOptions o = Options(At(dir_, prefix, w));
      if (adjust) adjust(&o);
      runs->push_back(RunRestore(o, w));
      ASSERT_OK(runs->back().status);
    }
  }

  // RestoreEach, where every run succeeds without a refusal: the first
  // (the default window) planned every entry of the catalog, in its order,
  // and reported no error.
  void RestoreWholeCatalog(
      const std::vector<size_t>& windows, std::vector<Outcome>* runs,
      const std::function<void(RestoreOptions*)>& adjust = nullptr) {
    RestoreEach(windows, runs, "t", adjust);
    if (HasFatalFailure()) return;
    ExpectCatalogOrder(runs->front().planned, listing_, /*all=*/true);
    EXPECT_TRUE(runs->front().report->errors.empty());
  }

  // Every run told what the first told and left the same tree in its
  // At(dir_, prefix, window), folder times too below each of `subtrees`.
  void ExpectAlike(const std::vector<Outcome>& runs,
                   const std::vector<std::string>& subtrees,
                   const std::string& prefix = "t") {
    for (size_t i = 1; i < runs.size(); ++i) {
      ExpectSameOutcome(runs[0], runs[i]);
      ExpectSameTrees(At(dir_, prefix, runs[0].window),
                      At(dir_, prefix, runs[i].window), subtrees);
    }
  }

  // Writes Store() afresh (see WriteOneEntrySegments): a symlink "a-link",
  // a fifo "b-fifo", then FolderOfFiles(10); its folder's mode in
  // folder_mode_.
  void WriteSpecialsAndFiles() {
    format::MemoryStore s;
    s.files.push_back(testing::MakeSymlink(0, "a-link", "d/f-00.txt"));
    s.files.push_back(testing::MakeFifo(0, "b-fifo"));
    for (format::MemoryFile& f : FolderOfFiles(10).files)
      s.files.push_back(std::move(f));
    folder_mode_ = s.files[2].entry.mode;
    std::filesystem::remove(Store());
    WriteOneEntrySegments(s);
  }

  // The catalog segment that holds `path` (listing_'s).
  size_t SegmentOf(const std::string& path) const {
    for (size_t k = 0; k < listing_.segments; ++k) {
      if (listing_.entries[listing_.segment_start[k]].second == path) return k;
    }
    ADD_FAILURE() << path << " begins no segment";
    return 0;
  }

  // WriteSpecialsAndFiles, then a restore of it into At(dir_, prefix,
  // window) that damages it as `damage` says (once: checked).
  Outcome RestoreDamaged(const Damage& damage, const std::string& prefix,
                         size_t window, bool continue_on_error) {
    WriteSpecialsAndFiles();
    RestoreOptions o = Options(At(dir_, prefix, window));
    o.continue_on_error = continue_on_error;
    Damager rec(o.target, Store(), damage);
    Outcome out = RunRestore(o, window, &rec);
    EXPECT_EQ(rec.flips, 1)
        << prefix << window << ": the store was not damaged";
    return out;
  }

  TempDir dir_;
  Listing listing_;           // the store's catalog
  uint32_t folder_mode_ = 0;  // WriteSpecialsAndFiles' "d"
};

// --map-user bob:alice: bob's entries meet alice's, planned segments
// earlier. Each meeting entry of bob is renamed "name (N)" past every name
// already given out, including a rename candidate that sorts before the
// original ("x (1).txt" < "x.txt"), as in one window.
TEST_F(RestoreWindows, MappedUsersMeetAcrossWindowsAsInOne) {
  const std::string src = Src();
  MakeLinuxRoot(src, {"alice", "bob"});
  const std::string a = src + "/home/alice", b = src + "/home/bob";
  Put(a + "/docs/x.txt", "alice x");
  Put(a + "/docs/y (1).txt", "alice's own y (1)");
  Put(a + "/docs/y.txt", "alice y");
  Put(a + "/stuff", "alice's file named stuff");
  PutNumbered(a + "/docs", "f", 12, "alice f ");
  PutNumbered(a + "/notes", "n", 12, "alice note ");
  Put(b + "/docs/x (1).txt", "bob x (1)");
  Put(b + "/docs/x.txt", "bob x");
  Put(b + "/docs/y.txt", "bob y");
  Put(b + "/notes", "bob's file named notes");
  for (int i = 0; i < 12; ++i) {
    // Half the same bytes as alice's, half not: a store entry never
    // replaces another, even an identical one.
    Put(b + "/docs/" + Name("f", i),
        i % 2 ? "alice f " + std::to_string(i) : "bob f " + std::to_string(i));
  }
  PutNumbered(b + "/stuff", "s", 12, "bob stuff ");
  PutNumbered(b + "/only", "o", 12, "bob only ");
  Own(a, 1000);
  Own(b, 1001);
  if (HasFatalFailure()) return;
  ASSERT_NO_FATAL_FAILURE(CaptureSrc(2, 30));

  std::vector<Outcome> runs;
  ASSERT_NO_FATAL_FAILURE(RestoreWholeCatalog(
      {kDefaultWindow, 1, 2, 5}, &runs, [](RestoreOptions* o) {
        o->map_users = {{"bob", "alice"}};
      }));
  const Outcome& whole = runs[0];
  EXPECT_GE(whole.report->renamed, 10u);
  ExpectAlike(runs, {"home/alice"});
  // The claimed destinations written out to the scratch file at every
  // claim (RestoreOptions::claim_memory), in one window and in many: bob's
  // entries meet alice's claims in the runs, as in memory.
  std::vector<Outcome> spilled;
  ASSERT_NO_FATAL_FAILURE(
      RestoreEach({kDefaultWindow, 2}, &spilled, "c", [](RestoreOptions* o) {
        o->map_users = {{"bob", "alice"}};
        o->claim_memory = 1;
      }));
  for (const Outcome& s : spilled) {
    ExpectSameOutcome(whole, s);
    ExpectSameTrees(At(dir_, "t", whole.window), At(dir_, "c", s.window),
                    {"home/alice"});
  }

  // What one window does, pinned, so that equal runs are also right runs.
  const std::string t = dir_ / "t1/home/alice";
  EXPECT_EQ(ReadFile(t + "/docs/x.txt"), "alice x");
  EXPECT_EQ(ReadFile(t + "/docs/x (1).txt"), "bob x (1)");
  EXPECT_EQ(ReadFile(t + "/docs/x (2).txt"), "bob x")
      << "\"x (1).txt\" was given out before bob's x.txt was planned";
  EXPECT_EQ(ReadFile(t + "/docs/y (1).txt"), "alice's own y (1)");
  EXPECT_EQ(ReadFile(t + "/docs/y (2).txt"), "bob y");
  EXPECT_EQ(ReadFile(t + "/docs/f-00 (1).txt"), "bob f 0");
  EXPECT_EQ(ReadFile(t + "/docs/f-01 (1).txt"), "alice f 1");
  EXPECT_EQ(ReadFile(t + "/notes (1)"), "bob's file named notes");
  EXPECT_EQ(ReadFile(t + "/notes/n-11.txt"), "alice note 11");
  EXPECT_EQ(ReadFile(t + "/stuff"), "alice's file named stuff");
  EXPECT_EQ(ReadFile(t + "/stuff (1)/s-11.txt"), "bob stuff 11");
  EXPECT_EQ(ReadFile(t + "/only/o-11.txt"), "bob only 11");
  EXPECT_FALSE(Exists(dir_ / "t1/home/bob"));
  EXPECT_EQ(PlannedFor(runs[1], "home/bob/stuff/s-11.txt").destination,
            "home/alice/stuff (1)/s-11.txt");
}

// Entries outside every profile (profile 0) and a home's, into a target
// that already holds some of them: renames numbered past what is there.
// A second run into the same targets finds everything already there, and
// tells it alike whatever the window.
TEST_F(RestoreWindows, ConflictsWithTheTargetAndARunAgainAsInOneWindow) {
  const std::string src = Src();
  MakeLinuxRoot(src, {"alice"});
  PutNumbered(src + "/srv/data", "d", 15, "data ");
  PutNumbered(src + "/home/alice/docs", "h", 15, "home ");
  Put(src + "/srv/data/clash.txt", "store clash");
  Put(src + "/srv/data/twice.txt", "store twice");
  Put(src + "/home/alice/docs/mine.txt", "store mine");
  ASSERT_EQ(::symlink("h-00.txt", (src + "/home/alice/docs/link").c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(
      CaptureSrc(3, 10, "include %USERPROFILE%\ninclude /srv/data\n"));
  ASSERT_EQ(listing_.entries.front().first, 0u) << "profile 0 comes first";

  // Each target holds the same: other bytes under three store names, a
  // name a rename would take, and a file of the store already restored.
  auto prepare = [&](const std::string& t) {
    PutOld(t + "/srv/data/clash.txt", "target clash");
    PutOld(t + "/srv/data/twice.txt", "target twice");
    PutOld(t + "/srv/data/twice (1).txt", "target twice (1)");
    PutOld(t + "/srv/data/d-07.txt", "target d-07");
    PutOld(t + "/home/alice/docs/mine.txt", "target mine");
    Put(t + "/home/alice/docs/h-03.txt", "home 3");
    struct stat st;
    ASSERT_EQ(::stat((src + "/home/alice/docs/h-03.txt").c_str(), &st), 0);
    SetNs(t + "/home/alice/docs/h-03.txt",
          int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec);
    ASSERT_EQ(
        ::chmod((t + "/home/alice/docs/h-03.txt").c_str(), st.st_mode & 07777),
        0);
  };
  const std::vector<size_t> windows = {kDefaultWindow, 1, 3};
  for (size_t w : windows) prepare(At(dir_, "t", w));
  if (HasFatalFailure()) return;

  std::vector<Outcome> first;
  ASSERT_NO_FATAL_FAILURE(RestoreWholeCatalog(windows, &first));
  EXPECT_EQ(first[0].report->renamed, 4u);
  ExpectAlike(first, {"srv/data", "home/alice"});
  const std::string t1 = At(dir_, "t", 1);
  EXPECT_EQ(ReadFile(t1 + "/srv/data/clash (1).txt"), "store clash");
  EXPECT_EQ(ReadFile(t1 + "/srv/data/twice (2).txt"), "store twice");
  EXPECT_EQ(ReadFile(t1 + "/srv/data/twice (1).txt"), "target twice (1)");
  EXPECT_EQ(ReadFile(t1 + "/srv/data/d-07 (1).txt"), "data 7");
  EXPECT_EQ(ReadFile(t1 + "/home/alice/docs/mine (1).txt"), "store mine");
  EXPECT_FALSE(Exists(t1 + "/home/alice/docs/h-03 (1).txt"));

  // Again: everything is already there, found where the first run put it.
  std::vector<Outcome> again;
  ASSERT_NO_FATAL_FAILURE(RestoreEach(windows, &again));
  for (const Planned& p : again[0].planned) {
    EXPECT_TRUE(p.action == "identical" || p.action == "merge")
        << p.path << ": " << p.action;
  }
  EXPECT_EQ(again[0].report->files, 0u);
  EXPECT_EQ(again[0].report->renamed, 0u);
  EXPECT_EQ(again[0].report->identical, first[0].report->files +
                                            first[0].report->symlinks +
                                            first[0].report->identical);
  ExpectAlike(again, {"srv/data", "home/alice"});
}

// A folder of the store that meets a file in the target is restored beside
// it as "dir (1)", and everything in it follows, from segments far later.
TEST_F(RestoreWindows, AFolderRenamedByAConflictTakesItsLaterContents) {
  const std::string src = Src();
  MakeLinuxRoot(src, {"alice"});
  const std::string a = src + "/home/alice";
  Put(a + "/aaa.txt", "first");
  PutNumbered(a + "/dir", "f", 20, "in dir ");
  for (int i = 0; i < 20; i += 4)
    Put(a + "/dir/sub/" + Name("g", i), "in sub " + std::to_string(i));
  Put(a + "/zzz.txt", "last");
  SetNs(a + "/dir/sub", 1600000000000000001);
  SetNs(a + "/dir", 1600000000000000003);
  ASSERT_NO_FATAL_FAILURE(CaptureSrc(2, 12));

  const std::vector<size_t> windows = {kDefaultWindow, 1, 2};
  for (size_t w : windows)
    PutOld(At(dir_, "t", w) + "/home/alice/dir", "a file named dir");
  std::vector<Outcome> runs;
  ASSERT_NO_FATAL_FAILURE(RestoreWholeCatalog(windows, &runs));
  EXPECT_EQ(runs[0].report->renamed, 1u);
  ExpectAlike(runs, {"home/alice"});
  const std::string t = dir_ / "t1/home/alice";
  EXPECT_EQ(ReadFile(t + "/dir"), "a file named dir");
  EXPECT_EQ(CompareToSource(a + "/dir", t + "/dir (1)"), "");
  EXPECT_EQ(ReadFile(t + "/zzz.txt"), "last");
  EXPECT_EQ(PlannedFor(runs[1], "home/alice/dir/sub/g-16.txt").destination,
            "home/alice/dir (1)/sub/g-16.txt");
}

// A hard-link group whose leader lies segments before its other members:
// they are links of the leader's inode again, whatever the window.
TEST_F(RestoreWindows, HardLinksWhoseLeaderIsInAnEarlierWindow) {
  const std::string src = Src();
  MakeLinuxRoot(src, {"alice"});
  const std::string a = src + "/home/alice";
  Put(a + "/a/one.bin", std::string(5000, 'h'));
  for (const char* link : {"/m/three.bin", "/z/two.bin"}) {
    std::filesystem::create_directories(
        std::filesystem::path(a + link).parent_path());
    ASSERT_EQ(::link((a + "/a/one.bin").c_str(), (a + link).c_str()), 0);
  }
  // A second group within one folder, and files between all of them.
  Put(a + "/p/left.bin", "pair");
  ASSERT_EQ(::link((a + "/p/left.bin").c_str(), (a + "/p/right.bin").c_str()),
            0);
  for (const char* d : {"b", "c", "k", "n", "x"})
    PutNumbered(a + "/" + d, "f", 8, d);
  ASSERT_NO_FATAL_FAILURE(CaptureSrc(1, 40));

  std::vector<Outcome> runs;
  ASSERT_NO_FATAL_FAILURE(RestoreWholeCatalog({kDefaultWindow, 1, 2}, &runs));
  EXPECT_EQ(runs[0].report->hardlinks, 3u);
  ExpectAlike(runs, {"home/alice"});
  for (const Outcome& run : runs) {
    const std::string t = At(dir_, "t", run.window);
    EXPECT_EQ(CompareToSource(src + "/home", t + "/home"), "") << run.window;
    struct stat one, two, three;
    ASSERT_EQ(::lstat((t + "/home/alice/a/one.bin").c_str(), &one), 0);
    ASSERT_EQ(::lstat((t + "/home/alice/z/two.bin").c_str(), &two), 0);
    ASSERT_EQ(::lstat((t + "/home/alice/m/three.bin").c_str(), &three), 0);
    EXPECT_EQ(one.st_ino, two.st_ino) << run.window;
    EXPECT_EQ(one.st_ino, three.st_ino) << run.window;
    EXPECT_EQ(one.st_nlink, 3u) << run.window;
  }
  EXPECT_EQ(PlannedFor(runs[1], "home/alice/z/two.bin").action, "link");
}

// Symlinks and a fifo in the first segments, files in the last: the
// specials are made after every file, and folders get their modes and
// times last, deepest first, so a 0500 folder still receives its files and
// every folder keeps its captured time.
TEST_F(RestoreWindows, SpecialsAndFolderMetadataComeLastAsInOneWindow) {
  const std::string src = Src();
  MakeLinuxRoot(src, {"alice"});
  const std::string a = src + "/home/alice";
  std::filesystem::create_directories(a + "/a-specials");
  ASSERT_EQ(::symlink("../z-files/f-00.txt", (a + "/a-specials/rel").c_str()),
            0);
  ASSERT_EQ(::symlink("no/such", (a + "/a-specials/dangling").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (a + "/a-specials/absolute").c_str()), 0);
  ASSERT_EQ(::mkfifo((a + "/a-specials/pipe").c_str(), 0640), 0);
  PutNumbered(a + "/m-locked", "l", 5, "locked ");
  PutNumbered(a + "/z-files", "f", 20, "file ");
  PutNumbered(a + "/z-files/deep/er", "d", 4, "deep ");
  std::filesystem::create_directories(a + "/z-files/empty");
  Own(a, 1000);
  if (HasFatalFailure()) return;
  ASSERT_EQ(::chmod((a + "/m-locked").c_str(), 0500), 0);
  ASSERT_EQ(::chmod((a + "/z-files/deep").c_str(), 0750), 0);
  int64_t t = 1500000000000000007;
  for (const char* d : {"/z-files/deep/er", "/z-files/deep", "/z-files/empty",
                        "/z-files", "/m-locked", "/a-specials", ""}) {
    SetNs(a + d, t += 86400000000011);
  }
  ASSERT_NO_FATAL_FAILURE(CaptureSrc(2, 15));

  std::vector<Outcome> runs;
  ASSERT_NO_FATAL_FAILURE(RestoreWholeCatalog({kDefaultWindow, 1, 5}, &runs));
  EXPECT_EQ(runs[0].report->symlinks, 3u);
  EXPECT_EQ(runs[0].report->fifos, 1u);
  ExpectAlike(runs, {"home"});
  for (const Outcome& run : runs) {
    EXPECT_EQ(
        CompareToSource(src + "/home", At(dir_, "t", run.window) + "/home"), "")
        << run.window;
  }
}

// A refusal of the plan in the last segment stops the run before anything
// is written, with windows of one segment as with one window: the target
// is not even made. With continue_on_error the rest is restored alike.
TEST_F(RestoreWindows, ARefusalInTheLastWindowStopsBeforeAnyWrite) {
  format::MemoryStore s = FolderOfFiles(40);
  s.files.push_back(testing::MakeSymlink(0, "d/link", "f-00.txt"));
  // '/' sorts after '-' and every letter before 'z': the last entry.
  s.files.push_back(testing::MakeFile(0, "zz/../../escaped.txt", "x"));
  ASSERT_NO_FATAL_FAILURE(WriteOneEntrySegments(s));
  ASSERT_EQ(listing_.entries.back().second, "zz/../../escaped.txt");

  // A target that does not exist yet, and one that does (empty).
  for (bool exists : {false, true}) {
    SCOPED_TRACE(exists ? "existing target" : "new target");
    const std::string base = dir_ / (exists ? "old" : "new");
    std::vector<Outcome> runs;
    for (size_t w : {kDefaultWindow, size_t{1}, size_t{3}}) {
      const std::string t = base + "/t" + std::to_string(w);
      if (exists) std::filesystem::create_directories(t);
      runs.push_back(RunRestore(Options(t), w));
      ExpectStopped(runs.back());
      EXPECT_TRUE(Has(runs.back().status.ToString(), "zz/../../escaped.txt"))
          << runs.back().status.ToString();
      if (exists) {
        EXPECT_TRUE(testing::ListDir(t).empty()) << w;
      } else {
        EXPECT_FALSE(Exists(t)) << w << ": a stopped plan made the target";
      }
    }
    ExpectRefusedLast(runs[0], listing_, "zz/../../escaped.txt");
    ASSERT_FALSE(runs[0].events.empty());
    EXPECT_TRUE(Has(runs[0].events.back(), "error zz/../../escaped.txt"))
        << "the refusal follows every OnPlanned";
    ExpectSameOutcomes(runs);
    if (!exists) {
      EXPECT_FALSE(Exists(base));
    }
  }

  // Under continue_on_error the refused entry is left out, the rest comes.
  std::vector<Outcome> runs;
  ASSERT_NO_FATAL_FAILURE(
      RestoreEach({kDefaultWindow, 1}, &runs, "c", ContinueOnError));
  ASSERT_EQ(runs[0].report->errors.size(), 1u);
  EXPECT_EQ(runs[0].report->errors[0].path, "zz/../../escaped.txt");
  EXPECT_EQ(runs[0].report->files, 40u);
  ExpectAlike(runs, {"d"}, "c");
  EXPECT_FALSE(Exists(dir_ / "escaped.txt"));
  EXPECT_FALSE(Exists(dir_ / "c1/zz"));
}

// The same with the refusal coming from the target: a symlink planted in
// the target on the way of the last entry. The target is left exactly as
// it was.
TEST_F(RestoreWindows, ASymlinkInTheTargetOnTheLastEntryStopsBeforeAnyWrite) {
  format::MemoryStore s = FolderOfFiles(30);
  s.files.push_back(testing::MakeFile(0, "zz/last.txt", "last"));
  ASSERT_NO_FATAL_FAILURE(WriteOneEntrySegments(s));
  std::filesystem::create_directories(dir_ / "outside");

  std::vector<Outcome> runs;
  for (size_t w : {kDefaultWindow, size_t{1}}) {
    const std::string t = At(dir_, "t", w);
    std::filesystem::create_directories(t);
    ASSERT_EQ(::symlink("../outside", (t + "/zz").c_str()), 0);
    const auto before = testing::SnapshotTree(t);
    runs.push_back(RunRestore(Options(t), w));
    ExpectStopped(runs.back());
    EXPECT_EQ(testing::CompareSnapshots(before, testing::SnapshotTree(t)), "")
        << w << ": the target changed";
  }
  EXPECT_TRUE(testing::ListDir(dir_ / "outside").empty());
  ExpectRefusedLast(runs[0], listing_, "zz/last.txt");
  ExpectSameOutcomes(runs);
}

// Extract with include globs that take a few files deep in later
// segments: the folders above them come along (a look-ahead over the
// catalog), alike in every window. A file already there with other bytes
// is an error without `overwrite`, alike too.
TEST_F(RestoreWindows, ExtractTakesFoldersAboveLaterEntriesAsInOneWindow) {
  const std::string src = Src();
  MakeLinuxRoot(src, {"alice", "bob"});
  const std::string a = src + "/home/alice";
  PutNumbered(a + "/a", "f", 10, "a ");
  PutNumbered(a + "/m", "f", 10, "m ");
  PutNumbered(src + "/home/bob", "b", 10, "b ");
  Put(a + "/p/q/r/s/keep-1.txt", "deep keep");
  Put(a + "/w/x/keep-2.txt", "keep two");
  Put(a + "/w/x/other.txt", "not taken");
  Put(src + "/home/bob/z/keep-3.txt", "bob's keep");
  Put(a + "/y/all/one.txt", "y one");
  Put(a + "/y/all/sub/two.txt", "y two");
  SetNs(a + "/p/q/r/s", 1400000000000000003);
  SetNs(a + "/p/q", 1400000000000000005);
  ASSERT_NO_FATAL_FAILURE(CaptureSrc(2, 20));

  auto options = [&](size_t w) {
    ExtractOptions o;
    o.store_path = Store();
    o.to = At(dir_, "x", w);
    o.threads = 2;
    o.include = {"keep-*.txt", "home/alice/y/all"};
    return o;
  };
  const std::vector<size_t> windows = {kDefaultWindow, 1, 2};
  std::vector<Outcome> runs;
  for (size_t w : windows) {
    runs.push_back(RunExtract(options(w), w));
    ASSERT_OK(runs.back().status);
  }
  ExpectCatalogOrder(runs[0].planned, listing_, /*all=*/false);
  EXPECT_EQ(runs[0].report->files, 5u);
  EXPECT_TRUE(runs[0].report->errors.empty());
  ExpectAlike(runs, {"home/alice/p"}, "x");
  const std::string x = At(dir_, "x", 1);
  EXPECT_EQ(ReadFile(x + "/home/alice/p/q/r/s/keep-1.txt"), "deep keep");
  EXPECT_EQ(ReadFile(x + "/home/bob/z/keep-3.txt"), "bob's keep");
  EXPECT_EQ(ReadFile(x + "/home/alice/y/all/sub/two.txt"), "y two");
  EXPECT_EQ(testing::ListDir(x + "/home/alice"),
            (std::vector<std::string>{"p", "w", "y"}));
  EXPECT_EQ(testing::ListDir(x + "/home/alice/w/x"),
            std::vector<std::string>{"keep-2.txt"});
  TreeCompareOptions times;
  EXPECT_EQ(CompareTrees(a + "/p", x + "/home/alice/p", times), "")
      << "the folders above a taken file keep their times";

  // Again, with one file changed in each output: without overwrite it is
  // an error (the rest identical), stopped or skipped alike.
  for (bool go_on : {false, true}) {
    SCOPED_TRACE(go_on ? "continue_on_error" : "stop");
    std::vector<Outcome> again;
    for (size_t w : windows) {
      const std::string changed =
          At(dir_, "x", w) + "/home/alice/w/x/keep-2.txt";
      Put(changed, "changed since");
      ExtractOptions o = options(w);
      o.continue_on_error = go_on;
      again.push_back(RunExtract(o, w));
      EXPECT_EQ(again.back().status.ok(), go_on)
          << again.back().status.ToString();
      EXPECT_EQ(ReadFile(changed), "changed since");
    }
    if (go_on) {
      ASSERT_EQ(again[0].report->errors.size(), 1u);
      EXPECT_EQ(again[0].report->errors[0].path, "home/alice/w/x/keep-2.txt");
      EXPECT_EQ(again[0].report->identical, 4u);
    } else {
      EXPECT_TRUE(again[0].status.IsStopped());
    }
    ExpectSameOutcomes(again);
  }
}

// A dry run in windows of one segment plans everything and writes nothing:
// the same OnPlanned events and counts as one window's dry run, and as the
// real run's plan.
TEST_F(RestoreWindows, ADryRunInWindowsPlansEverythingAndWritesNothing) {
  const std::string src = Src();
  MakeLinuxRoot(src, {"alice", "bob"});
  PutNumbered(src + "/opt/app", "o", 12, "opt ");
  PutNumbered(src + "/home/alice/docs", "a", 12, "alice ");
  PutNumbered(src + "/home/bob/docs", "b", 12, "bob ");
  ASSERT_EQ(::symlink("docs", (src + "/home/bob/link").c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(
      CaptureSrc(2, 20, "include %USERPROFILE%\ninclude /opt/app\n"));

  auto prepare = [&](const std::string& t) {
    PutOld(t + "/opt/app/o-05.txt", "the target's o-05");
    PutOld(t + "/home/alice/docs/a-11.txt", "the target's a-11");
    PutOld(t + "/home/bob/docs", "a file where bob has a folder");
  };
  std::vector<Outcome> dry;
  for (size_t w : {kDefaultWindow, size_t{1}, size_t{2}}) {
    // A target that exists, and one that does not.
    const std::string t = At(dir_, "t", w);
    prepare(t);
    const auto before = testing::SnapshotTree(t);
    RestoreOptions o = Options(t);
    o.dry_run = true;
    dry.push_back(RunRestore(o, w));
    ASSERT_OK(dry.back().status);
    EXPECT_EQ(testing::CompareSnapshots(before, testing::SnapshotTree(t)), "")
        << w;
    o.target = At(dir_, "nowhere", w);
    ASSERT_OK(RunRestore(o, w).status);
    EXPECT_FALSE(Exists(o.target)) << w;
  }
  ExpectCatalogOrder(dry[0].planned, listing_, /*all=*/true);
  EXPECT_TRUE(dry[0].report->dry_run);
  EXPECT_EQ(dry[0].report->renamed, 3u);
  ExpectSameOutcomes(dry);

  // The real run plans what the dry run said, in one window and in many.
  for (size_t w : {kDefaultWindow, size_t{1}}) {
    const std::string t = At(dir_, "real", w);
    prepare(t);
    Outcome real = RunRestore(Options(t), w);
    ASSERT_OK(real.status);
    EXPECT_EQ(FirstDifference(dry[0].planned, real.planned, Show), "") << w;
    EXPECT_EQ(real.report->files, dry[0].report->files);
    EXPECT_EQ(real.report->renamed, dry[0].report->renamed);
    EXPECT_FALSE(real.written_while_planning) << w;
  }
}

// A damaged catalog segment costs its entries only, reported once, before
// the plan, whatever the window; without continue_on_error the run stops
// before anything is written.
TEST_F(RestoreWindows, ALostCatalogSegmentIsReportedOnceInEveryWindowing) {
  const std::string src = Src();
  MakeLinuxRoot(src, {"alice"});
  for (int i = 0; i < 30; ++i)
    Put(src + "/home/alice/" + (i < 15 ? "a/" : "b/") + Name("f", i),
        "file " + std::to_string(i));
  ASSERT_NO_FATAL_FAILURE(CaptureSrc(3, 10));

  // Damage the sixth segment: one byte of its sealed block.
  constexpr size_t kLost = 5;
  const format::CatalogSegmentInfo lost = listing_.segment_info[kLost];
  ASSERT_NO_FATAL_FAILURE(
      FlipBit(Store(), SealedByteOf(Store(), kLost, /*content=*/false)));

  const std::vector<size_t> windows = {kDefaultWindow, 1, 2};
  std::vector<Outcome> stopped;
  for (size_t w : windows) {
    const std::string t0 = At(dir_, "stop", w);
    stopped.push_back(RunRestore(Options(t0), w));
    ExpectStopped(stopped.back());
    EXPECT_FALSE(Exists(t0)) << w << ": stopped before making the target";
  }
  ExpectSameOutcomes(stopped);

  std::vector<Outcome> runs;
  ASSERT_NO_FATAL_FAILURE(RestoreEach(windows, &runs, "t", ContinueOnError));
  const RestoreReport& r = *runs[0].report;
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, lost.first_path) << "named by its first path";
  EXPECT_TRUE(Has(r.errors[0].status.ToString(),
                  std::to_string(lost.entry_count) + " entries"))
      << r.errors[0].status.ToString();
  ASSERT_FALSE(runs[0].events.empty());
  EXPECT_TRUE(Has(runs[0].events.front(), "error " + lost.first_path))
      << "reported before the plan";
  EXPECT_EQ(runs[0].planned.size(), listing_.entries.size() - lost.entry_count);
  ExpectCatalogOrder(runs[0].planned, listing_, /*all=*/false);
  for (const Planned& p : runs[0].planned) {
    for (size_t k = 0; k < lost.entry_count; ++k)
      EXPECT_NE(p.path,
                listing_.entries[listing_.segment_start[kLost] + k].second);
  }
  ExpectAlike(runs, {});
  EXPECT_TRUE(Exists(dir_ / "t1/home/alice/b/f-29.txt"));
}

// The byte of the first data block that content segment `segment`'s first
// content uses, in its sealed frame.
uint64_t DataByteOf(const std::string& store, size_t segment) {
  auto r = format::ContainerReader::Open(store, format::KeySource::None());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return 0;
  auto contents = (*r)->ReadContentSegment(segment);
  EXPECT_TRUE(contents.ok() && !contents->empty() &&
              !contents->front().chunks.empty());
  if (!contents.ok() || contents->empty() || contents->front().chunks.empty())
    return 0;
  return (*r)->block_offset(contents->front().chunks[0].block) +
         format::kFrameHeaderSize + 3;
}

// The files of `store` that do not read back whole, by path, each read on
// its own (ReadContentFor, ReadContentData): what a verify must find, with
// the entries of the catalog segments that do not read left out.
std::vector<std::string> FilesThatFail(const std::string& store) {
  std::vector<std::string> out;
  auto r = format::ContainerReader::Open(store, format::KeySource::None());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return out;
  for (size_t k = 0; k < (*r)->index().catalog_segments.size(); ++k) {
    auto entries = (*r)->ReadCatalogSegment(k);
    if (!entries.ok()) continue;
    for (const format::Entry& e : *entries) {
      if (e.type != format::EntryType::kFile || !e.content) continue;
      auto c = (*r)->ReadContentFor(e);
      Status s = c.status();
      if (s.ok())
        s = (*r)->ReadContentData(
            *c, [](std::string_view) { return Status::OK(); });
      if (!s.ok()) out.push_back(e.path);
    }
  }
  return out;
}

// What a verify told: each OnVerified, in order.
class VerifyRecorder : public RestoreObserver {
 public:
  void OnVerified(const std::string& path, const Status& status) override {
    events.push_back(path + ": " + status.ToString());
  }
  std::vector<std::string> events;
};

// Verify reads the catalog a window at a time too (VerifyOptions::
// window_entries), the contents a content segment at a time: with a lost
// catalog segment and a damaged data block (of a content segment past the
// first, among blocks of a few files each), it finds exactly the files
// that do not read back, and tells them alike in every windowing, file by
// file in catalog order.
TEST_F(RestoreWindows, VerifyInWindowsFindsWhatOneWindowFinds) {
  format::MemoryStore s;
  s.files.push_back(testing::MakeDir(0, "d"));
  DeterministicRandom rnd(5);
  for (int i = 0; i < 40; ++i) {
    s.files.push_back(
        testing::MakeFile(0, "d/" + Name("f", i), rnd.Bytes(300)));
  }
  format::MemoryWriteOptions wo = testing::QuickOptions();
  wo.writer.catalog_segment_entries = 3;
  wo.writer.contents_per_segment = 4;
  wo.block_size = 1024;
  ASSERT_OK(
      format::WriteMemoryStore(Store(), format::KeySource::None(), s, wo));
  listing_ = ListCatalog(Store());
  ASSERT_GE(listing_.segments, 12u);
  constexpr size_t kLost = 2;
  const format::CatalogSegmentInfo lost = listing_.segment_info[kLost];
  ASSERT_NO_FATAL_FAILURE(
      FlipBit(Store(), SealedByteOf(Store(), kLost, /*content=*/false)));
  ASSERT_NO_FATAL_FAILURE(FlipBit(Store(), DataByteOf(Store(), 6)));
  const std::vector<std::string> failing = FilesThatFail(Store());
  ASSERT_GE(failing.size(), 2u);
  ASSERT_LE(failing.size(), 8u) << "a block holds a few files";

  std::vector<std::pair<VerifyReport, std::vector<std::string>>> runs;
  for (size_t w : {kDefaultWindow, size_t{1}, size_t{2}, size_t{5}}) {
    VerifyOptions o;
    o.store_path = Store();
    o.mode = VerifyMode::kAll;
    o.threads = 2;
    o.window_entries = w;
    VerifyRecorder rec;
    Result<VerifyReport> r = Verify(o, &rec);
    ASSERT_TRUE(r.ok()) << w << ": " << r.status().ToString();
    runs.emplace_back(*r, rec.events);
  }
  const VerifyReport& one = runs[0].first;
  EXPECT_FALSE(one.intact());
  EXPECT_EQ(one.entries_lost, lost.entry_count);
  ASSERT_EQ(one.catalog_damage.size(), 1u);
  EXPECT_TRUE(Has(one.catalog_damage[0], "catalog segment 2"))
      << one.catalog_damage[0];
  EXPECT_EQ(one.files, 40u - lost.entry_count);
  EXPECT_EQ(one.files, one.files_intact + one.files_damaged);
  std::vector<std::string> damaged;
  for (const FileIssue& d : one.damaged) damaged.push_back(d.path);
  EXPECT_EQ(damaged, failing);
  EXPECT_EQ(runs[0].second.size(), one.files);
  for (size_t i = 1; i < runs.size(); ++i) {
    const VerifyReport& r = runs[i].first;
    SCOPED_TRACE("run " + std::to_string(i));
    EXPECT_EQ(r.files, one.files);
    EXPECT_EQ(r.files_intact, one.files_intact);
    EXPECT_EQ(r.files_damaged, one.files_damaged);
    EXPECT_EQ(r.entries_lost, one.entries_lost);
    EXPECT_EQ(r.catalog_damage, one.catalog_damage);
    ASSERT_EQ(r.damaged.size(), one.damaged.size());
    for (size_t k = 0; k < r.damaged.size(); ++k) {
      EXPECT_EQ(r.damaged[k].path, one.damaged[k].path);
      EXPECT_EQ(r.damaged[k].status.ToString(),
                one.damaged[k].status.ToString());
    }
    EXPECT_EQ(runs[i].second, runs[0].second);
  }
  VerifyOptions bad;
  bad.store_path = Store();
  bad.window_entries = 0;
  EXPECT_TRUE(Verify(bad).status().IsInvalidArgument());
}

// Whether `run` planned the store's `path`.
bool WasPlanned(const Outcome& run, const std::string& path) {
  return std::any_of(run.planned.begin(), run.planned.end(),
                     [&](const Planned& p) { return p.path == path; });
}

// The events of `run` that are errors naming `path` and saying `what`.
size_t ErrorsSaying(const Outcome& run, const std::string& path,
                    const std::string& what) {
  return std::count_if(
      run.events.begin(), run.events.end(), [&](const std::string& e) {
        return e.rfind("error " + path + ": ", 0) == 0 && Has(e, what);
      });
}

// A catalog segment that read in pass zero and fails when pass one reads
// its window again is told as a lost segment (by its first path): its
// entries are not planned, and without continue_on_error the run stops
// before anything is written. With one window the catalog is read once,
// in pass zero, and damage after it changes nothing.
TEST_F(RestoreWindows, ASegmentThatFailsAfterPassZeroIsToldNotLost) {
  const std::string lost = "d/f-05.txt";
  ASSERT_NO_FATAL_FAILURE(WriteSpecialsAndFiles());
  ASSERT_EQ(listing_.entries.front().second, "a-link");
  const Damage damage{SegmentOf(lost), /*content=*/false, ""};

  {
    SCOPED_TRACE("stop");
    const Outcome run = RestoreDamaged(damage, "stop", 1, false);
    EXPECT_FALSE(run.status.ok());
    EXPECT_EQ(ErrorsSaying(run, lost, "catalog segment"), 1u)
        << ::testing::PrintToString(run.events);
    EXPECT_FALSE(WasPlanned(run, lost));
    EXPECT_FALSE(Exists(At(dir_, "stop", 1))) << "the target was made";
  }
  {
    SCOPED_TRACE("continue_on_error");
    const Outcome run = RestoreDamaged(damage, "t", 1, true);
    ASSERT_OK(run.status);
    ASSERT_EQ(run.report->errors.size(), 1u);
    EXPECT_EQ(run.report->errors[0].path, lost);
    EXPECT_TRUE(Has(run.report->errors[0].status.ToString(), "catalog segment"))
        << run.report->errors[0].status.ToString();
    EXPECT_EQ(run.report->files, 9u);
    EXPECT_FALSE(WasPlanned(run, lost));
    EXPECT_FALSE(Exists(At(dir_, "t", 1) + "/" + lost));
    EXPECT_EQ(ReadFile(At(dir_, "t", 1) + "/d/f-06.txt"), "f 6");
  }
  {
    SCOPED_TRACE("one window");
    const Outcome run = RestoreDamaged(damage, "t", kDefaultWindow, false);
    ASSERT_OK(run.status);
    EXPECT_TRUE(run.report->errors.empty()) << Text(run.report->errors.front());
    EXPECT_EQ(run.report->files, 10u);
    EXPECT_EQ(ReadFile(At(dir_, "t", kDefaultWindow) + "/" + lost), "f 5");
  }
}

// Pass one has planned every window when pass two finds one it cannot
// read again: its catalog segment, or the content records of its files.
// The run stops there, with the files of the windows before restored as
// far as the damage allows, and without the symlink and fifo of the first
// windows (specials come after every file); the folders made still get
// their metadata. With continue_on_error the damaged window is left out
// and the rest comes.
TEST_F(RestoreWindows, AWindowThatCannotBeReadAgainStopsWithoutMakingSpecials) {
  ASSERT_NO_FATAL_FAILURE(WriteSpecialsAndFiles());
  ASSERT_EQ(listing_.entries.back().second, "d/f-09.txt");
  const std::string lost = "d/f-05.txt";
  const Damage catalog{SegmentOf(lost), /*content=*/false, "d/f-09.txt"};
  const Damage contents{0, /*content=*/true, "d/f-09.txt"};

  for (const Damage& damage : {catalog, contents}) {
    const std::string prefix = damage.content ? "contents" : "catalog";
    SCOPED_TRACE(prefix);
    const Outcome run = RestoreDamaged(damage, prefix, 1, false);
    EXPECT_FALSE(run.status.ok());
    EXPECT_EQ(run.planned.size(), listing_.entries.size());
    const std::string t = At(dir_, prefix, 1);
    EXPECT_FALSE(Exists(t + "/a-link"));
    EXPECT_FALSE(Exists(t + "/b-fifo"));
    struct stat st;
    ASSERT_EQ(::lstat((t + "/d").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, folder_mode_);
    EXPECT_FALSE(Exists(t + "/d/f-06.txt")) << "applied after the stop";
    if (!damage.content) {
      EXPECT_EQ(ReadFile(t + "/d/f-00.txt"), "f 0");
      EXPECT_EQ(ReadFile(t + "/d/f-04.txt"), "f 4");
      EXPECT_FALSE(Exists(t + "/" + lost));
    }
  }

  const Outcome run = RestoreDamaged(catalog, "t", 1, true);
  ASSERT_OK(run.status);
  // (The window's error names its catalog segments too.)
  EXPECT_EQ(ErrorsSaying(run, lost, "entries from this path on) cannot be"), 1u)
      << ::testing::PrintToString(run.events);
  EXPECT_EQ(ErrorsSaying(run, lost, "were planned but not restored"), 1u)
      << ::testing::PrintToString(run.events);
  EXPECT_EQ(run.report->errors.size(), 2u);
  EXPECT_EQ(run.report->files, 9u);
  const std::string t = At(dir_, "t", 1);
  EXPECT_EQ(std::filesystem::read_symlink(t + "/a-link"), "d/f-00.txt");
  struct stat st;
  ASSERT_EQ(::lstat((t + "/b-fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  for (int i = 0; i < 10; ++i) {
    const std::string f = "d/" + Name("f", i);
    if (f == lost) {
      EXPECT_FALSE(Exists(t + "/" + f));
    } else {
      EXPECT_EQ(ReadFile(t + "/" + f), "f " + std::to_string(i)) << f;
    }
  }
}

}  // namespace
}  // namespace migstore
