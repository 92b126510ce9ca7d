// Small things every command shares: exit codes, error printing, and the
// options that choose what is captured (root, layout, rules, users).

#ifndef MIGSTORE_CLI_CLI_COMMON_H_
#define MIGSTORE_CLI_CLI_COMMON_H_

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "migstore/display.h"
#include "migstore/exit_codes.h"
#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/result.h"
#include "migstore/rules.h"
#include "migstore/user_selection.h"

namespace migstore::cli {

inline int Code(ExitCode c) { return static_cast<int>(c); }

// Prints "migstore COMMAND: <status>" to stderr, the status shown with
// DisplayText; returns its exit code.
int Fail(const char* command, const Status& s);

// --root, --layout, --rules, --config, --user-include, --user-exclude,
// --last-used: what a capture (or estimate, or explain) looks at.
struct SelectionOptions {
  std::string root = "/";
  std::string layout = "auto";
  std::vector<std::string> rules;
  std::string config;
  std::vector<std::string> user_include;
  std::vector<std::string> user_exclude;
  std::string last_used;
};

void AddSelectionOptions(CLI::App* cmd, SelectionOptions* o);

// The layout asked for: nullopt for "auto".
Result<std::optional<Layout>> ParseLayoutOption(const std::string& text);
// The user selection, with --last-used counted back from now.
Result<UserSelection> ParseUserSelection(const SelectionOptions& o);

// The machine under --root, its users as selected, and the rules compiled
// for them: what explain and genconfig look at.
struct CompiledSelection {
  Machine machine;
  std::vector<UserChoice> users;
  RuleSet rules;
  Matcher matcher;
  std::vector<std::string> diagnostics;  // rule diagnostics, as text
};
Result<CompiledSelection> CompileSelection(const SelectionOptions& o);

// Writes `text` to `path` under a temporary name, fsyncs and renames it, so
// a reader never finds half a file. An existing file is kept
// (AlreadyExists) unless `overwrite`.
Status WriteWhole(const std::string& path, const std::string& text,
                  bool overwrite);

// Prints rule diagnostics to stderr (shown with DisplayText: they quote the
// rules files), at most a few per file.
void PrintDiagnostics(const std::vector<std::string>& diagnostics);

// The command line as one string, for the logs.
std::string JoinArgs(const std::vector<std::string>& args);
// This machine's host name, for the progress log.
std::string ComputerName();

// DisplayBytes and DisplayText, the "Names" escaping, are the engine's
// (migstore/display.h): the library's JSON uses them too.
using migstore::DisplayBytes;
using migstore::DisplayText;

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_CLI_COMMON_H_
