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

// --verbosity N (-v N): ScanState's /v, which lines the main log gets
// (docs/cli.md, "Logs"). Left at -1 when not given; a value USMT refuses
// ("invalid verbosity sum") is a parse error, exit 11.
void AddVerbosityOption(CLI::App* cmd, int* verbosity);

// --auto [DIR]: ScanState's and LoadState's /auto (docs/cli.md, "--auto").
struct AutoOption {
  CLI::Option* option = nullptr;  // set by AddAutoOption
  std::string dir;
  bool given() const { return option != nullptr && option->count() > 0; }
};
void AddAutoOption(CLI::App* cmd, AutoOption* o);
// When --auto was given: adds DIR's MigDocs.xml and MigApp.xml (names
// matched case-insensitively) to `rules`, after those given, and sets
// `*verbosity` to 5 unless --verbosity was given. InvalidArgument (exit 11,
// as a --rules file that cannot be read) without DIR, or when DIR lacks
// one of the two.
Status ApplyAutoOption(const AutoOption& o, std::vector<std::string>* rules,
                       int* verbosity);

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
