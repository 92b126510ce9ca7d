// `migstore list`, `migstore keygen` and `migstore delete` (docs/cli.md).

#ifndef MIGSTORE_CLI_STORE_COMMANDS_H_
#define MIGSTORE_CLI_STORE_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <string>

#include "key_options.h"

namespace migstore::cli {

struct ListOptions {
  std::string store;
  KeyOptions key;
  bool json = false;
};

struct KeygenOptions {
  std::string out;
  bool overwrite = false;
};

struct DeleteOptions {
  std::string store;
  bool yes = false;
};

CLI::App* AddDeleteCommand(CLI::App* app, DeleteOptions* options);
int RunDelete(const DeleteOptions& options);
CLI::App* AddListCommand(CLI::App* app, ListOptions* options);
CLI::App* AddKeygenCommand(CLI::App* app, KeygenOptions* options);
int RunList(const ListOptions& options);
int RunKeygen(const KeygenOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_STORE_COMMANDS_H_
