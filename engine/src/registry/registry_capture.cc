#include "engine/src/registry/registry_capture.h"

#include <fcntl.h>

#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_set>

#include "engine/base/case_fold.h"
#include "engine/base/unique_fd.h"
#include "engine/src/registry/hive_files.h"
#include "format/limits.h"

namespace migstore::registry {
namespace {

// Windows nests keys at most 512 deep; a crafted hive may claim more.
constexpr int kMaxDepth = 512;
// All the settings of one capture. Microsoft's planning figure is about
// 5 MB of registry per user; this is far above any real capture and keeps
// a crafted hive from filling memory.
constexpr uint64_t kMaxTotalBytes = uint64_t{1} << 30;

bool IsControlSet(std::string_view name) {
  return name.size() == 13 &&
         internal::EqualsFolded(name.substr(0, 10), "ControlSet");
}

class HiveWalk {
 public:
  HiveWalk(const Hive& hive, const Matcher& matcher, int32_t profile,
           uint32_t store_profile, uint64_t* bytes, RegistryCaptureResult* out)
      : hive_(hive),
        matcher_(matcher),
        profile_(profile),
        store_profile_(store_profile),
        bytes_(bytes),
        out_(out) {}

  // SYSTEM only: its current control set, shown as CurrentControlSet; the
  // others are not live and are left out.
  void SetControlSet(std::string name) { control_set_ = std::move(name); }

  Status Walk(Hive::Node node, const std::string& key, int depth) {
    if (!matcher_.MayTakeBelowRegistry(key, profile_)) return Status::OK();
    // A crafted hive may list a key below itself (a cycle: Corruption), or
    // list one key twice (walked once, noted).
    if (on_path_.count(node) != 0) {
      return Status::Corruption(hive_.path(),
                                "the keys under " + key + " form a cycle");
    }
    if (!visited_.insert(node).second) {
      Note(key, "listed twice in its parent; taken once");
      return Status::OK();
    }
    on_path_.insert(node);
    Status s = WalkKey(node, key, depth);
    on_path_.erase(node);
    return s;
  }

 private:
  Status WalkKey(Hive::Node node, const std::string& key, int depth) {
    if (depth > kMaxDepth ||
        key.size() > format::limits::kMaxRegistryKeyBytes) {
      return Status::Corruption(hive_.path(),
                                "keys nested deeper than Windows allows");
    }
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<Hive::Value> values,
                              hive_.Values(node));
    for (Hive::Value value : values)
      MIGSTORE_RETURN_IF_ERROR(TakeValue(key, value));
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<Hive::Node> children,
                              hive_.Children(node));
    for (Hive::Node child : children) {
      MIGSTORE_ASSIGN_OR_RETURN(std::string name, hive_.Name(child));
      if (name.empty() || name.find('\\') != std::string::npos) {
        return Status::Corruption(
            hive_.path(),
            "a key name under " + key + " is empty or holds a backslash");
      }
      if (depth == 0 && !control_set_.empty() && IsControlSet(name)) {
        if (!internal::EqualsFolded(name, control_set_)) continue;
        name = "CurrentControlSet";
      }
      std::string sub = key + "\\" + name;
      // HKCU\Software\Classes is the user's UsrClass.dat, walked as a hive
      // of its own; a key of that name in NTUSER.DAT is not what Windows
      // shows there.
      if (internal::EqualsFolded(sub, kUserClasses)) continue;
      if (matcher_.DecideRegistry(sub, profile_, nullptr).taken) {
        format::RegistryRecord r;
        r.profile = store_profile_;
        r.key = sub;
        MIGSTORE_RETURN_IF_ERROR(Add(std::move(r)));
      }
      MIGSTORE_RETURN_IF_ERROR(Walk(child, sub, depth + 1));
    }
    return Status::OK();
  }

  // One value: its name decides before its data is read, and a value that
  // cannot be read is a note (the rest of the hive is still taken). Only
  // the capture's cap on settings ends the walk.
  Status TakeValue(const std::string& key, Hive::Value value) {
    auto name = hive_.ValueName(value);
    if (!name.ok()) {
      Note(key, "a value name cannot be read (" + name.status().ToString() +
                    "); that value is not captured");
      return Status::OK();
    }
    if (!matcher_.DecideRegistry(key, profile_, &*name).taken)
      return Status::OK();
    auto v = hive_.Read(value);
    if (!v.ok()) {
      Note(key + " [" + *name + "]",
           "cannot be read (" + v.status().ToString() + "); not captured");
      return Status::OK();
    }
    if (v->data.size() > format::limits::kMaxRegistryData) {
      Note(key + " [" + *name + "]", "value larger than 1 MiB not captured");
      return Status::OK();
    }
    format::RegistryRecord r;
    r.profile = store_profile_;
    r.key = key;
    r.has_value = true;
    r.name = std::move(v->name);
    r.type = v->type;
    r.data = std::move(v->data);
    if (Status s = format::ValidateRegistryRecord(r); !s.ok()) {
      Note(key + " [" + *name + "]", s.ToString() + "; not captured");
      return Status::OK();
    }
    return Add(std::move(r));
  }

  Status Add(format::RegistryRecord r) {
    MIGSTORE_RETURN_IF_ERROR(format::ValidateRegistryRecord(r));
    *bytes_ += r.key.size() + r.name.size() + r.data.size();
    if (*bytes_ > kMaxTotalBytes) {
      return Status::InvalidArgument(hive_.path(),
                                     "more than 1 GiB of settings taken");
    }
    out_->records.push_back(std::move(r));
    return Status::OK();
  }

  void Note(std::string where, std::string what) {
    out_->notes.push_back(HiveIssue::Note(std::move(where), std::move(what)));
  }

  const Hive& hive_;
  const Matcher& matcher_;
  const int32_t profile_;
  const uint32_t store_profile_;
  uint64_t* bytes_;
  RegistryCaptureResult* out_;
  std::string control_set_;
  std::unordered_set<Hive::Node> visited_;
  std::unordered_set<Hive::Node> on_path_;  // the keys being walked
};

bool SameRecord(const format::RegistryRecord& a,
                const format::RegistryRecord& b) {
  return !format::RegistryRecordLess(a, b) && !format::RegistryRecordLess(b, a);
}

// Walks one hive file into `out`; a missing file is a note.
void CaptureHive(int root_fd, const Matcher& matcher, const HiveFile& f,
                 int32_t profile, uint32_t store_profile, uint64_t* bytes,
                 RegistryCaptureResult* out) {
  if (!matcher.MayTakeBelowRegistry(f.mount, profile)) return;
  auto error = [&](Status s) {
    out->errors.push_back(
        HiveIssue::Error(f.rel, std::move(s), f.mount, profile));
  };
  auto hive = Hive::OpenBeneath(root_fd, f.rel, false);
  if (!hive.ok()) {
    if (hive.status().IsNotFound()) {
      out->notes.push_back(HiveIssue::Note(
          f.rel,
          "no hive file: the settings of " + f.mount + " are not captured"));
    } else {
      error(hive.status());
    }
    return;
  }
  if (hive->dirty()) {
    out->notes.push_back(HiveIssue::Note(
        f.rel,
        "the hive has changes in its transaction logs (.LOG1, .LOG2) "
        "that are not in the file: Windows did not shut down cleanly, "
        "and the settings captured may be older than it last saw"));
  }
  HiveWalk walk(*hive, matcher, profile, store_profile, bytes, out);
  if (f.mount == "HKLM\\SYSTEM") {
    auto set = CurrentControlSet(*hive);
    if (!set.ok()) return error(set.status());
    if (set->empty()) {
      out->notes.push_back(HiveIssue::Note(
          f.rel,
          "no Select\\Current: the current control set is unknown, "
          "and HKLM\\SYSTEM\\CurrentControlSet is not captured"));
    }
    walk.SetControlSet(*set);
  }
  const size_t first = out->records.size();
  // A damaged hive loses what it had not yet given; what it gave is kept
  // (records are whole keys and values).
  Status s = walk.Walk(hive->root(), f.mount, 0);
  if (!s.ok()) error(s);
  // A crafted hive can list a key or value twice (names that differ only
  // after a NUL, a subkey listed twice): each is kept once.
  auto begin = out->records.begin() + static_cast<std::ptrdiff_t>(first);
  std::stable_sort(begin, out->records.end(), format::RegistryRecordLess);
  auto end = std::unique(begin, out->records.end(), SameRecord);
  if (end != out->records.end()) {
    out->notes.push_back(HiveIssue::Note(
        f.rel, std::to_string(out->records.end() - end) +
                   " keys or values listed twice in the hive; kept once"));
    out->records.erase(end, out->records.end());
  }
}

// The <addObjects> values of the rules (Matcher::AddedRegistryValues),
// taken as if the source's hives held them: when the rules take them and
// the hive holds no value of that name (what it holds is what is taken).
void AddEmulatedValues(const Matcher& matcher,
                       const std::vector<uint32_t>& store_profile,
                       uint64_t* bytes, RegistryCaptureResult* out) {
  const std::vector<AddedRegistryValue>& added = matcher.AddedRegistryValues();
  if (added.empty()) return;
  std::set<std::tuple<uint32_t, std::string, std::string>> present;
  for (const format::RegistryRecord& r : out->records) {
    if (r.has_value) {
      present.emplace(r.profile, internal::FoldedCopy(r.key),
                      internal::FoldedCopy(r.name));
    }
  }
  for (const AddedRegistryValue& a : added) {
    uint32_t profile = format::kNoProfile;
    if (a.profile >= 0) {
      const auto i = static_cast<size_t>(a.profile);
      if (i >= store_profile.size() || store_profile[i] == format::kNoProfile)
        continue;
      profile = store_profile[i];
    }
    if (present.count({profile, internal::FoldedCopy(a.key),
                       internal::FoldedCopy(a.name)}) != 0 ||
        !matcher.DecideRegistry(a.key, a.profile, &a.name).taken) {
      continue;
    }
    format::RegistryRecord r;
    r.profile = profile;
    r.key = a.key;
    r.has_value = true;
    r.name = a.name;
    r.type = a.type;
    r.data = a.data;
    if (Status s = format::ValidateRegistryRecord(r); !s.ok()) {
      out->notes.push_back(
          HiveIssue::Note(a.file + ":" + std::to_string(a.line),
                          "the added value " + a.key + " [" + a.name +
                              "] is not captured: " + s.ToString()));
      continue;
    }
    *bytes += r.key.size() + r.name.size() + r.data.size();
    out->records.push_back(std::move(r));
  }
}

}  // namespace

RegistryCaptureResult CaptureRegistry(
    const Machine& machine, const Matcher& matcher,
    const std::vector<uint32_t>& store_profile) {
  RegistryCaptureResult out;
  if (machine.layout != Layout::kWindows ||
      matcher.registry_rule_count() == 0) {
    return out;
  }
  UniqueFd root(
      ::open(machine.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    out.errors.push_back(HiveIssue::Error(
        machine.root, Status::FromErrno(machine.root, errno), "HKLM", -1));
    return out;
  }
  uint64_t bytes = 0;
  CaptureHive(root.get(), matcher, SoftwareHive(machine.root), -1,
              format::kNoProfile, &bytes, &out);
  CaptureHive(root.get(), matcher, SystemHive(machine.root), -1,
              format::kNoProfile, &bytes, &out);
  for (size_t i = 0; i < machine.profiles.size(); ++i) {
    if (i >= store_profile.size() || store_profile[i] == format::kNoProfile)
      continue;
    for (const HiveFile& f :
         {UserHive(machine.root, machine.profiles[i].home),
          ClassesHive(machine.root, machine.profiles[i].home)}) {
      CaptureHive(root.get(), matcher, f, static_cast<int32_t>(i),
                  store_profile[i], &bytes, &out);
    }
  }
  AddEmulatedValues(matcher, store_profile, &bytes, &out);
  for (const format::RegistryRecord& r : out.records)
    ++(r.has_value ? out.values : out.keys);
  return out;
}

}  // namespace migstore::registry
