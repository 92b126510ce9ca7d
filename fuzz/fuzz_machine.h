// Small machines for the rules fuzzers: a windows-layout and a linux-layout
// root with two users, made once per process in a temporary directory
// (CompileRules reads the root to bind rules: profiles, conditions), and
// the paths the fuzzers ask the compiled matcher about. The roots are
// removed at exit.
//
// Also RulesProperties: what every matcher must satisfy whatever rules it
// was compiled from.

#ifndef MIGSTORE_FUZZ_FUZZ_MACHINE_H_
#define MIGSTORE_FUZZ_FUZZ_MACHINE_H_

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/rules.h"
#include "migstore/user_selection.h"

namespace migstore::fuzz {

struct FuzzMachine {
  Machine machine;
  std::vector<UserChoice> users;  // every profile selected
  std::vector<std::string> files;
  std::vector<std::string> dirs;
};

namespace detail {

inline std::string& TempRoot() {
  static std::string root;
  return root;
}

inline void RemoveTempRoot() {
  std::error_code ec;
  if (!TempRoot().empty()) std::filesystem::remove_all(TempRoot(), ec);
}

inline void MakeTree(const std::string& root,
                     const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  for (const std::string& p : paths) {
    fs::path full = fs::path(root) / p;
    if (p.back() == '/') {
      fs::create_directories(full);
    } else {
      fs::create_directories(full.parent_path());
      std::ofstream(full) << "x";
    }
  }
}

inline FuzzMachine Make(const std::string& root,
                        const std::vector<std::string>& tree) {
  MakeTree(root, tree);
  DiscoverOptions o;
  o.root = root;
  Result<Machine> m = DiscoverMachine(o);
  FUZZ_ASSERT(m.ok());
  FuzzMachine out;
  out.machine = std::move(m).value();
  FUZZ_ASSERT(out.machine.profiles.size() == 2);
  for (size_t i = 0; i < out.machine.profiles.size(); ++i)
    out.users.push_back({i, true, "fuzz"});
  // Every path of the tree and its parents, plus a few that are not there
  // (rules are decided on names, not on what exists).
  for (const std::string& p : tree) {
    std::string_view rel = p;
    bool dir = rel.back() == '/';
    if (dir) rel.remove_suffix(1);
    (dir ? out.dirs : out.files).emplace_back(rel);
    for (size_t s = rel.rfind('/'); s != std::string_view::npos;
         s = rel.rfind('/', s - 1)) {
      out.dirs.emplace_back(rel.substr(0, s));
      if (s == 0) break;
    }
  }
  out.dirs.emplace_back("");
  std::sort(out.dirs.begin(), out.dirs.end());
  out.dirs.erase(std::unique(out.dirs.begin(), out.dirs.end()), out.dirs.end());
  return out;
}

inline const std::string& MakeTempRoot() {
  if (TempRoot().empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/migstore-fuzz-XXXXXX";
    FUZZ_ASSERT(::mkdtemp(templ.data()) != nullptr);
    TempRoot() = templ;
    std::atexit(RemoveTempRoot);
  }
  return TempRoot();
}

}  // namespace detail

inline const FuzzMachine& WindowsMachine() {
  static const FuzzMachine m = detail::Make(
      detail::MakeTempRoot() + "/windows",
      {"Windows/System32/config/SOFTWARE", "Program Files/App/app.exe",
       "ProgramData/Microsoft/Windows/Start Menu/",
       "Users/Public/Documents/shared.docx", "Users/Default/NTUSER.DAT",
       "Users/alice/NTUSER.DAT", "Users/alice/Documents/report.docx",
       "Users/alice/Documents/Archive/old.txt", "Users/alice/Desktop/a.lnk",
       "Users/alice/AppData/Local/Temp/x.tmp",
       "Users/alice/AppData/Roaming/Microsoft/Signatures/s.htm",
       "Users/alice/Pictures/", "Users/bob/NTUSER.DAT",
       "Users/bob/Music/song.mp3", "Users/bob/Downloads/setup.exe",
       "Data/projects/plan.txt"});
  return m;
}

inline const FuzzMachine& LinuxMachine() {
  static const FuzzMachine m = [] {
    const std::string root = detail::MakeTempRoot() + "/linux";
    detail::MakeTree(root, {"etc/"});
    std::ofstream(root + "/etc/passwd")
        << "root:x:0:0:root:/root:/bin/bash\n"
           "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
           "alice:x:1000:1000::/home/alice:/bin/bash\n"
           "bob:x:1001:1001::/home/bob:/bin/bash\n";
    return detail::Make(
        root, {"etc/hostname", "root/.bashrc", "usr/sbin/",
               "home/alice/.bashrc", "home/alice/Documents/report.odt",
               "home/alice/.cache/thumbs/t.png", "home/alice/.config/app/rc",
               "home/bob/Music/song.mp3", "home/bob/notes.txt", "srv/data/x"});
  }();
  return m;
}

// Compiles `rules` for `m` and checks what any matcher must do, whatever
// the rules: Decide agrees with Explain, and MayTakeBelow is never false
// for a directory that holds something taken.
inline void CheckMatcher(const RuleSet& rules, const FuzzMachine& m) {
  Result<Matcher> compiled = CompileRules(rules, m.machine, m.users);
  if (!compiled.ok()) return;
  const Matcher& matcher = *compiled;
  auto check = [&](const std::string& path, EntryKind kind) {
    Decision d = matcher.Decide(path, kind);
    FUZZ_ASSERT(d.profile >= -1 &&
                d.profile < static_cast<int32_t>(m.machine.profiles.size()));
    FUZZ_ASSERT(matcher.Explain(path, kind).taken == d.taken);
    if (!d.taken) return;
    // Every proper ancestor, the root included, may take something below.
    for (size_t s = path.rfind('/');; s = path.rfind('/', s - 1)) {
      std::string_view dir = s == std::string::npos
                                 ? std::string_view()
                                 : std::string_view(path).substr(0, s);
      FUZZ_ASSERT(matcher.MayTakeBelow(dir));
      if (s == std::string::npos || s == 0) break;
    }
  };
  for (const std::string& f : m.files) check(f, EntryKind::kFile);
  for (const std::string& d : m.dirs)
    if (!d.empty()) check(d, EntryKind::kDirectory);
  matcher.ForRestore(m.files.front(), EntryKind::kFile);
}

}  // namespace migstore::fuzz

#endif  // MIGSTORE_FUZZ_FUZZ_MACHINE_H_
