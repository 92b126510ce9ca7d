// The reader of USMT's Config.xml (usmt.md §5, "Config.xml"): which
// components migrate (migrate="no" switches one off, and every component
// nested under it), and the <Policies> and <ProfileControl> entries kept for
// the capture and restore.
//
// Thread safety: pure function.

#ifndef MIGSTORE_ENGINE_SRC_RULES_CONFIG_XML_PARSER_H_
#define MIGSTORE_ENGINE_SRC_RULES_CONFIG_XML_PARSER_H_

#include <string_view>

#include "engine/src/rules/rule_model.h"
#include "migstore/status.h"

namespace migstore::internal {

// Reads a <Configuration> file into data->config. InvalidArgument
// "name:line:column: ..." for malformed XML, another root element, or a
// second Config.xml; *data is then unchanged.
Status ParseConfigXml(std::string_view name, std::string_view text,
                      RuleSetData* data);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_CONFIG_XML_PARSER_H_
