// The rules as read from their files, before they are bound to a machine:
// what both front ends (native_rules_parser, usmt_xml_parser) produce and
// the compiler consumes. Nothing here has variables resolved.
//
// Thread safety: plain values.

#ifndef MIGSTORE_ENGINE_SRC_RULES_RULE_MODEL_H_
#define MIGSTORE_ENGINE_SRC_RULES_RULE_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "migstore/rules.h"

namespace migstore::internal {

enum class RuleAction : uint8_t { kInclude, kExclude, kUnconditionalExclude };

// "include", "exclude", "unconditional-exclude".
const char* RuleActionName(RuleAction action);

// Where rules run: once per selected user, once for the system, or both.
enum class Context : uint8_t { kUser = 1, kSystem = 2, kUserAndSystem = 3 };

inline bool HasUser(Context c) { return (static_cast<int>(c) & 1) != 0; }
inline bool HasSystem(Context c) { return (static_cast<int>(c) & 2) != 0; }
inline Context Intersect(Context a, Context b) {
  return static_cast<Context>(static_cast<int>(a) & static_cast<int>(b));
}

struct SourceLoc {
  uint32_t file = 0;  // index into RuleSetData::files
  int line = 0;
  int column = 0;
};

// One pattern as written, or a helper call that generates patterns.
struct PatternSource {
  enum class Kind : uint8_t {
    kNative,         // a native-language glob
    kUsmt,           // <pattern type="File">Node [Leaf]</pattern>
    kRegistry,       // <pattern type="Registry">HKCU\Key [Value]</pattern>
    kDrivePatterns,  // MigXmlHelper.GenerateDrivePatterns(pattern, driveType)
    kUserPatterns,   // MigXmlHelper.GenerateUserPatterns(type, pattern,
                     // processCurrent); args[0] "File" or "Registry"
    kDocPatterns,    // MigXmlHelper.GenerateDocPatterns(programFiles, include,
                     // systemDrive)
  };
  Kind kind = Kind::kNative;
  std::string text;               // the pattern, or the whole script text
  std::vector<std::string> args;  // helper arguments
  SourceLoc loc;
};

struct RuleSpec {
  RuleAction action = RuleAction::kInclude;
  PatternSource pattern;
  std::string filter;  // USMT filter script, "" for none
};

// <merge>, <locationModify>, <contentModify> and <destinationCleanup>: not
// used to choose what is captured, kept for restore.
struct RestoreSpec {
  enum class Kind : uint8_t {
    kMerge,
    kLocationModify,
    kContentModify,
    kDestinationCleanup,
  };
  Kind kind = Kind::kMerge;
  std::string script;  // "MigXmlHelper.DestinationPriority()"
  PatternSource pattern;
};

// <processing when> (a helper script) and <externalProcess when> (a
// command line): steps run before or after a capture or restore, only when
// the user allows them.
struct ProcessingSpec {
  std::string when;      // "pre-scan", ..., "post-apply", as written
  bool command = false;  // <externalProcess><commandLine>; else a <script>
  std::string text;      // the command line or the script call
  SourceLoc loc;
};

struct Condition {
  std::string function;  // without the "MigXmlHelper." prefix
  std::vector<std::string> args;
  std::string text;  // as written, for messages
  bool negate = false;
  SourceLoc loc;
};

// A tree of conditions; an empty node is true. Copies, destruction and
// evaluation recurse once per level: the readers keep trees within about
// 8 x kMaxXmlDepth levels (xml_support.h; <namedElements> references are
// followed at most 8 deep, each up to kMaxXmlDepth), well within a stack.
struct ConditionNode {
  enum class Op : uint8_t { kAnd, kOr };
  Op op = Op::kAnd;
  std::vector<Condition> conditions;
  std::vector<ConditionNode> children;
  bool empty() const { return conditions.empty() && children.empty(); }
};

// An <addObjects> <object> of the registry: a value the capture takes as
// if the source held it (docs/rules.md, "Registry").
struct AddObjectSpec {
  std::string location;  // "HKLM\Key [Value]" as written
  uint32_t type = 0;     // REG_NONE .. REG_QWORD
  std::string data;      // the value's bytes
  std::shared_ptr<const ConditionNode> conditions;  // the <addObjects>'
  SourceLoc loc;
};

// A <rules> element: its own context and conditions.
struct RuleGroup {
  Context context = Context::kUserAndSystem;
  ConditionNode conditions;
  std::vector<RuleSpec> rules;
  std::vector<RestoreSpec> restore;
  std::vector<ProcessingSpec> processing;
  std::vector<AddObjectSpec> add_objects;
};

// An <environment> <variable>: a text, or a helper script run when the
// rules are bound to a machine (GetStringContent reads the root's hives).
struct EnvVariable {
  std::string name;    // upper case
  std::string value;   // <text> as written; may use other variables
  std::string script;  // <script> as written; "" for a <text>
  // The <environment>'s context (a User one is not defined in the system
  // run) and its <conditions> (the variable exists where they hold; null
  // for none), shared by the environment's variables.
  Context context = Context::kUserAndSystem;
  std::shared_ptr<const ConditionNode> conditions;
  SourceLoc loc;
};

struct ComponentSpec {
  std::string name;  // displayName, or the native component's name
  std::string id;    // USMT: "urlid/displayname/role", lower case; "" native
  std::string type;  // USMT: "Application", "Documents", "System", ...; ""
                     // native or unset
  Context context = Context::kUserAndSystem;
  bool native = false;  // native-language rules (patterns are kNative)
  SourceLoc loc;
  int parent = -1;          // index of the enclosing component, -1 for none
  ConditionNode detection;  // empty: always present
  std::vector<EnvVariable> env;
  std::vector<RuleGroup> groups;
};

struct ConfigEntry {
  std::string id;  // lower case
  std::string displayname;
  bool migrate = true;  // after the parents' migrate="no"
  SourceLoc loc;
};

// Config.xml <Policies> and <ProfileControl> entries, kept for the capture
// and restore: ErrorControl, HardLinkStoreControl, user and domain maps.
struct PolicyRule {
  std::string section;  // "fileError", "registryError", "fileLocked", "users",
                        // "domains"
  std::string kind;  // "nonFatal", "fatal", "createHardLink", "errorHardLink",
                     // "user", "domain"
  std::string code;  // errorCode attribute
  std::string pattern;  // text, or "from" for maps
  std::string to;       // maps only
  SourceLoc loc;
};

struct ConfigSpec {
  uint32_t file = 0;
  std::vector<ConfigEntry> components;
  std::vector<PolicyRule> policies;
};

struct RuleSetData {
  std::vector<std::string> files;  // names for messages
  std::vector<std::string> urlids;
  std::vector<ComponentSpec> components;
  bool has_config = false;
  ConfigSpec config;
  std::vector<RuleDiagnostic> diagnostics;
  bool has_rules = false;

  uint32_t AddFile(std::string_view name) {
    files.emplace_back(name);
    return static_cast<uint32_t>(files.size() - 1);
  }
  void Diagnose(RuleDiagnostic::Severity severity, const SourceLoc& loc,
                std::string message) {
    diagnostics.push_back(
        {severity, files[loc.file], loc.line, loc.column, std::move(message)});
  }
};

// The parsed rules behind a RuleSet, for CompileRules and the engine's tests
// (RuleSet keeps them private: the type is not part of the API).
struct RuleSetAccess {
  static const RuleSetData& Data(const RuleSet& rules) { return *rules.data_; }
};

// "file:line:column: message", the prefix of every syntax error.
std::string LocatedMessage(const RuleSetData& data, const SourceLoc& loc,
                           std::string_view message);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_RULE_MODEL_H_
