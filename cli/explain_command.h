// `migstore explain`: for each path, whether a capture would take it, the
// rule that decided with its file:line, and the rules it beat
// (docs/cli.md, "explain").

#ifndef MIGSTORE_CLI_EXPLAIN_COMMAND_H_
#define MIGSTORE_CLI_EXPLAIN_COMMAND_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace migstore::cli {

struct ExplainOptions {
  std::string root = "/";
  std::string layout = "auto";
  std::vector<std::string> rules;
  std::string config;
  std::vector<std::string> user_include;
  std::vector<std::string> user_exclude;
  std::string last_used;
  std::vector<std::string> paths;
};

// Registers the subcommand on `app`; options land in *options.
CLI::App* AddExplainCommand(CLI::App* app, ExplainOptions* options);

// Runs it; returns the exit code.
int RunExplain(const ExplainOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_EXPLAIN_COMMAND_H_
