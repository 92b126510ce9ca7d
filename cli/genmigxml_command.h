// `migstore genmigxml` (ScanState /genmigxml): writes the document finder's
// file rules, what MigDocs.xml's GenerateDocPatterns selects on the root
// for the selected users, as a USMT migration XML to edit and give back
// with --rules (docs/cli.md, "genmigxml").

#ifndef MIGSTORE_CLI_GENMIGXML_COMMAND_H_
#define MIGSTORE_CLI_GENMIGXML_COMMAND_H_

#include <CLI/CLI.hpp>

#include <string>

#include "cli_common.h"

namespace migstore::cli {

struct GenMigXmlOptions {
  // --root, --layout and the user selection; genmigxml reads no rules.
  SelectionOptions selection;
  std::string out;
  bool overwrite = false;
};

CLI::App* AddGenMigXmlCommand(CLI::App* app, GenMigXmlOptions* options);
int RunGenMigXml(const GenMigXmlOptions& options);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_GENMIGXML_COMMAND_H_
