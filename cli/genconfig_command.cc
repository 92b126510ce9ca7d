#include "genconfig_command.h"

#include <cstdio>

#include "migstore/matcher.h"

namespace migstore::cli {
namespace {

int Fail(const Status& s) { return cli::Fail("genconfig", s); }

}  // namespace

CLI::App* AddGenConfigCommand(CLI::App* app, GenConfigOptions* o) {
  CLI::App* cmd = app->add_subcommand(
      "genconfig",
      "Write a Config.xml listing the rules' components present on the root, "
      "each migrate=\"yes\", to edit and give back with --config "
      "(ScanState /genconfig)");
  AddSelectionOptions(cmd, &o->selection);
  cmd->add_option("--out", o->out, "The Config.xml to write")->required();
  cmd->add_flag("--overwrite", o->overwrite, "Replace an existing file");
  return cmd;
}

int RunGenConfig(const GenConfigOptions& options) {
  // A component a Config.xml switches off would be left out of the new
  // file, and a component not listed migrates: written again, the file
  // would switch it back on.
  if (!options.selection.config.empty()) {
    return Fail(Status::InvalidArgument(
        "genconfig writes a Config.xml from the rules alone: give no "
        "--config (edit the file it writes instead)"));
  }
  Result<CompiledSelection> c = CompileSelection(options.selection);
  if (!c.ok()) return Fail(c.status());
  PrintDiagnostics(c->diagnostics);
  Status s = WriteWhole(options.out, GenerateConfigXml(c->rules, c->matcher),
                        options.overwrite);
  if (!s.ok()) return Fail(s);
  std::printf("wrote %s\n", DisplayBytes(options.out).c_str());
  return Code(ExitCode::kSuccess);
}

}  // namespace migstore::cli
