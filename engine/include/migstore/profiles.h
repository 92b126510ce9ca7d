// Profiles: the machine being captured and the user profiles on it, found
// under a root directory (the running system at "/", or an old disk mounted
// anywhere: an offline capture works the same way).
//
// Two layouts are understood. linux: the accounts of ROOT/etc/passwd whose
// home exists under the root, known folders from ~/.config/user-dirs.dirs.
// windows: the folders of ROOT/Users that hold an NTUSER.DAT, with the
// default known-folder locations, and the common (Public, ProgramData)
// folders as system folders. docs/rules.md says exactly what is skipped and
// how "last used" is determined.
//
// Every path in these structures is root-relative: bytes, '/'-separated, no
// leading or trailing '/'; "" is the root itself.
//
// Thread safety: plain values. DiscoverMachine only reads the filesystem and
// may run concurrently with itself.

#ifndef MIGSTORE_PROFILES_H_
#define MIGSTORE_PROFILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "migstore/result.h"

namespace migstore {

// How a root is laid out. Rules match case-sensitively on kLinux and
// case-insensitively (ASCII letters only) on kWindows.
enum class Layout : uint8_t { kLinux = 1, kWindows = 2 };

// "linux" or "windows".
const char* LayoutName(Layout layout);
// Accepts "linux" and "windows"; anything else is InvalidArgument.
Result<Layout> ParseLayout(std::string_view text);

// A named folder and its root-relative path: ("DOCUMENTS", "home/a/Documents").
using KnownFolder = std::pair<std::string, std::string>;

struct UserProfile {
  std::string name;  // account name (linux) or profile folder name (windows)
  std::string home;  // root-relative profile directory
  Layout layout = Layout::kLinux;
  uint32_t uid = 0;  // linux only
  uint32_t gid = 0;  // linux only
  std::string sid;   // windows SID, from the SOFTWARE hive's ProfileList
  // Last use in ns since the Unix epoch; 0 when nothing tells.
  int64_t last_use_ns = 0;
  // What last_use_ns was read from: "NTUSER.DAT mtime", "wtmp", "lastlog",
  // "newest top-level mtime", or "" when unknown.
  std::string last_use_source;
  // Known folders, keyed by the names docs/rules.md lists (DOCUMENTS,
  // DESKTOP, DOWNLOADS, PICTURES, MUSIC, VIDEOS, APPDATA, LOCALAPPDATA, ...).
  std::vector<KnownFolder> folders;

  // The folder's root-relative path, or nullptr when this profile has none.
  const std::string* Folder(std::string_view key) const;
};

// The system under the root: its layout, its users, and the folders that
// belong to no user (Public, ProgramData, Windows, Program Files, ...).
struct Machine {
  std::string root;  // the directory given, as given
  Layout layout = Layout::kLinux;
  std::vector<UserProfile> profiles;  // sorted by name
  std::vector<KnownFolder> system_folders;
  // Accounts and folders that were looked at and skipped, and why:
  // "daemon: system account (uid 1 < UID_MIN 1000)".
  std::vector<std::string> skipped;

  const std::string* SystemFolder(std::string_view key) const;
};

struct DiscoverOptions {
  std::string root = "/";
  // Unset: decide from what the root holds (Users/*/NTUSER.DAT or Windows/
  // means windows; etc/passwd means linux).
  std::optional<Layout> layout;
};

// Finds the profiles under options.root. InvalidArgument when the root is
// not a readable directory or its layout cannot be told; an unreadable
// passwd file or Users folder is an IOError.
Result<Machine> DiscoverMachine(const DiscoverOptions& options);

}  // namespace migstore

#endif  // MIGSTORE_PROFILES_H_
