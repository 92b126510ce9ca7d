// Decide and MayTakeBelow must not allocate per path (the capture walk calls
// them for every entry, from many threads). This binary counts every
// operator new of the process.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "tests/engine/rules_test_util.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace migstore::testing {
namespace {

const std::vector<std::string> kPaths = {
    "Users/alice/Documents/report.docx",
    "Users/alice/Documents/deep/er/still/a.txt",
    "Users/alice/AppData/Local/Temp/x.tmp",
    "Users/Public/Music/s.mp3",
    "data/budget.XLSX",
    "data/sub/picture.jpg",
    "Windows/System32/kernel32.dll",
    "Program Files/App/readme.txt",
    "a-name-much-longer-than-the-scratch-buffer-would-be-at-the-"
    "start-of-a-thread/and-deeper-still/and-deeper/file-with-a-long-name.docx"};

TEST(MatcherAllocations, DecideAndPruneDoNotAllocatePerPath) {
  TempDir dir;
  MakeWindowsRoot(dir.path(), {"alice"});
  Machine machine = Discover(dir.path());
  std::string extensions;
  for (int i = 0; i < 300; ++i) {
    extensions += "<script>MigXmlHelper.GenerateDrivePatterns (\"* [*.e" +
                  std::to_string(i) + "]\", \"Fixed\")</script>";
  }
  std::string xml =
      UsmtFile("<include><objectSet>" + extensions + "</objectSet></include>" +
               Exc(R"(%PROFILESFOLDER%\* [*])"));
  RuleSet builtin;
  builtin.AddBuiltIn(Layout::kWindows);
  RuleSet many;
  ASSERT_OK(many.AddText("ext.xml", xml));
  for (const RuleSet* rules : {&builtin, &many}) {
    long at_start = g_allocations.load();
    Result<Matcher> m = CompileRules(*rules, machine, AllUsers(machine));
    ASSERT_OK(m);
    ASSERT_GT(g_allocations.load(),
              at_start);  // the counter does see allocations
    auto run = [&] {
      size_t taken = 0;
      for (const std::string& p : kPaths) {
        taken += m->Decide(p, EntryKind::kFile).taken;
        taken += m->Decide(p, EntryKind::kDirectory).taken;
        taken += m->MayTakeBelow(p);
      }
      return taken;
    };
    run();  // grows this thread's scratch buffers
    long before = g_allocations.load();
    size_t taken = 0;
    for (int i = 0; i < 100; ++i) taken += run();
    EXPECT_EQ(g_allocations.load() - before, 0) << "allocations in 100 rounds";
    EXPECT_GT(taken, 0u);
  }
}

TEST(MatcherAllocations, DecisionsAreTheSameFromManyThreads) {
  TempDir dir;
  MakeWindowsRoot(dir.path(), {"alice"});
  Machine machine = Discover(dir.path());
  RuleSet rules;
  rules.AddBuiltIn(Layout::kWindows);
  Result<Matcher> m = CompileRules(rules, machine, AllUsers(machine));
  ASSERT_OK(m);
  std::vector<bool> expected;
  for (const std::string& p : kPaths)
    expected.push_back(m->Decide(p, EntryKind::kFile).taken);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        for (size_t k = 0; k < kPaths.size(); ++k) {
          if (m->Decide(kPaths[k], EntryKind::kFile).taken != expected[k])
            ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace migstore::testing
