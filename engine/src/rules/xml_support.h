// What both USMT XML readers need around pugixml: loading text (UTF-8 with
// or without a BOM, or UTF-16 with one) while keeping byte offsets usable,
// turning offsets into line:column, and case-insensitive element names.
// pugixml does not throw with its default build; nothing here does.
//
// Thread safety: an XmlFile is used by one thread.

#ifndef MIGSTORE_ENGINE_SRC_RULES_XML_SUPPORT_H_
#define MIGSTORE_ENGINE_SRC_RULES_XML_SUPPORT_H_

#include <pugixml.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "engine/src/rules/rule_model.h"
#include "migstore/status.h"

namespace migstore::internal {

// How deep elements may nest in a rules file or Config.xml (docs/rules.md,
// "USMT migration XML"); Microsoft's files nest about 10 deep. Load refuses
// deeper files, so the readers that recurse once per level (components in
// roles, <conditions> in <conditions>, Config.xml components) and the
// ConditionNode trees they build (evaluated, copied and destroyed
// recursively) stay within a few hundred stack frames.
inline constexpr int kMaxXmlDepth = 100;

class XmlFile {
 public:
  // Parses `text`; InvalidArgument "name:line:column: ..." when it is not
  // well-formed XML or nests elements deeper than kMaxXmlDepth.
  Status Load(std::string_view name, std::string_view text, RuleSetData* data,
              uint32_t file);

  pugi::xml_node root() const { return doc_.document_element(); }

  // Where a node starts (its name for elements, its first byte for text).
  SourceLoc Loc(pugi::xml_node node) const;
  // Where an element's text content starts; the element's own location when
  // it has none.
  SourceLoc TextLoc(pugi::xml_node node) const;

  uint32_t file() const { return file_; }

 private:
  SourceLoc LocOfOffset(ptrdiff_t offset) const;
  // The first element (in document order) deeper than kMaxXmlDepth; null
  // when there is none. A loop, not a recursion: it runs before the depth
  // is known to be safe.
  pugi::xml_node FirstTooDeep() const;

  std::string utf8_;  // the text parsed, converted to UTF-8 when needed
  std::vector<size_t> line_starts_;
  pugi::xml_document doc_;
  uint32_t file_ = 0;
};

// Element names compared ASCII case-insensitively: USMT's own documents
// spell <unconditionalExclude> both ways.
bool NameIs(pugi::xml_node node, std::string_view name);

// An attribute's value looked up case-insensitively; "" when absent.
std::string_view Attr(pugi::xml_node node, std::string_view name);

// The element's text content, blanks at both ends removed.
std::string TextOf(pugi::xml_node node);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_XML_SUPPORT_H_
