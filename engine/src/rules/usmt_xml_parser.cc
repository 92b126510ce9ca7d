#include "engine/src/rules/usmt_xml_parser.h"

#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "engine/base/case_fold.h"
#include "engine/base/utf16.h"
#include "engine/src/rules/script_call.h"
#include "engine/src/rules/usmt_pattern.h"
#include "engine/src/rules/variables.h"
#include "engine/src/rules/xml_support.h"

namespace migstore::internal {
namespace {

using Severity = RuleDiagnostic::Severity;

// Elements that carry no file rules and need no report.
bool IsQuietElement(pugi::xml_node n) {
  for (std::string_view s :
       {"displayName", "paths", "_locDefinition", "description"}) {
    if (NameIs(n, s)) return true;
  }
  return false;
}

// Rule elements that only act at restore time or on the registry.
bool IsNotForCapture(pugi::xml_node n) {
  for (std::string_view s :
       {"includeAttributes", "excludeAttributes", "plugin"}) {
    if (NameIs(n, s)) return true;
  }
  return false;
}

bool HasElements(pugi::xml_node n) {
  for (pugi::xml_node c : n.children()) {
    if (c.type() == pugi::node_element) return true;
  }
  return false;
}

Context ParseContext(std::string_view v, Context fallback) {
  if (EqualsFolded(v, "User")) return Context::kUser;
  if (EqualsFolded(v, "System")) return Context::kSystem;
  if (EqualsFolded(v, "UserAndSystem")) return Context::kUserAndSystem;
  return fallback;
}

class MigrationParser {
 public:
  MigrationParser(RuleSetData* data, const XmlFile* xml, std::string urlid)
      : data_(data), xml_(xml), urlid_(std::move(urlid)) {}

  Status Parse(pugi::xml_node migration) {
    for (pugi::xml_node n : migration.children()) {
      if (NameIs(n, "namedElements")) {
        for (pugi::xml_node e : n.children()) {
          std::string_view name = Attr(e, "name");
          if (!name.empty()) named_[FoldedCopy(name)] = e;
        }
      }
    }
    for (pugi::xml_node n : migration.children()) {
      if (n.type() != pugi::node_element) continue;
      if (NameIs(n, "environment")) {
        ParseEnvironment(n, &file_env_, -1);
      }
    }
    const size_t first = data_->components.size();
    for (pugi::xml_node n : migration.children()) {
      if (n.type() != pugi::node_element) continue;
      if (NameIs(n, "component")) {
        MIGSTORE_RETURN_IF_ERROR(
            ParseComponent(n, -1, Context::kUserAndSystem));
        MIGSTORE_RETURN_IF_ERROR(too_many_conditions_);
      } else if (NameIs(n, "namedElements") || NameIs(n, "environment") ||
                 IsQuietElement(n)) {
        continue;
      } else if (NameIs(n, "library")) {
        // MigApp.xml names MigSys.dll, a plug-in of USMT's own helpers.
        Note(n,
             "<library> (a Windows plug-in of helper functions) is not "
             "loaded; the helpers migstore knows are its own");
      } else {
        Unknown(n);
      }
    }
    // A component sees its own variables first, then its parent's (which
    // end with the file's): a child of a Container uses the paths its
    // parent read (MigApp.xml's Adobe and Office suites).
    for (size_t i = first; i < data_->components.size(); ++i) {
      ComponentSpec& c = data_->components[i];
      const std::vector<EnvVariable>& outer =
          c.parent < 0 ? file_env_
                       : data_->components[static_cast<size_t>(c.parent)].env;
      if (!AppendVariables(migration, outer, &c.env)) break;
    }
    return too_many_conditions_;
  }

 private:
  void Note(pugi::xml_node n, std::string message) {
    data_->Diagnose(Severity::kNote, xml_->Loc(n), std::move(message));
  }
  void Warn(pugi::xml_node n, std::string message) {
    data_->Diagnose(Severity::kWarning, xml_->Loc(n), std::move(message));
  }
  void Unknown(pugi::xml_node n) {
    Warn(n, std::string("unknown element <") + n.name() + "> ignored");
  }

  // ParseComponent and ParseRole recurse once per nested component: no
  // deeper than XmlFile::Load allows (kMaxXmlDepth).
  Status ParseComponent(pugi::xml_node node, int parent, Context inherited) {
    ComponentSpec c;
    c.loc = xml_->Loc(node);
    c.parent = parent;
    c.context = ParseContext(Attr(node, "context"), inherited);
    c.type = std::string(Attr(node, "type"));
    std::string role;
    for (pugi::xml_node n : node.children()) {
      if (NameIs(n, "displayName")) c.name = TextOf(n);
      if (NameIs(n, "role") && role.empty())
        role = std::string(Attr(n, "role"));
    }
    if (c.name.empty()) c.name = "(unnamed component)";
    c.id = FoldedCopy(urlid_ + "/" + c.name + "/" + role);
    data_->components.push_back(std::move(c));
    const int index = static_cast<int>(data_->components.size() - 1);
    std::vector<ConditionNode> blocks;
    for (pugi::xml_node n : node.children()) {
      if (n.type() != pugi::node_element || IsQuietElement(n)) continue;
      if (NameIs(n, "role")) {
        MIGSTORE_RETURN_IF_ERROR(ParseRole(n, index, &blocks));
      } else if (!ParseDetectionElement(n, &blocks) &&
                 !ParseEnvElement(n, index)) {
        Unknown(n);
      }
    }
    ComponentSpec& self = data_->components[static_cast<size_t>(index)];
    if (!blocks.empty()) {
      self.detection.op = ConditionNode::Op::kOr;
      self.detection.children = std::move(blocks);
    }
    return Status::OK();
  }

  Status ParseRole(pugi::xml_node role, int index,
                   std::vector<ConditionNode>* blocks) {
    for (pugi::xml_node n : role.children()) {
      if (n.type() != pugi::node_element || IsQuietElement(n)) continue;
      if (NameIs(n, "rules")) {
        MIGSTORE_RETURN_IF_ERROR(ParseRules(n, index));
      } else if (NameIs(n, "component")) {
        Context ctx = data_->components[static_cast<size_t>(index)].context;
        MIGSTORE_RETURN_IF_ERROR(ParseComponent(n, index, ctx));
      } else if (NameIs(n, "plugin")) {
        Note(n,
             "<plugin> is a program USMT runs; not applicable to a file "
             "capture");
      } else if (!ParseDetectionElement(n, blocks) &&
                 !ParseEnvElement(n, index)) {
        Unknown(n);
      }
    }
    return Status::OK();
  }

  bool ParseEnvElement(pugi::xml_node n, int index) {
    if (!NameIs(n, "environment")) return false;
    ParseEnvironment(n, &data_->components[static_cast<size_t>(index)].env,
                     index);
    return true;
  }

  // An <environment>: its variables, gated by its <conditions> and
  // context; one without children and with a name refers to
  // <namedElements> (MigApp.xml's GlobalEnv and GlobalEnvX64), whose
  // variables `owner` (a component's index, -1 the file, -2 none) holds
  // once however often it refers to it.
  void ParseEnvironment(pugi::xml_node env, std::vector<EnvVariable>* out,
                        int owner) {
    std::string_view ref = Attr(env, "name");
    if (!ref.empty() && !HasElements(env)) {
      auto it = named_.find(FoldedCopy(ref));
      if (it == named_.end() || !NameIs(it->second, "environment") ||
          !HasElements(it->second)) {
        Warn(env, "no named environment '" + std::string(ref) +
                      "'; its variables are not defined");
        return;
      }
      auto [cached, fresh] = named_env_.try_emplace(it->second);
      if (fresh) ParseEnvironment(it->second, &cached->second, -2);
      if (!referred_.emplace(owner, it->second).second) return;
      if (CountVariables(env, cached->second))
        out->insert(out->end(), cached->second.begin(), cached->second.end());
      return;
    }
    ConditionNode gate;
    for (pugi::xml_node c : env.children()) {
      if (NameIs(c, "conditions")) AddCondition(c, &gate);
    }
    std::shared_ptr<const ConditionNode> shared_gate;
    if (!gate.empty())
      shared_gate = std::make_shared<const ConditionNode>(std::move(gate));
    const Context context =
        ParseContext(Attr(env, "context"), Context::kUserAndSystem);
    for (pugi::xml_node v : env.children()) {
      if (v.type() != pugi::node_element || NameIs(v, "conditions")) continue;
      if (!NameIs(v, "variable")) {
        Unknown(v);
        continue;
      }
      EnvVariable var;
      for (char ch : Attr(v, "name")) {
        var.name.push_back(
            ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch);
      }
      var.loc = xml_->Loc(v);
      var.context = context;
      var.conditions = shared_gate;
      bool have = false;
      for (pugi::xml_node t : v.children()) {
        if (NameIs(t, "text")) {
          var.value = TextOf(t);
          have = true;
        } else if (NameIs(t, "script") && IsRegistryRead(TextOf(t))) {
          var.script = TextOf(t);
          var.loc = xml_->TextLoc(t);
          have = true;
        } else if (t.type() == pugi::node_element) {
          Note(t, "variable %" + var.name + "% is set by <" + t.name() +
                      ">, which migstore does not evaluate; rules using it are "
                      "not applied");
        }
      }
      if (have && !var.name.empty() && CountVariables(v, {var}))
        out->push_back(std::move(var));
    }
  }

  // Appends to `out` the variables of `more` it does not hold yet: one
  // <variable> element reached twice (an environment referred to twice, a
  // container's variables) is the same variable, and a copy of it could
  // never win (the first of a name does).
  bool AppendVariables(pugi::xml_node n, const std::vector<EnvVariable>& more,
                       std::vector<EnvVariable>* out) {
    std::set<std::tuple<uint32_t, int, int>> have;
    for (const EnvVariable& v : *out)
      have.emplace(v.loc.file, v.loc.line, v.loc.column);
    std::vector<EnvVariable> added;
    for (const EnvVariable& v : more) {
      if (have.emplace(v.loc.file, v.loc.line, v.loc.column).second)
        added.push_back(v);
    }
    if (!CountVariables(n, added)) return false;
    out->insert(out->end(), std::make_move_iterator(added.begin()),
                std::make_move_iterator(added.end()));
    return true;
  }

  // Counts `vars` as given to a component, before they are; false (with
  // too_many_conditions_ set) past kMaxVariables variables or
  // kMaxVariableBytes of their text: each nested component copies its
  // container's.
  bool CountVariables(pugi::xml_node n, const std::vector<EnvVariable>& vars) {
    size_t bytes = 0;
    for (const EnvVariable& v : vars)
      bytes += v.name.size() + v.value.size() + v.script.size();
    if (variables_made_ + vars.size() <= kMaxVariables &&
        variable_bytes_ + bytes <= kMaxVariableBytes) {
      variables_made_ += vars.size();
      variable_bytes_ += bytes;
      return true;
    }
    TooMany(n, "the components hold more than " +
                   std::to_string(kMaxVariables) + " variables or " +
                   std::to_string(kMaxVariableBytes >> 20) +
                   " MiB of their text once <namedElements> references and "
                   "nesting are followed");
    return false;
  }

  void TooMany(pugi::xml_node n, const std::string& what) {
    if (too_many_conditions_.ok()) {
      too_many_conditions_ =
          Status::InvalidArgument(LocatedMessage(*data_, xml_->Loc(n), what));
    }
  }

  // MigXmlHelper.GetStringContent("Registry", "Key [Value]", ...): the
  // one variable script migstore runs (on the root's hives).
  static bool IsRegistryRead(const std::string& text) {
    ScriptCall call;
    size_t bad = 0;
    return ParseScriptCall(text, &call, &bad) &&
           call.function == "GetStringContent" && call.args.size() >= 2 &&
           EqualsFolded(call.args[0], "Registry");
  }

  // <detects>, <detect>, <detection> (maybe a reference to namedElements).
  bool ParseDetectionElement(pugi::xml_node n,
                             std::vector<ConditionNode>* blocks) {
    if (NameIs(n, "detects") || NameIs(n, "detection") || NameIs(n, "detect")) {
      blocks->push_back(ParseDetectionBlock(n, 0));
      return true;
    }
    return false;
  }

  // Counts the conditions and groups of `nodes` as made (CountCondition).
  // Recurses once per level of the trees (rule_model.h, ConditionNode).
  bool CountConditions(pugi::xml_node n,
                       const std::vector<ConditionNode>& nodes) {
    for (const ConditionNode& node : nodes) {
      for (size_t i = 0; i <= node.conditions.size(); ++i) {
        if (!CountCondition(n)) return false;
      }
      if (!CountConditions(n, node.children)) return false;
    }
    return true;
  }

  // Counts a condition or group made; false (with too_many_conditions_ set)
  // past the limit.
  bool CountCondition(pugi::xml_node n) {
    if (++conditions_made_ <= kMaxConditions) return true;
    TooMany(n, "the detections hold more than " +
                   std::to_string(kMaxConditions) +
                   " conditions once <namedElements> references are followed");
    return false;
  }

  ConditionNode ParseDetectionBlock(pugi::xml_node n, int depth) {
    ConditionNode node;
    if (!CountCondition(n)) return node;
    std::string_view ref = Attr(n, "name");
    if (!ref.empty() && !n.first_child() && depth < 8) {
      auto it = named_.find(FoldedCopy(ref));
      if (it == named_.end()) {
        Warn(n, "no named detection '" + std::string(ref) + "'; taken as true");
        return node;
      }
      return ParseDetectionBlock(it->second, depth + 1);
    }
    if (NameIs(n, "detects")) {
      node.op = ConditionNode::Op::kAnd;  // every <detect> must hold
      for (pugi::xml_node d : n.children()) {
        if (NameIs(d, "detect")) {
          node.children.push_back(ParseDetectionBlock(d, depth));
        } else if (NameIs(d, "condition") || NameIs(d, "conditions")) {
          AddCondition(d, &node);
        } else if (d.type() == pugi::node_element) {
          Unknown(d);
        }
      }
      return node;
    }
    // <detect>: its parts are OR'd; <detection>: AND unless <conditions> says.
    node.op =
        NameIs(n, "detect") ? ConditionNode::Op::kOr : ConditionNode::Op::kAnd;
    for (pugi::xml_node d : n.children()) {
      if (NameIs(d, "condition") || NameIs(d, "conditions")) {
        AddCondition(d, &node);
      } else if (d.type() == pugi::node_element) {
        Unknown(d);
      }
    }
    return node;
  }

  // Recurses once per nested <conditions>, as deep as XmlFile::Load allows.
  void AddCondition(pugi::xml_node n, ConditionNode* into) {
    if (!CountCondition(n)) return;
    if (NameIs(n, "conditions")) {
      ConditionNode group;
      group.op = EqualsFolded(Attr(n, "operation"), "OR")
                     ? ConditionNode::Op::kOr
                     : ConditionNode::Op::kAnd;
      for (pugi::xml_node c : n.children()) {
        if (NameIs(c, "condition") || NameIs(c, "conditions")) {
          AddCondition(c, &group);
        } else if (c.type() == pugi::node_element) {
          Unknown(c);
        }
      }
      into->children.push_back(std::move(group));
      return;
    }
    Condition cond;
    cond.text = TextOf(n);
    cond.loc = xml_->TextLoc(n);
    std::string_view neg = Attr(n, "negation");
    cond.negate = EqualsFolded(neg, "Yes") || EqualsFolded(neg, "TRUE");
    ScriptCall call;
    size_t bad;
    if (!ParseScriptCall(cond.text, &call, &bad)) {
      Warn(n, "cannot read condition '" + cond.text + "'; taken as true");
      return;
    }
    cond.function = call.function;
    cond.args = std::move(call.args);
    into->conditions.push_back(std::move(cond));
  }

  // A <rules> element, with the context and <conditions> of the <rules>
  // it is nested in (MigApp.xml nests <rules> with their own <conditions>
  // in a component's <rules>), or a reference to a named one. Recurses once
  // per nesting level and reference (at most 8 references deep).
  Status ParseRules(pugi::xml_node rules, int index,
                    const std::vector<ConditionNode>& outer_gates = {},
                    std::optional<Context> outer = std::nullopt,
                    int depth = 0) {
    std::string_view ref = Attr(rules, "name");
    if (!ref.empty() && !HasElements(rules)) {
      auto it = named_.find(FoldedCopy(ref));
      if (it == named_.end() || !NameIs(it->second, "rules")) {
        Warn(rules, "no named rules '" + std::string(ref) + "'; ignored");
        return Status::OK();
      }
      if (depth >= 8) {
        Warn(rules, "named rules '" + std::string(ref) +
                        "' refer to named rules more than 8 deep; ignored");
        return Status::OK();
      }
      std::optional<Context> here = outer;
      if (!Attr(rules, "context").empty()) {
        here = ParseContext(Attr(rules, "context"), Context::kUserAndSystem);
      }
      return ParseRules(it->second, index, outer_gates, here, depth + 1);
    }
    // Past a limit the file is refused: nothing more is worth building.
    if (!too_many_conditions_.ok()) return Status::OK();
    if (++groups_made_ > kMaxGroups) {
      TooMany(rules, "the components hold more than " +
                         std::to_string(kMaxGroups) +
                         " <rules> once <namedElements> references are "
                         "followed");
      return Status::OK();
    }
    const Context comp_context =
        data_->components[static_cast<size_t>(index)].context;
    RuleGroup group;
    group.context = Intersect(
        Intersect(comp_context, outer.value_or(comp_context)),
        ParseContext(Attr(rules, "context"), outer.value_or(comp_context)));
    // The outer <rules>' conditions are copied into this group: counted as
    // made first, so that nested and named <rules> cannot multiply them
    // unseen.
    if (!outer_gates.empty() && !CountConditions(rules, outer_gates))
      return Status::OK();
    std::vector<ConditionNode> gates = outer_gates;
    std::vector<pugi::xml_node> nested;
    for (pugi::xml_node n : rules.children()) {
      if (n.type() != pugi::node_element) continue;
      RuleAction action;
      if (NameIs(n, "include")) {
        action = RuleAction::kInclude;
      } else if (NameIs(n, "exclude")) {
        action = RuleAction::kExclude;
      } else if (NameIs(n, "unconditionalExclude")) {
        action = RuleAction::kUnconditionalExclude;
      } else if (NameIs(n, "merge") || NameIs(n, "locationModify") ||
                 NameIs(n, "contentModify") ||
                 NameIs(n, "destinationCleanup")) {
        MIGSTORE_RETURN_IF_ERROR(ParseRestore(n, &group));
        continue;
      } else if (NameIs(n, "processing") || NameIs(n, "externalProcess")) {
        ParseProcessing(n, &group);
        continue;
      } else if (NameIs(n, "addObjects")) {
        MIGSTORE_RETURN_IF_ERROR(ParseAddObjects(n, &group));
        continue;
      } else if (IsNotForCapture(n)) {
        Note(n, std::string("<") + n.name() +
                    "> acts at restore time or on the registry; not used to "
                    "choose files");
        continue;
      } else if (NameIs(n, "detects") || NameIs(n, "detection") ||
                 NameIs(n, "detect") || NameIs(n, "conditions")) {
        gates.push_back(ParseDetectionBlock(n, 0));
        continue;
      } else if (NameIs(n, "rules")) {
        nested.push_back(n);
        continue;
      } else {
        Unknown(n);
        continue;
      }
      std::string filter(Attr(n, "filter"));
      std::vector<PatternSource> sources;
      MIGSTORE_RETURN_IF_ERROR(ParseObjectSets(n, &sources));
      for (PatternSource& s : sources) {
        RuleSpec r;
        r.action = action;
        r.filter = filter;
        r.pattern = std::move(s);
        group.rules.push_back(std::move(r));
      }
    }
    if (!gates.empty()) {
      group.conditions.op = ConditionNode::Op::kAnd;
      group.conditions.children = gates;
    }
    const Context context = group.context;
    data_->components[static_cast<size_t>(index)].groups.push_back(
        std::move(group));
    for (pugi::xml_node n : nested)
      MIGSTORE_RETURN_IF_ERROR(ParseRules(n, index, gates, context, depth));
    return Status::OK();
  }

  // <addObjects>: registry values the capture takes as if the source held
  // them (MigApp.xml's Office "UpgradeVersion" markers). Each <object> is a
  // <location type="Registry">, its <attributes> (the value's type) and
  // <bytes> (hex, or text with string="Yes"); the <addObjects>' own
  // <conditions> gate them all.
  Status ParseAddObjects(pugi::xml_node n, RuleGroup* group) {
    ConditionNode gate;
    for (pugi::xml_node c : n.children()) {
      if (NameIs(c, "conditions") || NameIs(c, "condition"))
        AddCondition(c, &gate);
    }
    std::shared_ptr<const ConditionNode> shared_gate;
    if (!gate.empty())
      shared_gate = std::make_shared<const ConditionNode>(std::move(gate));
    for (pugi::xml_node o : n.children()) {
      if (o.type() != pugi::node_element || NameIs(o, "conditions") ||
          NameIs(o, "condition")) {
        continue;
      }
      if (NameIs(o, "script")) {
        Note(o,
             "<addObjects> <script> is not run; the objects it would add "
             "are not");
        continue;
      }
      if (!NameIs(o, "object")) {
        Unknown(o);
        continue;
      }
      pugi::xml_node location, attributes, bytes;
      for (pugi::xml_node c : o.children()) {
        if (NameIs(c, "location"))
          location = c;
        else if (NameIs(c, "attributes"))
          attributes = c;
        else if (NameIs(c, "bytes"))
          bytes = c;
        else if (c.type() == pugi::node_element)
          Unknown(c);
      }
      if (!location) {
        Warn(o, "<object> without a <location> adds nothing");
        continue;
      }
      if (!EqualsFolded(Attr(location, "type"), "Registry")) {
        Note(o, "an added object of type '" +
                    std::string(Attr(location, "type")) +
                    "' is not applied: migstore adds registry values only");
        continue;
      }
      AddObjectSpec spec;
      spec.location = TextOf(location);
      spec.loc = xml_->TextLoc(location);
      spec.conditions = shared_gate;
      MIGSTORE_RETURN_IF_ERROR(CheckPattern(spec.location, spec.loc, true));
      std::string why;
      if (!ValueType(TextOf(attributes), &spec.type, &why) ||
          !ValueData(bytes, spec.type, &spec.data, &why)) {
        Warn(o, "<object> " + spec.location + " adds nothing: " + why);
        continue;
      }
      group->add_objects.push_back(std::move(spec));
    }
    return Status::OK();
  }

  // <attributes> of a registry object: USMT's names ("None", "String",
  // "ExpandString", "Binary", "Dword", "REG_SZ") and the other REG_ names.
  static bool ValueType(const std::string& text, uint32_t* type,
                        std::string* why) {
    static constexpr std::pair<std::string_view, uint32_t> kTypes[] = {
        {"None", 0},      {"REG_NONE", 0},     {"String", 1},
        {"REG_SZ", 1},    {"ExpandString", 2}, {"REG_EXPAND_SZ", 2},
        {"Binary", 3},    {"REG_BINARY", 3},   {"Dword", 4},
        {"REG_DWORD", 4}, {"MultiString", 7},  {"REG_MULTI_SZ", 7},
        {"Qword", 11},    {"REG_QWORD", 11}};
    for (const auto& [name, number] : kTypes) {
      if (EqualsFolded(text, name)) {
        *type = number;
        return true;
      }
    }
    *why = "<attributes> '" + text + "' is not a registry value type";
    return false;
  }

  // <bytes>: pairs of hex digits, or with string="Yes" a text (stored
  // UTF-16LE with its NUL, as Windows stores REG_SZ). A DWORD takes 4
  // bytes, a QWORD 8.
  static bool ValueData(pugi::xml_node bytes, uint32_t type, std::string* data,
                        std::string* why) {
    const std::string text = TextOf(bytes);
    if (bytes && (EqualsFolded(Attr(bytes, "string"), "Yes") ||
                  EqualsFolded(Attr(bytes, "string"), "TRUE"))) {
      AppendUtf16Le(text, data);
      data->append(2, '\0');
    } else {
      auto nibble = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        return -1;
      };
      for (size_t i = 0; i < text.size(); i += 2) {
        const int hi = nibble(text[i]);
        const int lo = i + 1 < text.size() ? nibble(text[i + 1]) : -1;
        if (hi < 0 || lo < 0) {
          *why = "<bytes> must be pairs of hex digits";
          return false;
        }
        data->push_back(static_cast<char>(hi << 4 | lo));
      }
    }
    if ((type == 4 && data->size() != 4) || (type == 11 && data->size() != 8)) {
      *why = "<bytes> of a " + std::string(type == 4 ? "DWORD" : "QWORD") +
             " must be " + (type == 4 ? "4" : "8") + " bytes";
      return false;
    }
    return true;
  }

  // <processing when><script>…</script></processing> and
  // <externalProcess when><commandLine>…</commandLine></externalProcess>.
  void ParseProcessing(pugi::xml_node n, RuleGroup* group) {
    const bool command = NameIs(n, "externalProcess");
    std::string when(Attr(n, "when"));
    static constexpr std::string_view kWhen[] = {
        "pre-scan",  "scan-success",  "post-scan",
        "pre-apply", "apply-success", "post-apply"};
    bool known = false;
    for (std::string_view w : kWhen) {
      if (EqualsFolded(when, w)) {
        when = std::string(w);
        known = true;
      }
    }
    if (!known) {
      Warn(n, std::string("<") + n.name() + "> with when=\"" + when +
                  "\" is ignored (pre-scan, scan-success, post-scan, "
                  "pre-apply, apply-success or post-apply)");
      return;
    }
    bool any = false;
    for (pugi::xml_node c : n.children()) {
      if (c.type() != pugi::node_element) continue;
      if (NameIs(c, command ? "commandLine" : "script")) {
        ProcessingSpec p;
        p.when = when;
        p.command = command;
        p.text = TextOf(c);
        p.loc = xml_->TextLoc(c);
        if (!p.text.empty()) {
          group->processing.push_back(std::move(p));
          any = true;
        }
      } else {
        Unknown(c);
      }
    }
    if (!any) {
      Warn(n, std::string("<") + n.name() + "> without a " +
                  (command ? "<commandLine>" : "<script>") + " does nothing");
    }
  }

  Status ParseRestore(pugi::xml_node n, RuleGroup* group) {
    // A cleanup's filter chooses what is deleted: one migstore cannot run
    // would delete more than asked, so the whole cleanup is left out.
    if (NameIs(n, "destinationCleanup") && !Attr(n, "filter").empty()) {
      Warn(n, "<destinationCleanup filter=\"" + std::string(Attr(n, "filter")) +
                  "\"> is not applied: migstore runs no cleanup filter, and "
                  "without it the cleanup would delete more than asked");
      return Status::OK();
    }
    std::vector<PatternSource> sources;
    MIGSTORE_RETURN_IF_ERROR(ParseObjectSets(n, &sources));
    for (PatternSource& s : sources) {
      RestoreSpec r;
      r.kind =
          NameIs(n, "merge")            ? RestoreSpec::Kind::kMerge
          : NameIs(n, "locationModify") ? RestoreSpec::Kind::kLocationModify
          : NameIs(n, "contentModify")  ? RestoreSpec::Kind::kContentModify
                                       : RestoreSpec::Kind::kDestinationCleanup;
      r.script = std::string(Attr(n, "script"));
      r.pattern = std::move(s);
      group->restore.push_back(std::move(r));
    }
    return Status::OK();
  }

  Status ParseObjectSets(pugi::xml_node rule, std::vector<PatternSource>* out) {
    for (pugi::xml_node set : rule.children()) {
      if (set.type() != pugi::node_element) continue;
      if (!NameIs(set, "objectSet")) {
        Unknown(set);
        continue;
      }
      for (pugi::xml_node p : set.children()) {
        if (p.type() != pugi::node_element) continue;
        if (NameIs(p, "pattern")) {
          MIGSTORE_RETURN_IF_ERROR(ParsePattern(p, out));
        } else if (NameIs(p, "script")) {
          MIGSTORE_RETURN_IF_ERROR(ParseScript(p, out));
        } else if (NameIs(p, "content")) {
          Note(p,
               "<content> reads file names from registry values; not "
               "applicable");
        } else {
          Unknown(p);
        }
      }
    }
    return Status::OK();
  }

  Status CheckPattern(std::string_view text, const SourceLoc& loc,
                      bool registry = false) {
    std::string placeholder(text);
    size_t pos = 0, b, e;
    while (NextVariable(text, pos, &b, &e)) {
      for (size_t i = b; i < e; ++i) placeholder[i] = 'x';
      pos = e;
    }
    PatternParts parts;
    UsmtPatternError error;
    if (ParseUsmtPattern(placeholder, &parts, &error, registry) ||
        error.other_drive) {
      return Status::OK();
    }
    SourceLoc at = loc;
    at.column += static_cast<int>(error.offset);
    return Status::InvalidArgument(LocatedMessage(*data_, at, error.message));
  }

  Status ParsePattern(pugi::xml_node p, std::vector<PatternSource>* out) {
    std::string_view type = Attr(p, "type");
    std::string text = TextOf(p);
    if (EqualsFolded(type, "Ini")) {
      Note(p,
           "Ini pattern not applicable: migstore does not read .ini files "
           "by section: " +
               text);
      return Status::OK();
    }
    const bool registry = EqualsFolded(type, "Registry");
    if (!registry && !EqualsFolded(type, "File")) {
      Warn(p, "pattern of unknown type '" + std::string(type) +
                  "' ignored: " + text);
      return Status::OK();
    }
    PatternSource s;
    s.kind =
        registry ? PatternSource::Kind::kRegistry : PatternSource::Kind::kUsmt;
    s.text = std::move(text);
    s.loc = xml_->TextLoc(p);
    MIGSTORE_RETURN_IF_ERROR(CheckPattern(s.text, s.loc, registry));
    out->push_back(std::move(s));
    return Status::OK();
  }

  Status ParseScript(pugi::xml_node p, std::vector<PatternSource>* out) {
    PatternSource s;
    s.text = TextOf(p);
    s.loc = xml_->TextLoc(p);
    ScriptCall call;
    size_t bad = 0;
    if (!ParseScriptCall(s.text, &call, &bad)) {
      SourceLoc at = s.loc;
      at.column += static_cast<int>(bad);
      return Status::InvalidArgument(
          LocatedMessage(*data_, at, "cannot read script call"));
    }
    s.args = call.args;
    auto arity = [&](size_t n) -> Status {
      if (call.args.size() == n) return Status::OK();
      return Status::InvalidArgument(LocatedMessage(
          *data_, s.loc,
          call.function + " takes " + std::to_string(n) + " arguments"));
    };
    if (call.function == "GenerateDrivePatterns") {
      MIGSTORE_RETURN_IF_ERROR(arity(2));
      s.kind = PatternSource::Kind::kDrivePatterns;
      MIGSTORE_RETURN_IF_ERROR(CheckPattern(s.args[0], s.loc));
    } else if (call.function == "GenerateUserPatterns") {
      MIGSTORE_RETURN_IF_ERROR(arity(3));
      const bool registry = EqualsFolded(s.args[0], "Registry");
      if (!registry && !EqualsFolded(s.args[0], "File")) {
        Note(p, "GenerateUserPatterns of type " + s.args[0] +
                    " not applicable: " + s.text);
        return Status::OK();
      }
      s.kind = PatternSource::Kind::kUserPatterns;
      MIGSTORE_RETURN_IF_ERROR(CheckPattern(s.args[1], s.loc, registry));
    } else if (call.function == "GenerateDocPatterns") {
      s.kind = PatternSource::Kind::kDocPatterns;
      const char* defaults[] = {"FALSE", "TRUE", "FALSE"};
      for (size_t i = s.args.size(); i < 3; ++i)
        s.args.emplace_back(defaults[i]);
    } else {
      Note(p, "script " + call.name +
                  " is not run by migstore; the objects it names are "
                  "not captured");
      return Status::OK();
    }
    out->push_back(std::move(s));
    return Status::OK();
  }

  // A named detection may refer to others, each of those to more: eight
  // levels of ten references each would make 10^8 conditions (gigabytes)
  // from a 2 KB file. Microsoft's files hold a few thousand.
  static constexpr size_t kMaxConditions = 100000;
  // Likewise for <rules> (a named one may hold references to others) and
  // the variables components hold (each its own and its containers').
  // MigApp.xml makes a few hundred groups and a few thousand variables.
  static constexpr size_t kMaxGroups = 100000;
  static constexpr size_t kMaxVariables = 100000;
  static constexpr size_t kMaxVariableBytes = size_t{64} << 20;

  RuleSetData* data_;
  const XmlFile* xml_;
  std::string urlid_;
  std::map<std::string, pugi::xml_node> named_;
  std::map<pugi::xml_node, std::vector<EnvVariable>> named_env_;
  std::vector<EnvVariable> file_env_;
  size_t conditions_made_ = 0;
  size_t groups_made_ = 0;
  size_t variables_made_ = 0;
  size_t variable_bytes_ = 0;
  // (owner, named <environment>) pairs already followed (ParseEnvironment).
  std::set<std::pair<int, pugi::xml_node>> referred_;
  // The first time past kMaxConditions, kMaxGroups or kMaxVariables.
  Status too_many_conditions_;
};

}  // namespace

Status ParseMigrationXml(std::string_view name, std::string_view text,
                         RuleSetData* data) {
  RuleSetData scratch = *data;
  const uint32_t file = scratch.AddFile(name);
  XmlFile xml;
  MIGSTORE_RETURN_IF_ERROR(xml.Load(name, text, &scratch, file));
  pugi::xml_node root = xml.root();
  if (NameIs(root, "Configuration")) {
    return Status::InvalidArgument(LocatedMessage(
        scratch, xml.Loc(root), "this is a Config.xml; pass it with --config"));
  }
  if (!NameIs(root, "migration")) {
    return Status::InvalidArgument(LocatedMessage(
        scratch, xml.Loc(root), "the root element must be <migration>"));
  }
  std::string urlid(Attr(root, "urlid"));
  for (const std::string& seen : scratch.urlids) {
    if (!urlid.empty() && EqualsFolded(seen, urlid)) {
      return Status::InvalidArgument(LocatedMessage(
          scratch, xml.Loc(root),
          "urlid " + urlid +
              " is already loaded (USMT would ignore this file)"));
    }
  }
  scratch.urlids.push_back(urlid);
  MigrationParser parser(&scratch, &xml, urlid);
  MIGSTORE_RETURN_IF_ERROR(parser.Parse(root));
  scratch.has_rules = true;
  *data = std::move(scratch);
  return Status::OK();
}

}  // namespace migstore::internal
