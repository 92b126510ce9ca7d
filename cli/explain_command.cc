#include "explain_command.h"

#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <optional>

#include "cli_common.h"
#include "migstore/exit_codes.h"
#include "migstore/explain.h"
#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/rules.h"
#include "migstore/user_selection.h"

namespace migstore::cli {
namespace {

int Fail(const Status& s) { return cli::Fail("explain", s); }

// A PATH argument as a root-relative path: a path under the root loses the
// root; any other loses its leading '/'; Windows separators become '/'.
std::string RootRelative(const std::string& root, std::string path,
                         Layout layout) {
  if (layout == Layout::kWindows) {
    for (char& c : path) c = c == '\\' ? '/' : c;
    if (path.size() >= 2 && path[1] == ':') path.erase(0, 2);
  }
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (r != "/" && path.size() > r.size() && path.compare(0, r.size(), r) == 0 &&
      path[r.size()] == '/') {
    path.erase(0, r.size());
  }
  size_t lead = path.find_first_not_of('/');
  return lead == std::string::npos ? std::string() : path.substr(lead);
}

// The explanation with every string shown escaped: they quote the rules
// files, the user names and the path as they are. The path and the user
// are names (DisplayBytes); rule texts are read, not recovered, and keep
// their backslashes (DisplayText).
Explanation Shown(Explanation e) {
  auto show = [](std::string* s) { *s = DisplayText(*s); };
  auto show_ref = [&](RuleRef* r) {
    for (std::string* s :
         {&r->pattern, &r->expanded, &r->file, &r->component, &r->note}) {
      show(s);
    }
    r->user = DisplayBytes(r->user);
  };
  // A registry path keeps its backslashes (it is read, like a rule text).
  e.path = e.registry ? DisplayText(e.path) : DisplayBytes(e.path);
  e.user = DisplayBytes(e.user);
  show(&e.summary);
  show_ref(&e.decided_by);
  for (auto* refs : {&e.beaten, &e.also_matched, &e.inactive}) {
    for (RuleRef& r : *refs) show_ref(&r);
  }
  for (std::string& s : e.restore) show(&s);
  return e;
}

// A registry object: "HKCU\Software\Foo" (the key) or "HKLM\SOFTWARE\Foo
// [Value]" ("[]" the default value). False for anything else (a path).
bool RegistryObject(const std::string& arg, bool* user, std::string* key,
                    std::optional<std::string>* value) {
  auto starts = [&](std::string_view root) {
    if (arg.size() < root.size()) return false;
    for (size_t i = 0; i < root.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(arg[i])) != root[i])
        return false;
    }
    return arg.size() == root.size() || arg[root.size()] == '\\' ||
           arg[root.size()] == ' ' || arg[root.size()] == '[';
  };
  *user = starts("HKCU") || starts("HKEY_CURRENT_USER");
  if (!*user && !starts("HKLM") && !starts("HKEY_LOCAL_MACHINE")) return false;
  *key = arg;
  value->reset();
  if (!arg.empty() && arg.back() == ']') {
    size_t open = arg.rfind('[');
    if (open != std::string::npos) {
      *value = arg.substr(open + 1, arg.size() - open - 2);
      key->resize(open);
    }
  }
  while (!key->empty() && (key->back() == ' ' || key->back() == '\\'))
    key->pop_back();
  return true;
}

}  // namespace

CLI::App* AddExplainCommand(CLI::App* app, ExplainOptions* o) {
  CLI::App* cmd =
      app->add_subcommand("explain",
                          "Tell, for each PATH under the root, whether a "
                          "capture takes it, the rule that "
                          "decided (file:line) and the rules it beat");
  AddSelectionOptions(cmd, &o->selection);
  cmd->add_option("PATH", o->paths,
                  "Paths relative to the root, or registry keys and values "
                  "(\"HKCU\\Software\\App [Theme]\": for each selected "
                  "user)")
      ->required();
  return cmd;
}

int RunExplain(const ExplainOptions& options) {
  const SelectionOptions& o = options.selection;
  Result<CompiledSelection> compiled = CompileSelection(o);
  if (!compiled.ok()) return Fail(compiled.status());
  PrintDiagnostics(compiled->diagnostics);
  const Machine* machine = &compiled->machine;
  const std::vector<UserChoice>* users = &compiled->users;
  const Matcher* matcher = &compiled->matcher;

  std::printf("root: %s (%s layout)\n", machine->root.c_str(),
              LayoutName(machine->layout));
  std::printf("rules: %s, %zu in force\n",
              o.rules.empty() ? "built-in" : "from files",
              matcher->rule_count());
  for (const UserChoice& c : *users) {
    const UserProfile& p = machine->profiles[c.profile];
    std::printf("user %s (%s): %s, %s\n", DisplayBytes(p.name).c_str(),
                DisplayBytes(p.home).c_str(),
                c.selected ? "selected" : "not selected",
                DisplayText(c.reason).c_str());
  }
  for (const std::string& arg : options.paths) {
    bool user = false;
    std::string key;
    std::optional<std::string> value;
    if (RegistryObject(arg, &user, &key, &value)) {
      const std::string* v = value ? &*value : nullptr;
      if (!user) {
        std::printf("\n%s", FormatExplanation(
                                Shown(matcher->ExplainRegistry(key, -1, v)))
                                .c_str());
        continue;
      }
      bool any = false;
      for (const UserChoice& c : *users) {
        if (!c.selected) continue;
        any = true;
        std::printf("\n%s", FormatExplanation(
                                Shown(matcher->ExplainRegistry(
                                    key, static_cast<int32_t>(c.profile), v)))
                                .c_str());
      }
      if (!any) {
        std::printf("\n%s: no selected user has an HKCU\n",
                    DisplayBytes(arg).c_str());
      }
      continue;
    }
    std::string rel = RootRelative(machine->root, arg, machine->layout);
    bool dir = !rel.empty() && rel.back() == '/';
    std::string full = machine->root + "/" + rel;
    struct stat st;
    if (::lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) dir = true;
    Explanation e =
        matcher->Explain(rel, dir ? EntryKind::kDirectory : EntryKind::kFile);
    std::printf("\n%s", FormatExplanation(Shown(std::move(e))).c_str());
  }
  return static_cast<int>(ExitCode::kSuccess);
}

}  // namespace migstore::cli
