// <destinationCleanup> of the registry (docs/rules.md, "Restore-time
// rules"): before a restore writes a hive, the target's values that a
// cleanup pattern names are deleted, and so is each key a pattern names
// once nothing is left in it. Only keys a pattern may reach are visited.
//
// Thread safety: one call at a time per hive.

#ifndef MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_CLEANUP_H_
#define MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_CLEANUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/registry/hive.h"
#include "engine/src/registry/registry_capture.h"
#include "migstore/matcher.h"

namespace migstore::registry {

struct CleanupResult {
  uint64_t keys = 0;             // deleted
  uint64_t values = 0;           // deleted
  std::vector<HiveIssue> notes;  // keys left as they were, and why
};

// Cleans `hive`, mounted at `mount` ("HKCU", "HKLM\SOFTWARE",
// "HKLM\SYSTEM"; for SYSTEM, `control_set` is the key shown as
// CurrentControlSet) for the matcher profile `profile` (HKCU; -1 for HKLM).
// Corruption for a hive whose keys form a cycle or nest too deep.
Status CleanUpHive(Hive* hive, const std::string& mount,
                   const std::string& control_set, const Matcher& rules,
                   int32_t profile, CleanupResult* out);

}  // namespace migstore::registry

#endif  // MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_CLEANUP_H_
