// The migstore command. A thin layer over the public API in
// engine/include/migstore/: it parses arguments (CLI11), calls the library,
// prints, and turns the outcome into an exit code (docs/cli.md).

#include <malloc.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "capture_command.h"
#include "cli_common.h"
#include "explain_command.h"
#include "genconfig_command.h"
#include "genmigxml_command.h"
#include "migstore/build_info.h"
#include "migstore/self_check.h"
#include "restore_command.h"
#include "smp_commands.h"
#include "store_commands.h"
#include "verify_command.h"

namespace {

using migstore::ExitCode;
using migstore::cli::Code;

std::string VersionText() {
  return std::string("migstore ") + migstore::Version() +
         " (container format " + std::to_string(migstore::FormatVersion()) +
         "; " + migstore::LibraryVersions() + ")";
}

int RunSelfCheck(const std::string& dir) {
  migstore::SelfCheckReport report = migstore::RunSelfCheck(dir);
  for (const migstore::SelfCheckStep& s : report.steps) {
    std::printf("%-4s %-56s %7.2fs\n", s.status.ok() ? "ok" : "FAIL",
                s.name.c_str(), s.seconds);
    if (!s.status.ok()) std::printf("     %s\n", s.status.ToString().c_str());
  }
  if (!report.ok()) {
    std::fprintf(stderr,
                 "migstore: self-check failed; do not trust this build here\n");
    return Code(ExitCode::kFatal);
  }
  std::printf("self-check passed: %zu steps\n", report.steps.size());
  return Code(ExitCode::kSuccess);
}

}  // namespace

int main(int argc, char** argv) {
  // glibc raises its mmap threshold to the size of each large block freed,
  // after which such blocks come from its heaps, where freeing them rarely
  // gives the pages back. A capture or restore of a million files frees a
  // window's entries and decoded blocks over and over: with the threshold
  // moving, its peak RSS was ~60 MB above what it held (docs/performance.md,
  // "The allocator"). Fixed at glibc's starting value, large buffers are
  // mapped and unmapped whole.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  CLI::App app{
      "migstore: capture user profiles into a migration store and restore "
      "them"};
  app.set_version_flag("--version", VersionText(),
                       "Print the version and exit");
  app.require_subcommand(0, 1);

  migstore::cli::CaptureCommandOptions capture_options;
  capture_options.argv.assign(argv, argv + argc);
  migstore::cli::CaptureCommandOptions estimate_options = capture_options;
  CLI::App* capture = migstore::cli::AddCaptureCommand(&app, &capture_options);
  CLI::App* estimate =
      migstore::cli::AddEstimateCommand(&app, &estimate_options);
  migstore::cli::ListOptions list_options;
  CLI::App* list = migstore::cli::AddListCommand(&app, &list_options);
  migstore::cli::KeygenOptions keygen_options;
  CLI::App* keygen = migstore::cli::AddKeygenCommand(&app, &keygen_options);
  migstore::cli::ExplainOptions explain_options;
  CLI::App* explain = migstore::cli::AddExplainCommand(&app, &explain_options);
  migstore::cli::GenConfigOptions genconfig_options;
  CLI::App* genconfig =
      migstore::cli::AddGenConfigCommand(&app, &genconfig_options);
  migstore::cli::GenMigXmlOptions genmigxml_options;
  CLI::App* genmigxml =
      migstore::cli::AddGenMigXmlCommand(&app, &genmigxml_options);
  migstore::cli::RestoreCommandOptions restore_options;
  restore_options.argv.assign(argv, argv + argc);
  CLI::App* restore = migstore::cli::AddRestoreCommand(&app, &restore_options);
  migstore::cli::ExtractCommandOptions extract_options;
  extract_options.argv.assign(argv, argv + argc);
  CLI::App* extract = migstore::cli::AddExtractCommand(&app, &extract_options);
  migstore::cli::DeleteOptions delete_options;
  CLI::App* del = migstore::cli::AddDeleteCommand(&app, &delete_options);
  migstore::cli::VerifyCommandOptions verify_options;
  verify_options.argv.assign(argv, argv + argc);
  CLI::App* verify = migstore::cli::AddVerifyCommand(&app, &verify_options);
  migstore::cli::ServeCommandOptions serve_options;
  CLI::App* serve = migstore::cli::AddServeCommand(&app, &serve_options);
  migstore::cli::SmpCommandOptions smp_options;
  CLI::App* smp = migstore::cli::AddSmpCommand(&app, &smp_options);

  std::string scratch;
  CLI::App* self_check =
      app.add_subcommand("self-check",
                         "Write and read back real stores (plain, key file, "
                         "password) in a scratch directory, and "
                         "check that damage and wrong keys are caught");
  self_check->add_option(
      "--dir", scratch,
      "Where to make the scratch directory (default: $TMPDIR or /tmp)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e);
    return Code(ExitCode::kHelp);
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e);
    return Code(ExitCode::kHelp);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return Code(ExitCode::kInvalidArguments);
  }

  try {
    if (capture->parsed()) return migstore::cli::RunCapture(capture_options);
    if (estimate->parsed()) return migstore::cli::RunEstimate(estimate_options);
    if (list->parsed()) return migstore::cli::RunList(list_options);
    if (keygen->parsed()) return migstore::cli::RunKeygen(keygen_options);
    if (explain->parsed()) return migstore::cli::RunExplain(explain_options);
    if (genconfig->parsed())
      return migstore::cli::RunGenConfig(genconfig_options);
    if (genmigxml->parsed())
      return migstore::cli::RunGenMigXml(genmigxml_options);
    if (restore->parsed()) return migstore::cli::RunRestore(restore_options);
    if (extract->parsed()) return migstore::cli::RunExtract(extract_options);
    if (verify->parsed()) return migstore::cli::RunVerify(verify_options);
    if (del->parsed()) return migstore::cli::RunDelete(delete_options);
    if (self_check->parsed()) return RunSelfCheck(scratch);
    if (serve->parsed()) return migstore::cli::RunServe(serve_options);
    if (smp->parsed()) return migstore::cli::RunSmp(smp, smp_options);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "migstore: out of memory\n");
    return Code(ExitCode::kFatal);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "migstore: internal error: %s\n", e.what());
    return Code(ExitCode::kInternal);
  }
  std::cout << app.help();
  return Code(ExitCode::kHelp);
}
