// Profile discovery on a windows root (Vista and later): the folders of
// ROOT/Users holding an NTUSER.DAT, except the system profiles (Default,
// Default User, Public, All Users, defaultuser0...). Known folders are the
// default locations under the profile (redirections live in the registry,
// which migstore does not read); names are looked up case-insensitively and
// keep the spelling found on disk. Last use is NTUSER.DAT's mtime, as
// ScanState's /uel uses.
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_PROFILES_WINDOWS_PROFILES_H_
#define MIGSTORE_ENGINE_SRC_PROFILES_WINDOWS_PROFILES_H_

#include <string>
#include <string_view>
#include <vector>

#include "migstore/profiles.h"
#include "migstore/status.h"

namespace migstore::internal {

// Fills machine->profiles, system_folders and skipped.
Status DiscoverWindows(const std::string& root, Machine* machine);

// A known folder's default place below a profile or the root.
struct FolderDefault {
  const char* key;
  const char* rel;  // '/'-separated
};

// Per-profile known folders, relative to the profile directory.
const std::vector<FolderDefault>& WindowsUserFolderDefaults();
// System folders, relative to the root.
const std::vector<FolderDefault>& WindowsSystemFolderDefaults();

// True for the profile folders that are not users (Default, Public, ...).
bool IsWindowsSystemProfileName(std::string_view name);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_PROFILES_WINDOWS_PROFILES_H_
