// Every table and example of usmt.md §5 "Precedence" (USMT's "Conflicts and
// precedence" page), on a generated Windows-layout root.

#include <gtest/gtest.h>

#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

const std::vector<std::string> kTree = {
    "Dir1/a.txt",        "Dir1/a.doc",           "Dir1/Dir2/b.txt",
    "Dir1/Dir2/b.doc",   "Dir1/Dir2/Dir3/c.txt", "Other/x.txt",
    "Data/song.mp3",     "Data/sub/tune.mp3",    "Data/notes.doc",
    "Userdocs/song.mp3", "Userdocs/a.doc",       "Userdocs/New Folder/b.mp3",
    "loose.mp3"};

class Precedence : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeWindowsRoot(dir_.path(), {"alice"}, kTree);
    machine_ = Discover(dir_.path());
  }

  // Compiles one component holding `rules`.
  Matcher One(const std::string& rules) {
    return CompileTexts(machine_, {{"rules.xml", UsmtFile(rules)}});
  }
  // Compiles components, one per element of `components`.
  Matcher Many(const std::vector<std::string>& components) {
    std::string all;
    int n = 0;
    for (const std::string& c : components) {
      all += UsmtComponent("Component " + std::to_string(++n), c);
    }
    return CompileTexts(machine_, {{"rules.xml", UsmtMigration(all)}});
  }
  // Which of kTree's Dir1 files a matcher takes, as a sorted list.
  std::vector<std::string> Dir1(const Matcher& m) {
    std::vector<std::string> out;
    for (const std::string& p : kTree) {
      if (p.rfind("Dir1/", 0) == 0 && TakesFile(m, p)) out.push_back(p);
    }
    return out;
  }

  TempDir dir_;
  Machine machine_;
};

using Files = std::vector<std::string>;

// ---- "If you have the following code in the same component" ---------------

TEST_F(Precedence, SameComponentDirectoryBeatsExtension) {
  // Include C:\Dir1\* [*], exclude C:\* [*.txt]: all of Dir1, .txt included.
  Matcher m = One(Inc(R"(C:\Dir1\* [*])") + Exc(R"(C:\* [*.txt])"));
  EXPECT_EQ(Dir1(m), (Files{"Dir1/a.txt", "Dir1/a.doc", "Dir1/Dir2/b.txt",
                            "Dir1/Dir2/b.doc", "Dir1/Dir2/Dir3/c.txt"}));
  EXPECT_FALSE(TakesFile(m, "Other/x.txt"));
}

TEST_F(Precedence, SameComponentDeeperExcludeByExtension) {
  // Include C:\Dir1\* [*], exclude C:\Dir1\Dir2\* [*.txt]: Dir1 minus the
  // .txt files in Dir2 and below.
  Matcher m = One(Inc(R"(C:\Dir1\* [*])") + Exc(R"(C:\Dir1\Dir2\* [*.txt])"));
  EXPECT_EQ(Dir1(m), (Files{"Dir1/a.txt", "Dir1/a.doc", "Dir1/Dir2/b.doc"}));
}

TEST_F(Precedence, SameComponentSameNodeExtensionExclude) {
  // Include C:\Dir1\* [*], exclude C:\Dir1\ * [*.txt] (sic): Dir1 minus the
  // .txt files in Dir1 and below.
  Matcher m = One(Inc(R"(C:\Dir1\* [*])") + Exc(R"(C:\Dir1\ * [*.txt])"));
  EXPECT_EQ(Dir1(m), (Files{"Dir1/a.doc", "Dir1/Dir2/b.doc"}));
}

TEST_F(Precedence, SameComponentEqualSpecificityExcludeWins) {
  Matcher m =
      One(Inc(R"(C:\Dir1\Dir2\* [*.txt])") + Exc(R"(C:\Dir1\Dir2\* [*.txt])"));
  EXPECT_EQ(Dir1(m), Files{});
}

TEST_F(Precedence, SameComponentExtensionIncludeDeeperDirectoryExclude) {
  // Include C:\Dir1\* [*.txt], exclude C:\Dir1\Dir2\* [*]: .txt files of
  // Dir1 and its subfolders but Dir2; nothing from Dir2.
  Matcher m = One(Inc(R"(C:\Dir1\* [*.txt])") + Exc(R"(C:\Dir1\Dir2\* [*])"));
  EXPECT_EQ(Dir1(m), Files{"Dir1/a.txt"});
}

TEST_F(Precedence, SameComponentDirectoryIncludeShallowerExtensionExclude) {
  // Include C:\Dir1\Dir2\* [*], exclude C:\Dir1\* [*.txt]: Dir2 minus the
  // .txt files of Dir1 and every subfolder (Dir2 included).
  Matcher m = One(Inc(R"(C:\Dir1\Dir2\* [*])") + Exc(R"(C:\Dir1\* [*.txt])"));
  EXPECT_EQ(Dir1(m), Files{"Dir1/Dir2/b.doc"});
}

TEST_F(Precedence, DataFolderBeatsMp3Extension) {
  // The page's first example: the mp3 files under Data still migrate.
  Matcher m = One(Inc(R"(C:\Data\* [*])") + Exc(R"( C:\* [*.mp3])"));
  EXPECT_TRUE(TakesFile(m, "Data/song.mp3"));
  EXPECT_TRUE(TakesFile(m, "Data/sub/tune.mp3"));
  EXPECT_TRUE(TakesFile(m, "Data/notes.doc"));
  EXPECT_FALSE(TakesFile(m, "loose.mp3"));
}

// ---- "If you have the following code in different components" --------------

TEST_F(Precedence, DifferentComponentsUnion) {
  Matcher m =
      Many({Inc(R"(C:\Dir1\* [*])") + Exc(R"(C:\Dir1\Dir2\* [*.txt])"),
            Inc(R"(C:\Dir1\Dir2\* [*.txt])") + Exc(R"(C:\Dir1\* [*])")});
  EXPECT_EQ(Dir1(m), (Files{"Dir1/a.txt", "Dir1/a.doc", "Dir1/Dir2/b.txt",
                            "Dir1/Dir2/b.doc", "Dir1/Dir2/Dir3/c.txt"}));
}

TEST_F(Precedence, DifferentComponentsExcludeOnlyComponentDoesNotApply) {
  // Component 1 includes C:\Dir1\Dir2\* [*]; component 2 only excludes
  // C:\Dir1\* [*.txt]. The table's result column says "Dir2 minus .txt",
  // which contradicts the same page's rules ("rules in different components
  // do not affect each other"; "an <exclude> in a component without an
  // <include> is not processed"), its next row and its Userdocs example.
  // migstore follows the rules: all of Dir2 (docs/rules.md, "Where the
  // documentation contradicts itself").
  Matcher m = Many({Inc(R"(C:\Dir1\Dir2\* [*])"), Exc(R"(C:\Dir1\* [*.txt])")});
  EXPECT_EQ(Dir1(m), (Files{"Dir1/Dir2/b.txt", "Dir1/Dir2/b.doc",
                            "Dir1/Dir2/Dir3/c.txt"}));
}

TEST_F(Precedence, DifferentComponentsExcludeWithoutIncludeIsNotProcessed) {
  // Component 1 excludes C:\Dir1\Dir2\* [*]; component 2 includes
  // C:\Dir1\* [*.txt]: every .txt under Dir1.
  Matcher m = Many({Exc(R"(C:\Dir1\Dir2\* [*])"), Inc(R"(C:\Dir1\* [*.txt])")});
  EXPECT_EQ(Dir1(m),
            (Files{"Dir1/a.txt", "Dir1/Dir2/b.txt", "Dir1/Dir2/Dir3/c.txt"}));
}

TEST_F(Precedence, UserdocsExampleExcludeInOtherComponent) {
  // "migrates all files from C:\Userdocs, including .mp3 files, because the
  // <exclude> rule is specified in a separate component".
  Matcher m =
      Many({Exc(R"(C:\Userdocs\* [*.mp3])"), Inc(R"( C:\Userdocs\ [*])")});
  EXPECT_TRUE(TakesFile(m, "Userdocs/song.mp3"));
  EXPECT_TRUE(TakesFile(m, "Userdocs/a.doc"));
  EXPECT_FALSE(TakesFile(m, "Userdocs/New Folder/b.mp3"));  // \ [*] is flat
}

TEST_F(Precedence, IdenticalIncludeAndExcludeInDifferentComponentsMigrate) {
  Matcher m = Many({Inc(R"(C:\Dir1\* [*.txt])"), Exc(R"(C:\Dir1\* [*.txt])")});
  EXPECT_TRUE(TakesFile(m, "Dir1/a.txt"));
}

// ---- unconditionalExclude, order, Config.xml -------------------------------

TEST_F(Precedence, UnconditionalExcludeBeatsEverythingEverywhere) {
  std::string other =
      UsmtFile(Inc(R"(C:\Data\sub\* [tune.mp3])"), "System", "http://test/b");
  Matcher m = CompileTexts(
      machine_,
      {{"a.xml",
        UsmtMigration(UsmtComponent("Music", Inc(R"(C:\Data\* [*])")) +
                      UsmtComponent("No mp3", Uncond(R"(C:\* [*.mp3])")))},
       {"b.xml", other}});
  EXPECT_FALSE(TakesFile(m, "Data/song.mp3"));
  EXPECT_FALSE(TakesFile(m, "Data/sub/tune.mp3"));  // even an exact include
  EXPECT_TRUE(TakesFile(m, "Data/notes.doc"));
}

TEST_F(Precedence, OrderOfComponentsFilesAndRulesIsIrrelevant) {
  std::string c1 = UsmtComponent(
      "One", Exc(R"(C:\Dir1\Dir2\* [*.txt])") + Inc(R"(C:\Dir1\* [*])"));
  std::string c2 = UsmtComponent("Two", Inc(R"(C:\Dir1\Dir2\Dir3\* [*])"));
  Matcher a =
      CompileTexts(machine_, {{"x.xml", UsmtMigration(c1 + c2, "http://t/x")}});
  Matcher b =
      CompileTexts(machine_, {{"y.xml", UsmtMigration(c2, "http://t/y")},
                              {"x.xml", UsmtMigration(c1, "http://t/x")}});
  for (const std::string& p : kTree)
    EXPECT_EQ(TakesFile(a, p), TakesFile(b, p)) << p;
  EXPECT_TRUE(TakesFile(a, "Dir1/Dir2/Dir3/c.txt"));
  EXPECT_FALSE(TakesFile(a, "Dir1/Dir2/b.txt"));
}

TEST_F(Precedence, ConfigMigrateNoKeepsOtherComponentsRules) {
  // usmt.md §5.7: migrate="no" for My Documents is like deleting it, but a
  // rule elsewhere for %CSIDL_PERSONAL%\* [*.doc] still takes the .doc files.
  MakeTree(dir_.path(),
           {"Users/alice/Documents/letter.doc", "Users/alice/Documents/a.txt"});
  std::string docs = UsmtMigration(
      UsmtComponent("My Documents", Inc(R"(%CSIDL_PERSONAL%\* [*])"), "User") +
          UsmtComponent("Doc files", Inc(R"(%CSIDL_PERSONAL%\* [*.doc])"),
                        "User"),
      "http://test/docs");
  std::string config = R"(<?xml version="1.0"?>
<Configuration>
  <Documents>
    <component displayname="My Documents" migrate="no" ID="http://test/docs/my documents/data"/>
  </Documents>
</Configuration>)";
  Matcher m = CompileTexts(machine_, {{"docs.xml", docs}}, config);
  EXPECT_TRUE(TakesFile(m, "Users/alice/Documents/letter.doc"));
  EXPECT_FALSE(TakesFile(m, "Users/alice/Documents/a.txt"));
  Explanation e = m.Explain("Users/alice/Documents/a.txt", EntryKind::kFile);
  ASSERT_EQ(e.inactive.size(), 1u);
  EXPECT_NE(e.inactive[0].note.find("Config.xml:4"), std::string::npos)
      << e.inactive[0].note;
}

// The page's registry rows (usmt.md, "Precedence"), on registry values:
// the same precedence as files.
std::string RegRule(const std::string& element, const std::string& pattern) {
  return "<" + element + "><objectSet><pattern type=\"Registry\">" + pattern +
         "</pattern></objectSet></" + element + ">";
}

constexpr char kCmd[] = "HKLM\\Software\\Microsoft\\Command Processor";

bool TakesValue(const Matcher& m, const std::string& key,
                const std::string& value) {
  return m.DecideRegistry(key, -1, &value).taken;
}

TEST_F(Precedence, RegistryTableRows) {
  const std::string all = std::string(kCmd) + "\\* [*]";
  const std::string color = std::string(kCmd) + " [DefaultColor]";
  // Include everything, exclude DefaultColor: everything but DefaultColor;
  // the file rules beside them still work.
  Matcher m = One(RegRule("include", all) + Inc(R"(C:\Dir1\* [*])") +
                  RegRule("exclude", color));
  EXPECT_TRUE(TakesFile(m, "Dir1/a.txt"));
  EXPECT_FALSE(TakesValue(m, kCmd, "DefaultColor"));
  EXPECT_TRUE(TakesValue(m, kCmd, "CompletionChar"));
  EXPECT_TRUE(TakesValue(m, std::string(kCmd) + "\\Sub", "DefaultColor"));
  EXPECT_TRUE(TakesValue(m, "hklm\\SOFTWARE\\microsoft\\command processor",
                         "completionchar"));  // names compare without case
  EXPECT_FALSE(TakesValue(m, "HKLM\\Software\\Other", "X"));
  EXPECT_EQ(m.registry_rule_count(), 2u);
  // The reverse pair: only DefaultColor.
  Matcher reverse = One(RegRule("include", color) + RegRule("exclude", all));
  EXPECT_TRUE(TakesValue(reverse, kCmd, "DefaultColor"));
  EXPECT_FALSE(TakesValue(reverse, kCmd, "CompletionChar"));
  // Both DefaultColor: nothing (exclude wins ties).
  Matcher both = One(RegRule("include", color) + RegRule("exclude", color));
  EXPECT_FALSE(TakesValue(both, kCmd, "DefaultColor"));
  // The first pair split across components: everything.
  Matcher split = Many({RegRule("include", all), RegRule("exclude", color)});
  EXPECT_TRUE(TakesValue(split, kCmd, "DefaultColor"));
  EXPECT_TRUE(TakesValue(split, kCmd, "CompletionChar"));
  // Pruning: nothing below an unrelated key can be taken.
  EXPECT_FALSE(m.MayTakeBelowRegistry("HKLM\\Software\\Other", -1));
  EXPECT_TRUE(m.MayTakeBelowRegistry("HKLM\\Software", -1));
  EXPECT_FALSE(m.MayTakeBelowRegistry("HKLM\\SYSTEM", -1));
}

TEST_F(Precedence, LocationModifyInAnotherComponentIsKeptForRestore) {
  // "An include in one component plus a locationModify in another puts the
  // file in both places": capture takes it once; restore learns the move.
  std::string move =
      "<locationModify "
      "script=\"MigXmlHelper.Move('C:\\Moved')\"><objectSet><pattern "
      "type=\"File\">C:\\Data\\* [*]</pattern></objectSet></locationModify>";
  Matcher m = Many({Inc(R"(C:\Data\* [*])"), move});
  EXPECT_TRUE(TakesFile(m, "Data/notes.doc"));
  Explanation e = m.Explain("Data/notes.doc", EntryKind::kFile);
  ASSERT_EQ(e.restore.size(), 1u);
  EXPECT_NE(e.restore[0].find("locationModify MigXmlHelper.Move('C:\\Moved')"),
            std::string::npos)
      << e.restore[0];
}

}  // namespace
}  // namespace migstore::testing
