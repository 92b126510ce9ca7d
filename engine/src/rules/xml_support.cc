#include "engine/src/rules/xml_support.h"

#include <algorithm>

#include "engine/base/case_fold.h"
#include "engine/base/utf16.h"

namespace migstore::internal {
Status XmlFile::Load(std::string_view name, std::string_view text,
                     RuleSetData* data, uint32_t file) {
  file_ = file;
  if (text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0xFF &&
      static_cast<unsigned char>(text[1]) == 0xFE) {
    utf8_ = Utf16ToUtf8(text.substr(2), true);
  } else if (text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0xFE &&
             static_cast<unsigned char>(text[1]) == 0xFF) {
    utf8_ = Utf16ToUtf8(text.substr(2), false);
  } else if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") {
    utf8_ = std::string(text.substr(3));
  } else {
    utf8_ = std::string(text);
  }
  line_starts_.assign(1, 0);
  for (size_t i = 0; i < utf8_.size(); ++i) {
    if (utf8_[i] == '\n') line_starts_.push_back(i + 1);
  }
  pugi::xml_parse_result r = doc_.load_buffer(
      utf8_.data(), utf8_.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) {
    SourceLoc at = LocOfOffset(r.offset);
    return Status::InvalidArgument(LocatedMessage(
        *data, at, std::string("not well-formed XML: ") + r.description()));
  }
  if (pugi::xml_node deep = FirstTooDeep()) {
    return Status::InvalidArgument(LocatedMessage(
        *data, Loc(deep),
        std::string("element <") + deep.name() + "> is nested deeper than " +
            std::to_string(kMaxXmlDepth) + " levels, the most migstore reads"));
  }
  (void)name;
  return Status::OK();
}

pugi::xml_node XmlFile::FirstTooDeep() const {
  // Only elements have children; the document element is at depth 1.
  int depth = 1;
  pugi::xml_node n = doc_.first_child();
  while (n) {
    if (n.type() == pugi::node_element && depth > kMaxXmlDepth) return n;
    if (n.first_child()) {
      n = n.first_child();
      ++depth;
      continue;
    }
    while (n && !n.next_sibling()) {
      n = n.parent();
      --depth;
    }
    if (n) n = n.next_sibling();
  }
  return {};
}

SourceLoc XmlFile::LocOfOffset(ptrdiff_t offset) const {
  SourceLoc loc;
  loc.file = file_;
  if (offset < 0) return loc;
  auto off = static_cast<size_t>(offset);
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
  size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
  loc.line = static_cast<int>(line);
  loc.column = static_cast<int>(off - line_starts_[line - 1]) + 1;
  return loc;
}

SourceLoc XmlFile::Loc(pugi::xml_node node) const {
  SourceLoc loc = LocOfOffset(node.offset_debug());
  // offset_debug points at the element's name; report the '<' before it.
  if (node.type() == pugi::node_element && loc.column > 1) --loc.column;
  return loc;
}

SourceLoc XmlFile::TextLoc(pugi::xml_node node) const {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      SourceLoc loc = LocOfOffset(c.offset_debug());
      // Skip the blanks that TextOf trims.
      std::string_view v = c.value();
      size_t lead = 0;
      while (lead < v.size() && (v[lead] == ' ' || v[lead] == '\t')) ++lead;
      if (lead < v.size() && v[lead] != '\n' && v[lead] != '\r') {
        loc.column += static_cast<int>(lead);
      }
      return loc;
    }
  }
  return Loc(node);
}

bool NameIs(pugi::xml_node node, std::string_view name) {
  return node.type() == pugi::node_element && EqualsFolded(node.name(), name);
}

std::string_view Attr(pugi::xml_node node, std::string_view name) {
  for (pugi::xml_attribute a = node.first_attribute(); a;
       a = a.next_attribute()) {
    if (EqualsFolded(a.name(), name)) return a.value();
  }
  return {};
}

std::string TextOf(pugi::xml_node node) {
  std::string s;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata)
      s += c.value();
  }
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace migstore::internal
