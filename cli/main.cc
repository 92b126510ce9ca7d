// The migstore command. A thin layer over the public API in
// engine/include/migstore/: it parses arguments (CLI11), calls the library,
// prints, and turns the outcome into an exit code (docs/cli.md).

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "explain_command.h"
#include "migstore/build_info.h"
#include "migstore/exit_codes.h"
#include "migstore/self_check.h"

namespace {

using migstore::ExitCode;

int Code(ExitCode c) { return static_cast<int>(c); }

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
  CLI::App app{
      "migstore: capture user profiles into a migration store and restore "
      "them"};
  app.set_version_flag("--version", VersionText(),
                       "Print the version and exit");
  app.require_subcommand(0, 1);

  std::string scratch;
  CLI::App* self_check = app.add_subcommand(
      "self-check",
      "Write and read back real stores (plain, key file, password) in a "
      "scratch "
      "directory, and check that damage and wrong keys are caught");
  self_check->add_option(
      "--dir", scratch,
      "Where to make the scratch directory (default: $TMPDIR or /tmp)");

  migstore::cli::ExplainOptions explain_options;
  CLI::App* explain = migstore::cli::AddExplainCommand(&app, &explain_options);

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

  if (self_check->parsed()) return RunSelfCheck(scratch);
  if (explain->parsed()) return migstore::cli::RunExplain(explain_options);
  std::cout << app.help();
  return Code(ExitCode::kHelp);
}
