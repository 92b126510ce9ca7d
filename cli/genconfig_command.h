// `migstore genconfig` (ScanState /genconfig): writes a Config.xml listing
// the components of the rules present on the root, each migrate="yes", to
// be edited and given back with --config (docs/cli.md, "genconfig").

#ifndef MIGSTORE_CLI_GENCONFIG_COMMAND_H_
#define MIGSTORE_CLI_GENCONFIG_COMMAND_H_

#include <CLI/CLI.hpp>

#include <string>

#include "cli_common.h"

namespace migstore::cli {

struct GenConfigOptions {
  SelectionOptions selection;
  std::string out;
  bool overwrite = false;
};

CLI::App* AddGenConfigCommand(CLI::App* app, GenConfigOptions* options);
int RunGenConfig(const GenConfigOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_GENCONFIG_COMMAND_H_
