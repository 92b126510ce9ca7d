// `migstore verify` (UsmtUtils /verify) (docs/cli.md).

#ifndef MIGSTORE_CLI_VERIFY_COMMAND_H_
#define MIGSTORE_CLI_VERIFY_COMMAND_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "key_options.h"

namespace migstore::cli {

struct VerifyCommandOptions {
  std::string store;
  KeyOptions key;
  std::string mode = "summary";
  int threads = 0;
  std::string log;
  int verbosity = -1;  // --verbosity: -1 when not given
  bool json = false;
  std::vector<std::string> argv;
};

CLI::App* AddVerifyCommand(CLI::App* app, VerifyCommandOptions* options);
int RunVerify(const VerifyCommandOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_VERIFY_COMMAND_H_
