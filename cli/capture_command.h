// `migstore capture` (ScanState) and `migstore estimate` (ScanState /p)
// (docs/cli.md).

#ifndef MIGSTORE_CLI_CAPTURE_COMMAND_H_
#define MIGSTORE_CLI_CAPTURE_COMMAND_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli_common.h"
#include "key_options.h"
#include "smp_commands.h"

namespace migstore::cli {

struct CaptureCommandOptions {
  SelectionOptions selection;
  KeyOptions key;
  std::string store;
  SmpClientOptions smp;  // --smp: the store comes from a state migration point
  bool overwrite = false;
  std::string cipher;     // --cipher: "" when not given (the default)
  std::string base;       // --base: an incremental capture's previous store
  bool hardlink = false;  // --hardlink: a hard-link store
  std::string hardlink_fallback = "copy";  // "copy" or "error"
  bool continue_on_error = false;
  bool cross_mounts = false;
  bool local_only = false;
  bool allow_processing = false;
  uint64_t min_free = 0;
  int threads = 0;
  int level = 3;
  bool no_compress = false;
  std::string log;
  std::string progress_log;
  int verbosity = -1;     // --verbosity: -1 when not given
  AutoOption auto_rules;  // --auto [DIR]
  std::string list_files;
  std::string premigration;  // estimate: ScanState /p:File's XML
  bool json = false;
  std::vector<std::string> argv;  // for the logs' command line
};

CLI::App* AddCaptureCommand(CLI::App* app, CaptureCommandOptions* options);
CLI::App* AddEstimateCommand(CLI::App* app, CaptureCommandOptions* options);
// Options both share.
void AddCaptureCommonOptions(CLI::App* cmd, CaptureCommandOptions* options);

int RunCapture(const CaptureCommandOptions& options);
int RunEstimate(const CaptureCommandOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_CAPTURE_COMMAND_H_
