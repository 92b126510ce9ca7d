// What a restored file may carry that gives whoever runs it more than
// their own rights: the setuid and setgid bits, and file capabilities (the
// security.capability extended attribute). A restore reproduces them, as
// USMT reproduces the source, and says so for every such file and once in
// all; with --strip-privileges it leaves them out (docs/security.md,
// "Restore as root versus as a user").
//
// Thread safety: functions only.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_PRIVILEGES_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_PRIVILEGES_H_

#include <cstdint>
#include <string>

#include "format/catalog.h"

namespace migstore::restore {

// The extended attribute that holds a file's capabilities.
inline constexpr char kCapabilityXattr[] = "security.capability";

// The mode bits a --strip-privileges restore leaves out of a file's mode.
inline constexpr uint32_t kPrivilegeModeBits = 06000;

// Whether the catalog gives entry `e` file capabilities.
bool HasCapability(const format::Entry& e);

// What a file with `mode` (and file capabilities when `capability`) carries,
// "setuid root, setgid, file capabilities (security.capability)"; "" when
// nothing. `root_owned`: the restored file belongs to root.
std::string PrivilegesOf(uint32_t mode, bool root_owned, bool capability);

// The note for one such file, and the line for all of them (`files` of
// them) at the end of a run; `strip`: --strip-privileges was given.
std::string PrivilegeNote(const std::string& privileges, bool strip);
std::string PrivilegeSummary(uint64_t files, bool strip);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_PRIVILEGES_H_
