// Path decisions per second: what the capture walk pays per entry to ask
// the rules. Three rule sets: the built-in linux and windows sets, and a
// MigUser.xml-like set of 300 extension rules (USMT's documented "slow"
// threshold). Each benchmark also reports allocations per decision, which
// must be 0 (the first call on a thread grows its scratch; that is before
// the timed loop).

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "engine/base/deterministic_random.h"
#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/rules.h"
#include "migstore/user_selection.h"

namespace {
// Per thread, so one benchmark thread's setup does not count against
// another's timed loop.
thread_local long t_allocations = 0;
}  // namespace

// Counting replacements of the global allocation functions. GCC, seeing
// both inlined into one static initializer, mistakes the malloc/free pair
// for a new/free mismatch; it is not one.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  ++t_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace migstore {
namespace {

namespace fs = std::filesystem;

// A root with a few users, made once per layout and removed at exit.
struct Root {
  std::string dir;
  Machine machine;
  std::vector<UserChoice> users;
  ~Root() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

const Root& RootFor(Layout layout) {
  auto make = [](Layout l) {
    auto* r = new Root;
    std::string templ =
        (fs::temp_directory_path() / "migstore-bench-XXXXXX").string();
    r->dir = ::mkdtemp(templ.data());
    for (const char* u : {"alice", "bob", "carol", "dave"}) {
      std::string home =
          r->dir + (l == Layout::kWindows ? "/Users/" : "/home/") + u;
      fs::create_directories(home + "/Documents");
      if (l == Layout::kWindows) {
        std::FILE* f = std::fopen((home + "/NTUSER.DAT").c_str(), "w");
        if (f != nullptr) std::fclose(f);
      }
    }
    if (l == Layout::kLinux) {
      fs::create_directories(r->dir + "/etc");
      std::FILE* f = std::fopen((r->dir + "/etc/passwd").c_str(), "w");
      int uid = 1000;
      for (const char* u : {"alice", "bob", "carol", "dave"}) {
        std::fprintf(f, "%s:x:%d:%d::/home/%s:/bin/sh\n", u, uid, uid, u);
        ++uid;
      }
      std::fclose(f);
    } else {
      fs::create_directories(r->dir + "/Windows");
    }
    DiscoverOptions o;
    o.root = r->dir;
    o.layout = l;
    r->machine = *DiscoverMachine(o);
    r->users = *SelectUsers(r->machine, {});
    return r;
  };
  // Owned, so that their directories are removed at exit.
  static const std::unique_ptr<Root> linux_root(make(Layout::kLinux));
  static const std::unique_ptr<Root> windows_root(make(Layout::kWindows));
  return layout == Layout::kWindows ? *windows_root : *linux_root;
}

// Paths shaped like a profile disk: most under the users' homes, at depths
// 1 to 7, with common extensions; some under system folders.
std::vector<std::string> MakePaths(Layout layout, size_t n) {
  static const char* const kTop[] = {"Documents",
                                     "Desktop",
                                     "Downloads",
                                     "Pictures",
                                     "Music",
                                     "AppData/Roaming/App",
                                     "AppData/Local/Cache",
                                     ".config/app",
                                     ".cache/x",
                                     "Projects/src"};
  static const char* const kMid[] = {"2023",  "work", "notes", "old",
                                     "build", "x",    "img"};
  static const char* const kExt[] = {".txt",  ".docx", ".jpg", ".png",
                                     ".pdf",  ".cc",   ".h",   ".o",
                                     ".json", ".xlsx", ".mp3", ""};
  const char* users[] = {"alice", "bob", "carol", "dave"};
  DeterministicRandom r(42);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string p;
    if (r.Below(10) == 0) {
      p = layout == Layout::kWindows ? "Windows/System32" : "usr/share/doc";
    } else {
      p = std::string(layout == Layout::kWindows ? "Users/" : "home/") +
          users[r.Below(4)] + "/" + kTop[r.Below(10)];
    }
    size_t depth = r.Below(6);
    for (size_t d = 0; d < depth; ++d) p += std::string("/") + kMid[r.Below(7)];
    p += "/file" + std::to_string(r.Below(1000)) + kExt[r.Below(12)];
    out.push_back(std::move(p));
  }
  return out;
}

std::string ThreeHundredExtensions() {
  std::string scripts;
  for (int i = 0; i < 300; ++i) {
    std::string ext = "x" + std::to_string(i);
    if (i < 39) {
      static const char* const kMigUser[] = {
          "qdf",  "qsd", "qel", "qph", "doc*",  "dot*", "rtf",  "mcw",
          "wps",  "scd", "wri", "wpd", "xl*",   "csv",  "iqy",  "dqy",
          "oqy",  "rqy", "wk*", "wq1", "slk",   "dif",  "ppt*", "pps*",
          "pot*", "sh3", "ch3", "pre", "ppa",   "txt",  "pst",  "one*",
          "vl*",  "vsd", "mpp", "or6", "accdb", "mdb",  "pub"};
      ext = kMigUser[i];
    }
    scripts += "<script>MigXmlHelper.GenerateDrivePatterns (\"* [*." + ext +
               "]\", \"Fixed\")</script>\n";
  }
  return "<migration urlid=\"http://bench/ext\"><component type=\"Documents\" "
         "context=\"System\"><displayName>User Data</displayName><role "
         "role=\"Data\"><rules>"
         "<include><objectSet>" +
         scripts +
         "</objectSet></include><exclude><objectSet>"
         "<pattern type=\"File\">%PROFILESFOLDER%\\* [*]</pattern>"
         "<pattern type=\"File\">%CSIDL_WINDOWS%\\* [*]</pattern>"
         "<pattern type=\"File\">%CSIDL_PROGRAM_FILES%\\* [*]</pattern>"
         "</objectSet></exclude></rules></role></component></migration>";
}

Matcher Compile(Layout layout, bool extensions) {
  const Root& root = RootFor(layout);
  RuleSet rules;
  if (extensions) {
    Status s = rules.AddText("ext.xml", ThreeHundredExtensions());
    if (!s.ok()) std::abort();
    rules.AddBuiltIn(layout);  // the folders too, as MigUser.xml has them
  } else {
    rules.AddBuiltIn(layout);
  }
  return *CompileRules(rules, root.machine, root.users);
}

// One compiled matcher per rule set, shared by every benchmark thread as
// the capture walk shares it.
const Matcher& Shared(Layout layout, bool extensions) {
  static const Matcher* kLinux = new Matcher(Compile(Layout::kLinux, false));
  static const Matcher* kWindows =
      new Matcher(Compile(Layout::kWindows, false));
  static const Matcher* kExtensions =
      new Matcher(Compile(Layout::kWindows, true));
  if (extensions) return *kExtensions;
  return layout == Layout::kWindows ? *kWindows : *kLinux;
}

void RunDecisions(benchmark::State& state, Layout layout, bool extensions) {
  const Matcher& m = Shared(layout, extensions);
  std::vector<std::string> paths = MakePaths(layout, 4096);
  size_t i = static_cast<size_t>(state.thread_index()) * 1024, taken = 0;
  m.Decide(paths[0], EntryKind::kFile);  // grow this thread's scratch
  long before = t_allocations;
  for (auto _ : state) {
    Decision d = m.Decide(paths[i++ & 4095], EntryKind::kFile);
    taken += d.taken;
    benchmark::DoNotOptimize(d);
  }
  long allocations = t_allocations - before;
  state.SetItemsProcessed(state.iterations());
  const double n =
      static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  state.counters["rules"] = benchmark::Counter(
      static_cast<double>(m.rule_count()), benchmark::Counter::kAvgThreads);
  state.counters["taken_pct"] = benchmark::Counter(
      100.0 * static_cast<double>(taken) / n, benchmark::Counter::kAvgThreads);
  // The benchmark library's own bookkeeping between batches runs on this
  // thread too, and shows up as a few millionths.
  state.counters["allocs_per_decision"] = benchmark::Counter(
      static_cast<double>(allocations) / n, benchmark::Counter::kAvgThreads);
}

void BM_DecideBuiltInLinux(benchmark::State& state) {
  RunDecisions(state, Layout::kLinux, false);
}
void BM_DecideBuiltInWindows(benchmark::State& state) {
  RunDecisions(state, Layout::kWindows, false);
}
void BM_Decide300Extensions(benchmark::State& state) {
  RunDecisions(state, Layout::kWindows, true);
}

void BM_MayTakeBelow300Extensions(benchmark::State& state) {
  const Matcher& m = Shared(Layout::kWindows, true);
  std::vector<std::string> paths = MakePaths(Layout::kWindows, 4096);
  for (std::string& p : paths) p = p.substr(0, p.rfind('/'));  // directories
  size_t i = 0;
  m.MayTakeBelow(paths[0]);
  long before = t_allocations;
  for (auto _ : state)
    benchmark::DoNotOptimize(m.MayTakeBelow(paths[i++ & 4095]));
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_query"] =
      static_cast<double>(t_allocations - before) /
      static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}

// The plain loop a first implementation would write for the same rule set:
// every path checked against each of the 300 extensions in turn (wildcards
// dropped, so it does less than the matcher). It does not decide anything
// USMT would; it is the yardstick CI's ratio guard measures the matcher
// against on the same machine, in the same run (bench/guard).
void BM_PlainLoop300Extensions(benchmark::State& state) {
  std::vector<std::string> suffixes;
  const std::string xml = ThreeHundredExtensions();
  for (size_t at = 0;;) {
    at = xml.find("[*.", at);
    if (at == std::string::npos) break;
    at += 2;
    std::string ext = xml.substr(at, xml.find(']', at) - at);
    if (ext.back() == '*') ext.pop_back();
    suffixes.push_back(std::move(ext));
  }
  std::vector<std::string> paths = MakePaths(Layout::kWindows, 4096);
  size_t i = 0, taken = 0;
  for (auto _ : state) {
    std::string_view p = paths[i++ & 4095];
    for (const std::string& ext : suffixes) {
      if (p.ends_with(ext)) {
        ++taken;
        break;
      }
    }
    benchmark::DoNotOptimize(taken);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["suffixes"] = static_cast<double>(suffixes.size());
}

BENCHMARK(BM_DecideBuiltInLinux);
BENCHMARK(BM_DecideBuiltInWindows);
BENCHMARK(BM_Decide300Extensions);
BENCHMARK(BM_Decide300Extensions)->Threads(2)->UseRealTime();
BENCHMARK(BM_MayTakeBelow300Extensions);
BENCHMARK(BM_PlainLoop300Extensions);

}  // namespace
}  // namespace migstore

BENCHMARK_MAIN();
