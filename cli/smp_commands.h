// `migstore serve` (the state migration point) and `migstore smp …` (its
// administration and the Release State Store step), and the options by
// which `capture` and `restore` use a state migration point
// (docs/smp.md, docs/cli.md).

#ifndef MIGSTORE_CLI_SMP_COMMANDS_H_
#define MIGSTORE_CLI_SMP_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "key_options.h"
#include "migstore/result.h"
#include "migstore/smp.h"

namespace migstore::cli {

// How a client reaches a state migration point.
struct SmpClientOptions {
  std::string server;  // --smp (capture, restore) or --server (smp)
  std::string token_file;
  std::string ca_file;
  int retry_count = 3;
  int retry_delay = 30;
};

// capture and restore: --smp URL, --token-file, --ca-file (and, for
// capture, the Request State Store step's --retry-count/--retry-delay).
void AddSmpStepOptions(CLI::App* cmd, SmpClientOptions* o, bool retries);
Result<SmpClient> ConnectSmp(const SmpClientOptions& o, const char* command);
// capture and restore: exactly one of --store and --smp, and no key option
// with --smp (the server holds the store's key).
Status CheckStoreChoice(const std::string& store, const SmpClientOptions& smp,
                        const KeyOptions& key);

struct ServeCommandOptions {
  std::string listen = "127.0.0.1:8080";
  std::string data;
  std::string db;
  std::string server_key;
  std::vector<std::string> storage;
  std::string tls_cert;
  std::string tls_key;
  int deletion_cycle_seconds = 60;
};

struct SmpCommandOptions {
  SmpClientOptions client;
  std::string computer;  // enroll
  std::string out;       // enroll, recover-key
  bool overwrite = false;
  std::string source;  // associate, unassociate
  std::string destination;
  std::vector<std::string> users;
  std::string store;    // recover-key, delete
  std::string on_off;   // restore-only
  int64_t minutes = 0;  // retention, abandon-after
  bool json = false;    // list
};

CLI::App* AddServeCommand(CLI::App* app, ServeCommandOptions* options);
int RunServe(const ServeCommandOptions& options);
CLI::App* AddSmpCommand(CLI::App* app, SmpCommandOptions* options);
int RunSmp(CLI::App* smp, const SmpCommandOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_SMP_COMMANDS_H_
