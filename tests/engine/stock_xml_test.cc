// USMT's stock MigUser.xml and MigDocs.xml and a real Config.xml, read as
// they ship (tests/golden/usmt-xml), selecting on a generated
// Windows 10 profile tree as USMT would. Also: the built-in windows rules
// select exactly what MigUser.xml selects.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

std::string StockPath(const std::string& name) {
  return SourcePath("tests/golden/usmt-xml/" + name);
}

const std::vector<std::string> kWindowsTree = {
    "Users/alice/ntuser.dat.LOG1",
    "Users/alice/Documents/report.docx",
    "Users/alice/Documents/notes.txt",
    "Users/alice/Documents/desktop.ini",
    "Users/alice/Documents/Taxes/2023/return.pdf",
    "Users/alice/Desktop/shortcut.lnk",
    "Users/alice/Desktop/todo.txt",
    "Users/alice/Downloads/setup.exe",
    "Users/alice/Downloads/invoice.pdf",
    "Users/alice/Music/song.mp3",
    "Users/alice/Pictures/photo.jpg",
    "Users/alice/Videos/clip.mp4",
    "Users/alice/Favorites/link.url",
    "Users/alice/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/app.lnk",
    "Users/alice/AppData/Roaming/Microsoft/Internet Explorer/Quick "
    "Launch/ql.lnk",
    "Users/alice/AppData/Roaming/App/settings.xml",
    "Users/alice/AppData/Local/Temp/tmp.txt",
    "Users/alice/AppData/Local/Microsoft/Outlook/mail.pst",
    "Users/alice/Projects/code.c",
    "Users/alice/Projects/readme.txt",
    "Users/alice/notes.txt",
    "Users/alice/AppData/Roaming/Microsoft/Windows/Libraries/"
    "Documents.library-ms",
    "Users/bob/Documents/bob.docx",
    "Users/Public/Documents/shared.docx",
    "Users/Public/Music/pub.mp3",
    "Users/Public/Pictures/pub.jpg",
    "Users/Public/Videos/pub.mp4",
    "Users/Public/Desktop/pub.lnk",
    "Users/Public/Favorites/pub.url",
    "Users/Default/Documents/template.docx",
    "ProgramData/Microsoft/Windows/Start Menu/Programs/common.lnk",
    "ProgramData/App/config.txt",
    "Windows/System32/drivers/etc/hosts",
    "Windows/notepad.exe",
    "Windows/Help/readme.txt",
    "Program Files/App/readme.txt",
    "Program Files/App/manual.doc",
    "Program Files (x86)/Old/old.txt",
    "Winnt/legacy.txt",
    "data/budget.xlsx",
    "data/photo.jpg",
    "data/sub/plan.pptx",
    "data/sub/memo.TXT",
    "notes.txt",
    "pagefile.sys",
};

class StockXml : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(StockPath("MigUser.xml")))
        << "the stock USMT XML files belong at " << StockPath("");
    MakeWindowsRoot(dir_.path(), {"alice", "bob"}, kWindowsTree);
    machine_ = Discover(dir_.path());
  }

  Matcher Load(const std::vector<std::string>& files,
               const std::string& config = "") {
    RuleSet rules;
    for (const std::string& f : files) {
      Status s = rules.AddFile(StockPath(f));
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    if (!config.empty()) {
      Status s = rules.SetConfigFile(config);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    Result<Matcher> m = CompileRules(rules, machine_, AllUsers(machine_));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : Matcher();
  }

  // The files of kWindowsTree a matcher takes.
  std::set<std::string> Taken(const Matcher& m) {
    std::set<std::string> out;
    for (const std::string& p : kWindowsTree) {
      if (TakesFile(m, p)) out.insert(p);
    }
    return out;
  }

  TempDir dir_;
  Machine machine_;
};

TEST_F(StockXml, MigUserSelectsAsUsmt) {
  Matcher m = Load({"MigUser.xml"});
  std::set<std::string> expected = {
      // The user's shell folders, each its own component.
      "Users/alice/Documents/report.docx", "Users/alice/Documents/notes.txt",
      "Users/alice/Documents/desktop.ini",
      "Users/alice/Documents/Taxes/2023/return.pdf",
      "Users/alice/Desktop/shortcut.lnk", "Users/alice/Desktop/todo.txt",
      "Users/alice/Music/song.mp3", "Users/alice/Pictures/photo.jpg",
      "Users/alice/Videos/clip.mp4", "Users/alice/Favorites/link.url",
      "Users/alice/AppData/Roaming/Microsoft/Windows/Start "
      "Menu/Programs/app.lnk",
      "Users/alice/AppData/Roaming/Microsoft/Internet Explorer/Quick "
      "Launch/ql.lnk",
      "Users/bob/Documents/bob.docx",
      // The shared folders.
      "Users/Public/Documents/shared.docx", "Users/Public/Music/pub.mp3",
      "Users/Public/Pictures/pub.jpg", "Users/Public/Videos/pub.mp4",
      "Users/Public/Desktop/pub.lnk", "Users/Public/Favorites/pub.url",
      "ProgramData/Microsoft/Windows/Start Menu/Programs/common.lnk",
      // "User Data": the extensions anywhere on the fixed drive, outside the
      // profiles folder, Windows, Program Files and Winnt. Program Files
      // (x86) and ProgramData are not excluded by the stock file.
      "ProgramData/App/config.txt", "Program Files (x86)/Old/old.txt",
      "data/budget.xlsx", "data/sub/plan.pptx", "data/sub/memo.TXT",
      "notes.txt"};
  EXPECT_EQ(Taken(m), expected);
  // Downloads is not a MigUser folder; a .txt in a profile is not User Data.
  EXPECT_FALSE(TakesFile(m, "Users/alice/Downloads/invoice.pdf"));
  EXPECT_FALSE(TakesFile(m, "Users/alice/Projects/readme.txt"));
  // Whole system subtrees are pruned.
  EXPECT_FALSE(m.MayTakeBelow("Windows"));
  EXPECT_FALSE(m.MayTakeBelow("Program Files"));
  EXPECT_FALSE(m.MayTakeBelow("Users/alice/AppData/Local"));
  EXPECT_FALSE(m.MayTakeBelow("Users/Default"));
  EXPECT_TRUE(
      m.MayTakeBelow("Users/alice/AppData"));  // Start Menu, Quick Launch
  EXPECT_TRUE(m.MayTakeBelow("Program Files (x86)"));
  // desktop.ini keeps the destination's copy at restore.
  Explanation ini =
      m.Explain("Users/alice/Documents/desktop.ini", EntryKind::kFile);
  ASSERT_FALSE(ini.restore.empty());
  EXPECT_NE(ini.restore[0].find("DestinationPriority"), std::string::npos);
  EXPECT_NE(ini.restore[0].find("MigUser.xml:256"), std::string::npos)
      << ini.restore[0];
}

TEST_F(StockXml, MigUserExplainsWithFileAndLine) {
  Matcher m = Load({"MigUser.xml"});
  Explanation e =
      m.Explain("Users/alice/Projects/readme.txt", EntryKind::kFile);
  EXPECT_FALSE(e.taken);
  EXPECT_EQ(e.decided_by.pattern, R"(%PROFILESFOLDER%\* [*])");
  EXPECT_EQ(e.decided_by.line, 534);
  EXPECT_EQ(e.decided_by.component, "User Data");
  ASSERT_EQ(e.beaten.size(), 1u);
  EXPECT_EQ(e.beaten[0].expanded, R"(C:\* [*.txt])");
  EXPECT_EQ(e.beaten[0].line, 474);
}

TEST_F(StockXml, MigUserNotesWhatItCannotDo) {
  Matcher m = Load({"MigUser.xml"});
  for (const RuleDiagnostic& d : m.diagnostics()) {
    EXPECT_EQ(d.severity, RuleDiagnostic::Severity::kNote) << d.ToString();
  }
}

TEST_F(StockXml, MigDocsSelectsAsTheDocumentFinder) {
  Matcher m = Load({"MigDocs.xml"});
  std::set<std::string> expected = {
      "Users/alice/Documents/report.docx", "Users/alice/Documents/notes.txt",
      "Users/alice/Documents/desktop.ini",
      "Users/alice/Documents/Taxes/2023/return.pdf",
      "Users/alice/Desktop/shortcut.lnk", "Users/alice/Desktop/todo.txt",
      "Users/alice/Downloads/setup.exe", "Users/alice/Downloads/invoice.pdf",
      "Users/alice/Music/song.mp3", "Users/alice/Pictures/photo.jpg",
      "Users/alice/Videos/clip.mp4", "Users/alice/Favorites/link.url",
      "Users/alice/AppData/Roaming/Microsoft/Internet Explorer/Quick "
      "Launch/ql.lnk",
      "Users/alice/AppData/Roaming/Microsoft/Windows/Libraries/"
      "Documents.library-ms",
      // Files and folders at the profile's root.
      "Users/alice/Projects/code.c", "Users/alice/Projects/readme.txt",
      "Users/alice/notes.txt", "Users/bob/Documents/bob.docx",
      "Users/Public/Documents/shared.docx", "Users/Public/Music/pub.mp3",
      "Users/Public/Pictures/pub.jpg", "Users/Public/Videos/pub.mp4",
      "Users/Public/Desktop/pub.lnk", "Users/Public/Favorites/pub.url",
      // Files and folders at the root of the drive but the system's.
      "Winnt/legacy.txt", "data/budget.xlsx", "data/photo.jpg",
      "data/sub/plan.pptx", "data/sub/memo.TXT", "notes.txt"};
  EXPECT_EQ(Taken(m), expected);
  // Shell libraries: taken, and restored with the source's copy.
  Explanation lib = m.Explain(
      "Users/alice/AppData/Roaming/Microsoft/Windows/Libraries/"
      "Documents.library-ms",
      EntryKind::kFile);
  ASSERT_FALSE(lib.restore.empty()) << FormatExplanation(lib);
  EXPECT_NE(lib.restore[0].find("merge MigXmlHelper.SourcePriority()"),
            std::string::npos)
      << lib.restore[0];
  EXPECT_FALSE(m.MayTakeBelow("Windows"));
  EXPECT_FALSE(m.MayTakeBelow("ProgramData"));
  EXPECT_FALSE(m.MayTakeBelow("Users/alice/AppData/Local"));
}

TEST_F(StockXml, MigUserWithMigDocsIsWarnedAbout) {
  Matcher both = Load({"MigUser.xml", "MigDocs.xml"});
  bool warned = false;
  for (const RuleDiagnostic& d : both.diagnostics()) {
    warned |= d.severity == RuleDiagnostic::Severity::kWarning &&
              d.message.find("USMT advises against") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

TEST_F(StockXml, RealConfigXmlLoadsAndSwitchesComponents) {
  Matcher all = Load({"MigDocs.xml"}, StockPath("Config.xml"));
  Matcher plain = Load({"MigDocs.xml"});
  EXPECT_EQ(Taken(all), Taken(plain));  // every component says migrate="yes"
  for (const RuleDiagnostic& d : all.diagnostics()) {
    EXPECT_EQ(d.severity, RuleDiagnostic::Severity::kNote) << d.ToString();
  }
  // The same file with MigDocUser switched off keeps only system context.
  std::string text = ReadFile(StockPath("Config.xml"));
  const std::string yes = R"(displayname="MigDocUser" migrate="yes")";
  size_t at = text.find(yes);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, yes.size(), R"(displayname="MigDocUser" migrate="no")");
  std::string edited = dir_ / "../Config-no-user.xml";
  WriteFile(edited, text);
  Matcher off = Load({"MigDocs.xml"}, edited);
  std::filesystem::remove(edited);
  EXPECT_FALSE(TakesFile(off, "Users/alice/Documents/report.docx"));
  EXPECT_TRUE(TakesFile(off, "Users/Public/Documents/shared.docx"));
  EXPECT_TRUE(TakesFile(off, "data/budget.xlsx"));
  Explanation e =
      off.Explain("Users/alice/Documents/report.docx", EntryKind::kFile);
  ASSERT_FALSE(e.inactive.empty());
  EXPECT_NE(e.inactive[0].note.find("migrate=\"no\""), std::string::npos);
}

TEST_F(StockXml, BuiltInWindowsRulesSelectExactlyWhatMigUserSelects) {
  Matcher stock = Load({"MigUser.xml"});
  RuleSet builtin;
  builtin.AddBuiltIn(Layout::kWindows);
  Result<Matcher> mine = CompileRules(builtin, machine_, AllUsers(machine_));
  ASSERT_OK(mine);
  int compared = 0;
  for (const WalkedEntry& e : WalkTree(dir_.path())) {
    EntryKind kind = e.is_dir ? EntryKind::kDirectory : EntryKind::kFile;
    EXPECT_EQ(stock.Decide(e.path, kind).taken,
              mine->Decide(e.path, kind).taken)
        << e.path;
    ++compared;
  }
  EXPECT_GT(compared, 80);
}

TEST_F(StockXml, MigUserOnALinuxRootUsesTheXdgFolders) {
  TempDir linux_root;
  MakeLinuxRoot(linux_root.path(), {"carol"},
                {"home/carol/Documents/a.odt", "home/carol/Music/b.ogg",
                 "srv/report.doc", "home/carol/code/x.txt"});
  Machine lm = Discover(linux_root.path());
  RuleSet rules;
  ASSERT_OK(rules.AddFile(StockPath("MigUser.xml")));
  Result<Matcher> m = CompileRules(rules, lm, AllUsers(lm));
  ASSERT_OK(m);
  EXPECT_TRUE(TakesFile(*m, "home/carol/Documents/a.odt"));
  EXPECT_TRUE(TakesFile(*m, "home/carol/Music/b.ogg"));
  EXPECT_TRUE(
      TakesFile(*m, "srv/report.doc"));  // User Data, outside %PROFILESFOLDER%
  EXPECT_FALSE(TakesFile(*m, "home/carol/code/x.txt"));
}

}  // namespace
}  // namespace migstore::testing
