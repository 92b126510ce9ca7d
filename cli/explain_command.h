// `migstore explain`: for each path, whether a capture would take it, the
// rule that decided with its file:line, and the rules it beat
// (docs/cli.md, "explain").

#ifndef MIGSTORE_CLI_EXPLAIN_COMMAND_H_
#define MIGSTORE_CLI_EXPLAIN_COMMAND_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli_common.h"

namespace migstore::cli {

struct ExplainOptions {
  SelectionOptions selection;
  std::vector<std::string> paths;
};

// Registers the subcommand on `app`; options land in *options.
CLI::App* AddExplainCommand(CLI::App* app, ExplainOptions* options);

// Runs it; returns the exit code.
int RunExplain(const ExplainOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_EXPLAIN_COMMAND_H_
