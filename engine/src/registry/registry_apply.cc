#include "engine/src/registry/registry_apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "engine/base/case_fold.h"
#include "engine/src/fs/open_beneath.h"
#include "engine/src/fs/root_fs.h"
#include "engine/src/registry/hive_files.h"
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

std::vector<std::string> SplitKey(const std::string& below) {
  std::vector<std::string> parts;
  size_t b = 0;
  while (b < below.size()) {
    size_t e = below.find('\\', b);
    if (e == std::string::npos) e = below.size();
    parts.push_back(below.substr(b, e - b));
    b = e + 1;
  }
  return parts;
}

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
    // symlink; hivex then reaches it through /proc/self/fd.
    MIGSTORE_ASSIGN_OR_RETURN(
        UniqueFd dir, fs::OpenBeneath(in_.target_fd, ParentOf(g.file.rel),
                                      O_RDONLY | O_DIRECTORY));
    const std::string name = NameOf(g.file.rel);
    const std::string via = "/proc/self/fd/" + std::to_string(dir.get());
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT || g.file.mount != "HKCU")
        return Status::FromErrno(g.file.rel, errno);
      MIGSTORE_RETURN_IF_ERROR(StartFromDefault(g.file.rel, dir.get(), name));
    } else if (!S_ISREG(st.st_mode)) {
      return Status::InvalidArgument(g.file.rel, "not a regular file");
    }
    MIGSTORE_ASSIGN_OR_RETURN(Hive hive, Hive::Open(via + "/" + name, true));
    std::string control_set;
    if (g.file.mount == "HKLM\\SYSTEM") {
      MIGSTORE_ASSIGN_OR_RETURN(control_set, CurrentControlSet(hive));
    }
    for (const format::RegistryRecord* r : g.records) {
      std::string mount, below;
      SplitMount(r->key, &mount, &below);
      Hive::Node node = hive.root();
      std::vector<std::string> parts = SplitKey(below);
      for (size_t i = 0; i < parts.size(); ++i) {
        std::string part = parts[i];
        if (i == 0 && !control_set.empty() &&
            internal::EqualsFolded(part, "CurrentControlSet")) {
          part = control_set;
        }
        MIGSTORE_ASSIGN_OR_RETURN(node, hive.AddChild(node, part));
      }
      if (r->has_value) {
        MIGSTORE_RETURN_IF_ERROR(
            hive.SetValue(node, {r->name, r->type, r->data}));
        ++out_->values;
      } else {
        ++out_->keys;
      }
    }
    return hive.CommitTo(via + "/" + name);
  }

 private:
  // The new profile's hive: a copy of the target's Default profile hive.
  Status StartFromDefault(const std::string& rel, int dir_fd,
                          const std::string& name) {
    const std::string def = internal::ResolveNoCase(
        in_.target,
        internal::ResolveNoCase(in_.target, "Users/Default") + "/NTUSER.DAT");
    auto src = fs::OpenBeneath(in_.target_fd, def, O_RDONLY);
    if (!src.ok()) {
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
    const std::string via = "/proc/self/fd/" + std::to_string(dir_fd);
    MIGSTORE_ASSIGN_OR_RETURN(
        format::AtomicFile f,
        format::AtomicFile::Create(via + "/" + name, false));
    MIGSTORE_RETURN_IF_ERROR(f.Append(bytes));
    MIGSTORE_RETURN_IF_ERROR(f.Commit());
    out_->notes.push_back(
        {rel, Status::OK(), "started from the target's Default profile hive"});
    return Status::OK();
  }

  const RegistryApplyInput& in_;
  RegistryApplyResult* out_;
};

}  // namespace

RegistryApplyResult ApplyRegistry(const RegistryApplyInput& in) {
  RegistryApplyResult out;
  std::map<std::pair<std::string, uint32_t>, HiveGroup> groups;
  for (const format::RegistryRecord& r : *in.records) {
    std::string mount, below;
    if (!SplitMount(r.key, &mount, &below)) {
      out.notes.push_back({r.key, Status::OK(),
                           "under no hive migstore restores; not applied"});
      continue;
    }
    uint32_t profile = mount == "HKCU" ? r.profile : 0;
    if (mount == "HKCU" &&
        (profile >= in.dest_home.size() || in.dest_home[profile].empty())) {
      continue;  // a user not restored
    }
    HiveGroup& g = groups[{mount, profile}];
    if (g.records.empty()) {
      g.profile = profile;
      g.file = mount == "HKCU" ? UserHive(in.target, in.dest_home[profile])
               : mount == "HKLM\\SOFTWARE" ? SoftwareHive(in.target)
                                           : SystemHive(in.target);
    }
    g.records.push_back(&r);
  }
  Applier applier(in, &out);
  for (auto& [key, g] : groups) {
    if (in.dry_run) {
      for (const format::RegistryRecord* r : g.records)
        ++(r->has_value ? out.values : out.keys);
      continue;
    }
    const uint64_t keys = out.keys, values = out.values;
    Status s = applier.Apply(g);
    if (!s.ok()) {
      out.keys = keys;
      out.values = values;
      out.errors.push_back(
          {g.file.rel,
           s.WithContext(std::to_string(g.records.size()) + " settings of " +
                         g.file.mount + " not restored"),
           ""});
    }
  }
  return out;
}

}  // namespace migstore::registry
