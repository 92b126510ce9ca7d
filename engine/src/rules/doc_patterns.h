// MigXmlHelper.GenerateDocPatterns, USMT's "document finder", rendered as
// the USMT patterns it stands for on this machine (docs/rules.md has the
// list). In system context: files at the root, each folder at the root but
// the system's own (Windows, Program Files, ProgramData, Users...), and the
// common shell folders. In user context: files at the profile's root, each
// folder there but AppData and the legacy junctions, and the user's shell
// folders. The exclude form (IncludePatterns = FALSE) names the system and
// application-data folders and the hidden system files (pagefile, hives).
//
// Thread safety: pure function over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_RULES_DOC_PATTERNS_H_
#define MIGSTORE_ENGINE_SRC_RULES_DOC_PATTERNS_H_

#include <string>
#include <vector>

#include "migstore/profiles.h"

namespace migstore::internal {

// `profile` null means system context. The patterns are expanded and
// escaped USMT text.
std::vector<std::string> GenerateDocPatterns(const Machine& machine,
                                             const UserProfile* profile,
                                             bool include);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_DOC_PATTERNS_H_
