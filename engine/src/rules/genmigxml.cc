// GenerateMigXml: ScanState's /genmigxml (docs/rules.md, "Generating a
// migration XML"). The document finder's patterns (doc_patterns.h) are
// written back with the variable of the folder they are anchored in, so
// the User-context component is one list for every user: each user's run
// expands it to that user's own patterns, plus the folders other users
// have at their profile's root, which name nothing in this user's profile
// (a real folder of that name there would be one of its own patterns).
// Every pattern written is expanded again here and checked against the
// finder's own text. The document is built with pugixml, so names with
// XML's special characters come out escaped.

#include <pugixml.hpp>

#include <algorithm>
#include <set>
#include <sstream>

#include "engine/base/case_fold.h"
#include "engine/src/rules/doc_patterns.h"
#include "engine/src/rules/expand.h"
#include "engine/src/rules/usmt_pattern.h"
#include "engine/src/rules/variables.h"
#include "migstore/display.h"
#include "migstore/matcher.h"

namespace migstore {
namespace {

using internal::DocPattern;

// Not a Microsoft URL: the file is migstore's, and its urlid must differ
// from MigDocs.xml's so that both can be loaded (a urlid loaded twice is
// an error).
constexpr char kUrlid[] = "urn:migstore:genmigxml:migdocs";
constexpr char kFilter[] = "MigXmlHelper.IgnoreIrrelevantLinks()";

// The variable a known folder is written with: USMT's CSIDL name where it
// has one, else migstore's (docs/rules.md, "Variables").
std::string VariableFor(std::string_view key, bool per_user) {
  const internal::VariableInfo* first = nullptr;
  for (const internal::VariableInfo& v : internal::AllVariables()) {
    if (v.per_user != per_user || key != v.key) continue;
    if (std::string_view(v.name).substr(0, 6) == "CSIDL_") return v.name;
    if (first == nullptr) first = &v;
  }
  return first != nullptr ? first->name : "";
}

// Escaped USMT text for a path below an anchor, '/' turned into '\'. A
// "%NAME%" in a folder name would be read back as a variable: its '%'
// becomes the wildcard '*' (noted by the caller).
std::string LiteralPart(std::string_view rel, bool* widened) {
  std::string text;
  for (char c : rel) text.push_back(c == '/' ? '\\' : c);
  text = internal::EscapeUsmt(text);
  size_t b, e, from = 0;
  while (internal::NextVariable(text, from, &b, &e)) {
    text[b] = '*';
    *widened = true;
    from = b + 1;
  }
  return text;
}

class Writer {
 public:
  explicit Writer(const Machine& m) : m_(m) {}

  // The pattern written for `p` in the scope of `profile` (null: system).
  std::string Text(const DocPattern& p, const UserProfile* profile) {
    std::string text;
    bool widened = false;
    switch (p.anchor) {
      case DocPattern::Anchor::kKnownFolder:
        text = "%" + VariableFor(p.key, profile != nullptr) + "%";
        break;
      case DocPattern::Anchor::kProfile: {
        text = "%USERPROFILE%";
        std::string_view rest = p.rel;
        rest.remove_prefix(std::min(rest.size(), profile->home.size()));
        if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
        if (!rest.empty()) text += "\\" + LiteralPart(rest, &widened);
        break;
      }
      case DocPattern::Anchor::kRoot:
        text = "C:";
        if (!p.rel.empty()) text += "\\" + LiteralPart(p.rel, &widened);
        break;
    }
    text +=
        p.kind == DocPattern::Kind::kTree ? "\\* [*]" : "\\ [" + p.leaf + "]";
    const std::string found = p.UsmtText();
    if (widened) {
      notes_.push_back("a name holds what reads as a %VARIABLE%; written as " +
                       text + " (broader) for " + found);
      return text;
    }
    // The variable must give back exactly what the finder generated.
    internal::Variables vars(m_, profile);
    std::string expanded, missing;
    if (!internal::ExpandUsmt(text, vars, {}, &expanded, &missing) ||
        expanded != found) {
      notes_.push_back("no variable stands for " + found +
                       "; written as found");
      return found;
    }
    return text;
  }

  std::vector<std::string> TakeNotes() { return std::move(notes_); }

 private:
  const Machine& m_;
  std::vector<std::string> notes_;
};

// Names as a comment may hold them: shown escaped (display.h), and
// without the "--" a comment cannot contain.
std::string CommentText(std::string_view name) {
  std::string text = DisplayText(name);
  for (size_t i = text.find("--"); i != std::string::npos;
       i = text.find("--", i))
    text.replace(i, 2, "- -");
  return text;
}

// The patterns without a folder's tree written twice: a folder found at
// the root or in the profile that is also a known folder the finder names
// is written once, with the known folder's variable.
std::vector<DocPattern> WithoutDuplicates(const Machine& m,
                                          std::vector<DocPattern> patterns) {
  const bool fold = m.layout == Layout::kWindows;
  auto same = [fold](std::string_view a, std::string_view b) {
    return fold ? internal::EqualsFolded(a, b) : a == b;
  };
  std::vector<DocPattern> out;
  for (const DocPattern& p : patterns) {
    bool named = false;
    if (p.kind == DocPattern::Kind::kTree &&
        p.anchor != DocPattern::Anchor::kKnownFolder) {
      for (const DocPattern& q : patterns) {
        named |= q.kind == DocPattern::Kind::kTree &&
                 q.anchor == DocPattern::Anchor::kKnownFolder &&
                 same(p.rel, q.rel);
      }
    }
    if (!named) out.push_back(p);
  }
  return out;
}

// Adds `text` to `list` unless it is there already (order kept).
void AddOnce(std::vector<std::string>* list, std::set<std::string>* seen,
             std::string text) {
  if (seen->insert(text).second) list->push_back(std::move(text));
}

void AppendRules(pugi::xml_node rules, const char* element,
                 const std::vector<std::string>& patterns) {
  if (patterns.empty()) return;
  pugi::xml_node n = rules.append_child(element);
  // As MigDocs.xml's include; its exclude carries the filter too, but a
  // filter does nothing on an exclude (docs/rules.md, "Filters").
  if (std::string_view(element) == "include")
    n.append_attribute("filter") = kFilter;
  pugi::xml_node set = n.append_child("objectSet");
  for (const std::string& p : patterns) {
    pugi::xml_node pattern = set.append_child("pattern");
    pattern.append_attribute("type") = "File";
    pattern.text() = p.c_str();
  }
}

void AppendComponent(pugi::xml_node migration, const char* context,
                     const char* name, const std::vector<std::string>& include,
                     const std::vector<std::string>& exclude) {
  if (include.empty() && exclude.empty()) return;
  pugi::xml_node c = migration.append_child("component");
  c.append_attribute("type") = "Documents";
  c.append_attribute("context") = context;
  c.append_child("displayName").text() = name;
  pugi::xml_node role = c.append_child("role");
  role.append_attribute("role") = "Data";
  pugi::xml_node rules = role.append_child("rules");
  AppendRules(rules, "include", include);
  AppendRules(rules, "exclude", exclude);
}

}  // namespace

GeneratedMigXml GenerateMigXml(const Machine& machine,
                               const std::vector<UserChoice>& users) {
  Writer writer(machine);
  std::vector<std::string> lists[4];  // system in, system ex, user in, ex
  std::set<std::string> seen[4];
  for (bool include : {true, false}) {
    const int i = include ? 0 : 1;
    for (const DocPattern& p : WithoutDuplicates(
             machine, internal::DocPatterns(machine, nullptr, include))) {
      AddOnce(&lists[i], &seen[i], writer.Text(p, nullptr));
    }
  }
  std::string names;
  for (const UserChoice& u : users) {
    if (!u.selected || u.profile >= machine.profiles.size()) continue;
    const UserProfile& profile = machine.profiles[u.profile];
    names += (names.empty() ? "" : ", ") + profile.name;
    for (bool include : {true, false}) {
      const int i = include ? 2 : 3;
      for (const DocPattern& p : WithoutDuplicates(
               machine, internal::DocPatterns(machine, &profile, include))) {
        AddOnce(&lists[i], &seen[i], writer.Text(p, &profile));
      }
    }
  }

  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  const std::string about =
      " Written by migstore genmigxml: the file rules MigDocs.xml's document "
      "finder\n     (MigXmlHelper.GenerateDocPatterns) generates on the " +
      std::string(LayoutName(machine.layout)) + " root " +
      CommentText(machine.root) + ",\n     for the users " +
      (names.empty() ? "(none)" : CommentText(names)) +
      ".\n     Edit it and give it to capture as a rules file in place of "
      "MigDocs.xml.\n     MigDocs.xml's <merge> for *.library-ms files is not "
      "part of the finder\n     and is not here. ";
  doc.append_child(pugi::node_comment).set_value(about.c_str());
  pugi::xml_node migration = doc.append_child("migration");
  migration.append_attribute("urlid") = kUrlid;
  AppendComponent(migration, "System", "MigDocSystem", lists[0], lists[1]);
  AppendComponent(migration, "User", "MigDocUser", lists[2], lists[3]);

  GeneratedMigXml out;
  std::ostringstream text;
  doc.save(text, "  ", pugi::format_default, pugi::encoding_utf8);
  out.xml = text.str();
  out.notes = writer.TakeNotes();
  return out;
}

}  // namespace migstore
