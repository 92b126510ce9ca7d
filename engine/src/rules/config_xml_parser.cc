#include "engine/src/rules/config_xml_parser.h"

#include "engine/base/case_fold.h"
#include "engine/src/rules/xml_support.h"

namespace migstore::internal {
namespace {

using Severity = RuleDiagnostic::Severity;

// Recurses once per nested component, as deep as XmlFile::Load allows.
void ParseConfigComponents(pugi::xml_node list, bool parent_migrates,
                           const XmlFile& xml, RuleSetData* data) {
  for (pugi::xml_node n : list.children()) {
    if (n.type() != pugi::node_element) continue;
    if (!NameIs(n, "component")) {
      data->Diagnose(Severity::kWarning, xml.Loc(n),
                     std::string("unknown element <") + n.name() + "> ignored");
      continue;
    }
    ConfigEntry e;
    e.id = FoldedCopy(Attr(n, "ID"));
    e.displayname = std::string(Attr(n, "displayname"));
    e.migrate = parent_migrates && !EqualsFolded(Attr(n, "migrate"), "no");
    e.loc = xml.Loc(n);
    bool migrates = e.migrate;
    data->config.components.push_back(std::move(e));
    ParseConfigComponents(n, migrates, xml, data);
  }
}

void ParsePolicyList(pugi::xml_node section, const XmlFile& xml,
                     RuleSetData* data) {
  for (pugi::xml_node n : section.children()) {
    if (n.type() != pugi::node_element) continue;
    PolicyRule r;
    r.section = section.name();
    r.kind = n.name();
    r.code = std::string(Attr(n, "errorCode"));
    r.pattern = TextOf(n);
    r.loc = xml.TextLoc(n);
    if (NameIs(n, "user") || NameIs(n, "domain")) {
      r.pattern = std::string(Attr(n, "from"));
      r.to = std::string(Attr(n, "to"));
    }
    data->config.policies.push_back(std::move(r));
  }
}

}  // namespace

Status ParseConfigXml(std::string_view name, std::string_view text,
                      RuleSetData* data) {
  if (data->has_config)
    return Status::InvalidArgument("only one Config.xml may be given");
  RuleSetData scratch = *data;
  const uint32_t file = scratch.AddFile(name);
  XmlFile xml;
  MIGSTORE_RETURN_IF_ERROR(xml.Load(name, text, &scratch, file));
  pugi::xml_node root = xml.root();
  if (!NameIs(root, "Configuration")) {
    return Status::InvalidArgument(
        LocatedMessage(scratch, xml.Loc(root),
                       "a Config.xml's root element must be <Configuration>"));
  }
  scratch.has_config = true;
  scratch.config.file = file;
  for (pugi::xml_node n : root.children()) {
    if (n.type() != pugi::node_element) continue;
    if (NameIs(n, "Applications") || NameIs(n, "Documents") ||
        NameIs(n, "WindowsComponents")) {
      ParseConfigComponents(n, true, xml, &scratch);
    } else if (NameIs(n, "Policies") || NameIs(n, "ProfileControl")) {
      for (pugi::xml_node group : n.children()) {
        if (group.type() != pugi::node_element) continue;
        for (pugi::xml_node section : group.children()) {
          if (section.type() != pugi::node_element) continue;
          if (NameIs(section, "mappings")) {
            scratch.Diagnose(
                Severity::kNote, xml.Loc(section),
                "local group mappings are not applied by migstore");
            continue;
          }
          ParsePolicyList(section, xml, &scratch);
        }
        if (NameIs(group, "domains") || NameIs(group, "users")) {
          ParsePolicyList(group, xml, &scratch);
        }
      }
    } else {
      scratch.Diagnose(
          Severity::kWarning, xml.Loc(n),
          std::string("unknown element <") + n.name() + "> ignored");
    }
  }
  *data = std::move(scratch);
  return Status::OK();
}

}  // namespace migstore::internal
