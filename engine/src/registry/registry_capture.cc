#include "engine/src/registry/registry_capture.h"

#include "engine/base/case_fold.h"
#include "engine/src/fs/root_fs.h"
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
           uint32_t store_profile, RegistryCaptureResult* out)
      : hive_(hive),
        matcher_(matcher),
        profile_(profile),
        store_profile_(store_profile),
        out_(out) {}

  // SYSTEM only: its current control set, shown as CurrentControlSet; the
  // others are not live and are left out.
  void SetControlSet(std::string name) { control_set_ = std::move(name); }

  Status Walk(Hive::Node node, const std::string& key, int depth) {
    if (!matcher_.MayTakeBelowRegistry(key, profile_)) return Status::OK();
    if (depth > kMaxDepth) {
      return Status::Corruption(hive_.path(),
                                "keys nested deeper than Windows allows");
    }
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<Hive::Value> values,
                              hive_.Values(node));
    for (Hive::Value value : values) {
      MIGSTORE_ASSIGN_OR_RETURN(Hive::ValueData v, hive_.Read(value));
      if (!matcher_.DecideRegistry(key, profile_, &v.name).taken) continue;
      if (v.data.size() > format::limits::kMaxRegistryData) {
        out_->notes.push_back({key + " [" + v.name + "]", Status::OK(),
                               "value larger than 1 MiB not captured"});
        continue;
      }
      format::RegistryRecord r;
      r.profile = store_profile_;
      r.key = key;
      r.has_value = true;
      r.name = std::move(v.name);
      r.type = v.type;
      r.data = std::move(v.data);
      MIGSTORE_RETURN_IF_ERROR(Add(std::move(r)));
    }
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

 private:
  Status Add(format::RegistryRecord r) {
    MIGSTORE_RETURN_IF_ERROR(format::ValidateRegistryRecord(r));
    bytes_ += r.key.size() + r.name.size() + r.data.size();
    if (bytes_ > kMaxTotalBytes) {
      return Status::InvalidArgument(hive_.path(),
                                     "more than 1 GiB of settings taken");
    }
    ++(r.has_value ? out_->values : out_->keys);
    out_->records.push_back(std::move(r));
    return Status::OK();
  }

  const Hive& hive_;
  const Matcher& matcher_;
  const int32_t profile_;
  const uint32_t store_profile_;
  RegistryCaptureResult* out_;
  std::string control_set_;
  uint64_t bytes_ = 0;
};

// Walks one hive file into `out`; a missing file is a note.
void CaptureHive(const Machine& m, const Matcher& matcher, const HiveFile& f,
                 int32_t profile, uint32_t store_profile,
                 RegistryCaptureResult* out) {
  if (!matcher.MayTakeBelowRegistry(f.mount, profile)) return;
  const std::string path = internal::JoinRoot(m.root, f.rel);
  auto hive = Hive::Open(path, false);
  if (!hive.ok()) {
    if (hive.status().IsNotFound()) {
      out->notes.push_back(
          {f.rel, Status::OK(),
           "no hive file: the settings of " + f.mount + " are not captured"});
    } else {
      out->errors.push_back({f.rel, hive.status(), ""});
    }
    return;
  }
  HiveWalk walk(*hive, matcher, profile, store_profile, out);
  if (f.mount == "HKLM\\SYSTEM") {
    auto set = CurrentControlSet(*hive);
    if (!set.ok()) {
      out->errors.push_back({f.rel, set.status(), ""});
      return;
    }
    walk.SetControlSet(*set);
  }
  // A damaged hive loses what it had not yet given; what it gave is kept
  // (records are whole keys and values).
  Status s = walk.Walk(hive->root(), f.mount, 0);
  if (!s.ok()) out->errors.push_back({f.rel, s, ""});
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
  CaptureHive(machine, matcher, SoftwareHive(machine.root), -1,
              format::kNoProfile, &out);
  CaptureHive(machine, matcher, SystemHive(machine.root), -1,
              format::kNoProfile, &out);
  for (size_t i = 0; i < machine.profiles.size(); ++i) {
    if (i >= store_profile.size() || store_profile[i] == format::kNoProfile)
      continue;
    CaptureHive(machine, matcher,
                UserHive(machine.root, machine.profiles[i].home),
                static_cast<int32_t>(i), store_profile[i], &out);
  }
  return out;
}

}  // namespace migstore::registry
