// Reads arbitrary bytes as a rules file (RuleSet::AddText: native rules, or
// USMT XML when the first non-blank byte is '<') and compiles what it
// accepts for a small windows and a small linux machine.
// Properties: reading and compiling never crash; on the compiled matcher
// Decide agrees with Explain and MayTakeBelow never prunes a directory that
// holds a taken path (fuzz_machine.h).

#include <string_view>

#include "fuzz/fuzz_machine.h"
#include "fuzz/fuzz_target.h"
#include "migstore/rules.h"

using namespace migstore;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  RuleSet rules;
  Status s = rules.AddText("fuzz.rules", in);
  for (const RuleDiagnostic& d : rules.diagnostics()) d.ToString();
  if (!s.ok()) return 0;
  // Both layouts: %VARIABLES%, case folding and profile homes differ.
  fuzz::CheckMatcher(rules, fuzz::WindowsMachine());
  fuzz::CheckMatcher(rules, fuzz::LinuxMachine());
  return 0;
}
