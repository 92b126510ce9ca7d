#include "engine/src/rules/conditions.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "engine/base/case_fold.h"
#include "engine/src/fs/root_fs.h"
#include "engine/src/registry/content_modify.h"
#include "engine/src/rules/expand.h"
#include "engine/src/rules/registry_pattern.h"
#include "engine/src/rules/usmt_pattern.h"

namespace migstore::internal {
namespace {

using Type = GlobToken::Type;

// The file an object pattern names: a literal node and maybe a leaf.
struct ObjectRef {
  std::string dir;  // root-relative
  bool has_leaf = false;
  Glob leaf;
};

// An object's text with the scope's variables; false when one is undefined
// here (*per_user_missing: a per-user one, in system context).
bool ExpandObject(const std::string& text, const ConditionScope& scope,
                  std::string* expanded, bool* per_user_missing) {
  Variables vars(*scope.machine, scope.profile);
  std::string missing;
  static const std::vector<EnvVariable> kNoEnv;
  if (ExpandUsmt(text, vars, scope.env ? *scope.env : kNoEnv, expanded,
                 &missing)) {
    return true;
  }
  *per_user_missing = scope.profile == nullptr && IsPerUserVariable(missing);
  return false;
}

// Expands and parses an object pattern; nullopt when it cannot be decided
// (a variable undefined here, or wildcards in the node). *per_user_missing
// tells that a per-user variable was missing in system context.
std::optional<ObjectRef> ResolveObject(const std::string& text,
                                       const ConditionScope& scope,
                                       bool* per_user_missing) {
  std::string expanded;
  if (!ExpandObject(text, scope, &expanded, per_user_missing))
    return std::nullopt;
  PatternParts parts;
  UsmtPatternError error;
  if (!ParseUsmtPattern(expanded, &parts, &error)) return std::nullopt;
  ObjectRef ref;
  for (const GlobToken& t : parts.node) {
    if (t.type != Type::kLiteral) return std::nullopt;
    ref.dir += t.text;
  }
  if (!ref.dir.empty()) ref.dir.erase(0, 1);  // slashed to root-relative
  ref.has_leaf = parts.has_leaf;
  ref.leaf = Glob(parts.leaf);
  if (scope.machine->layout == Layout::kWindows) ref.leaf.FoldCase();
  return ref;
}

std::string ResolvedPath(const ConditionScope& scope, const std::string& rel) {
  if (scope.machine->layout == Layout::kWindows) {
    return JoinRoot(scope.machine->root,
                    ResolveNoCase(scope.machine->root, rel));
  }
  return JoinRoot(scope.machine->root, rel);
}

bool ObjectExists(const ObjectRef& ref, const ConditionScope& scope) {
  std::string dir = ResolvedPath(scope, ref.dir);
  if (!ref.has_leaf) return Exists(dir);
  Result<std::vector<DirChild>> children = ListChildren(dir);
  if (!children.ok()) return false;
  bool fold = scope.machine->layout == Layout::kWindows;
  for (const DirChild& c : *children) {
    if (ref.leaf.Match(fold ? FoldedCopy(c.name) : c.name)) return true;
  }
  return false;
}

bool SameObject(const ObjectRef& a, const ObjectRef& b,
                const ConditionScope& scope) {
  auto path_of = [&](const ObjectRef& r) {
    std::string p = r.dir;
    if (r.has_leaf && r.leaf.tokens().size() == 1 &&
        r.leaf.tokens()[0].type == Type::kLiteral) {
      p = JoinRel(p, r.leaf.tokens()[0].text);
    }
    return ResolvedPath(scope, p);
  };
  struct stat sa, sb;
  if (::stat(path_of(a).c_str(), &sa) != 0 ||
      ::stat(path_of(b).c_str(), &sb) != 0) {
    return false;
  }
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// Expands and reads a registry object ("HKLM\Software\Foo [Value]");
// nullopt when it cannot be decided (a variable undefined here, a wildcard
// in the key, a root other than HKCU and HKLM). HKCU in system context sets
// *per_user (decided per selected user).
std::optional<RegistryObject> ResolveRegistry(const std::string& text,
                                              const ConditionScope& scope,
                                              bool* per_user) {
  std::string expanded;
  if (!ExpandObject(text, scope, &expanded, per_user)) return std::nullopt;
  RegistryObject ref;
  if (!ParseRegistryObject(expanded, &ref)) return std::nullopt;
  if (ref.root == RegistryRoot::kCurrentUser && scope.profile == nullptr) {
    *per_user = true;
    return std::nullopt;
  }
  return ref;
}

Truth FromAnswer(registry::RegistryView::Answer a) {
  switch (a) {
    case registry::RegistryView::Answer::kNo:
      return Truth::kFalse;
    case registry::RegistryView::Answer::kYes:
      return Truth::kTrue;
    case registry::RegistryView::Answer::kUnknown:
      break;
  }
  return Truth::kUnknown;
}

// DoesObjectExist, DoesStringContentEqual and DoesStringContentContain on
// the registry.
Truth RegistryTruth(const Condition& c, const RegistryObject& ref,
                    const ConditionScope& scope) {
  registry::RegistryView& view = *scope.registry;
  if (c.function == "DoesObjectExist") {
    if (!ref.has_value)
      return FromAnswer(view.KeyExists(ref.key, scope.profile));
    registry::Hive::ValueData v;
    return FromAnswer(view.Value(ref.key, scope.profile, ref.value, &v));
  }
  if (!ref.has_value || ref.value == "*") return Truth::kUnknown;
  registry::Hive::ValueData v;
  Truth t = FromAnswer(view.Value(ref.key, scope.profile, ref.value, &v));
  if (t != Truth::kTrue) return t;
  std::optional<std::string> text = registry::StringForm(v);
  if (!text) return Truth::kFalse;
  const std::string& want = c.args[2];
  const bool holds = c.function == "DoesStringContentEqual"
                         ? *text == want
                         : text->find(want) != std::string::npos;
  return holds ? Truth::kTrue : Truth::kFalse;
}

// A number of up to nine digits.
std::optional<uint32_t> ParseNumber(std::string_view text) {
  uint32_t n = 0;
  if (text.empty() || text.size() > 9) return std::nullopt;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return n;
}

// "6.1", "10.0.19045": up to four numbers, the missing ones 0 ("6.1" is
// 6.1.0.0), so that versions of different lengths compare.
std::optional<std::vector<uint32_t>> ParseVersion(std::string_view text) {
  std::vector<uint32_t> parts;
  size_t start = 0;
  while (parts.size() < 4) {
    size_t end = text.find('.', start);
    std::optional<uint32_t> part = ParseNumber(text.substr(start, end - start));
    if (!part) return std::nullopt;
    parts.push_back(*part);
    if (end == std::string_view::npos) {
      parts.resize(4, 0);
      return parts;
    }
    start = end + 1;
  }
  return std::nullopt;
}

// The root's Windows version from its SOFTWARE hive: {major, minor, build, 0}
// (CurrentMajor/MinorVersionNumber from Windows 10 on, else CurrentVersion
// "6.1"); nullopt when it cannot be read.
std::optional<std::vector<uint32_t>> WindowsVersion(
    registry::RegistryView& view) {
  static constexpr char kKey[] =
      "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
  auto number = [&](const char* name) -> std::optional<uint32_t> {
    registry::Hive::ValueData v;
    if (view.Value(kKey, nullptr, name, &v) !=
        registry::RegistryView::Answer::kYes) {
      return std::nullopt;
    }
    std::optional<std::string> text = registry::StringForm(v);
    return text ? ParseNumber(*text) : std::nullopt;
  };
  std::vector<uint32_t> version;
  if (auto major = number("CurrentMajorVersionNumber")) {
    version = {*major, number("CurrentMinorVersionNumber").value_or(0), 0, 0};
  } else {
    registry::Hive::ValueData v;
    if (view.Value(kKey, nullptr, "CurrentVersion", &v) !=
        registry::RegistryView::Answer::kYes) {
      return std::nullopt;
    }
    std::optional<std::vector<uint32_t>> parsed;
    if (auto text = registry::StringForm(v)) parsed = ParseVersion(*text);
    if (!parsed) return std::nullopt;
    version = *parsed;
  }
  if (std::optional<uint32_t> build = number("CurrentBuildNumber"))
    version[2] = *build;
  return version;
}

// IsOSLaterThan(type, version) and IsOSEarlierThan: USMT's pages say
// "later than or equal" and "earlier than". Versions compare part by part
// (ParseVersion: "6.1" is 6.1.0.0).
Truth OsVersionTruth(const Condition& c, const ConditionScope& scope) {
  if (scope.machine->layout != Layout::kWindows || scope.registry == nullptr)
    return Truth::kUnknown;
  std::optional<std::vector<uint32_t>> want = ParseVersion(c.args[1]);
  if (!want) return Truth::kUnknown;
  std::optional<std::vector<uint32_t>> have = WindowsVersion(*scope.registry);
  if (!have) return Truth::kUnknown;
  // Every root with a Windows NT CurrentVersion key is an NT system.
  if (EqualsFolded(c.args[0], "9x")) return Truth::kFalse;
  if (!EqualsFolded(c.args[0], "NT") && !EqualsFolded(c.args[0], "All"))
    return Truth::kUnknown;
  const bool later_or_equal = !std::lexicographical_compare(
      have->begin(), have->end(), want->begin(), want->end());
  const bool later = c.function == "IsOSLaterThan";
  return later_or_equal == later ? Truth::kTrue : Truth::kFalse;
}

// Whether `c` asks whether something exists (or what it holds) at a place
// named with one of the component's variables that has no value in this run.
bool NamesUnset(const Condition& c, const ConditionScope& scope) {
  static constexpr std::string_view kAsksExistence[] = {
      "DoesObjectExist",
      "DoesFileVersionMatch",
      "IsFileVersionAbove",
      "IsFileVersionBelow",
      "DoesStringContentEqual",
      "DoesStringContentContain",
      "IsSameObject"};
  if (scope.unset == nullptr || scope.unset->empty() ||
      std::find(std::begin(kAsksExistence), std::end(kAsksExistence),
                c.function) == std::end(kAsksExistence)) {
    return false;
  }
  for (const std::string& arg : c.args) {
    size_t pos = 0, b, e;
    while (NextVariable(arg, pos, &b, &e)) {
      std::string_view name(arg.data() + b + 1, e - b - 2);
      if (scope.unset->count(FoldedCopy(name)) != 0) return true;
      pos = e;
    }
  }
  return false;
}

Truth Combine(Truth a, Truth b, bool is_or) {
  if (is_or) {
    if (a == Truth::kTrue || b == Truth::kTrue) return Truth::kTrue;
    if (a == Truth::kUnknown || b == Truth::kUnknown) return Truth::kUnknown;
    return Truth::kFalse;
  }
  if (a == Truth::kFalse || b == Truth::kFalse) return Truth::kFalse;
  if (a == Truth::kUnknown || b == Truth::kUnknown) return Truth::kUnknown;
  return Truth::kTrue;
}

Truth EvaluateOne(const Condition& c, const ConditionScope& scope,
                  std::vector<ConditionNote>* notes) {
  bool file_type = !c.args.empty() && EqualsFolded(c.args[0], "File");
  bool registry_type = !c.args.empty() && EqualsFolded(c.args[0], "Registry");
  bool per_user_missing = false;
  Truth t = Truth::kUnknown;
  if (registry_type && scope.registry != nullptr &&
      ((c.function == "DoesObjectExist" && c.args.size() == 2) ||
       ((c.function == "DoesStringContentEqual" ||
         c.function == "DoesStringContentContain") &&
        c.args.size() == 3))) {
    if (auto ref = ResolveRegistry(c.args[1], scope, &per_user_missing))
      t = RegistryTruth(c, *ref, scope);
  } else if (c.function == "DoesObjectExist" && file_type &&
             c.args.size() == 2) {
    if (auto ref = ResolveObject(c.args[1], scope, &per_user_missing)) {
      t = ObjectExists(*ref, scope) ? Truth::kTrue : Truth::kFalse;
    }
  } else if (c.function == "IsSameObject" && file_type && c.args.size() == 3) {
    auto a = ResolveObject(c.args[1], scope, &per_user_missing);
    auto b = ResolveObject(c.args[2], scope, &per_user_missing);
    if (a && b) t = SameObject(*a, *b, scope) ? Truth::kTrue : Truth::kFalse;
  } else if (c.function == "IsNative64Bit" && c.args.empty() &&
             scope.machine->layout == Layout::kWindows) {
    // 64-bit Windows keeps its 32-bit system in SysWOW64.
    t = Exists(ResolvedPath(scope, "Windows/SysWOW64")) ? Truth::kTrue
                                                        : Truth::kFalse;
  } else if ((c.function == "IsOSLaterThan" ||
              c.function == "IsOSEarlierThan") &&
             c.args.size() == 2) {
    t = OsVersionTruth(c, scope);
  } else if ((c.function == "DoesFileVersionMatch" ||
              c.function == "IsFileVersionAbove" ||
              c.function == "IsFileVersionBelow") &&
             c.args.size() == 3) {
    // No program is there, so no version matches; a program that is there
    // has a version migstore does not read (a PE resource): unknown.
    if (auto ref = ResolveObject(c.args[0], scope, &per_user_missing)) {
      if (!ObjectExists(*ref, scope)) {
        t = Truth::kFalse;
      } else {
        notes->push_back({c.loc, "condition " + c.text +
                                     ": the program's version is not read "
                                     "offline; taken as true"});
        return Truth::kUnknown;
      }
    }
  } else {
    notes->push_back({c.loc, "condition " + c.text +
                                 " cannot be decided offline; taken as true"});
    return Truth::kUnknown;
  }
  if (t == Truth::kUnknown && !per_user_missing && NamesUnset(c, scope)) {
    // The application's own path variable is not set here (the registry
    // value its script reads is not there): whatever the condition names
    // below it does not exist, as USMT finds.
    t = Truth::kFalse;
  }
  if (per_user_missing) {
    // System context, per-user folder: true when true for a selected user.
    t = Truth::kFalse;
    if (scope.selected.empty()) t = Truth::kUnknown;
    for (const UserProfile* p : scope.selected) {
      ConditionScope user = scope;
      user.profile = p;
      Condition positive = c;
      positive.negate = false;
      t = Combine(t, EvaluateOne(positive, user, notes), true);
    }
  } else if (t == Truth::kUnknown) {
    notes->push_back(
        {c.loc, "condition " + c.text +
                    " names something migstore cannot resolve here; taken "
                    "as true"});
  }
  if (c.negate && t != Truth::kUnknown)
    t = t == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
  return t;
}

}  // namespace

std::optional<std::string> RegistryString(const std::string& object,
                                          const ConditionScope& scope,
                                          bool* unknown) {
  *unknown = true;
  if (scope.registry == nullptr) return std::nullopt;
  bool per_user = false;
  std::optional<RegistryObject> ref = ResolveRegistry(object, scope, &per_user);
  if (!ref || !ref->has_value || ref->value == "*") return std::nullopt;
  registry::Hive::ValueData v;
  const registry::RegistryView::Answer a =
      scope.registry->Value(ref->key, scope.profile, ref->value, &v);
  if (a == registry::RegistryView::Answer::kUnknown) return std::nullopt;
  *unknown = false;
  if (a == registry::RegistryView::Answer::kNo) return std::nullopt;
  std::optional<std::string> text = registry::StringForm(v);
  while (text && !text->empty() &&
         (text->back() == '\\' || text->back() == ' ')) {
    text->pop_back();
  }
  if (!text || text->empty()) return std::nullopt;
  return text;
}

// Recurses once per level of the tree: the XML readers build no tree deeper
// than about 8 x kMaxXmlDepth (rule_model.h, ConditionNode).
Truth EvaluateConditions(const ConditionNode& node, const ConditionScope& scope,
                         std::vector<ConditionNote>* notes,
                         std::string* why_false) {
  if (node.empty()) return Truth::kTrue;
  bool is_or = node.op == ConditionNode::Op::kOr;
  Truth result = is_or ? Truth::kFalse : Truth::kTrue;
  std::string first_false;
  for (const Condition& c : node.conditions) {
    Truth t = EvaluateOne(c, scope, notes);
    if (t == Truth::kFalse && first_false.empty()) {
      first_false = (c.negate ? "negated condition " : "condition ") + c.text +
                    " is false";
    }
    result = Combine(result, t, is_or);
  }
  for (const ConditionNode& child : node.children) {
    std::string child_why;
    Truth t = EvaluateConditions(child, scope, notes, &child_why);
    if (t == Truth::kFalse && first_false.empty()) first_false = child_why;
    result = Combine(result, t, is_or);
  }
  if (result == Truth::kFalse && why_false != nullptr) *why_false = first_false;
  return result;
}

}  // namespace migstore::internal
