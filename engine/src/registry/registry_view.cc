#include "engine/src/registry/registry_view.h"

#include <fcntl.h>

#include <optional>

#include "engine/base/case_fold.h"
#include "engine/src/registry/hive_files.h"

namespace migstore::registry {

struct RegistryView::Opened {
  std::optional<Hive> hive;  // empty: missing or unreadable
  std::string control_set;   // SYSTEM only
};

RegistryView::RegistryView(const Machine& machine)
    : machine_(machine),
      root_(::open(machine.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}

RegistryView::~RegistryView() = default;

RegistryView::Opened* RegistryView::Open(const std::string& rel, bool system) {
  auto it = hives_.find(rel);
  if (it != hives_.end()) return it->second.get();
  auto opened = std::make_unique<Opened>();
  if (root_.valid()) {
    auto hive = Hive::OpenBeneath(root_.get(), rel, false);
    if (hive.ok()) {
      if (system) {
        auto set = CurrentControlSet(*hive);
        if (set.ok()) opened->control_set = *set;
      }
      opened->hive.emplace(std::move(hive).value());
    }
  }
  return hives_.emplace(rel, std::move(opened)).first->second.get();
}

RegistryView::Answer RegistryView::Find(const std::string& key,
                                        const UserProfile* user,
                                        const Hive** hive, Hive::Node* node) {
  if (machine_.layout != Layout::kWindows) return Answer::kUnknown;
  std::string mount, below;
  if (!SplitMount(key, &mount, &below)) return Answer::kUnknown;
  HiveFile file;
  if (IsUserMount(mount)) {
    if (user == nullptr) return Answer::kUnknown;
    file = mount == "HKCU" ? UserHive(machine_.root, user->home)
                           : ClassesHive(machine_.root, user->home);
  } else {
    file = mount == "HKLM\\SOFTWARE" ? SoftwareHive(machine_.root)
                                     : SystemHive(machine_.root);
  }
  Opened* o = Open(file.rel, mount == "HKLM\\SYSTEM");
  if (!o->hive) return Answer::kUnknown;
  Hive::Node n = o->hive->root();
  std::vector<std::string> names = KeyNames(below);
  for (size_t i = 0; i < names.size(); ++i) {
    std::string name = names[i];
    if (i == 0 && mount == "HKLM\\SYSTEM" &&
        internal::EqualsFolded(name, "CurrentControlSet")) {
      if (o->control_set.empty()) return Answer::kUnknown;
      name = o->control_set;
    }
    auto child = o->hive->Child(n, name);
    if (!child.ok()) return Answer::kUnknown;
    if (*child == 0) return Answer::kNo;
    n = *child;
  }
  *hive = &*o->hive;
  *node = n;
  return Answer::kYes;
}

RegistryView::Answer RegistryView::KeyExists(const std::string& key,
                                             const UserProfile* user) {
  const Hive* hive = nullptr;
  Hive::Node node = 0;
  return Find(key, user, &hive, &node);
}

RegistryView::Answer RegistryView::Value(const std::string& key,
                                         const UserProfile* user,
                                         const std::string& name,
                                         Hive::ValueData* out) {
  const Hive* hive = nullptr;
  Hive::Node node = 0;
  Answer a = Find(key, user, &hive, &node);
  if (a != Answer::kYes) return a;
  if (name == "*") {
    auto values = hive->Values(node);
    if (!values.ok()) return Answer::kUnknown;
    return values->empty() ? Answer::kNo : Answer::kYes;
  }
  auto found = hive->Find(node, name, out);
  if (!found.ok()) return Answer::kUnknown;
  return *found ? Answer::kYes : Answer::kNo;
}

}  // namespace migstore::registry
