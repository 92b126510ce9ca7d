// DiscoverMachine: picks the layout and hands over to the linux or windows
// discovery.

#include <algorithm>

#include "engine/src/fs/root_fs.h"
#include "engine/src/profiles/linux_profiles.h"
#include "engine/src/profiles/windows_profiles.h"
#include "migstore/profiles.h"

namespace migstore {
namespace {

const std::string* FindFolder(const std::vector<KnownFolder>& folders,
                              std::string_view key) {
  for (const KnownFolder& f : folders) {
    if (f.first == key) return &f.second;
  }
  return nullptr;
}

bool LooksLikeWindows(const std::string& root) {
  if (auto win = internal::FindChildNoCase(root, "Windows");
      win && internal::IsDirectory(internal::JoinRoot(root, *win))) {
    return true;
  }
  auto users = internal::FindChildNoCase(root, "Users");
  if (!users) return false;
  Result<std::vector<internal::DirChild>> children =
      internal::ListChildren(internal::JoinRoot(root, *users));
  if (!children.ok()) return false;
  for (const internal::DirChild& c : *children) {
    std::string home = internal::JoinRoot(root, *users + "/" + c.name);
    if (c.is_dir && internal::FindChildNoCase(home, "NTUSER.DAT")) return true;
  }
  return false;
}

}  // namespace

const char* LayoutName(Layout layout) {
  return layout == Layout::kWindows ? "windows" : "linux";
}

Result<Layout> ParseLayout(std::string_view text) {
  if (text == "linux") return Layout::kLinux;
  if (text == "windows") return Layout::kWindows;
  return Status::InvalidArgument("unknown layout (linux or windows)", text);
}

const std::string* UserProfile::Folder(std::string_view key) const {
  return FindFolder(folders, key);
}

const std::string* Machine::SystemFolder(std::string_view key) const {
  return FindFolder(system_folders, key);
}

Result<Machine> DiscoverMachine(const DiscoverOptions& options) {
  if (options.root.empty()) return Status::InvalidArgument("empty root");
  if (!internal::IsDirectory(options.root)) {
    return Status::InvalidArgument("root is not a directory", options.root);
  }
  Machine machine;
  machine.root = options.root;
  if (options.layout) {
    machine.layout = *options.layout;
  } else if (LooksLikeWindows(options.root)) {
    machine.layout = Layout::kWindows;
  } else if (internal::Exists(internal::JoinRoot(options.root, "etc/passwd"))) {
    machine.layout = Layout::kLinux;
  } else {
    return Status::InvalidArgument(
        "cannot tell the layout of " + options.root +
        " (no Windows/, Users/*/NTUSER.DAT or etc/passwd); pass --layout");
  }
  Status s = machine.layout == Layout::kWindows
                 ? internal::DiscoverWindows(options.root, &machine)
                 : internal::DiscoverLinux(options.root, &machine);
  if (!s.ok()) return s.WithContext("discovering profiles");
  std::sort(machine.profiles.begin(), machine.profiles.end(),
            [](const UserProfile& a, const UserProfile& b) {
              return a.name < b.name;
            });
  return machine;
}

}  // namespace migstore
