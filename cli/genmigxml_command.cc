#include "genmigxml_command.h"

#include <cstdio>

#include "migstore/matcher.h"

namespace migstore::cli {
namespace {

int Fail(const Status& s) { return cli::Fail("genmigxml", s); }

}  // namespace

CLI::App* AddGenMigXmlCommand(CLI::App* app, GenMigXmlOptions* o) {
  CLI::App* cmd = app->add_subcommand(
      "genmigxml",
      "Write the document finder's file rules (what MigDocs.xml selects on "
      "the root) as a migration XML, to edit and give back with --rules "
      "(ScanState /genmigxml)");
  SelectionOptions* s = &o->selection;
  cmd->add_option("--root", s->root,
                  "The system to look at: / or a mounted disk")
      ->capture_default_str();
  cmd->add_option("--layout", s->layout, "auto, linux or windows")
      ->check(CLI::IsMember({"auto", "linux", "windows"}))
      ->capture_default_str();
  cmd->add_option("--user-include", s->user_include,
                  "Always take users matching GLOB (like ScanState /ui)")
      ->allow_extra_args(false);
  cmd->add_option("--user-exclude", s->user_exclude,
                  "Leave out users matching GLOB (like /ue)")
      ->allow_extra_args(false);
  cmd->add_option("--last-used", s->last_used,
                  "Take only users active in the last DAYS, or since "
                  "YYYY-MM-DD (like /uel)");
  cmd->add_option("--out", o->out, "The migration XML to write")->required();
  cmd->add_flag("--overwrite", o->overwrite, "Replace an existing file");
  return cmd;
}

int RunGenMigXml(const GenMigXmlOptions& options) {
  const SelectionOptions& o = options.selection;
  DiscoverOptions discover;
  discover.root = o.root;
  Result<std::optional<Layout>> layout = ParseLayoutOption(o.layout);
  if (!layout.ok()) return Fail(layout.status());
  discover.layout = *layout;
  Result<Machine> machine = DiscoverMachine(discover);
  if (!machine.ok()) return Fail(machine.status());
  Result<UserSelection> selection = ParseUserSelection(o);
  if (!selection.ok()) return Fail(selection.status());
  Result<std::vector<UserChoice>> users = SelectUsers(*machine, *selection);
  if (!users.ok()) return Fail(users.status());
  GeneratedMigXml generated = GenerateMigXml(*machine, *users);
  for (const std::string& note : generated.notes) {
    std::fprintf(stderr, "migstore genmigxml: note: %s\n",
                 DisplayText(note).c_str());
  }
  Status s = WriteWhole(options.out, generated.xml, options.overwrite);
  if (!s.ok()) return Fail(s);
  std::printf("wrote %s\n", DisplayBytes(options.out).c_str());
  return Code(ExitCode::kSuccess);
}

}  // namespace migstore::cli
