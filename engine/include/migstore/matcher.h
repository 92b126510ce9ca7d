// Matcher: a RuleSet compiled for one machine and its selected users. It
// answers, for a root-relative path, the three questions the capture walk
// asks:
//
//   Decide(path, kind)   is this entry taken?
//   MayTakeBelow(dir)    could anything below this directory be taken? When
//                        not, the walk prunes the whole subtree.
//   Explain(path, kind)  which rule decided, and what did it beat?
//
// Decisions follow USMT's precedence (docs/rules.md, "Precedence"): an
// unconditional exclude beats everything; within a component the most
// specific rule wins, a named directory beats an extension, and a tie goes
// to the exclude; an entry any component takes is taken. Entries inside the
// profile of a user who is not selected are never taken.
//
// Paths are root-relative byte strings, '/'-separated, without a leading or
// trailing '/' ("" is the root). Windows-layout paths are compared with
// ASCII case folding; other bytes, and every byte of a linux-layout path,
// compare exactly.
//
// Thread safety: a Matcher is an immutable value, cheap to copy (it shares
// its compiled tables). Decide, MayTakeBelow and Explain may be called from
// any number of threads at once. Decide and MayTakeBelow do not allocate
// once a thread has made its first call (each thread keeps a scratch buffer
// that only grows).

#ifndef MIGSTORE_MATCHER_H_
#define MIGSTORE_MATCHER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/explain.h"
#include "migstore/profiles.h"
#include "migstore/result.h"
#include "migstore/rules.h"
#include "migstore/user_selection.h"

namespace migstore {

enum class EntryKind : uint8_t {
  kFile,       // anything that is not a directory: file, symlink, fifo...
  kDirectory,  // the directory entry itself (kept even when empty)
};

// What a FileProperties filter reads of a file (docs/rules.md, "Filters").
struct FileFacts {
  uint64_t size = 0;
  // Birth time where the filesystem records one, else the change time; ns
  // since the Unix epoch, as the others.
  int64_t created_ns = 0;
  int64_t modified_ns = 0;
  int64_t accessed_ns = 0;
  // False when a store did not record that time: a filter on it then
  // passes (restore judges what the capture took; it took the entry).
  bool knows_created = true;
  bool knows_accessed = true;
};

struct Decision {
  bool taken = false;
  // Index into Machine::profiles of the selected profile whose home holds
  // the path, or -1 for a path outside every selected profile.
  int32_t profile = -1;
  // Not taken yet, but would be if the file's properties pass a
  // FileProperties filter of an include that matches it: ask again with
  // its FileFacts. Only ever set for files, and only when asked without.
  bool needs_facts = false;
};

// A USMT <merge> or <locationModify> rule as restore applies it to one
// path: the most specific rule of its kind that matches (docs/rules.md).
struct RestoreDirective {
  // The helper called, without "MigXmlHelper.": "SourcePriority",
  // "DestinationPriority", "FindFilePlaceByPattern", "Move", "RelativeMove",
  // "ExactMove", ... (empty when the script is not a call).
  std::string function;
  // Its arguments, variables expanded for the rule's user: USMT locations
  // such as "C:\Users\alice\Documents\Archive".
  std::vector<std::string> args;
  std::string script;   // as written
  std::string pattern;  // the rule's pattern as applied
  std::string file;
  int line = 0;
};

struct RestoreDirectives {
  std::optional<RestoreDirective> merge;
  std::optional<RestoreDirective> location_modify;
  // <contentModify>: registry values only (ForRestoreRegistry).
  std::optional<RestoreDirective> content_modify;
};

// A <processing> or <externalProcess> step of an active component
// (docs/rules.md, "Processing"): run before or after a capture or restore,
// and only when the user allows it.
struct ProcessingStep {
  // "pre-scan", "scan-success", "post-scan" (capture); "pre-apply",
  // "apply-success", "post-apply" (restore).
  std::string when;
  bool command = false;  // a command line; else a helper script call
  // The command line or the script call, as written.
  std::string text;
  std::string function;  // the script's helper ("KillExplorer"); "" for a
                         // command
  std::string component;
  std::string file;
  int line = 0;
};

// A registry value an <addObjects> rule of an active component says the
// source holds (docs/rules.md, "Registry"): the capture takes it when the
// rules take it and the hive holds no value of that name.
struct AddedRegistryValue {
  std::string key;       // "HKLM\SOFTWARE\Foo" or "HKCU\Software\Foo"
  int32_t profile = -1;  // Machine::profiles index for HKCU; -1 for HKLM
  std::string name;      // "" the default value
  uint32_t type = 0;
  std::string data;
  std::string file;  // the rule's
  int line = 0;
};

namespace internal {
struct MatcherData;
}  // namespace internal

class Matcher {
 public:
  // A matcher with no rules: takes nothing.
  Matcher();
  ~Matcher();
  Matcher(const Matcher&);
  Matcher& operator=(const Matcher&);
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;

  // `facts`, when given, are the file's, for the includes that carry a
  // FileProperties filter; without them such an include only sets
  // Decision::needs_facts (so the walk stats only the files it concerns).
  Decision Decide(std::string_view path, EntryKind kind,
                  const FileFacts* facts = nullptr) const;

  // False only when no entry strictly below `dir` can be taken, so the walk
  // may skip the subtree. May say true for a subtree that turns out to hold
  // nothing taken; never false for one that holds something.
  bool MayTakeBelow(std::string_view dir) const;

  // Registry keys and values of an offline Windows root (docs/rules.md,
  // "Registry"). `key` is the key's full path, "HKCU\Software\Foo" or
  // "HKLM\SOFTWARE\Foo"; `profile` is the Machine::profiles index of the
  // user whose hive holds an HKCU key (ignored for HKLM). With `value` null
  // the question is about the key itself (an empty key a rule names is
  // kept); else about its value of that name ("" the default value).
  Decision DecideRegistry(std::string_view key, int32_t profile,
                          const std::string* value) const;
  // As MayTakeBelow, for the subkeys and values of `key`.
  bool MayTakeBelowRegistry(std::string_view key, int32_t profile) const;
  // Registry rules in force; 0 when no rule names the registry.
  size_t registry_rule_count() const;

  // The decision with its reasons. Slower than Decide; allocates.
  Explanation Explain(std::string_view path, EntryKind kind) const;
  // The same for a registry key (`value` null) or value, with
  // DecideRegistry's arguments; the explanation's path is "KEY [VALUE]".
  Explanation ExplainRegistry(std::string_view key, int32_t profile,
                              const std::string* value) const;

  // The <merge> and <locationModify> rules restore applies to `path` (the
  // most specific of each kind), from components that are active. Allocates.
  RestoreDirectives ForRestore(std::string_view path, EntryKind kind) const;
  // Whether any <merge> or <locationModify> rule is in force.
  bool has_restore_rules() const;

  // Whether restore leaves `path` out: it is taken only by includes whose
  // filter is NeverRestore() (an include without one, in any component,
  // restores it). `facts` are the entry's as captured, for includes that
  // filter by FileProperties (null: such an include counts as taking it).
  // Call only when has_never_restore().
  bool NeverRestored(std::string_view path, EntryKind kind,
                     const FileFacts* facts = nullptr) const;
  // Whether any include in force carries NeverRestore().
  bool has_never_restore() const;
  // Whether any rule acts at restore: the above, contentModify,
  // destinationCleanup or a processing step.
  bool has_restore_time_rules() const;

  // The registry's <merge> and <contentModify> rules for value `value` of
  // `key` (DecideRegistry's arguments), the most specific of each kind.
  RestoreDirectives ForRestoreRegistry(std::string_view key, int32_t profile,
                                       const std::string& value) const;
  bool has_registry_restore_rules() const;

  // <destinationCleanup>: whether restore deletes this object of the target
  // before it applies the store (taken == deleted), and whether anything
  // below a folder or key may be; as Decide and MayTakeBelow. Only target
  // objects that exist before the restore are asked about.
  Decision CleansUp(std::string_view path, EntryKind kind) const;
  bool MayCleanUpBelow(std::string_view dir) const;
  Decision CleansUpRegistry(std::string_view key, int32_t profile,
                            const std::string* value) const;
  bool MayCleanUpBelowRegistry(std::string_view key, int32_t profile) const;
  size_t cleanup_rule_count() const;           // of files
  size_t registry_cleanup_rule_count() const;  // of the registry

  // The <processing> and <externalProcess> steps to run at `when`, in the
  // order the rules files list them, each once.
  std::vector<ProcessingStep> Processing(std::string_view when) const;

  // The <addObjects> registry values of active components, each once.
  const std::vector<AddedRegistryValue>& AddedRegistryValues() const;

  // Diagnostics from reading the rules and from binding them to the
  // machine (variables undefined on this layout, conditions that files
  // cannot decide, components switched off by Config.xml).
  const std::vector<RuleDiagnostic>& diagnostics() const;

  // Rules in force after expansion (one per pattern and profile).
  size_t rule_count() const;

 private:
  friend Result<Matcher> CompileRules(const RuleSet&, const Machine&,
                                      const std::vector<UserChoice>&);
  friend std::string GenerateConfigXml(const RuleSet&, const Matcher&);
  explicit Matcher(std::shared_ptr<const internal::MatcherData> data);

  std::shared_ptr<const internal::MatcherData> data_;
};

// Binds `rules` to `machine`: per-user rules are expanded for every profile
// `users` selects, variables are resolved, helpers run and conditions are
// evaluated against the files under the root. `users` is SelectUsers'
// output for `machine`. An empty RuleSet is InvalidArgument (ask for the
// built-in rules explicitly).
Result<Matcher> CompileRules(const RuleSet& rules, const Machine& machine,
                             const std::vector<UserChoice>& users);

// What ScanState /genconfig writes (docs/rules.md, "Generating Config.xml"):
// a Config.xml listing every USMT component of `rules` present on the
// machine `matcher` was compiled for (detected, and not switched off),
// nested as the rules nest them, each migrate="yes", under Applications,
// Documents or WindowsComponents by its type, with the Policies and
// ProfileControl sections commented as USMT writes them. Given back as
// --config it selects what the rules alone select; set migrate="no" to
// leave a component out. Native rules have no components and add none.
std::string GenerateConfigXml(const RuleSet& rules, const Matcher& matcher);

// What ScanState /genmigxml writes (docs/rules.md, "Generating a migration
// XML"): the document finder's file rules, that is what MigDocs.xml's
// MigXmlHelper.GenerateDocPatterns selects on `machine` for the users
// `users` selects (SelectUsers' output), as a USMT migration XML with a
// System-context and a User-context component of <include> and <exclude>
// File patterns. A path in a known folder or a profile is written with its
// variable (%CSIDL_PERSONAL%, %USERPROFILE%), so the User component holds
// what every selected user's run generates. Given back as a rules file in
// place of MigDocs.xml, it selects the same files on this machine.
struct GeneratedMigXml {
  std::string xml;
  // What the file does not say as found: a folder name that would read
  // as a %VARIABLE% is written with '*' for its '%' (broader, never
  // narrower).
  std::vector<std::string> notes;
};
GeneratedMigXml GenerateMigXml(const Machine& machine,
                               const std::vector<UserChoice>& users);

}  // namespace migstore

#endif  // MIGSTORE_MATCHER_H_
