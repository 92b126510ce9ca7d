#include "engine/src/registry/registry_apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "engine/base/case_fold.h"
#include "engine/src/fs/open_beneath.h"
#include "engine/src/fs/root_fs.h"
#include "engine/src/registry/content_modify.h"
#include "engine/src/registry/hive_files.h"
#include "engine/src/registry/registry_cleanup.h"
#include "format/atomic_file.h"
#include "format/file_io.h"

namespace migstore::registry {
namespace {

// The records one hive receives.
struct HiveGroup {
  HiveFile file;
  uint32_t profile = 0;
  std::vector<const format::RegistryRecord*> records;
};

std::string ParentOf(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string NameOf(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

class Applier {
 public:
  explicit Applier(const RegistryApplyInput& in, RegistryApplyResult* out)
      : in_(in), out_(out) {}

  Status Apply(const HiveGroup& g) {
    // The hive's directory, opened below the target without following a
    // symlink; the hive itself the same way, and replaced in it.
    // UsrClass.dat has no Default to start from: Windows makes it (and its
    // folder) at the user's first logon. Those settings wait for it; the
    // rest of the restore goes on.
    auto no_classes = [&] {
      out_->notes.push_back(HiveIssue::Note(
          g.file.rel,
          std::to_string(g.records.size()) +
              " settings of HKCU\\Software\\Classes not restored: the "
              "target profile has no UsrClass.dat yet (Windows makes it at "
              "the user's first logon); log the user on once, then restore "
              "again"));
      return Status::OK();
    };
    auto dir = fs::OpenBeneath(in_.target_fd, ParentOf(g.file.rel),
                               O_RDONLY | O_DIRECTORY);
    if (!dir.ok() && dir.status().sys_errno() == ENOENT &&
        g.file.mount == kUserClasses) {
      return no_classes();
    }
    if (!dir.ok()) return dir.status();
    const std::string name = NameOf(g.file.rel);
    auto opened = Hive::OpenBeneath(dir->get(), name, true);
    if (!opened.ok() && opened.status().IsNotFound()) {
      if (g.file.mount == kUserClasses) return no_classes();
      if (g.file.mount == "HKCU") {
        MIGSTORE_RETURN_IF_ERROR(
            StartFromDefault(g.file.rel, dir->get(), name));
        opened = Hive::OpenBeneath(dir->get(), name, true);
      }
    }
    if (!opened.ok()) return opened.status().WithContext(g.file.rel);
    Hive& hive = *opened;
    if (hive.dirty()) {
      return Status::InvalidArgument(
          g.file.rel,
          "the hive has changes in its transaction logs (.LOG1, .LOG2) not "
          "yet in the file (Windows did not shut down cleanly); writing it "
          "would lose them: start Windows and shut it down, then restore "
          "again");
    }
    std::string control_set;
    if (g.file.mount == "HKLM\\SYSTEM") {
      MIGSTORE_ASSIGN_OR_RETURN(control_set, CurrentControlSet(hive));
    }
    // The rules' profile: the matcher's index of the user (store profile
    // numbers start at 1), -1 for the machine's hives.
    const int32_t who =
        IsUserMount(g.file.mount) ? static_cast<int32_t>(g.profile) - 1 : -1;
    if (in_.rules != nullptr) {
      CleanupResult cleaned;
      MIGSTORE_RETURN_IF_ERROR(CleanUpHive(&hive, g.file.mount, control_set,
                                           *in_.rules, who, &cleaned));
      out_->cleaned_keys += cleaned.keys;
      out_->cleaned_values += cleaned.values;
      for (HiveIssue& n : cleaned.notes) out_->notes.push_back(std::move(n));
    }
    // Records come in key order: each key's values are set in one call.
    Hive::Node node = 0;
    std::string node_key;
    std::vector<Hive::ValueData> pending;
    uint64_t keys = 0, values = 0;
    auto flush = [&]() -> Status {
      Status s = hive.SetValues(node, pending);
      if (s.IsRefused()) {
        // That key only: the rest of the hive is still restored.
        out_->notes.push_back(HiveIssue::Note(
            node_key, std::to_string(pending.size()) +
                          " values not restored: " + std::string(s.message())));
        s = Status::OK();
      } else if (s.ok()) {
        values += pending.size();
      }
      pending.clear();
      return s;
    };
    for (const format::RegistryRecord* r : g.records) {
      if (r->key != node_key || node == 0) {
        MIGSTORE_RETURN_IF_ERROR(flush());
        MIGSTORE_ASSIGN_OR_RETURN(node, KeyFor(&hive, r->key, control_set));
        node_key = r->key;
      }
      if (!r->has_value) {
        ++keys;
        continue;
      }
      Hive::ValueData v{r->name, r->type, r->data};
      if (in_.rules != nullptr && in_.rules->has_registry_restore_rules()) {
        MIGSTORE_ASSIGN_OR_RETURN(bool keep, Directed(hive, node, *r, who, &v));
        if (!keep) continue;
      }
      if (v.data.size() > Hive::kMaxCellValue) {
        out_->notes.push_back(HiveIssue::Note(
            r->key + " [" + r->name + "]",
            "value of " + std::to_string(v.data.size()) +
                " bytes not restored: Windows reads values above 16,344 "
                "bytes only from big-data records, which hivex does not "
                "write (extract --reg exports it)"));
        continue;
      }
      pending.push_back(std::move(v));
    }
    MIGSTORE_RETURN_IF_ERROR(flush());
    MIGSTORE_RETURN_IF_ERROR(hive.CommitTo(dir->get(), name));
    out_->keys += keys;
    out_->values += values;
    return Status::OK();
  }

 private:
  // The restore's <merge> and <contentModify> rules for one value: false
  // when the target's value stays (DestinationPriority()); else *v is what
  // is written.
  Result<bool> Directed(const Hive& hive, Hive::Node node,
                        const format::RegistryRecord& r, int32_t who,
                        Hive::ValueData* v) {
    RestoreDirectives d = in_.rules->ForRestoreRegistry(r.key, who, r.name);
    if (!d.merge && !d.content_modify) return true;
    Hive::ValueData existing;
    const std::string where = r.key + " [" + r.name + "]";
    auto found = hive.Find(node, r.name, &existing);
    if (!found.ok()) {
      // As a key SetValues refuses: noted, the rest of the hive goes on.
      out_->notes.push_back(HiveIssue::Note(
          where, "the target's values of this key cannot be read (" +
                     found.status().ToString() +
                     "); its <merge> and <contentModify> rules are not "
                     "applied"));
      return true;
    }
    const bool exists = *found;
    if (d.merge) {
      if (internal::EqualsFolded(d.merge->function, "DestinationPriority")) {
        if (exists) {
          ++out_->kept;
          return false;
        }
      } else if (!internal::EqualsFolded(d.merge->function, "SourcePriority")) {
        out_->notes.push_back(HiveIssue::Note(
            where, "merge " + d.merge->script + " (" + d.merge->file + ":" +
                       std::to_string(d.merge->line) +
                       ") is not a registry merge; the captured value "
                       "replaces the target's"));
      }
    }
    if (d.content_modify) {
      auto changed =
          ModifyContent(*d.content_modify, *v, exists ? &existing : nullptr);
      if (!changed.ok()) {
        out_->notes.push_back(
            HiveIssue::Note(where,
                            "contentModify not applied, the captured value is "
                            "written: " +
                                changed.status().ToString()));
      } else {
        *v = std::move(changed).value();
        ++out_->modified;
      }
    }
    return true;
  }

  // The key of record key `key` in `hive`, made when missing.
  Result<Hive::Node> KeyFor(Hive* hive, const std::string& key,
                            const std::string& control_set) {
    std::string mount, below;
    SplitMount(key, &mount, &below);
    Hive::Node node = hive->root();
    std::vector<std::string> parts = KeyNames(below);
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string part = parts[i];
      if (i == 0 && mount == "HKLM\\SYSTEM" &&
          internal::EqualsFolded(part, "CurrentControlSet")) {
        if (control_set.empty()) {
          return Status::InvalidArgument(
              hive->path(),
              "the target's SYSTEM hive has no Select\\Current: its current "
              "control set is unknown");
        }
        part = control_set;
      }
      MIGSTORE_ASSIGN_OR_RETURN(node, hive->AddChild(node, part));
    }
    return node;
  }

  // The new profile's hive: a copy of the target's Default profile hive.
  Status StartFromDefault(const std::string& rel, int dir_fd,
                          const std::string& name) {
    const std::string def = internal::ResolveNoCase(
        in_.target,
        internal::ResolveNoCase(in_.target, "Users/Default") + "/NTUSER.DAT");
    auto src = fs::OpenBeneath(in_.target_fd, def, O_RDONLY | O_NONBLOCK);
    struct stat st {};
    if (!src.ok() || ::fstat(src->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Status::NotFound(
          rel,
          "the target profile has no NTUSER.DAT and the target no "
          "Users/Default/NTUSER.DAT to start one from; log the user on "
          "once on the target, then restore again");
    }
    MIGSTORE_ASSIGN_OR_RETURN(
        std::string bytes,
        format::ReadSmallFile("/proc/self/fd/" + std::to_string(src->get()),
                              size_t{256} << 20));
    // The Default hive has changes only in its logs: a copy is stale.
    if (Hive::DirtyHeader(bytes)) {
      return Status::InvalidArgument(
          rel,
          "the target's Users/Default/NTUSER.DAT is not a clean hive "
          "(changes in its transaction logs, or too short): no profile "
          "hive is started from it");
    }
    const std::string via = "/proc/self/fd/" + std::to_string(dir_fd);
    MIGSTORE_ASSIGN_OR_RETURN(
        format::AtomicFile f,
        format::AtomicFile::Create(via + "/" + name, false));
    MIGSTORE_RETURN_IF_ERROR(f.Append(bytes));
    MIGSTORE_RETURN_IF_ERROR(f.Commit());
    out_->notes.push_back(
        HiveIssue::Note(rel, "started from the target's Default profile hive"));
    return Status::OK();
  }

  const RegistryApplyInput& in_;
  RegistryApplyResult* out_;
};

}  // namespace

RegistryApplyResult ApplyRegistry(const RegistryApplyInput& in) {
  RegistryApplyResult out;
  std::map<std::pair<std::string, uint32_t>, HiveGroup> groups;
  uint64_t machine = 0;
  for (const format::RegistryRecord& r : *in.records) {
    std::string mount, below;
    if (!SplitMount(r.key, &mount, &below)) {
      out.notes.push_back(HiveIssue::Note(
          r.key, "under no hive migstore restores; not applied"));
      continue;
    }
    const bool user = IsUserMount(mount);
    if (!user && !in.machine_settings) {
      ++machine;
      continue;
    }
    uint32_t profile = user ? r.profile : 0;
    if (user &&
        (profile >= in.dest_home.size() || in.dest_home[profile].empty())) {
      continue;  // a user not restored
    }
    HiveGroup& g = groups[{mount, profile}];
    if (g.records.empty()) {
      g.profile = profile;
      g.file = mount == "HKCU" ? UserHive(in.target, in.dest_home[profile])
               : user          ? ClassesHive(in.target, in.dest_home[profile])
               : mount == "HKLM\\SOFTWARE" ? SoftwareHive(in.target)
                                           : SystemHive(in.target);
    }
    g.records.push_back(&r);
  }
  if (machine > 0) {
    out.notes.push_back(HiveIssue::Note(
        "HKLM", std::to_string(machine) +
                    " machine settings (HKLM keys and values) not restored: "
                    "say --machine-settings to write them into the target's "
                    "SOFTWARE and SYSTEM hives"));
  }
  Applier applier(in, &out);
  for (auto& [key, g] : groups) {
    if (in.dry_run) {
      for (const format::RegistryRecord* r : g.records)
        ++(r->has_value ? out.values : out.keys);
      continue;
    }
    Status s = applier.Apply(g);
    if (!s.ok()) {
      out.errors.push_back(HiveIssue::Error(
          g.file.rel,
          s.WithContext(std::to_string(g.records.size()) + " settings of " +
                        g.file.mount + " not restored"),
          g.file.mount,
          g.profile == 0 ? -1 : static_cast<int32_t>(g.profile) - 1));
    }
  }
  return out;
}

}  // namespace migstore::registry
