// GenerateConfigXml: ScanState's /genconfig (docs/rules.md, "Generating
// Config.xml"). The document is built with pugixml, so names with XML's
// special characters come out escaped.

#include <pugixml.hpp>

#include <sstream>

#include "engine/base/case_fold.h"
#include "engine/src/rules/matcher_data.h"
#include "engine/src/rules/rule_model.h"
#include "migstore/matcher.h"

namespace migstore {
namespace {

constexpr char kErrorControlExample[] = R"(   Example:

          <fileError>
            <nonFatal errorCode="33">* [*]</nonFatal>
            <fatal errorCode="any">C:\Users\* [*]</fatal>
          </fileError>
          <registryError>
            <nonFatal errorCode="5">* [*]</nonFatal>
          </registryError>
      )";

constexpr char kHardLinkExample[] = R"(   Example:

          <fileLocked>
            <createHardLink>c:\Users\* [*]</createHardLink>
            <errorHardLink>C:\* [*]</errorHardLink>
          </fileLocked>
      )";

constexpr char kMappingExample[] = R"(   Example (domain and user mapping):

          <domains>
            <domain from="Domain1" to="Domain2"/>
          </domains>

          <users>
            <user from="Domain1\User1" to="Domain2\User2"/>
          </users>

      )";

const char* SectionOf(std::string_view type) {
  if (internal::EqualsFolded(type, "Application")) return "Applications";
  if (internal::EqualsFolded(type, "Documents")) return "Documents";
  return "WindowsComponents";
}

}  // namespace

std::string GenerateConfigXml(const RuleSet& rules, const Matcher& matcher) {
  const internal::RuleSetData& rs = internal::RuleSetAccess::Data(rules);
  static const internal::MatcherData kNone;
  const internal::MatcherData& m = matcher.data_ ? *matcher.data_ : kNone;
  auto present = [&](size_t ci) {
    return ci < m.components.size() &&
           (m.components[ci].system_run || m.components[ci].user_runs > 0);
  };

  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node config = doc.append_child("Configuration");
  pugi::xml_node sections[3] = {config.append_child("Applications"),
                                config.append_child("Documents"),
                                config.append_child("WindowsComponents")};
  auto section = [&](std::string_view type) {
    std::string_view name = SectionOf(type);
    for (pugi::xml_node& n : sections) {
      if (name == n.name()) return n;
    }
    return sections[2];
  };
  // Components in file order; each under its parent's element, which comes
  // before it (a parent is parsed first).
  std::vector<pugi::xml_node> element(rs.components.size());
  for (size_t ci = 0; ci < rs.components.size(); ++ci) {
    const internal::ComponentSpec& c = rs.components[ci];
    if (c.native || c.id.empty() || !present(ci)) continue;
    pugi::xml_node parent;
    if (c.parent >= 0) {
      parent = element[static_cast<size_t>(c.parent)];
      if (!parent) continue;  // its parent is not present
    } else {
      parent = section(c.type);
    }
    pugi::xml_node n = parent.append_child("component");
    n.append_attribute("displayname") = c.name.c_str();
    n.append_attribute("migrate") = "yes";
    n.append_attribute("ID") = c.id.c_str();
    element[ci] = n;
  }
  pugi::xml_node policies = config.append_child("Policies");
  policies.append_child("ErrorControl")
      .append_child(pugi::node_comment)
      .set_value(kErrorControlExample);
  policies.append_child("HardLinkStoreControl")
      .append_child(pugi::node_comment)
      .set_value(kHardLinkExample);
  config.append_child("ProfileControl")
      .append_child(pugi::node_comment)
      .set_value(kMappingExample);
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace migstore
