// The pruning contract, as a property over generated trees and generated
// rule sets in both languages on both layouts: when MayTakeBelow(dir) says
// no, no entry below dir is taken by a full decision.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "engine/base/deterministic_random.h"
#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

struct Entry {
  std::string path;
  bool is_dir = false;
};

template <typename T>
const T& Pick(DeterministicRandom* r, const std::vector<T>& v) {
  return v[r->Below(v.size())];
}

// A random tree below each home and below the root.
std::vector<Entry> GenerateTree(DeterministicRandom* r,
                                const std::vector<std::string>& bases) {
  // Few names, so that generated rules hit them often.
  static const std::vector<std::string> kDirs = {"a", "b", "Docs", "docs",
                                                 "x.txt"};
  static const std::vector<std::string> kFiles = {"f.txt", "F.TXT", "g.mp3",
                                                  "h.doc", "j"};
  std::vector<Entry> out;
  std::function<void(const std::string&, int)> grow =
      [&](const std::string& dir, int depth) {
        size_t files = r->Below(4);
        for (size_t i = 0; i < files; ++i)
          out.push_back({dir + "/" + Pick(r, kFiles), false});
        if (depth >= 4) return;
        size_t dirs = r->Below(3);
        for (size_t i = 0; i < dirs; ++i) {
          std::string d = dir + "/" + Pick(r, kDirs);
          out.push_back({d, true});
          grow(d, depth + 1);
        }
      };
  for (const std::string& b : bases) {
    out.push_back({b, true});
    grow(b, 1);
  }
  return out;
}

std::string NativeSegment(DeterministicRandom* r) {
  static const std::vector<std::string> kSegs = {
      "a", "b",     "Docs",  "docs",  "*", "**",
      "?", "[a-c]", "*.txt", "x.txt", "*s"};
  return Pick(r, kSegs);
}

std::string NativeRules(DeterministicRandom* r, const std::string& base_var) {
  static const std::vector<std::string> kLeaves = {
      "*.txt", "f.txt", "*.mp3", "**", "*", "h.doc", "*.doc*", "Docs", "a"};
  static const std::vector<std::string> kActions = {
      "include", "include", "exclude", "exclude", "unconditional-exclude"};
  std::string text;
  size_t n = 1 + r->Below(8);
  for (size_t i = 0; i < n; ++i) {
    if (r->Below(3) == 0)
      text += "component C" + std::to_string(r->Below(3)) + "\n";
    std::string p = r->Below(2) ? base_var : (r->Below(2) ? "**" : "data");
    size_t segs = r->Below(3);
    for (size_t s = 0; s < segs; ++s) p += "/" + NativeSegment(r);
    p += "/" + Pick(r, kLeaves);
    text += Pick(r, kActions) + " " + p + "\n";
  }
  return text;
}

std::string UsmtRules(DeterministicRandom* r, const std::string& base_var) {
  static const std::vector<std::string> kNodes = {"a", "b",     "Docs",
                                                  "*", "x.txt", "D*"};
  static const std::vector<std::string> kLeaves = {"*",     "*.txt",  "f.txt",
                                                   "*.mp3", "*.doc*", "j"};
  static const std::vector<const char*> kActions = {
      "include", "include", "exclude", "exclude", "unconditionalExclude"};
  std::string components;
  size_t n = 1 + r->Below(3);
  for (size_t c = 0; c < n; ++c) {
    std::string rules;
    size_t k = 1 + r->Below(4);
    for (size_t i = 0; i < k; ++i) {
      std::string node =
          r->Below(2) ? base_var : std::string(r->Below(2) ? "C:" : "C:\\data");
      size_t segs = r->Below(3);
      for (size_t s = 0; s < segs; ++s) node += "\\" + Pick(r, kNodes);
      node += r->Below(2) ? "\\*" : "\\";
      std::string pattern =
          node + (r->Below(6) == 0 ? "" : " [" + Pick(r, kLeaves) + "]");
      std::string object = "<pattern type=\"File\">" + pattern + "</pattern>";
      if (r->Below(5) == 0) {  // per-run patterns for every user
        std::string user = "%USERPROFILE%\\" + Pick(r, kNodes) + "\\* [" +
                           Pick(r, kLeaves) + "]";
        object = "<script>MigXmlHelper.GenerateUserPatterns (\"File\", \"" +
                 user + "\", \"" + (r->Below(2) ? "TRUE" : "FALSE") +
                 "\")</script>";
      }
      const char* a = Pick(r, kActions);
      rules += std::string("<") + a + "><objectSet>" + object +
               "</objectSet></" + a + ">";
    }
    components += UsmtComponent("C" + std::to_string(c), rules,
                                base_var[1] == 'C' ? "User" : "System");
  }
  return UsmtMigration(components, "http://test/random");
}

void CheckPruning(const Matcher& m, const std::vector<Entry>& tree,
                  const std::string& what) {
  for (const Entry& d : tree) {
    if (!d.is_dir || m.MayTakeBelow(d.path)) continue;
    const std::string prefix = d.path + "/";
    for (const Entry& e : tree) {
      if (e.path.compare(0, prefix.size(), prefix) != 0) continue;
      EntryKind kind = e.is_dir ? EntryKind::kDirectory : EntryKind::kFile;
      ASSERT_FALSE(m.Decide(e.path, kind).taken)
          << what << "\npruned " << d.path << " but " << e.path << " is taken\n"
          << FormatExplanation(m.Explain(e.path, kind));
    }
  }
}

class PruneProperty : public ::testing::TestWithParam<Layout> {
 protected:
  void SetUp() override {
    if (GetParam() == Layout::kWindows) {
      MakeWindowsRoot(dir_.path(), {"alice", "bob"});
      bases_ = {"Users/alice", "Users/bob", "data", "Users/Public"};
    } else {
      MakeLinuxRoot(dir_.path(), {"alice", "bob"});
      bases_ = {"home/alice", "home/bob", "data"};
    }
    machine_ = Discover(dir_.path());
  }
  TempDir dir_;
  Machine machine_;
  std::vector<std::string> bases_;
};

TEST_P(PruneProperty, PruningNeverHidesATakenEntry) {
  DeterministicRandom r(GetParam() == Layout::kWindows ? 11 : 7);
  int pruned_somewhere = 0;
  for (int round = 0; round < 1000; ++round) {
    std::vector<Entry> tree = GenerateTree(&r, bases_);
    std::vector<UserChoice> users = AllUsers(machine_);
    for (UserChoice& c : users) c.selected = r.Below(4) != 0;
    RuleSet rules;
    std::string text;
    const std::string var = r.Below(2) ? "%USERPROFILE%" : "%DOCUMENTS%";
    const std::string usmt_var =
        r.Below(2) ? "%CSIDL_PERSONAL%" : "%PROFILESFOLDER%";
    if (round % 2 == 0) {
      text = NativeRules(&r, var);
      ASSERT_OK(rules.AddText("random.rules", text));
    } else {
      text = UsmtRules(&r, usmt_var);
      ASSERT_OK(rules.AddText("random.xml", text));
    }
    Result<Matcher> m = CompileRules(rules, machine_, users);
    ASSERT_OK(m);
    CheckPruning(*m, tree, text);
    for (const Entry& d : tree)
      pruned_somewhere += d.is_dir && !m->MayTakeBelow(d.path);
  }
  // The property is only worth something if pruning happens.
  EXPECT_GT(pruned_somewhere, 1000);
}

TEST_P(PruneProperty, BuiltInAndStockRulesPruneSafely) {
  DeterministicRandom r(3);
  std::vector<Entry> tree = GenerateTree(&r, bases_);
  std::vector<RuleSet> sets(1);
  sets[0].AddBuiltIn(GetParam());
  for (const char* f : {"MigUser.xml", "MigDocs.xml"}) {
    std::string path = SourcePath(std::string("tests/golden/usmt-xml/") + f);
    sets.emplace_back();
    ASSERT_OK(sets.back().AddFile(path));
  }
  for (const RuleSet& rules : sets) {
    Result<Matcher> m = CompileRules(rules, machine_, AllUsers(machine_));
    ASSERT_OK(m);
    CheckPruning(*m, tree, "built-in or stock rules");
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, PruneProperty,
                         ::testing::Values(Layout::kLinux, Layout::kWindows),
                         [](const ::testing::TestParamInfo<Layout>& p) {
                           return std::string(LayoutName(p.param));
                         });

}  // namespace
}  // namespace migstore::testing
