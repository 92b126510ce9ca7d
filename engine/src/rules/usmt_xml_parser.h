// The reader of USMT migration XML files (MigUser.xml, MigDocs.xml, custom
// files). Only the file part of the language is turned into rules; the rest
// is recognised and reported (docs/rules.md, "USMT migration XML": what is
// supported, kept, and not applicable). Config.xml: config_xml_parser.h.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_RULES_USMT_XML_PARSER_H_
#define MIGSTORE_ENGINE_SRC_RULES_USMT_XML_PARSER_H_

#include <string_view>

#include "engine/src/rules/rule_model.h"
#include "migstore/status.h"

namespace migstore::internal {

// Appends the components of a <migration> file to *data. InvalidArgument
// "name:line:column: ..." for XML that is not well-formed, a root that is
// not <migration> (a Config.xml is named as such), a malformed pattern or a
// urlid already loaded; *data is then unchanged.
Status ParseMigrationXml(std::string_view name, std::string_view text,
                         RuleSetData* data);

// Reads a <Configuration> file into data->config.
Status ParseConfigXml(std::string_view name, std::string_view text,
                      RuleSetData* data);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_USMT_XML_PARSER_H_
