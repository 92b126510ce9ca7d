// Profile discovery on a linux root: accounts from ROOT/etc/passwd with a
// uid in [UID_MIN, UID_MAX] (ROOT/etc/login.defs, default 1000..60000)
// whose home is a directory under the root; known folders from the home's
// .config/user-dirs.dirs with the XDG defaults; last use from wtmp/lastlog,
// else the newest mtime among the home's top-level entries.
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_PROFILES_LINUX_PROFILES_H_
#define MIGSTORE_ENGINE_SRC_PROFILES_LINUX_PROFILES_H_

#include <string>
#include <string_view>

#include "migstore/profiles.h"
#include "migstore/status.h"

namespace migstore::internal {

// Fills machine->profiles, system_folders and skipped.
Status DiscoverLinux(const std::string& root, Machine* machine);

// Known folders of a linux home from the text of its user-dirs.dirs (may be
// empty), with XDG defaults for what it does not set. `home` is
// root-relative. Exposed for tests.
std::vector<KnownFolder> LinuxKnownFolders(std::string_view home,
                                           std::string_view user_dirs_text);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_PROFILES_LINUX_PROFILES_H_
