// Restore and Extract: one run, two front ends. Both open the store, read
// the catalog, choose entries (Restore: by user; Extract: by glob), plan
// (plan.h), and apply the plan (apply.h); they differ in what the plan may
// do (user mapping, rules, owners, extended attributes, conflicts).

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <oneapi/tbb/info.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "engine/base/case_fold.h"
#include "engine/base/parallel.h"
#include "engine/src/fs/free_space.h"
#include "engine/src/processing/run_processing.h"
#include "engine/src/profiles/windows_profiles.h"
#include "engine/src/registry/reg_text.h"
#include "engine/src/registry/registry_apply.h"
#include "engine/src/report/reporter.h"
#include "engine/src/restore/account_names.h"
#include "engine/src/restore/apply.h"
#include "engine/src/restore/create_accounts.h"
#include "engine/src/restore/decisions.h"
#include "engine/src/restore/destination_cleanup.h"
#include "engine/src/restore/path_filter.h"
#include "engine/src/restore/plan.h"
#include "engine/src/restore/privileges.h"
#include "engine/src/restore/safe_path.h"
#include "engine/src/restore/store_catalog.h"
#include "engine/src/restore/target_accounts.h"
#include "engine/src/rules/error_control.h"
#include "engine/src/store/given_store.h"
#include "engine/src/store/key_rep.h"
#include "engine/src/store/open_store.h"
#include "format/atomic_file.h"
#include "format/container_reader.h"
#include "format/spill_file.h"
#include "migstore/extract.h"
#include "migstore/matcher.h"
#include "migstore/rules.h"

namespace migstore {
namespace {

using format::Entry;
using format::EntryType;
using restore::Action;
using restore::Item;
using Clock = std::chrono::steady_clock;

// The decoded blocks a restore keeps (restore::ApplyOptions::block_memory):
// blocks whose files lie in several windows (copies stored once) stay
// while they fit, else are opened again.
constexpr uint64_t kBlockMemory = uint64_t{64} << 20;

const char* TypeName(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDirectory:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kFifo:
      return "fifo";
  }
  return "file";
}

bool EqualFolded(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// What differs between a restore and an extract.
struct RunSpec {
  std::string store_path;
  Key key;
  KeyPolicy key_policy;
  std::string target;
  bool dry_run = false;
  bool continue_on_error = false;
  int threads = 0;
  size_t window_entries = 65536;  // RestoreOptions::window_entries
  size_t claim_memory = 0;        // RestoreOptions::claim_memory
  restore::Conflicts conflicts = restore::Conflicts::kRename;
  const RestoreOptions* restore = nullptr;      // null for an extract
  const restore::PathFilter* filter = nullptr;  // extract
  const ExtractOptions* extract = nullptr;      // null for a restore
  // A container opened elsewhere (given_store.h), read instead of
  // store_path's.
  mutable std::unique_ptr<format::StoreSource> source;
  // The caller's own copy of restore->account_password, wiped once the
  // accounts are planned (given_store.h); null when it keeps none.
  std::string* password_copy = nullptr;
};

// Zeroes a string's whole buffer, not only its size()'s, then empties it.
void WipeString(std::string* s) {
  s->resize(s->capacity());  // within the buffer: never reallocates
  ::explicit_bzero(s->data(), s->size());
  s->clear();
}

Layout StoreLayout(const format::ContainerReader& reader) {
  if (auto l = reader.property("layout")) {
    return *l == "windows" ? Layout::kWindows : Layout::kLinux;
  }
  for (const format::Profile& p : reader.index().profiles) {
    if (p.layout == format::Layout::kWindows) return Layout::kWindows;
  }
  return Layout::kLinux;
}

// The store's users as a Machine, for user selection and for binding the
// rules' variables: the profiles as captured, the layout's system folders,
// and the target as the root conditions look at.
Machine StoreMachine(const format::ContainerReader& reader,
                     const std::string& target) {
  Machine m;
  m.root = target;
  m.layout = StoreLayout(reader);
  for (const format::Profile& p : reader.index().profiles) {
    UserProfile u;
    u.name = p.name;
    u.home = p.home;
    u.layout = p.layout == format::Layout::kWindows ? Layout::kWindows
                                                    : Layout::kLinux;
    u.uid = p.uid;
    u.gid = p.gid;
    u.sid = p.sid;
    u.last_use_ns = p.last_use_ns;
    u.last_use_source = "as recorded in the store";
    u.folders = p.folders;
    m.profiles.push_back(std::move(u));
  }
  if (m.layout == Layout::kWindows) {
    for (const internal::FolderDefault& f :
         internal::WindowsSystemFolderDefaults()) {
      m.system_folders.emplace_back(f.key, f.rel);
    }
  } else {
    m.system_folders.emplace_back("PROFILESFOLDER", "home");
  }
  return m;
}

class Run {
 public:
  Run(const RunSpec& spec, RestoreObserver* observer)
      : spec_(spec), start_(Clock::now()), reporter_(observer, start_) {}

  Result<RestoreReport> Go() {
    if (spec_.store_path.empty())
      return Status::InvalidArgument("no store given");
    if (spec_.target.empty())
      return Status::InvalidArgument("no target directory given");
    if (spec_.threads < 0 || spec_.threads > 1024)
      return Status::InvalidArgument("--threads out of range");
    if (spec_.window_entries == 0)
      return Status::InvalidArgument("window_entries must be at least 1");
    if (spec_.restore != nullptr) {
      MIGSTORE_RETURN_IF_ERROR(fs::CheckFreeSpace(
          spec_.target, spec_.restore->min_free_bytes, "the target"));
    }
    reporter_.Phase("Initializing");
    {
      MIGSTORE_ASSIGN_OR_RETURN(
          store::OpenedStore store,
          spec_.source != nullptr
              ? store::OpenContainerForReading(std::move(spec_.source),
                                               internal::SourceOf(spec_.key),
                                               spec_.key_policy)
              : store::OpenStoreForReading(spec_.store_path,
                                           internal::SourceOf(spec_.key),
                                           spec_.key_policy));
      store_ = std::move(store);
    }
    report_.store_path = spec_.store_path;
    report_.target = spec_.target;
    report_.dry_run = spec_.dry_run;
    // Unless told, a thread per core, or more for a remote store whose
    // reads mostly wait (an object store: its GETs in flight, each worker
    // blocking on one, hide its latency).
    const int threads = spec_.threads > 0
                            ? spec_.threads
                            : std::max({1, tbb::info::default_concurrency(),
                                        store_.reader->parallel_reads()});
    parallel::Arena arena(threads);
    Status s = arena.Execute([&] { return Body(threads); });
    if (s.ok() && reporter_.cancelled()) s = Status::Cancelled("cancelled");
    MIGSTORE_RETURN_IF_ERROR(s);
    report_.store_bytes_read = store_.reader->bytes_read();
    report_.seconds =
        std::chrono::duration<double>(Clock::now() - start_).count();
    reporter_.Phase("Done");
    return std::move(report_);
  }

 private:
  // An entry that cannot be restored: reported; then skipped, or the end.
  // Config.xml's <ErrorControl> decides first: non-fatal skips, fatal
  // stops even with --continue-on-error.
  Status EntryError(FileIssue issue) {
    auto verdict = error_control_.ForFile(issue.path, issue.status);
    return Decide(std::move(issue), verdict);
  }
  Status RegistryError(FileIssue issue, const std::string& key,
                       int32_t profile) {
    auto verdict = error_control_.ForRegistry(key, profile, issue.status);
    return Decide(std::move(issue), verdict);
  }
  Status Decide(FileIssue issue, const internal::ErrorControl::Verdict& v) {
    issue.skipped = v.Skips(spec_.continue_on_error);
    reporter_.Error(issue);
    if (!issue.skipped) return v.Stop(issue.path, issue.status);
    std::lock_guard<std::mutex> lock(mu_);
    report_.errors.push_back(std::move(issue));
    return Status::OK();
  }

  // --config: the Config.xml's <ErrorControl>, bound to the store's users.
  Status CompileErrorControl() {
    if (spec_.restore == nullptr || spec_.restore->config_file.empty())
      return Status::OK();
    RuleSet rules;
    MIGSTORE_RETURN_IF_ERROR(rules.SetConfigFile(spec_.restore->config_file));
    std::vector<RuleDiagnostic> diagnostics;
    error_control_ =
        internal::ErrorControl::Compile(rules, machine_, &diagnostics);
    for (const RuleDiagnostic& d : diagnostics)
      report_.rule_diagnostics.push_back(d.ToString());
    return Status::OK();
  }

  void Note(std::string path, std::string what) {
    reporter_.Note({path, what});
    std::lock_guard<std::mutex> lock(mu_);
    report_.notes.push_back({std::move(path), std::move(what)});
  }

  // What pass one leaves for pass two.
  struct Planned {
    std::vector<FileIssue> refusals;  // told once every entry is planned
    uint64_t files_total = 0;
    uint64_t bytes_total = 0;
    std::vector<uint32_t> block_uses;  // restore::CountBlockUses
    uint64_t privileged = 0;           // a dry run's privilege notes
    // A single window's items and content records, kept for pass two.
    std::vector<Item> items;
    restore::ContentTable contents;
    // Several windows: each one's decisions on a scratch file, with what
    // its entries were (pass two must read the same ones).
    std::unique_ptr<format::SpillFile> spill;
    struct Window {
      std::vector<format::SpillFile::Piece> decisions;
      size_t entries = 0;
      size_t items = 0;
      uint64_t digest = 0;
      bool work = false;  // something to write
    };
    std::vector<Window> windows;
  };

  // Plan, then apply, a window of the catalog at a time (store_catalog.h):
  // pass zero reads the catalog for what looks ahead (lost segments,
  // damaged link groups, an extract's folders); the entries are chosen (a
  // restore's users and rules, or an extract's globs); pass one plans and
  // announces every window; unless it refused an entry that stops the run
  // or this is a dry run, the target is made and pass two applies each
  // window as pass one decided.
  Status Body(int threads) {
    const std::vector<restore::CatalogWindow> windows =
        restore::CatalogWindows(store_.reader->index(), spec_.window_entries);
    restore::Catalog catalog = restore::ScanCatalog(
        *store_.reader, windows, [&](const std::vector<Entry>& entries) {
          if (spec_.filter != nullptr) NoteFoldersAbove(entries);
        });
    machine_ = StoreMachine(*store_.reader, spec_.target);
    MIGSTORE_RETURN_IF_ERROR(CompileErrorControl());
    MIGSTORE_RETURN_IF_ERROR(ReportLostSegments(catalog));
    restore::PlanInput in = PlanInputFor();

    // The target as it is; made (when missing) only once the plan has
    // passed (no refusal stops the run), and never in a dry run. A missing
    // target is planned as an empty one (target_fd -1).
    UniqueFd target(
        ::open(spec_.target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!target.valid() && errno != ENOENT) {
      return Status::FromErrno("cannot open the target " + spec_.target, errno);
    }
    in.target_fd = target.get();
    if (spec_.restore != nullptr)
      MIGSTORE_RETURN_IF_ERROR(ChooseForRestore(target, &in));
    in.catalog = &catalog;

    MIGSTORE_RETURN_IF_ERROR(ScanCleanup(in, target.get()));
    in.cleaned = &cleanup_.paths;
    const bool strip =
        spec_.restore != nullptr && spec_.restore->strip_privileges;
    MIGSTORE_ASSIGN_OR_RETURN(Planned planned,
                              PlanWindows(in, windows, &catalog, strip));
    MIGSTORE_RETURN_IF_ERROR(Announce(&planned));
    MIGSTORE_RETURN_IF_ERROR(ExportSettings());
    if (spec_.dry_run) {
      if (planned.privileged > 0)
        Note("", restore::PrivilegeSummary(planned.privileged, strip));
      CleanUpFiles(target.get());
      return RestoreSettings(in, -1);
    }
    // Only now, with every refusal behind us, is the target made: a run
    // stopped by its plan must leave no trace, not even an empty target.
    if (!target.valid()) {
      MIGSTORE_ASSIGN_OR_RETURN(target, MakeTarget());
    }
    // pre-apply may stop the run; what comes after the apply cannot undo
    // it, so its steps' failures are errors of the report (exit 3).
    Status status = Process(in, "pre-apply");
    std::vector<FileIssue> cleanup_errors;
    if (status.ok()) {
      status = [&]() -> Status {
        MIGSTORE_RETURN_IF_ERROR(CreateAccounts(target.get()));
        cleanup_errors = CleanUpFiles(target.get());
        MIGSTORE_RETURN_IF_ERROR(
            Apply(windows, &catalog, &planned, target.get(), threads, strip));
        MIGSTORE_RETURN_IF_ERROR(RestoreSettings(in, target.get()));
        // A file the cleanup could not delete is told after the apply:
        // stopping between the two would leave a target emptied of what
        // the cleanup took and without what the store brings.
        for (FileIssue& e : cleanup_errors)
          MIGSTORE_RETURN_IF_ERROR(EntryError(std::move(e)));
        return Status::OK();
      }();
      if (!status.ok()) {
        // The run ends on another error: these are still told.
        for (FileIssue& e : cleanup_errors) Record(std::move(e));
      }
    }
    if (status.ok()) Finally(in, "apply-success");
    Finally(in, "post-apply");
    return status;
  }

  // The entries of a window to plan, in catalog order: a restore's users',
  // or what an extract's globs take and the folders above them. Pass one
  // (`count`) counts the others.
  std::vector<uint32_t> WindowOrder(const std::vector<Entry>& entries,
                                    const restore::PlanInput& in, bool count) {
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      const bool taken =
          spec_.filter != nullptr
              ? spec_.filter->Takes(e.path) ||
                    (e.type == EntryType::kDirectory && above_.count(e.path))
              : in.profiles[e.profile].selected;
      if (taken) {
        order.push_back(i);
      } else if (count) {
        ++report_.not_selected;
      }
    }
    return order;
  }

  // Extract: the folders above what the globs take, found in pass zero (a
  // folder comes before the entries that make it taken).
  void NoteFoldersAbove(const std::vector<Entry>& entries) {
    for (const Entry& e : entries) {
      if (!spec_.filter->Takes(e.path)) continue;
      for (std::string_view a = ParentOf(e.path); !a.empty(); a = ParentOf(a)) {
        if (!above_.insert(std::string(a)).second) break;
      }
    }
  }

  // The content records of the files of `items` (planned or to apply).
  restore::ContentTable LoadContents(const std::vector<Entry>& entries,
                                     const std::vector<uint32_t>& order) {
    std::vector<uint64_t> ids;
    for (uint32_t i : order) {
      if (entries[i].type == EntryType::kFile && entries[i].content)
        ids.push_back(*entries[i].content);
    }
    return restore::ContentTable::Load(*store_.reader, std::move(ids));
  }

  // What pass two must find again in a window: its entries, as far as the
  // plan decided from them.
  static uint64_t DigestOf(const std::vector<Entry>& entries) {
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    for (const Entry& e : entries) {
      const uint64_t fields[] = {e.profile,   static_cast<uint64_t>(e.type),
                                 e.mode,      e.uid,
                                 e.gid,       static_cast<uint64_t>(e.mtime_ns),
                                 e.size,      e.content.value_or(UINT64_MAX),
                                 e.link_group};
      XXH3_64bits_update(st, fields, sizeof(fields));
      XXH3_64bits_update(st, e.path.data(), e.path.size() + 1);
    }
    const uint64_t d = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return d;
  }

  // Pass one: every window planned in catalog order, each item announced
  // (OnPlanned) and counted as far as the plan decides it, refusals kept
  // to be told once the whole plan is made. Nothing is written.
  Result<Planned> PlanWindows(
      const restore::PlanInput& in,
      const std::vector<restore::CatalogWindow>& windows,
      restore::Catalog* catalog, bool strip) {
    Planned planned;
    const bool one = windows.size() == 1;
    if (!spec_.dry_run)
      planned.block_uses.assign(store_.reader->block_count(), 0);
    if (!one && !spec_.dry_run) {
      MIGSTORE_ASSIGN_OR_RETURN(
          planned.spill, format::SpillFile::Create(format::DefaultSpillDirs()));
    }
    restore::Planner planner(in);
    size_t owner_notes = 0;
    for (const restore::CatalogWindow& w : windows) {
      if (reporter_.Poll()) return Status::Cancelled("cancelled");
      std::vector<Entry> read;
      if (!one) {
        // A segment that read in pass zero and fails now is told as one
        // that failed then (its entries are not planned).
        const size_t lost = catalog->lost.size();
        read = restore::ReadWindow(*store_.reader, w, &catalog->lost);
        MIGSTORE_RETURN_IF_ERROR(ReportLostSegments(*catalog, lost));
      }
      const std::vector<Entry>& entries = one ? catalog->entries : read;
      const std::vector<uint32_t> order = WindowOrder(entries, in, true);
      restore::ContentTable contents = LoadContents(entries, order);
      MIGSTORE_ASSIGN_OR_RETURN(std::vector<Item> items,
                                planner.PlanWindow(entries, order, contents));
      // The notes first, as they came about (owners kept by number, rules
      // not applied), then the window's entries.
      if (owners_) {
        const std::vector<std::string>& notes = owners_->notes();
        for (; owner_notes < notes.size(); ++owner_notes)
          Note("", notes[owner_notes]);
      }
      for (FileNote& n : planner.TakeNotes())
        Note(std::move(n.path), std::move(n.what));
      bool work = false;
      for (const Item& item : items) {
        const Entry& e = entries[item.entry];
        Tell(entries, item, &planned);
        const bool applied = item.action != Action::kSkip &&
                             item.action != Action::kIdentical &&
                             item.action != Action::kRefuse;
        work = work || applied;
        // What pass two cannot change is counted now; a dry run counts
        // everything as done.
        if (spec_.dry_run || !applied) CountItem(e, item, true);
        if (spec_.dry_run && spec_.restore != nullptr)
          planned.privileged += NotePrivileges(entries, item, strip);
      }
      if (!spec_.dry_run)
        restore::CountBlockUses(entries, items, &planned.block_uses);
      if (one) {
        planned.items = std::move(items);
        planned.contents = std::move(contents);
      } else {
        Planned::Window& pw = planned.windows.emplace_back();
        pw.entries = entries.size();
        pw.items = items.size();
        pw.digest = DigestOf(entries);
        pw.work = work;
        if (work && !spec_.dry_run) {
          MIGSTORE_RETURN_IF_ERROR(restore::SaveDecisions(
              items, planned.spill.get(), &pw.decisions));
        }
        // A window's entries and records were large and are gone: hand the
        // pages back, so that the peak is one window's.
        read = {};
        items = std::vector<Item>();
        contents = {};
        ::malloc_trim(0);
      }
    }
    return planned;
  }

  // One planned item to the observer, the totals for progress, and a
  // refusal kept.
  void Tell(const std::vector<Entry>& entries, const Item& item,
            Planned* planned) {
    const Entry& e = entries[item.entry];
    PlannedEntry p;
    p.path = e.path;
    p.destination =
        item.action == Action::kRefuse ? "" : restore::DestOf(item, entries);
    p.type = TypeName(e.type);
    p.size = e.size;
    p.action = restore::ActionName(item);
    p.reason = item.action == Action::kRefuse ? item.error().ToString()
                                              : item.reason();
    reporter_.Notify([&](RestoreObserver& ob) { ob.OnPlanned(p); });
    if (item.action == Action::kWrite || item.action == Action::kLink) {
      if (e.type != EntryType::kDirectory) ++planned->files_total;
      if (item.action == Action::kWrite && item.content != nullptr)
        planned->bytes_total += item.content->stored_size();
      if (item.action == Action::kWrite && store_.hardlink() &&
          e.type == EntryType::kFile) {
        planned->bytes_total += e.size;
      }
    }
    if (item.action == Action::kRefuse)
      planned->refusals.push_back({e.path, item.error()});
  }
  // The rules' <processing> and <externalProcess> steps at `when`
  // (run_processing.h), in the target; a failed command goes through
  // EntryError.
  Status Process(const restore::PlanInput& in, std::string_view when) {
    for (FileIssue& e : RunSteps(in, when))
      MIGSTORE_RETURN_IF_ERROR(EntryError(std::move(e)));
    return Status::OK();
  }
  // The same once the apply is over: a failure is an error of the report.
  void Finally(const restore::PlanInput& in, std::string_view when) {
    for (FileIssue& e : RunSteps(in, when)) Record(std::move(e));
  }
  // An error told and counted that nothing can stop any more.
  void Record(FileIssue e) {
    e.skipped = true;
    reporter_.Error(e);
    std::lock_guard<std::mutex> lock(mu_);
    report_.errors.push_back(std::move(e));
  }
  std::vector<FileIssue> RunSteps(const restore::PlanInput& in,
                                  std::string_view when) {
    if (in.rules == nullptr || spec_.restore == nullptr) return {};
    processing::ProcessingResult r = processing::Run(
        *in.rules, when, spec_.target, spec_.restore->allow_processing);
    for (FileNote& n : r.notes) Note(std::move(n.path), std::move(n.what));
    return std::move(r.errors);
  }

  // <destinationCleanup> of the target's files (destination_cleanup.h):
  // listed before the plan, which counts them gone; the store itself is
  // never listed, wherever it lies. Folders that cannot be read are errors
  // of the plan's stage, before anything is deleted.
  Status ScanCleanup(const restore::PlanInput& in, int target_fd) {
    if (in.rules == nullptr || in.rules->cleanup_rule_count() == 0 ||
        target_fd < 0) {
      return Status::OK();
    }
    restore::FileIds keep;
    struct stat st {};
    if (::stat(spec_.store_path.c_str(), &st) == 0)
      keep.insert({st.st_dev, st.st_ino});
    cleanup_ = restore::ScanCleanup(target_fd, *in.rules, keep);
    for (FileIssue& e : cleanup_.errors)
      MIGSTORE_RETURN_IF_ERROR(EntryError(std::move(e)));
    cleanup_.errors.clear();
    return Status::OK();
  }

  // What the scan listed: deleted (noted, the first few by name), or, in a
  // dry run, told. Returns the files that could not be deleted.
  std::vector<FileIssue> CleanUpFiles(int target_fd) {
    constexpr size_t kNamed = 20;
    uint64_t deleted = cleanup_.files.size();
    std::vector<FileIssue> errors;
    if (!spec_.dry_run && !cleanup_.files.empty()) {
      restore::CleanupResult r = restore::DeleteScanned(target_fd, cleanup_);
      for (FileNote& n : r.notes) Note(std::move(n.path), std::move(n.what));
      deleted = r.deleted;
      errors = std::move(r.errors);
    }
    for (size_t i = 0; i < cleanup_.files.size() && i < kNamed; ++i) {
      Note(cleanup_.files[i].path,
           spec_.dry_run ? "would be deleted by <destinationCleanup>"
                         : "deleted by <destinationCleanup>");
    }
    if (cleanup_.files.size() > kNamed) {
      Note("", std::to_string(deleted) + " files " +
                   (spec_.dry_run ? "would be" : "were") +
                   " deleted by <destinationCleanup> in all");
    }
    return errors;
  }

  // extract --reg: the store's settings as a .reg file, HKLM's and one
  // user's HKCU (ExtractOptions::reg_file).
  Status ExportSettings() {
    if (spec_.extract == nullptr || spec_.extract->reg_file.empty())
      return Status::OK();
    const ExtractOptions& o = *spec_.extract;
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<format::RegistryRecord> records,
                              store_.reader->ReadRegistry());
    const auto& profiles = store_.reader->index().profiles;
    std::set<uint32_t> users;
    for (const format::RegistryRecord& r : records) {
      if (r.profile != format::kNoProfile) users.insert(r.profile);
    }
    uint32_t chosen = format::kNoProfile;
    if (!o.reg_user.empty()) {
      for (size_t k = 0; k < profiles.size(); ++k) {
        if (EqualFolded(profiles[k].name, o.reg_user))
          chosen = static_cast<uint32_t>(k + 1);
      }
      if (chosen == format::kNoProfile) {
        return Status::InvalidArgument("--reg-user " + o.reg_user,
                                       "no such user in the store");
      }
    } else if (users.size() == 1) {
      chosen = *users.begin();
    } else if (users.size() > 1) {
      std::string names;
      for (uint32_t u : users)
        names += (names.empty() ? "" : ", ") + profiles[u - 1].name;
      return Status::InvalidArgument(
          "the store holds the settings of " + names +
          ": say whose go into the .reg file as HKEY_CURRENT_USER with "
          "--reg-user");
    }
    std::vector<format::RegistryRecord> taken;
    for (format::RegistryRecord& r : records) {
      if (r.profile != format::kNoProfile && r.profile != chosen) continue;
      ++(r.has_value ? report_.registry_values : report_.registry_keys);
      taken.push_back(std::move(r));
    }
    MIGSTORE_ASSIGN_OR_RETURN(
        format::AtomicFile f,
        format::AtomicFile::Create(o.reg_file, o.overwrite));
    MIGSTORE_RETURN_IF_ERROR(f.Append(registry::RegFile(taken)));
    return f.Commit();
  }

  // The store's registry settings into the target's offline hives, for the
  // users restored, where they land (registry_apply.h). A restore only: an
  // extract exports them instead (--reg). target_fd -1: a dry run.
  Status RestoreSettings(const restore::PlanInput& in, int target_fd) {
    if (spec_.restore == nullptr || !store_.reader->has_registry())
      return Status::OK();
    auto records = store_.reader->ReadRegistry();
    if (!records.ok()) {
      return EntryError(
          {"registry", records.status().WithContext(
                           "the store's registry settings cannot be read")});
    }
    registry::RegistryApplyInput ri;
    ri.target = spec_.target;
    ri.target_fd = target_fd;
    ri.dry_run = target_fd < 0;
    ri.machine_settings = spec_.restore->machine_settings;
    ri.records = &*records;
    ri.rules = in.rules;
    ri.dest_home.resize(in.profiles.size());
    for (size_t k = 1; k < in.profiles.size(); ++k) {
      if (in.profiles[k].selected) ri.dest_home[k] = in.profiles[k].dest_home;
    }
    registry::RegistryApplyResult r = registry::ApplyRegistry(ri);
    report_.registry_keys = r.keys;
    report_.registry_values = r.values;
    if (r.cleaned_keys + r.cleaned_values > 0) {
      Note("registry", "destinationCleanup deleted " +
                           std::to_string(r.cleaned_values) + " values and " +
                           std::to_string(r.cleaned_keys) +
                           " keys of the target's hives");
    }
    if (r.kept > 0) {
      Note("registry", std::to_string(r.kept) +
                           " values of the target kept by a <merge> "
                           "DestinationPriority()");
    }
    if (r.modified > 0) {
      Note("registry",
           std::to_string(r.modified) + " values changed by a <contentModify>");
    }
    for (registry::HiveIssue& n : r.notes) Note(n.path, n.what);
    for (registry::HiveIssue& e : r.errors) {
      MIGSTORE_RETURN_IF_ERROR(
          RegistryError({e.path, e.status}, e.key, e.profile));
    }
    return Status::OK();
  }

  // Catalog segments that cannot be read: each an error for the entries it
  // held, named by its first path.
  Status ReportLostSegments(const restore::Catalog& catalog, size_t from = 0) {
    for (size_t k = from; k < catalog.lost.size(); ++k) {
      const restore::LostSegment& lost = catalog.lost[k];
      MIGSTORE_RETURN_IF_ERROR(
          EntryError({lost.first_path,
                      lost.status.WithContext(
                          "catalog segment " + std::to_string(lost.segment) +
                          " (" + std::to_string(lost.entries) +
                          " entries from this path on) cannot be read")}));
    }
    return Status::OK();
  }

  // The plan's view of the store: its entries, layout, system folders and
  // profiles (each landing where it was captured until a mapping moves it).
  restore::PlanInput PlanInputFor() const {
    restore::PlanInput in;
    in.claim_memory = spec_.claim_memory;
    in.fold = machine_.layout == Layout::kWindows;
    in.conflicts = spec_.conflicts;
    for (const auto& [key, path] : machine_.system_folders)
      in.system_folders.push_back(path);
    in.profiles.resize(machine_.profiles.size() + 1);
    for (size_t k = 0; k < machine_.profiles.size(); ++k) {
      const UserProfile& p = machine_.profiles[k];
      restore::PlanProfile& pp = in.profiles[k + 1];
      pp.home = pp.dest_home = p.home;
      pp.folders.push_back(p.home);
      for (const auto& [key, path] : p.folders) pp.folders.push_back(path);
    }
    return in;
  }

  // A restore's users: those chosen, with where each lands, the restore
  // rules compiled for them and owners mapped by name (as root).
  Status ChooseForRestore(const UniqueFd& target, restore::PlanInput* in) {
    if (target.valid()) accounts_ = restore::ReadTargetAccounts(target.get());
    MIGSTORE_RETURN_IF_ERROR(SelectAndMap(accounts_, in));
    MIGSTORE_RETURN_IF_ERROR(PlanAccounts(target, *in));
    MIGSTORE_RETURN_IF_ERROR(CompileRestoreRules(in));
    MapOwners(in);
    return Status::OK();
  }

  // The <merge> and <locationModify> rules of --rules, bound to the users
  // where they land (MachineWhereUsersLand).
  Status CompileRestoreRules(restore::PlanInput* in) {
    if (spec_.restore->rules_files.empty()) return Status::OK();
    RuleSet rule_set;
    for (const std::string& f : spec_.restore->rules_files)
      MIGSTORE_RETURN_IF_ERROR(rule_set.AddFile(f));
    MIGSTORE_ASSIGN_OR_RETURN(
        rules_, CompileRules(rule_set, MachineWhereUsersLand(*in), choices_));
    for (const RuleDiagnostic& d : rules_.diagnostics())
      report_.rule_diagnostics.push_back(d.ToString());
    if (!rules_.has_restore_time_rules()) {
      Note("",
           "the rules files hold no rule that acts at restore (<merge>, "
           "<locationModify>, <contentModify>, <destinationCleanup>, "
           "NeverRestore(), processing) in force for the restored users");
    }
    in->rules = &rules_;
    return Status::OK();
  }

  // As root, owners and groups by name through the target's accounts, a
  // mapped user's files going to the new user; otherwise a note that they
  // all belong to whoever runs the restore.
  void MapOwners(restore::PlanInput* in) {
    if (::geteuid() != 0) {
      Note("",
           "not running as root: owners and groups are not restored "
           "(everything belongs to uid " +
               std::to_string(::geteuid()) + ")");
      return;
    }
    std::map<std::string, std::string> renamed;
    std::map<uint32_t, uint32_t> renamed_gids;
    for (const UserMapping& m : map_users_) {
      renamed[mapped_store_name_[m.from]] = m.to;
      const UserProfile& p = machine_.profiles[mapped_profile_[m.from]];
      if (auto a = accounts_.users.find(m.to);
          a != accounts_.users.end() && p.layout == Layout::kLinux) {
        renamed_gids[p.gid] = a->second.gid;
      }
    }
    owners_.emplace(*store_.reader, accounts_, std::move(renamed),
                    std::move(renamed_gids));
    in->owners = &*owners_;
  }

  // The end of the plan: each refused entry as an error (the end of the
  // run without --continue-on-error, before anything is written), and the
  // totals for progress.
  Status Announce(Planned* planned) {
    for (FileIssue& e : planned->refusals)
      MIGSTORE_RETURN_IF_ERROR(EntryError(std::move(e)));
    planned->refusals.clear();
    reporter_.SetTotals(planned->files_total, planned->bytes_total);
    return Status::OK();
  }

  // Pass two: the plan carried out below the target, window by window as
  // pass one decided (folders, files, links), then every window's
  // specials and the folders' metadata. Returns the error that stopped it,
  // or OK.
  Status Apply(const std::vector<restore::CatalogWindow>& windows,
               restore::Catalog* catalog, Planned* planned, int target_fd,
               int threads, bool strip) {
    reporter_.Phase("Applying");
    restore::ApplyOptions ao;
    ao.store = &store_;
    ao.target_fd = target_fd;
    ao.set_owner = owners_.has_value();
    ao.set_xattrs = spec_.restore != nullptr;
    ao.mode_mask = spec_.restore != nullptr ? 07777 : 01777;
    ao.threads = threads;
    ao.block_memory = kBlockMemory;
    // A restore links a hard-link store's files back (USMT's refresh); an
    // extract copies them, so editing what was extracted never changes the
    // store or the originals.
    ao.link_back = spec_.restore != nullptr;
    ao.note_privileges = spec_.restore != nullptr;
    ao.strip_privileges = strip;
    Status stop;
    std::mutex stop_mu;
    restore::ApplyCallbacks cb;
    cb.error = [&](const std::string& path, const Status& error) {
      Status s = EntryError({path, error});
      if (s.ok()) return true;
      std::lock_guard<std::mutex> lock(stop_mu);
      if (stop.ok()) stop = std::move(s);
      return false;
    };
    cb.note = [&](const std::string& path, const std::string& what) {
      Note(path, what);
    };
    cb.progress = [&](uint64_t bytes, uint64_t files) {
      reporter_.Add(bytes, files);
    };
    cb.cancelled = [&] { return reporter_.Poll(); };
    restore::Applier applier(ao, std::move(planned->block_uses), std::move(cb));
    if (windows.size() == 1) {
      applier.ApplyWindow(catalog->entries, &planned->items);
      CountApplied(catalog->entries, planned->items, applier);
    }
    // What ends pass two early; the folders made so far still get their
    // metadata (Finish), as when an entry's error stops it.
    Status broken;
    // (No task runs between windows: `stop` is read without its lock.)
    for (size_t w = 0; w < planned->windows.size() && broken.ok() &&
                       stop.ok() && !applier.stopped() && !reporter_.Poll();
         ++w) {
      if (!planned->windows[w].work) continue;
      broken = ApplyWindow(windows[w], planned->windows[w], *planned->spill,
                           catalog, &applier, &stop, &stop_mu);
      ::malloc_trim(0);
    }
    // Stopped here rather than by the applier: it must start nothing new
    // either (Finish then only gives the folders made their metadata).
    if (!broken.ok() || !stop.ok() || reporter_.cancelled()) applier.Stop();
    applier.Finish();
    for (size_t i = 0; i < applier.kept_items().size(); ++i) {
      const Item& item = applier.kept_items()[i];
      CountItem(applier.kept_entries()[item.entry], item, applier.done(i));
    }
    if (applier.temporaries_removed() > 0) {
      Note("", "removed " + std::to_string(applier.temporaries_removed()) +
                   " temporary files an interrupted run left behind");
    }
    if (applier.privileged_files() > 0)
      Note("", restore::PrivilegeSummary(applier.privileged_files(), strip));
    report_.blocks_opened = applier.blocks_opened();
    return broken.ok() ? stop : broken;
  }

  // Pass two for one window of several: its entries read again (they must
  // be the ones planned), pass one's decisions and the content records
  // given back, applied and counted.
  Status ApplyWindow(const restore::CatalogWindow& window,
                     const Planned::Window& planned,
                     const format::SpillFile& spill, restore::Catalog* catalog,
                     restore::Applier* applier, Status* stop,
                     std::mutex* stop_mu) {
    const size_t lost = catalog->lost.size();
    std::vector<Entry> entries =
        restore::ReadWindow(*store_.reader, window, &catalog->lost);
    if (catalog->lost.size() > lost) {
      // Read for the plan, not now: the window's decisions no longer match
      // its entries, and none of them is applied.
      Status s = ReportLostSegments(*catalog, lost);
      if (s.ok()) {
        s = EntryError(
            {catalog->lost[lost].first_path,
             Status::IOError(
                 "catalog segments " + std::to_string(window.first) + " to " +
                 std::to_string(window.end - 1) + " (" +
                 std::to_string(window.entries) +
                 " entries) were planned but not restored: a segment could "
                 "not be read again")});
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(*stop_mu);
        if (stop->ok()) *stop = s;
      }
      return Status::OK();
    }
    if (entries.size() != planned.entries ||
        DigestOf(entries) != planned.digest) {
      return Status::Corruption(
          "the store's catalog changed while it was restored: catalog "
          "segments " +
          std::to_string(window.first) + " to " +
          std::to_string(window.end - 1) +
          " no longer read as when they were planned");
    }
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Item> items,
        restore::LoadDecisions(spill, planned.decisions, entries.size()));
    if (items.size() != planned.items) {
      return Status::Corruption(
          "the restore's scratch file does not hold the plan it was given");
    }
    restore::ContentTable contents;  // the items point into it
    Status s = GiveContents(entries, &items, &contents);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(*stop_mu);
      if (stop->ok()) *stop = s;
      return Status::OK();
    }
    applier->ApplyWindow(entries, &items);
    CountApplied(entries, items, *applier);
    return Status::OK();
  }

  // Pass two's items given their content records again. A record that
  // cannot be read now (it could in pass one) fails its file alone, told
  // as the apply's errors are; returns the error that ends the run. The
  // records are kept in *contents.
  Status GiveContents(const std::vector<Entry>& entries,
                      std::vector<Item>* items,
                      restore::ContentTable* contents) {
    std::vector<uint32_t> files;
    for (const Item& item : *items) {
      if (item.action == Action::kWrite || item.action == Action::kLink)
        files.push_back(item.entry);
    }
    *contents = LoadContents(entries, files);
    for (Item& item : *items) {
      const Entry& e = entries[item.entry];
      if ((item.action != Action::kWrite && item.action != Action::kLink) ||
          e.type != EntryType::kFile || !e.content) {
        continue;
      }
      auto c = contents->For(e);
      if (c.ok()) {
        item.content = *c;
        continue;
      }
      item.action = Action::kRefuse;
      MIGSTORE_RETURN_IF_ERROR(EntryError({e.path, c.status()}));
    }
    return Status::OK();
  }

  // Counts the items of an applied window that pass one left uncounted
  // (all but those it skipped or found already there); the ones kept for
  // the applier's Finish are counted after it.
  void CountApplied(const std::vector<Entry>& entries,
                    const std::vector<Item>& items,
                    const restore::Applier& applier) {
    for (size_t i = 0; i < items.size(); ++i) {
      const Item& item = items[i];
      if (applier.kept(i) || item.action == Action::kSkip ||
          item.action == Action::kIdentical) {
        continue;
      }
      CountItem(entries[item.entry], item, applier.done(i));
    }
  }

  // Makes the missing target (and the directories above it) and opens it.
  Result<UniqueFd> MakeTarget() const {
    std::error_code ec;
    std::filesystem::create_directories(spec_.target, ec);
    if (ec) {
      return Status::IOError("cannot make the target " + spec_.target,
                             ec.message());
    }
    UniqueFd target(
        ::open(spec_.target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!target.valid()) {
      return Status::FromErrno("cannot open the target " + spec_.target, errno);
    }
    return target;
  }

  // A dry run's note on a file that would carry setuid or setgid bits or
  // file capabilities, as far as the catalog tells (a hard-link store's
  // capabilities are on its files: the applier notes them as it restores).
  // Returns 1 when it noted one.
  uint64_t NotePrivileges(const std::vector<Entry>& entries, const Item& item,
                          bool strip) {
    const Entry& e = entries[item.entry];
    if (e.type != EntryType::kFile ||
        (item.action != Action::kWrite && item.action != Action::kLink)) {
      return 0;
    }
    const bool root_owned = ::geteuid() == 0 && item.uid == 0;
    const std::string what =
        restore::PrivilegesOf(e.mode, root_owned, restore::HasCapability(e));
    if (what.empty()) return 0;
    Note(restore::DestOf(item, entries), restore::PrivilegeNote(what, strip));
    return 1;
  }

  // Restore: the users chosen, and where each one's profile lands.
  Status SelectAndMap(const restore::TargetAccounts& accounts,
                      restore::PlanInput* in) {
    const RestoreOptions& o = *spec_.restore;
    const bool fold = machine_.layout == Layout::kWindows;
    MIGSTORE_ASSIGN_OR_RETURN(choices_, SelectUsers(machine_, o.users));
    std::vector<std::string> mapped_to(machine_.profiles.size());
    MapDomains();
    std::vector<std::string> names;
    for (const UserProfile& p : machine_.profiles) names.push_back(p.name);
    // Whether a user's mapping is a --map-user of its own (map_users_
    // holds those first), not one --map-domain made.
    std::vector<bool> asked(machine_.profiles.size(), false);
    for (size_t i = 0; i < map_users_.size(); ++i) {
      const UserMapping& m = map_users_[i];
      std::vector<size_t> matches;
      std::optional<size_t> k =
          restore::FindStoreUser(names, m.from, fold, &matches);
      if (!k && matches.empty()) {
        return Status::InvalidArgument("--map-user " + m.from + ":" + m.to +
                                       ": the store has no user " + m.from);
      }
      if (!k) {
        std::string several;
        for (size_t m2 : matches)
          several += (several.empty() ? "" : ", ") + names[m2];
        return Status::InvalidArgument(
            "--map-user " + m.from + ":" + m.to + ": " + m.from +
                " may be any of the store's users " + several,
            "name one with its domain (DOMAIN\\user)");
      }
      const size_t found = *k;
      if (!mapped_to[found].empty()) {
        return Status::InvalidArgument("--map-user: " + m.from +
                                       " is mapped twice");
      }
      mapped_to[found] = m.to;
      asked[found] = i < o.map_users.size();
      mapped_profile_[m.from] = found;
      mapped_store_name_[m.from] = machine_.profiles[found].name;
    }
    // Two users restored as one name merge into one profile, one owner.
    // Asked for with --map-user (USMT's /mu onto a user who migrates too),
    // that is noted; brought about by --map-domain (OLD\alice moved onto
    // the store's NEW\alice), refused, as nobody chose it.
    std::map<std::string, size_t> landing;
    for (size_t k = 0; k < machine_.profiles.size(); ++k) {
      if (!choices_[k].selected) continue;
      std::string as = mapped_to[k].empty() ? names[k] : mapped_to[k];
      if (fold) as = internal::FoldedCopy(as);
      auto [it, fresh] = landing.try_emplace(std::move(as), k);
      if (fresh) continue;
      const size_t j = it->second;
      const std::string to = mapped_to[k].empty() ? names[k] : mapped_to[k];
      const std::string both = "the store's users " + names[j] + " and " +
                               names[k] + " would both be restored as " + to;
      auto chosen = [&](size_t u) { return mapped_to[u].empty() || asked[u]; };
      if (!chosen(j) || !chosen(k)) {
        return Status::InvalidArgument(
            both + " (by --map-domain)",
            "map one of them elsewhere with --map-user, or leave one out "
            "with --user-exclude");
      }
      Note("", "the store's users " + names[j] + " and " + names[k] +
                   " are both restored as " + to +
                   " (--map-user): their profiles merge, entries that "
                   "meet kept apart");
    }
    for (size_t k = 0; k < machine_.profiles.size(); ++k) {
      const UserProfile& p = machine_.profiles[k];
      restore::PlanProfile& pp = in->profiles[k + 1];
      pp.selected = choices_[k].selected;
      RestoreUser u{p.name,       p.home, pp.selected, choices_[k].reason,
                    mapped_to[k], p.home};
      if (!mapped_to[k].empty()) {
        const std::string& to = mapped_to[k];
        auto a = accounts.users.find(to);
        if (a != accounts.users.end() && !a->second.home.empty()) {
          pp.dest_home = a->second.home;
        } else {
          // The layout's place for a profile: beside the old one.
          pp.dest_home = restore::MappedHome(p.home, p.name, to);
          if (pp.selected) {
            Note(p.home,
                 "user " + to +
                     (accounts.has_passwd ? " is not in the target's etc/passwd"
                                          : ": the target has no etc/passwd") +
                     "; " + p.name + "'s profile goes to " + pp.dest_home);
          }
        }
        u.destination_home = pp.dest_home;
        for (std::string& f : pp.folders)
          f = Rebased(f, p.home, pp.dest_home, fold);
      }
      report_.users.push_back(std::move(u));
    }
    reporter_.Notify([&](RestoreObserver& ob) { ob.OnUsers(report_.users); });
    return Status::OK();
  }

  // --map-domain (LoadState /md): the mappings in force, --map-user's and
  // one for each store user whose domain moves; a domain that moves no one
  // is noted (/md ignores a misspelt one silently).
  void MapDomains() {
    const RestoreOptions& o = *spec_.restore;
    std::vector<std::string> names;
    for (const UserProfile& p : machine_.profiles) names.push_back(p.name);
    std::vector<size_t> unused;
    map_users_ =
        restore::MappingsInForce(o.map_users, o.map_domains, names,
                                 machine_.layout == Layout::kWindows, &unused);
    for (size_t k : unused) {
      Note("", "--map-domain " + o.map_domains[k].from + ":" +
                   o.map_domains[k].to + ": no user of the store is in " +
                   o.map_domains[k].from);
    }
  }

  // --create-accounts (LoadState /lac): the selected users who land as
  // local accounts the target's etc/passwd lacks stop the restore here
  // (exit 14) or are planned, and the plan's accounts join accounts_ so
  // that MapOwners gives their files the new numbers. Written by
  // CreateAccounts once the whole plan has passed.
  Status PlanAccounts(const UniqueFd& target, const restore::PlanInput& in) {
    const RestoreOptions& o = *spec_.restore;
    std::vector<restore::LandingUser> users;
    for (size_t k = 0; k < machine_.profiles.size(); ++k) {
      const UserProfile& p = machine_.profiles[k];
      if (!in.profiles[k + 1].selected) continue;
      const std::string& to = report_.users[k].mapped_to;
      const std::string* gid_name = store_.reader->group_name(p.gid);
      users.push_back({p.name, to.empty() ? p.name : to,
                       in.profiles[k + 1].dest_home, p.layout == Layout::kLinux,
                       p.uid, p.gid, gid_name != nullptr ? *gid_name : ""});
    }
    restore::AccountRequest request;
    request.create = o.create_accounts;
    request.enable = o.enable_accounts;
    request.password = o.account_password;
    request.target = spec_.target;
    request.target_fd = target.get();
    request.accounts = &accounts_;
    std::vector<std::string> notes;
    Result<restore::AccountPlan> planned =
        restore::PlanAccounts(request, users, &notes);
    // Hashed, or never to be: the engine's own copy of the password (an
    // SMP restore's options) goes now rather than when the restore ends.
    if (spec_.password_copy != nullptr) WipeString(spec_.password_copy);
    MIGSTORE_ASSIGN_OR_RETURN(new_accounts_, std::move(planned));
    for (std::string& n : notes) Note("etc/passwd", std::move(n));
    restore::AddPlannedAccounts(new_accounts_, &accounts_);
    if (spec_.dry_run) {
      for (const restore::NewAccount& a : new_accounts_.accounts)
        Note("etc/passwd",
             "would create account " + restore::DescribeAccount(a));
    }
    return Status::OK();
  }

  // The planned accounts written into the target's etc files, each noted.
  Status CreateAccounts(int target_fd) {
    if (spec_.restore == nullptr) return Status::OK();
    MIGSTORE_RETURN_IF_ERROR(restore::WriteAccounts(target_fd, new_accounts_));
    for (const restore::NewAccount& a : new_accounts_.accounts)
      Note("etc/passwd", "created account " + restore::DescribeAccount(a));
    return Status::OK();
  }

  // The machine the restore rules are bound to: the store's users where
  // they land. LoadState runs /mu's NEW user's rules on the destination:
  // its variables name its own folders, and detection (MigUser.xml's
  // DoesObjectExist("File","%CSIDL_DESKTOP%")) looks at them, not at the
  // old user's, which the target need not have. So a mapped user's home
  // and the known folders in it are moved to where the profile lands;
  // unmapped users, and folders outside the home, stay as captured.
  Machine MachineWhereUsersLand(const restore::PlanInput& in) const {
    Machine m = machine_;
    const bool fold = m.layout == Layout::kWindows;
    for (size_t k = 0; k < m.profiles.size(); ++k) {
      UserProfile& u = m.profiles[k];
      const std::string& dest_home = in.profiles[k + 1].dest_home;
      if (dest_home == u.home) continue;
      for (auto& [key, path] : u.folders)
        path = Rebased(path, u.home, dest_home, fold);
      u.home = dest_home;
    }
    return m;
  }

  // Adds an item to the report's counts; `done`: it is in place.
  void CountItem(const Entry& e, const Item& item, bool done) {
    switch (item.action) {
      case Action::kSkip:
        if (!item.reason().empty() &&
            item.stock_reason != Item::StockReason::kSameFolder)
          ++report_.skipped;
        return;
      case Action::kIdentical:
        ++report_.identical;
        return;
      case Action::kRefuse:
        return;
      case Action::kMerge:
        if (done) ++report_.directories;
        return;
      case Action::kWrite:
      case Action::kLink:
        break;
    }
    if (!done) return;
    if (item.moved) ++report_.moved;
    if (item.renamed) ++report_.renamed;
    if (item.replace) ++report_.overwritten;
    switch (e.type) {
      case EntryType::kFile:
        ++report_.files;
        if (item.action == Action::kLink) {
          ++report_.hardlinks;
        } else {
          report_.bytes += e.size;
        }
        break;
      case EntryType::kDirectory:
        ++report_.directories;
        break;
      case EntryType::kSymlink:
        ++report_.symlinks;
        break;
      case EntryType::kFifo:
        ++report_.fifos;
        break;
    }
  }

  const RunSpec& spec_;
  const Clock::time_point start_;
  report::Reporter<RestoreObserver> reporter_;
  store::OpenedStore store_;
  Machine machine_;
  internal::ErrorControl error_control_;  // --config's <ErrorControl>
  std::vector<UserChoice> choices_;
  std::map<std::string, size_t> mapped_profile_;          // by --map-user OLD
  std::map<std::string, std::string> mapped_store_name_;  // its store spelling
  std::vector<UserMapping> map_users_;  // --map-user's, then --map-domain's
  restore::AccountPlan new_accounts_;   // --create-accounts
  restore::TargetAccounts accounts_;    // the target's etc/passwd and group
  Matcher rules_;                       // a restore's --rules
  std::optional<restore::OwnerMap> owners_;  // as root, over accounts_
  restore::CleanupScan cleanup_;             // <destinationCleanup>'s files
  std::set<std::string> above_;  // extract: the folders above what it takes
  std::mutex mu_;
  RestoreReport report_;
};

}  // namespace

const char* ConflictPolicyName(ConflictPolicy policy) {
  switch (policy) {
    case ConflictPolicy::kRename:
      return "rename";
    case ConflictPolicy::kOverwrite:
      return "overwrite";
    case ConflictPolicy::kSkip:
      return "skip";
    case ConflictPolicy::kNewer:
      return "newer";
  }
  return "rename";
}

Result<ConflictPolicy> ParseConflictPolicy(std::string_view text) {
  for (ConflictPolicy p : {ConflictPolicy::kRename, ConflictPolicy::kOverwrite,
                           ConflictPolicy::kSkip, ConflictPolicy::kNewer}) {
    if (text == ConflictPolicyName(p)) return p;
  }
  return Status::InvalidArgument(
      "unknown conflict policy (rename, overwrite, skip or newer)", text);
}

Result<UserMapping> ParseUserMapping(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos ||
      text.find(':', colon + 1) != std::string_view::npos) {
    return Status::InvalidArgument("--map-user takes OLD:NEW", text);
  }
  // OLD keeps its domain: it tells OLD\carol from NEW\carol in a store
  // that has both, and a name without one still finds a store user with
  // one (restore::FindStoreUser). NEW's is dropped: the user lands as the
  // local name.
  auto user_part = [](std::string_view s) {
    size_t bs = s.rfind('\\');
    return bs == std::string_view::npos ? s : s.substr(bs + 1);
  };
  UserMapping m{std::string(text.substr(0, colon)),
                std::string(user_part(text.substr(colon + 1)))};
  for (const std::string& name : {m.from, m.to}) {
    if (name.empty() || name == "." || name == ".." ||
        name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos || name.size() > 255) {
      return Status::InvalidArgument(
          "--map-user: not a user name that can name a folder", text);
    }
  }
  return m;
}

Result<DomainMapping> ParseDomainMapping(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos ||
      text.find(':', colon + 1) != std::string_view::npos) {
    return Status::InvalidArgument("--map-domain takes OLD:NEW", text);
  }
  DomainMapping m{std::string(text.substr(0, colon)),
                  std::string(text.substr(colon + 1))};
  // A NetBIOS name or a DNS domain; '*' (any run) in OLD only.
  auto valid = [](std::string_view d, bool star) {
    if (d.empty() || d.size() > 255) return false;
    for (char c : d) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
            (star && c == '*'))) {
        return false;
      }
    }
    return true;
  };
  if (!valid(m.from, true) || !valid(m.to, false)) {
    return Status::InvalidArgument(
        "--map-domain: OLD and NEW are domain names (letters, digits, '.', "
        "'-', '_'; '*' in OLD)",
        text);
  }
  // NEW names a folder (home/NEW/alice) and may reach a command line: not
  // "." or "..", nor what reads as an option.
  if (m.to == "." || m.to == ".." || m.to[0] == '-') {
    return Status::InvalidArgument(
        "--map-domain: NEW is not a domain name: it is '.' or '..' or "
        "starts with '-'",
        text);
  }
  return m;
}

namespace {

RunSpec RestoreSpec(const RestoreOptions& o) {
  RunSpec spec;
  spec.store_path = o.store_path;
  spec.key = o.key;
  spec.key_policy = o.key_policy;
  spec.target = o.target;
  spec.dry_run = o.dry_run;
  spec.continue_on_error = o.continue_on_error;
  spec.threads = o.threads;
  spec.window_entries = o.window_entries;
  spec.claim_memory = o.claim_memory;
  switch (o.on_conflict) {
    case ConflictPolicy::kRename:
      spec.conflicts = restore::Conflicts::kRename;
      break;
    case ConflictPolicy::kOverwrite:
      spec.conflicts = restore::Conflicts::kOverwrite;
      break;
    case ConflictPolicy::kSkip:
      spec.conflicts = restore::Conflicts::kSkip;
      break;
    case ConflictPolicy::kNewer:
      spec.conflicts = restore::Conflicts::kNewer;
      break;
  }
  spec.restore = &o;
  return spec;
}

}  // namespace

Result<RestoreReport> Restore(const RestoreOptions& o,
                              RestoreObserver* observer) {
  return Run(RestoreSpec(o), observer).Go();
}

Result<RestoreReport> internal::RestoreFromSource(
    const RestoreOptions& o, std::unique_ptr<format::StoreSource> source,
    RestoreObserver* observer, std::string* password_copy) {
  RunSpec spec = RestoreSpec(o);
  spec.source = std::move(source);
  spec.password_copy = password_copy;
  return Run(spec, observer).Go();
}

Result<RestoreReport> Extract(const ExtractOptions& o,
                              RestoreObserver* observer) {
  MIGSTORE_ASSIGN_OR_RETURN(restore::PathFilter filter,
                            restore::PathFilter::Make(o.include, o.exclude));
  RunSpec spec;
  spec.store_path = o.store_path;
  spec.key = o.key;
  spec.key_policy = o.key_policy;
  spec.target = o.to;
  spec.continue_on_error = o.continue_on_error;
  spec.threads = o.threads;
  spec.window_entries = o.window_entries;
  spec.claim_memory = o.claim_memory;
  spec.conflicts =
      o.overwrite ? restore::Conflicts::kOverwrite : restore::Conflicts::kError;
  spec.filter = &filter;
  spec.extract = &o;
  return Run(spec, observer).Go();
}

}  // namespace migstore
