// Helpers for the profile and rules tests: generated Windows- and
// Linux-layout roots in a TempDir, and one-line ways to compile rules for
// them and ask about paths.

#ifndef MIGSTORE_TESTS_ENGINE_RULES_TEST_UTIL_H_
#define MIGSTORE_TESTS_ENGINE_RULES_TEST_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/rules.h"
#include "migstore/user_selection.h"
#include "tests/util/test_util.h"

namespace migstore::testing {

// Creates each path under `root`: a name ending in '/' is a directory,
// anything else an empty file (parents are made as needed).
void MakeTree(const std::string& root, const std::vector<std::string>& paths);

// A windows root with a profile per user (Users/<name>/NTUSER.DAT) and the
// system folders; then `extra` paths.
void MakeWindowsRoot(const std::string& root,
                     const std::vector<std::string>& users,
                     const std::vector<std::string>& extra = {});

// A linux root with etc/passwd listing `users` (uid 1000, 1001, ...) with
// homes under home/, plus a system account; then `extra` paths.
void MakeLinuxRoot(const std::string& root,
                   const std::vector<std::string>& users,
                   const std::vector<std::string>& extra = {});

// Discovers `root` (layout detected) or fails the test.
Machine Discover(const std::string& root);

// Every profile selected.
std::vector<UserChoice> AllUsers(const Machine& machine);

// Compiles rule texts ("name", text) -- XML or native -- and an optional
// Config.xml text for `machine` with every user selected; fails the test
// on error.
Matcher CompileTexts(
    const Machine& machine,
    const std::vector<std::pair<std::string, std::string>>& texts,
    const std::string& config = "");

// A one-component USMT migration file with the given rules XML inside
// <rules>, context `context`.
std::string UsmtFile(const std::string& rules_xml,
                     const std::string& context = "System",
                     const std::string& urlid = "http://test/rules");
// One <component> element (for files with several).
std::string UsmtComponent(const std::string& name, const std::string& rules_xml,
                          const std::string& context = "System");
std::string UsmtMigration(const std::string& components,
                          const std::string& urlid = "http://test/rules");

// <include>/<exclude>/<unconditionalExclude> of one File pattern.
std::string Inc(const std::string& pattern);
std::string Exc(const std::string& pattern);
std::string Uncond(const std::string& pattern);

bool TakesFile(const Matcher& m, const std::string& path);
bool TakesDir(const Matcher& m, const std::string& path);

// Every entry under `root` as root-relative paths, directories included,
// in walk order (a directory before what it holds).
struct WalkedEntry {
  std::string path;
  bool is_dir = false;
};
std::vector<WalkedEntry> WalkTree(const std::string& root);

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_ENGINE_RULES_TEST_UTIL_H_
