// Explanation: why a path is taken or not, as Matcher::Explain reports it
// and `migstore explain` prints it: the deciding rule with its file:line,
// the rules it beat and why, and everything else that matched.
//
// Thread safety: plain values; FormatExplanation is a pure function.

#ifndef MIGSTORE_EXPLAIN_H_
#define MIGSTORE_EXPLAIN_H_

#include <string>
#include <vector>

namespace migstore {

// One rule as it applied to the path.
struct RuleRef {
  std::string action;    // "include", "exclude", "unconditional-exclude"
  std::string pattern;   // as written in its file
  std::string expanded;  // as applied: variables resolved, root-relative
  std::string file;
  int line = 0;
  int column = 0;
  std::string component;  // the component (USMT displayName, or native name)
  std::string user;       // whose variables were used; "" for system rules
  // For a rule that lost, or that the decider beat: why, e.g. "less
  // specific", "equally specific: exclude wins ties".
  std::string note;
};

struct Explanation {
  std::string path;
  bool is_directory = false;  // or, with `registry`, a key (not a value)
  bool registry = false;      // path is a registry "KEY [VALUE]" or "KEY"
  bool taken = false;
  std::string user;     // owning selected profile's name, "" if none
  std::string summary;  // one line: "taken by an include in component ..."
  bool has_decider = false;
  RuleRef decided_by;
  std::vector<RuleRef> beaten;  // rules the decider won against
  // Matching rules that neither decided nor lost to the decider (other
  // components' rules, rules beaten by an unconditional exclude...).
  std::vector<RuleRef> also_matched;
  // Matching rules of components that are switched off (Config.xml
  // migrate="no", detection false), with the reason in `note`.
  std::vector<RuleRef> inactive;
  // What will happen at restore: <merge>, <locationModify> and include
  // filters that apply to this path, one line each with file:line.
  std::vector<std::string> restore;
  // Directories only: Matcher::MayTakeBelow's answer.
  bool may_take_below = false;
};

// The human-readable form `migstore explain` prints; ends with a newline.
std::string FormatExplanation(const Explanation& explanation);

}  // namespace migstore

#endif  // MIGSTORE_EXPLAIN_H_
