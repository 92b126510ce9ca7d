// ApplyRegistry: the settings half of a restore. Writes the registry
// records of a store into the target's offline hives (hive_files.h): HKLM
// into its SOFTWARE and SYSTEM hives (CurrentControlSet into the target's
// current control set), each user's HKCU into the NTUSER.DAT of the profile
// the user lands in (--map-user moves it with the files). The source value
// replaces the target's, as USMT does for registry values without a
// <merge> rule; missing keys are created. The restore's rules may clean
// the target first, keep target values and change values (`rules`).
//
// A value larger than 16,344 bytes is noted and left out: hivex writes
// every value in one cell, and Windows reads values above that size only
// from big-data records. A target hive whose transaction logs hold changes
// not yet in the file (Windows did not shut down cleanly) is not changed:
// writing it would throw those changes away.
//
// A user whose target profile has no NTUSER.DAT starts from a copy of the
// target's Default profile hive (what Windows gives a new profile); without
// one, that user's settings are an error. Every hive is opened below the
// target without following symlinks, changed in memory and replaced
// atomically (Hive::CommitTo).
//
// Thread safety: one call at a time per target.

#ifndef MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_APPLY_H_
#define MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_APPLY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/registry/registry_capture.h"
#include "format/registry.h"
#include "migstore/matcher.h"

namespace migstore::registry {

struct RegistryApplyInput {
  std::string target;  // the target directory, as given
  int target_fd = -1;  // open on it
  // By store profile number (index 0 unused): where the user's profile
  // lands, root-relative, or "" when the user is not restored.
  std::vector<std::string> dest_home;
  const std::vector<format::RegistryRecord>* records = nullptr;
  bool dry_run = false;  // count only; no hive is touched
  // HKLM's settings too. Off, they are counted in a note and left out: a
  // machine's settings (services, drivers, what runs at boot) are what a
  // crafted or foreign store would aim at, so the administrator asks for
  // them (restore --machine-settings).
  bool machine_settings = false;
  // The restore's rules (restore --rules), bound to the users where they
  // land: <destinationCleanup> deletes target values and keys before the
  // store's are written; <merge> DestinationPriority() keeps a target's
  // value; <contentModify> changes a value on its way in. Null: none.
  const Matcher* rules = nullptr;
};

struct RegistryApplyResult {
  uint64_t keys = 0;
  uint64_t values = 0;
  uint64_t kept = 0;            // target values a DestinationPriority() kept
  uint64_t modified = 0;        // values a <contentModify> changed
  uint64_t cleaned_keys = 0;    // deleted by <destinationCleanup>
  uint64_t cleaned_values = 0;  // deleted by <destinationCleanup>
  std::vector<HiveIssue> notes;
  std::vector<HiveIssue> errors;  // per hive: what was not applied
};

RegistryApplyResult ApplyRegistry(const RegistryApplyInput& in);

}  // namespace migstore::registry

#endif  // MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_APPLY_H_
