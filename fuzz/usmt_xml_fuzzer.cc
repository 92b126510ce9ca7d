// Reads arbitrary bytes as USMT migration XML and as a USMT Config.xml, and
// compiles what is accepted for a small windows and a small linux machine.
// Input that does not open like a document (a BOM, an XML declaration or
// the root element) is wrapped as the <rules> of one component: such input
// would otherwise be read as native rules (rules_text_fuzzer's job) or
// fail on its root element, and wrapping lets the fuzzer explore rule
// bodies without having to find the document skeleton first.
// Properties: reading and compiling never crash; the compiled matcher keeps
// the invariants of fuzz_machine.h (CheckMatcher).

#include <string>
#include <string_view>

#include "fuzz/fuzz_machine.h"
#include "fuzz/fuzz_target.h"
#include "migstore/rules.h"

using namespace migstore;

namespace {

// A small, valid migration file for the Config.xml half to switch on and off
// (its component names are ones a Config.xml made with MigDocs names).
constexpr std::string_view kMigration =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/migdocs">
<component type="Documents" context="UserAndSystem">
<displayName>Documents</displayName>
<role role="Data"><rules>
<include><objectSet><pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern></objectSet></include>
<exclude><objectSet><pattern type="File">%CSIDL_PERSONAL%\* [*.tmp]</pattern></objectSet></exclude>
</rules></role>
</component>
<component type="Documents" context="System">
<displayName>Data</displayName>
<role role="Data"><rules>
<include><objectSet><pattern type="File">C:\Data\* [*]</pattern></objectSet></include>
</rules></role>
</component>
</migration>
)";

bool StartsWith(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool IsDocument(std::string_view in) {
  for (std::string_view bom : {"\xEF\xBB\xBF", "\xFF\xFE", "\xFE\xFF"})
    if (StartsWith(in, bom)) return true;
  size_t i = in.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return false;
  in.remove_prefix(i);
  return StartsWith(in, "<?") || StartsWith(in, "<migration") ||
         StartsWith(in, "<configuration");
}

void CheckBoth(const RuleSet& rules) {
  fuzz::CheckMatcher(rules, fuzz::WindowsMachine());
  fuzz::CheckMatcher(rules, fuzz::LinuxMachine());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string wrapped;
  if (!IsDocument(in)) {
    wrapped =
        "<migration urlid=\"http://fuzz/rules\"><component type=\"Documents\" "
        "context=\"UserAndSystem\"><displayName>Fuzz</displayName><role "
        "role=\"Data\"><rules>";
    wrapped.append(in);
    wrapped += "</rules></role></component></migration>";
    in = wrapped;
  }

  RuleSet migration;
  Status s = migration.AddText("fuzz.xml", in);
  for (const RuleDiagnostic& d : migration.diagnostics()) d.ToString();
  if (s.ok()) CheckBoth(migration);

  // The same bytes as the Config.xml of a fixed migration file.
  RuleSet configured;
  FUZZ_ASSERT(configured.AddText("MigDocs.xml", kMigration).ok());
  if (configured.SetConfigText("Config.xml", in).ok()) CheckBoth(configured);
  return 0;
}
