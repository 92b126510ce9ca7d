// RuleSet: the rules a capture is asked to apply, as read from their files
// and not yet bound to a machine. Two languages feed it (docs/rules.md):
//
//   - native rules files: one rule a line, `include`, `exclude` and
//     `unconditional-exclude` with glob patterns and %VARIABLES%;
//   - USMT migration XML (MigUser.xml, MigDocs.xml, custom files), the file
//     part of the language, plus a Config.xml that switches components off.
//
// AddFile tells the two apart by content: a file whose first non-blank byte
// is '<' is XML. Malformed input is an InvalidArgument whose message starts
// with "file:line:column:". Things that are understood but cannot apply to
// files (registry patterns, scripts migstore does not run, unknown elements)
// do not fail: they become diagnostics with their line.
//
// CompileRules (matcher.h) binds a RuleSet to a Machine and its selected
// users and produces the Matcher the capture uses.
//
// Thread safety: a RuleSet is a value; its const methods may be called from
// several threads at once, its mutators must not race with anything.

#ifndef MIGSTORE_RULES_H_
#define MIGSTORE_RULES_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/profiles.h"
#include "migstore/status.h"

namespace migstore {

// Something a rules file said that the user should know about. Notes are
// informational (a registry pattern skipped); warnings mean a rule does not
// do what it seems to (a filter migstore cannot apply).
struct RuleDiagnostic {
  enum class Severity : uint8_t { kNote, kWarning };
  Severity severity = Severity::kNote;
  std::string file;
  int line = 0;  // 1-based; 0 when not tied to a line
  int column = 0;
  std::string message;

  // "file:line:column: warning: message"
  std::string ToString() const;
};

namespace internal {
struct RuleSetData;
struct RuleSetAccess;
}  // namespace internal

class RuleSet {
 public:
  RuleSet();
  ~RuleSet();
  RuleSet(const RuleSet& other);
  RuleSet& operator=(const RuleSet& other);
  RuleSet(RuleSet&& other) noexcept;
  RuleSet& operator=(RuleSet&& other) noexcept;

  // Reads a native rules file or a USMT migration XML. A Config.xml here is
  // an InvalidArgument (use SetConfigFile), as is a second file with the
  // urlid of one already added (USMT ignores it; migstore says so).
  Status AddFile(const std::string& path);
  // The same for text in memory; `name` stands for the file in messages.
  Status AddText(std::string_view name, std::string_view text);

  // Reads a USMT Config.xml: components with migrate="no" are switched off,
  // Policies are kept for the capture. At most one.
  Status SetConfigFile(const std::string& path);
  Status SetConfigText(std::string_view name, std::string_view text);

  // Adds migstore's default rules for `layout` (docs/rules.md, "Built-in
  // rules"), used when no rules file is given.
  void AddBuiltIn(Layout layout);

  // True until a rules file, text or built-in set was added.
  bool empty() const;

  // Notes and warnings found while reading, in file order.
  const std::vector<RuleDiagnostic>& diagnostics() const;

 private:
  // CompileRules and the engine's tests read the parsed rules through
  // internal::RuleSetAccess (engine/src/rules/rule_model.h); the type is
  // the engine's own and not part of the API.
  friend struct internal::RuleSetAccess;

  internal::RuleSetData& mutable_data();

  std::shared_ptr<internal::RuleSetData> data_;
};

// The text of a built-in rule set, in the native language: what
// AddBuiltIn(layout) adds.
std::string_view BuiltInRulesText(Layout layout);

}  // namespace migstore

#endif  // MIGSTORE_RULES_H_
