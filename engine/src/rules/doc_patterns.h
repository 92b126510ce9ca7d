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

#include <cstdint>
#include <string>
#include <vector>

#include "migstore/profiles.h"

namespace migstore::internal {

// One pattern of the document finder, kept with where it is anchored so
// that it can be written back with a variable (genmigxml.cc): a whole
// folder tree ("C:\Data\* [*]") or the files directly in a folder that
// match a leaf ("C:\Users\alice\ [NTUSER.DAT*]").
struct DocPattern {
  enum class Kind : uint8_t { kTree, kFilesIn };
  enum class Anchor : uint8_t {
    kRoot,         // `rel` is below the root (system context)
    kProfile,      // `rel` is the profile's home or a folder in it
    kKnownFolder,  // `rel` is the known folder `key` of the profile (user
                   // context) or of the machine (system context)
  };
  Kind kind = Kind::kTree;
  Anchor anchor = Anchor::kRoot;
  std::string key;   // kKnownFolder: "DOCUMENTS", "COMMON_MUSIC", "WINDOWS"
  std::string rel;   // the folder, root-relative
  std::string leaf;  // kFilesIn: pattern text, where '*' is a wildcard

  // The expanded, escaped USMT text: "C:\Users\alice\Documents\* [*]".
  std::string UsmtText() const;
};

// `profile` null means system context.
std::vector<DocPattern> DocPatterns(const Machine& machine,
                                    const UserProfile* profile, bool include);

// DocPatterns as expanded and escaped USMT text.
std::vector<std::string> GenerateDocPatterns(const Machine& machine,
                                             const UserProfile* profile,
                                             bool include);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_DOC_PATTERNS_H_
