// `migstore restore` (LoadState) and `migstore extract` (UsmtUtils
// /extract) (docs/cli.md).

#ifndef MIGSTORE_CLI_RESTORE_COMMAND_H_
#define MIGSTORE_CLI_RESTORE_COMMAND_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli_common.h"
#include "key_options.h"
#include "smp_commands.h"

namespace migstore::cli {

struct RestoreCommandOptions {
  std::string store;
  SmpClientOptions smp;  // --smp: the store comes from a state migration point
  KeyOptions key;
  std::string target;
  std::vector<std::string> map_users;
  std::vector<std::string> map_domains;
  // Local accounts (LoadState /lac[:password], /lae): the password only
  // ever comes from a file.
  bool create_accounts = false;
  bool enable_accounts = false;
  std::string account_password_file;
  std::vector<std::string> user_include;
  std::vector<std::string> user_exclude;
  std::string last_used;
  std::string on_conflict = "rename";
  std::vector<std::string> rules;
  std::string config;
  bool machine_settings = false;
  uint64_t min_free = 0;
  bool dry_run = false;
  bool continue_on_error = false;
  bool allow_processing = false;
  bool strip_privileges = false;
  int threads = 0;
  std::string log;
  std::string progress_log;
  int verbosity = -1;     // --verbosity: -1 when not given
  AutoOption auto_rules;  // --auto [DIR]
  bool json = false;
  std::vector<std::string> argv;  // for the logs' command line
};

struct ExtractCommandOptions {
  std::string store;
  KeyOptions key;
  std::string to;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  bool overwrite = false;
  bool continue_on_error = false;
  int threads = 0;
  std::string reg_file;
  std::string reg_user;
  std::string log;
  std::string progress_log;
  int verbosity = -1;  // --verbosity: -1 when not given
  bool json = false;
  std::vector<std::string> argv;
};

CLI::App* AddRestoreCommand(CLI::App* app, RestoreCommandOptions* options);
CLI::App* AddExtractCommand(CLI::App* app, ExtractCommandOptions* options);
int RunRestore(const RestoreCommandOptions& options);
int RunExtract(const ExtractCommandOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_RESTORE_COMMAND_H_
