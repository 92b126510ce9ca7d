// USMT migration XML, the file part: pattern forms, variables, contexts,
// helpers, detection, filters, kept restore rules, Config.xml, and what is
// reported rather than applied.

#include <gtest/gtest.h>

#include "engine/src/rules/rule_model.h"
#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

bool HasDiagnostic(const std::vector<RuleDiagnostic>& ds,
                   const std::string& text, int line = -1) {
  for (const RuleDiagnostic& d : ds) {
    if (d.message.find(text) != std::string::npos &&
        (line < 0 || d.line == line))
      return true;
  }
  return false;
}

std::string AllDiagnostics(const std::vector<RuleDiagnostic>& ds) {
  std::string out;
  for (const RuleDiagnostic& d : ds) out += d.ToString() + "\n";
  return out;
}

class UsmtXml : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeWindowsRoot(
        dir_.path(), {"alice", "bob"},
        {"Folder/a.mp3",
         "Folder/b.txt",
         "Folder/Sub/c.mp3",
         "Folder/Sub/Deep/d.mp3",
         "Other/Sample.doc",
         "Other/x/Sample.doc",
         "Other/y/other.doc",
         "Folder/file].txt",
         "Folder/file^.txt",
         "Folder/a?b.txt",
         "Folder/axb.txt",
         "data/New Folder/n.txt",
         "data/top.txt",
         "Windows/win.ini",
         "Users/alice/Documents/a.doc",
         "Users/alice/Documents/desktop.ini",
         "Users/alice/Documents/link.lnk",
         "Users/bob/Documents/b.doc",
         "Users/alice/Favorites/f.url",
         "Users/Public/Documents/p.doc",
         "Users/alice/notes.txt",
         "Users/alice/Projects/p.c",
         "Users/alice/AppData/Local/cache.bin",
         "Users/Default/Documents/t.docx",
         "Program Files/App/app.exe",
         "Program Files (x86)/Old/o.exe",
         "ProgramData/App/c.ini",
         "ProgramData/Microsoft/Windows/Start Menu/Programs/x.lnk"});
    machine_ = Discover(dir_.path());
  }

  Matcher System(const std::string& rules) {
    return CompileTexts(machine_, {{"t.xml", UsmtFile(rules, "System")}});
  }
  Matcher User(const std::string& rules) {
    return CompileTexts(machine_, {{"t.xml", UsmtFile(rules, "User")}});
  }

  TempDir dir_;
  Machine machine_;
};

TEST_F(UsmtXml, NodeLeafForms) {
  Matcher recursive = System(Inc(R"(C:\Folder\* [*])"));
  EXPECT_TRUE(TakesFile(recursive, "Folder/a.mp3"));
  EXPECT_TRUE(TakesFile(recursive, "Folder/Sub/Deep/d.mp3"));
  Matcher flat = System(Inc(R"(C:\Folder\ [*])"));
  EXPECT_TRUE(TakesFile(flat, "Folder/a.mp3"));
  EXPECT_FALSE(TakesFile(flat, "Folder/Sub/c.mp3"));
  Matcher mp3 = System(Inc(R"(C:\Folder\ [*.mp3])"));
  EXPECT_TRUE(TakesFile(mp3, "Folder/a.mp3"));
  EXPECT_FALSE(TakesFile(mp3, "Folder/b.txt"));
  EXPECT_FALSE(TakesFile(mp3, "Folder/Sub/c.mp3"));
  Matcher anywhere = System(Inc(R"(C:\* [Sample.doc])"));
  EXPECT_TRUE(TakesFile(anywhere, "Other/Sample.doc"));
  EXPECT_TRUE(TakesFile(anywhere, "Other/x/Sample.doc"));
  EXPECT_FALSE(TakesFile(anywhere, "Other/y/other.doc"));
  // c:\data\ [*] misses C:\data\New Folder\...; c:\data\* [*] does not.
  EXPECT_FALSE(
      TakesFile(System(Inc(R"(c:\data\ [*])")), "data/New Folder/n.txt"));
  EXPECT_TRUE(
      TakesFile(System(Inc(R"(c:\data\* [*])")), "data/New Folder/n.txt"));
}

TEST_F(UsmtXml, NodeWildcardDoesNotReachTheLeaf) {
  // c:\Windows\* names directories only; c:\Windows\*[*] takes files too.
  Matcher dirs = System(Inc(R"(c:\Windows\*)"));
  EXPECT_FALSE(TakesFile(dirs, "Windows/win.ini"));
  EXPECT_TRUE(TakesDir(dirs, "Windows/System32"));
  EXPECT_TRUE(TakesFile(System(Inc(R"(c:\Windows\*[*])")), "Windows/win.ini"));
}

TEST_F(UsmtXml, NoSpaceEncodedLocationAndRelativeForms) {
  EXPECT_TRUE(
      TakesFile(System(Inc(R"(c:\Windows[win.ini])")), "Windows/win.ini"));
  EXPECT_TRUE(TakesFile(System(Inc(R"(*[*.ini])")), "Windows/win.ini"));
  EXPECT_TRUE(TakesFile(System(Inc(R"(C:\Fold*\ [b.txt])")), "Folder/b.txt"));
}

TEST_F(UsmtXml, OnlyStarIsAWildcardAndCaretEscapes) {
  Matcher q = System(Inc(R"(C:\Folder\ [a?b.txt])"));
  EXPECT_TRUE(TakesFile(q, "Folder/a?b.txt"));
  EXPECT_FALSE(TakesFile(q, "Folder/axb.txt"));
  EXPECT_TRUE(
      TakesFile(System(Inc(R"(C:\Folder\ [file^].txt])")), "Folder/file].txt"));
  EXPECT_TRUE(
      TakesFile(System(Inc(R"(C:\Folder\ [file^^.txt])")), "Folder/file^.txt"));
}

TEST_F(UsmtXml, WindowsLayoutIsCaseInsensitive) {
  Matcher m = System(Inc(R"(c:\FOLDER\sub\* [*.MP3])"));
  EXPECT_TRUE(TakesFile(m, "Folder/Sub/c.mp3"));
  EXPECT_TRUE(TakesFile(m, "folder/SUB/Deep/D.Mp3"));
}

TEST_F(UsmtXml, OtherDrivesAreNotPartOfTheCapture) {
  Matcher m = System(Inc(R"(D:\Folder\* [*])"));
  EXPECT_FALSE(TakesFile(m, "Folder/a.mp3"));
  EXPECT_TRUE(
      HasDiagnostic(m.diagnostics(), "drive D: is not part of this capture"));
}

TEST_F(UsmtXml, UserContextRunsPerUser) {
  Matcher m = User(Inc(R"(%CSIDL_PERSONAL%\* [*.doc])"));
  EXPECT_TRUE(TakesFile(m, "Users/alice/Documents/a.doc"));
  EXPECT_TRUE(TakesFile(m, "Users/bob/Documents/b.doc"));
  EXPECT_FALSE(TakesFile(m, "Users/Public/Documents/p.doc"));
  Explanation e = m.Explain("Users/bob/Documents/b.doc", EntryKind::kFile);
  EXPECT_EQ(e.decided_by.user, "bob");
  EXPECT_EQ(e.decided_by.expanded, R"(C:\Users\bob\Documents\* [*.doc])");
}

TEST_F(UsmtXml, SystemContextVariables) {
  struct Case {
    const char* pattern;
    const char* taken;
  } cases[] = {
      {R"(%CSIDL_COMMON_DOCUMENTS%\* [*])", "Users/Public/Documents/p.doc"},
      {R"(%PUBLIC%\Documents\* [*])", "Users/Public/Documents/p.doc"},
      {R"(%CSIDL_WINDOWS%\ [*.ini])", "Windows/win.ini"},
      {R"(%WINDIR%\ [*.ini])", "Windows/win.ini"},
      {R"(%SYSTEMDRIVE%\Folder\ [b.txt])", "Folder/b.txt"},
      {R"(%PROFILESFOLDER%\alice\ [notes.txt])", "Users/alice/notes.txt"},
      {R"(%CSIDL_DEFAULT_PERSONAL%\* [*])", "Users/Default/Documents/t.docx"},
      {R"(%DEFAULTUSERPROFILE%\* [*.docx])", "Users/Default/Documents/t.docx"},
      {R"(%PROGRAMFILES%\* [*])", "Program Files/App/app.exe"},
      {R"(%CSIDL_PROGRAM_FILESX86%\* [*])", "Program Files (x86)/Old/o.exe"},
      {R"(%ALLUSERSPROFILE%\* [*])", "ProgramData/App/c.ini"},
      {R"(%CSIDL_COMMON_APPDATA%\* [*])", "ProgramData/App/c.ini"},
      {R"(%CSIDL_COMMON_STARTMENU%\* [*])",
       "ProgramData/Microsoft/Windows/Start Menu/Programs/x.lnk"},
  };
  for (const Case& c : cases)
    EXPECT_TRUE(TakesFile(System(Inc(c.pattern)), c.taken)) << c.pattern;
}

TEST_F(UsmtXml, OwnerOfAPath) {
  Matcher m = System(Inc(R"(C:\* [*])"));
  auto owner = [&](const std::string& path, EntryKind kind) -> std::string {
    int32_t p = m.Decide(path, kind).profile;
    return p < 0 ? "" : machine_.profiles[static_cast<size_t>(p)].name;
  };
  EXPECT_EQ(owner("USERS/ALICE/notes.txt", EntryKind::kFile), "alice");
  EXPECT_EQ(owner("Users/alice", EntryKind::kDirectory), "alice");
  EXPECT_EQ(owner("Users/bob/Documents/b.doc", EntryKind::kFile), "bob");
  EXPECT_EQ(owner("Users/Public/Documents/p.doc", EntryKind::kFile), "");
  EXPECT_EQ(owner("Users", EntryKind::kDirectory), "");
}

TEST_F(UsmtXml, NestedComponentsAndConfigSwitchingOffTheParent) {
  std::string xml = UsmtMigration(
      "<component type=\"Documents\" "
      "context=\"System\"><displayName>Parent</displayName>"
      "<role role=\"Container\">"
      "<component type=\"Documents\"><displayName>Child</displayName><role "
      "role=\"Data\">"
      "<rules>" +
          Inc(R"(C:\Folder\* [*])") +
          "</rules></role></component>"
          "</role></component>",
      "http://test/nested");
  EXPECT_TRUE(
      TakesFile(CompileTexts(machine_, {{"n.xml", xml}}), "Folder/a.mp3"));
  std::string config =
      "<Configuration><Documents><component displayname=\"Parent\" "
      "migrate=\"no\" "
      "ID=\"http://test/nested/parent/container\"/></Documents></"
      "Configuration>";
  Matcher off = CompileTexts(machine_, {{"n.xml", xml}}, config);
  EXPECT_FALSE(TakesFile(off, "Folder/a.mp3"));
  Explanation e = off.Explain("Folder/a.mp3", EntryKind::kFile);
  ASSERT_EQ(e.inactive.size(), 1u);
  EXPECT_EQ(e.inactive[0].component, "Child");
  // A migrate="no" that names nothing loaded is noted.
  std::string stray =
      "<Configuration><Documents><component displayname=\"Gone\" "
      "migrate=\"no\" "
      "ID=\"http://test/gone/gone/data\"/></Documents></Configuration>";
  EXPECT_TRUE(HasDiagnostic(
      CompileTexts(machine_, {{"n.xml", xml}}, stray).diagnostics(),
      "no loaded rules file has it"));
}

TEST_F(UsmtXml, PerUserVariableInSystemContextIsReported) {
  Matcher m = System(Inc(R"(%CSIDL_PERSONAL%\* [*])"));
  EXPECT_FALSE(TakesFile(m, "Users/alice/Documents/a.doc"));
  EXPECT_TRUE(HasDiagnostic(m.diagnostics(), "per-user folder"));
}

TEST_F(UsmtXml, RulesContextInsideComponentIsCapped) {
  // <rules context="System"> inside a User component is ignored.
  std::string xml = UsmtMigration(
      "<component type=\"Documents\" "
      "context=\"User\"><displayName>U</displayName>"
      "<role role=\"Data\"><rules context=\"System\">" +
      Inc(R"(C:\Folder\* [*])") + "</rules><rules>" +
      Inc(R"(%CSIDL_FAVORITES%\* [*])") + "</rules></role></component>");
  Matcher m = CompileTexts(machine_, {{"t.xml", xml}});
  EXPECT_FALSE(TakesFile(m, "Folder/a.mp3"));
  EXPECT_TRUE(TakesFile(m, "Users/alice/Favorites/f.url"));
}

TEST_F(UsmtXml, EnvironmentVariables) {
  std::string xml = UsmtMigration(
      "<component type=\"Documents\" "
      "context=\"System\"><displayName>E</displayName>"
      "<environment><variable "
      "name=\"MyData\"><text>%SYSTEMDRIVE%\\Folder</text></variable>"
      "</environment><role role=\"Data\"><rules>" +
      Inc(R"(%MYDATA%\Sub\* [*])") + "</rules></role></component>");
  Matcher m = CompileTexts(machine_, {{"t.xml", xml}});
  EXPECT_TRUE(TakesFile(m, "Folder/Sub/c.mp3"));
  EXPECT_FALSE(TakesFile(m, "Folder/a.mp3"));
}

TEST_F(UsmtXml, GenerateDrivePatterns) {
  std::string rules =
      "<include><objectSet>"
      "<script>MigXmlHelper.GenerateDrivePatterns (\"* [*.mp3]\", "
      "\"Fixed\")</script>"
      "<script>MigXmlHelper.GenerateDrivePatterns (\"* [*.txt]\", "
      "\"Removable\")</script>"
      "</objectSet></include><exclude><objectSet>"
      "<script>MigXmlHelper.GenerateDrivePatterns (\"\\Folder\\Sub\\* [*]\", "
      "\"Fixed\")"
      "</script></objectSet></exclude>";
  Matcher m = System(rules);
  EXPECT_TRUE(TakesFile(m, "Folder/a.mp3"));
  EXPECT_FALSE(TakesFile(m, "Folder/Sub/c.mp3"));
  EXPECT_FALSE(TakesFile(m, "Folder/b.txt"));
  EXPECT_TRUE(HasDiagnostic(m.diagnostics(), "no Removable drives"));
}

TEST_F(UsmtXml, GenerateUserPatterns) {
  std::string all =
      "<include><objectSet><script>MigXmlHelper.GenerateUserPatterns "
      "(\"File\", "
      "\"%CSIDL_PERSONAL%\\* [*.doc]\", "
      "\"TRUE\")</script></objectSet></include>";
  Matcher sys = System(all);
  EXPECT_TRUE(TakesFile(sys, "Users/alice/Documents/a.doc"));
  EXPECT_TRUE(TakesFile(sys, "Users/bob/Documents/b.doc"));
  // In user context, each user's run is separate: with ProcessCurrentUser
  // FALSE a run excludes the *other* users' Documents, which does not touch
  // the include of the user whose run it is.
  std::string others =
      "<exclude><objectSet><script>MigXmlHelper.GenerateUserPatterns "
      "(\"File\", "
      "\"%CSIDL_PERSONAL%\\* [*]\", \"FALSE\")</script></objectSet></exclude>" +
      Inc(R"(%CSIDL_PERSONAL%\* [*])");
  Matcher user = User(others);
  EXPECT_TRUE(TakesFile(user, "Users/alice/Documents/a.doc"));
  EXPECT_TRUE(TakesFile(user, "Users/bob/Documents/b.doc"));
  // With TRUE, each run also excludes its own user's Documents: a tie, and
  // the exclude wins.
  std::string all_users =
      "<exclude><objectSet><script>MigXmlHelper.GenerateUserPatterns "
      "(\"File\", "
      "\"%CSIDL_PERSONAL%\\* [*]\", \"TRUE\")</script></objectSet></exclude>" +
      Inc(R"(%CSIDL_PERSONAL%\* [*])");
  EXPECT_FALSE(TakesFile(User(all_users), "Users/alice/Documents/a.doc"));
  // A rule the same in every run (no per-user variable) loses only in the
  // runs whose own excludes beat it: here alice's run excludes bob's home,
  // bob's run excludes alice's, and each home is taken by its own run.
  std::string homes =
      Inc(R"(%PROFILESFOLDER%\* [*])") +
      "<exclude><objectSet><script>MigXmlHelper.GenerateUserPatterns "
      "(\"File\", "
      "\"%USERPROFILE%\\* [*]\", \"FALSE\")</script></objectSet></exclude>";
  Matcher per_run = User(homes);
  EXPECT_TRUE(TakesFile(per_run, "Users/alice/notes.txt"));
  EXPECT_TRUE(TakesFile(per_run, "Users/bob/Documents/b.doc"));
  // The same rules in System context: one run, every home excluded.
  Matcher system_run = System(homes);
  EXPECT_FALSE(TakesFile(system_run, "Users/alice/notes.txt"));
  EXPECT_TRUE(TakesFile(system_run, "Users/Public/Documents/p.doc"));
  std::string registry =
      "<include><objectSet><script>MigXmlHelper.GenerateUserPatterns "
      "(\"Registry\", "
      "\"HKCU\\Software\\* [*]\", \"TRUE\")</script></objectSet></include>";
  // In either context, each user's pattern applies to that user's hive.
  Matcher users = User(registry);
  // Two runs (one per user), each generating a pattern per user.
  EXPECT_EQ(users.registry_rule_count(), 4u)
      << AllDiagnostics(users.diagnostics());
  ASSERT_GE(machine_.profiles.size(), 2u);
  const std::string theme = "Theme";
  for (int32_t p = 0; p < static_cast<int32_t>(machine_.profiles.size()); ++p) {
    EXPECT_TRUE(users.DecideRegistry("HKCU\\Software\\App", p, &theme).taken);
  }
  EXPECT_FALSE(users.DecideRegistry("HKCU\\Control Panel", 0, &theme).taken);
}

TEST_F(UsmtXml, GenerateDocPatterns) {
  std::string both =
      "<include><objectSet><script>MigXmlHelper.GenerateDocPatterns "
      "(\"FALSE\",\"TRUE\","
      "\"FALSE\")</script></objectSet></include><exclude><objectSet><script>"
      "MigXmlHelper.GenerateDocPatterns "
      "(\"FALSE\",\"FALSE\",\"FALSE\")</script></objectSet>"
      "</exclude>";
  Matcher user = User(both);
  EXPECT_TRUE(TakesFile(user, "Users/alice/notes.txt"));  // profile root file
  EXPECT_TRUE(
      TakesFile(user, "Users/alice/Projects/p.c"));  // profile root folder
  EXPECT_TRUE(TakesFile(user, "Users/alice/Documents/a.doc"));
  EXPECT_FALSE(
      TakesFile(user, "Users/alice/NTUSER.DAT"));  // hidden system hive
  EXPECT_FALSE(TakesFile(user, "Users/alice/AppData/Local/cache.bin"));
  Matcher sys = System(both);
  EXPECT_TRUE(TakesFile(sys, "data/top.txt"));  // root folders
  EXPECT_TRUE(TakesFile(sys, "Folder/Sub/Deep/d.mp3"));
  EXPECT_TRUE(
      TakesFile(sys, "Users/Public/Documents/p.doc"));  // common folders
  EXPECT_FALSE(TakesFile(sys, "Windows/win.ini"));
  EXPECT_FALSE(
      TakesFile(sys, "Users/alice/notes.txt"));  // users are user context
  std::string scan_pf =
      "<include><objectSet><script>MigXmlHelper.GenerateDocPatterns "
      "(\"TRUE\",\"TRUE\","
      "\"FALSE\")</script></objectSet></include>";
  EXPECT_TRUE(HasDiagnostic(System(scan_pf).diagnostics(), "ScanProgramFiles"));
}

TEST_F(UsmtXml, DetectsDoesObjectExist) {
  auto component = [](const std::string& detect, const std::string& rules) {
    return "<component type=\"Documents\" "
           "context=\"System\"><displayName>D</displayName>"
           "<role role=\"Data\">" +
           detect + "<rules>" + rules + "</rules></role></component>";
  };
  std::string exists =
      "<detects><detect><condition>MigXmlHelper.DoesObjectExist(\"File\","
      "\"C:\\Folder\")</condition></detect></detects>";
  std::string missing =
      "<detects><detect><condition>MigXmlHelper.DoesObjectExist(\"File\","
      "\"C:\\NoSuchFolder\")</condition></detect></detects>";
  Matcher yes = CompileTexts(
      machine_,
      {{"t.xml", UsmtMigration(component(exists, Inc(R"(C:\Folder\* [*])")))}});
  EXPECT_TRUE(TakesFile(yes, "Folder/a.mp3"));
  Matcher no = CompileTexts(
      machine_, {{"t.xml", UsmtMigration(component(
                               missing, Inc(R"(C:\Folder\* [*])")))}});
  EXPECT_FALSE(TakesFile(no, "Folder/a.mp3"));
  Explanation e = no.Explain("Folder/a.mp3", EntryKind::kFile);
  ASSERT_EQ(e.inactive.size(), 1u);
  EXPECT_NE(e.inactive[0].note.find("not detected"), std::string::npos)
      << e.inactive[0].note;
  // A leaf: the object is a file; case does not matter on windows.
  std::string leaf =
      "<detects><detect><condition>MigXmlHelper.DoesObjectExist(\"File\","
      "\"C:\\folder [B.TXT]\")</condition></detect></detects>";
  EXPECT_TRUE(TakesFile(
      CompileTexts(machine_,
                   {{"t.xml", UsmtMigration(component(
                                  leaf, Inc(R"(C:\Folder\* [*])")))}}),
      "Folder/a.mp3"));
}

TEST_F(UsmtXml, DetectsCombineAndNegate) {
  auto taken = [&](const std::string& detection) {
    std::string xml = UsmtMigration(
        "<component type=\"Documents\" "
        "context=\"System\"><displayName>D</displayName>"
        "<role role=\"Data\">" +
        detection + "<rules>" + Inc(R"(C:\Folder\* [*])") +
        "</rules></role></component>");
    return TakesFile(CompileTexts(machine_, {{"t.xml", xml}}), "Folder/a.mp3");
  };
  const std::string t =
      "<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\Folder\")</"
      "condition>";
  const std::string f =
      "<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\Nope\")</"
      "condition>";
  const std::string not_f =
      "<condition "
      "negation=\"Yes\">MigXmlHelper.DoesObjectExist(\"File\",\"C:\\Nope\")</"
      "condition>";
  // Parts of one <detect> are OR'd; the <detect>s of a <detects> are AND'd.
  EXPECT_TRUE(taken("<detects><detect>" + f + t + "</detect></detects>"));
  EXPECT_FALSE(taken("<detects><detect>" + t + "</detect><detect>" + f +
                     "</detect></detects>"));
  EXPECT_TRUE(taken("<detects><detect>" + t + "</detect><detect>" + not_f +
                    "</detect></detects>"));
  // Several <detects> blocks are OR'd.
  EXPECT_TRUE(taken("<detects><detect>" + f +
                    "</detect></detects><detects><detect>" + t +
                    "</detect></detects>"));
  // <detection><conditions operation="OR">.
  EXPECT_TRUE(taken("<detection><conditions operation=\"OR\">" + f + t +
                    "</conditions></detection>"));
  EXPECT_FALSE(
      taken("<detection><conditions>" + f + t + "</conditions></detection>"));
}

TEST_F(UsmtXml, NamedDetection) {
  std::string xml =
      "<migration urlid=\"http://test/named\"><namedElements><detection "
      "name=\"HasFolder\">"
      "<conditions><condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:"
      "\\Folder\")</condition>"
      "</conditions></detection></namedElements>"
      "<component type=\"Documents\" "
      "context=\"System\"><displayName>N</displayName>"
      "<role role=\"Data\"><detection name=\"HasFolder\"/><rules>" +
      Inc(R"(C:\Folder\* [*])") + "</rules></role></component></migration>";
  EXPECT_TRUE(
      TakesFile(CompileTexts(machine_, {{"t.xml", xml}}), "Folder/a.mp3"));
}

TEST_F(UsmtXml, IsSameObjectWithNegation) {
  // MigUser.xml's Shared Documents: skipped when it is My Documents.
  MakeTree(dir_.path(), {"Users/alice/Documents/"});
  auto shared = [&](const std::string& personal_target) {
    std::string xml = UsmtMigration(
        "<component type=\"Documents\" "
        "context=\"System\"><displayName>S</displayName>"
        "<role role=\"Data\"><detects><detect><condition negation=\"Yes\">"
        "MigXmlHelper.IsSameObject(\"File\",\"" +
        personal_target +
        "\", "
        "\"%CSIDL_COMMON_DOCUMENTS%\")</condition></detect></detects><rules>" +
        Inc(R"(%CSIDL_COMMON_DOCUMENTS%\* [*])") +
        "</rules></role></component>");
    return TakesFile(CompileTexts(machine_, {{"t.xml", xml}}),
                     "Users/Public/Documents/p.doc");
  };
  EXPECT_TRUE(shared("%CSIDL_PERSONAL%"));               // different folders
  EXPECT_FALSE(shared("C:\\Users\\Public\\Documents"));  // the same folder
}

TEST_F(UsmtXml, UndecidableConditionsDoNotStopAComponent) {
  std::string xml = UsmtMigration(
      "<component type=\"Documents\" "
      "context=\"System\"><displayName>R</displayName>"
      "<role "
      "role=\"Data\"><detects><detect><condition>MigXmlHelper.DoesObjectExist("
      "\"Registry\",\"HKLM\\Software\\App "
      "[Path]\")</condition></detect></detects><rules>" +
      Inc(R"(C:\Folder\* [*])") + "</rules></role></component>");
  Matcher m = CompileTexts(machine_, {{"t.xml", xml}});
  EXPECT_TRUE(TakesFile(m, "Folder/a.mp3"));
  // The root has no SOFTWARE hive to read.
  EXPECT_TRUE(HasDiagnostic(m.diagnostics(), "taken as true"))
      << AllDiagnostics(m.diagnostics());
}

TEST_F(UsmtXml, FiltersAndRestoreRulesAreKept) {
  std::string rules =
      "<include "
      "filter='MigXmlHelper.IgnoreIrrelevantLinks()'><objectSet><pattern "
      "type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern></objectSet></include>"
      "<merge "
      "script=\"MigXmlHelper.DestinationPriority()\"><objectSet><pattern "
      "type=\"File\">%CSIDL_PERSONAL% "
      "[desktop.ini]</pattern></objectSet></merge>"
      "<merge script=\"MigXmlHelper.SourcePriority()\"><objectSet><pattern "
      "type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern></objectSet></merge>";
  Matcher m = User(rules);
  Explanation ini =
      m.Explain("Users/alice/Documents/desktop.ini", EntryKind::kFile);
  ASSERT_TRUE(ini.taken);
  ASSERT_EQ(ini.restore.size(), 2u) << FormatExplanation(ini);
  // The most specific <merge> is the one restore applies.
  EXPECT_NE(ini.restore[0].find("merge MigXmlHelper.DestinationPriority()"),
            std::string::npos);
  EXPECT_NE(ini.restore[1].find("IgnoreIrrelevantLinks"), std::string::npos);
  Explanation doc = m.Explain("Users/alice/Documents/a.doc", EntryKind::kFile);
  EXPECT_NE(doc.restore[0].find("SourcePriority"), std::string::npos)
      << FormatExplanation(doc);
  std::string props =
      "<include filter='MigXmlHelper.FileProperties(\"filesize\", \"lt\", "
      "\"1MB\")'><objectSet>"
      "<pattern type=\"File\">C:\\Folder\\* "
      "[*]</pattern></objectSet></include>";
  Matcher p = System(props);
  // FileProperties decides from the file's properties: asked without them,
  // the matcher says it needs them; with them, it applies the filter.
  Decision unknown = p.Decide("Folder/a.mp3", EntryKind::kFile);
  EXPECT_FALSE(unknown.taken);
  EXPECT_TRUE(unknown.needs_facts);
  FileFacts small;
  small.size = 1000;
  FileFacts big;
  big.size = 1u << 20;
  EXPECT_TRUE(p.Decide("Folder/a.mp3", EntryKind::kFile, &small).taken);
  EXPECT_FALSE(p.Decide("Folder/a.mp3", EntryKind::kFile, &big).taken);
  EXPECT_FALSE(p.Decide("Folder/Sub", EntryKind::kDirectory).needs_facts);
  EXPECT_TRUE(p.diagnostics().empty()) << AllDiagnostics(p.diagnostics());
  std::string unknown_filter =
      "<include filter='MigXmlHelper.AnswerNo()'><objectSet>"
      "<pattern type=\"File\">C:\\Folder\\* "
      "[*]</pattern></objectSet></include>";
  Matcher u = System(unknown_filter);
  EXPECT_TRUE(TakesFile(u, "Folder/a.mp3"));
  EXPECT_TRUE(HasDiagnostic(u.diagnostics(),
                            "not applied: the rule takes every object"))
      << AllDiagnostics(u.diagnostics());
}

TEST_F(UsmtXml, NotApplicableAndUnknownThingsAreReportedWithTheirLine) {
  std::string xml =
      "<migration urlid=\"http://test/report\">\n"                       // 1
      "<component type=\"Documents\" context=\"System\">\n"              // 2
      "<displayName>R</displayName>\n"                                   // 3
      "<role role=\"Data\">\n"                                           // 4
      "<rules>\n"                                                        // 5
      "<include><objectSet>\n"                                           // 6
      "<pattern type=\"Registry\">HKCU\\Software\\X\\* [*]</pattern>\n"  // 7
      "<pattern "
      "type=\"Ini\">%WINDIR%\\win.ini|Desktop[Wallpaper]</pattern>\n"  // 8
      "<script>MigSysHelper.GetUserShellFolders()</script>\n"          // 9
      "<pattern type=\"File\">C:\\Folder\\* [*]</pattern>\n"           // 10
      "</objectSet></include>\n"                                       // 11
      "<frobnicate/>\n"                                                // 12
      "<addObjects><objectSet/></addObjects>\n"                        // 13
      "</rules>\n"
      "</role>\n"
      "</component>\n"
      "<whatever/>\n"  // 17
      "</migration>\n";
  Matcher m = CompileTexts(machine_, {{"r.xml", xml}});
  const auto& ds = m.diagnostics();
  EXPECT_TRUE(
      HasDiagnostic(ds, "HKCU pattern in a System-context component", 7))
      << AllDiagnostics(ds);
  EXPECT_TRUE(HasDiagnostic(ds, "Ini pattern not applicable", 8))
      << AllDiagnostics(ds);
  EXPECT_TRUE(
      HasDiagnostic(ds, "MigSysHelper.GetUserShellFolders is not run", 9));
  EXPECT_TRUE(HasDiagnostic(ds, "unknown element <frobnicate>", 12));
  EXPECT_TRUE(HasDiagnostic(ds, "unknown element <objectSet> ignored", 13));
  EXPECT_TRUE(HasDiagnostic(ds, "unknown element <whatever>", 17));
  EXPECT_TRUE(TakesFile(m, "Folder/a.mp3"));
}

struct BadXml {
  const char* text;
  int line;
  int column;
  const char* says;
};

class UsmtXmlErrors : public ::testing::TestWithParam<BadXml> {};

TEST_P(UsmtXmlErrors, SayFileLineColumn) {
  RuleSet rules;
  Status s = rules.AddText("bad.xml", GetParam().text);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  std::string where = "bad.xml:" + std::to_string(GetParam().line) + ":" +
                      std::to_string(GetParam().column) + ": ";
  EXPECT_EQ(std::string(s.message()).substr(0, where.size()), where)
      << s.ToString();
  EXPECT_NE(s.message().find(GetParam().says), std::string_view::npos)
      << s.ToString();
  EXPECT_TRUE(rules.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Xml, UsmtXmlErrors,
    ::testing::Values(
        BadXml{"<migration urlid=\"u\">\n  <component>\n</migration>\n", 3, 3,
               "not well-formed XML"},
        BadXml{"<?xml version=\"1.0\"?>\n<rules/>\n", 2, 1,
               "must be <migration>"},
        BadXml{"<Configuration>\n</Configuration>\n", 1, 1,
               "pass it with --config"},
        BadXml{
            "<migration urlid=\"u\"><component "
            "context=\"System\"><role><rules>\n"
            "<include><objectSet><pattern type=\"File\">C:\\x [a.txt</pattern>"
            "</objectSet></include></rules></role></component></migration>\n",
            2, 47, "'[' without a closing ']'"},
        BadXml{"<migration urlid=\"u\"><component "
               "context=\"System\"><role><rules>\n"
               "<include><objectSet>\n   "
               "<script>MigXmlHelper.GenerateDrivePatterns (\"* [*.x]\""
               "</script></objectSet></include></rules></role></component></"
               "migration>\n",
               3, 57, "cannot read script call"}));

TEST(UsmtXmlFiles, SecondFileWithTheSameUrlidIsRefused) {
  RuleSet rules;
  ASSERT_OK(rules.AddText("a.xml", "<migration urlid=\"http://x/same\"/>"));
  Status s = rules.AddText("b.xml", "\n<migration urlid=\"http://x/Same\"/>");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(
      s.message().find("b.xml:2:1: urlid http://x/Same is already loaded"),
      std::string_view::npos)
      << s.ToString();
}

// Each named detection refers ten times to the next: six levels would make
// a million conditions (and eight, 10^8: gigabytes) from a 2 KB file.
TEST(UsmtXmlFiles, NamedDetectionsThatMultiplyAreRefused) {
  std::string xml = "<migration urlid=\"http://x/laughs\"><namedElements>";
  for (int level = 0; level < 6; ++level) {
    xml += "<detects name=\"D" + std::to_string(level) + "\">";
    for (int i = 0; i < 10; ++i)
      xml += "<detect name=\"D" + std::to_string(level + 1) + "\"/>";
    xml += "</detects>";
  }
  xml +=
      "<detects name=\"D6\"><detect><condition>MigXmlHelper.IsNative64Bit()"
      "</condition></detect></detects></namedElements>\n"
      "<component type=\"Documents\"><displayName>c</displayName>"
      "<role role=\"Data\"><detects name=\"D0\"/></role></component>"
      "</migration>";
  RuleSet rules;
  Status s = rules.AddText("laughs.xml", xml);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("laughs.xml:1:"), std::string_view::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("the detections hold more than 100000 "
                             "conditions once <namedElements> references are "
                             "followed"),
            std::string_view::npos)
      << s.ToString();
}

// The same with named <rules>, each holding ten references to the next.
TEST(UsmtXmlFiles, NamedRulesThatMultiplyAreRefused) {
  std::string xml = "<migration urlid=\"http://x/rules\"><namedElements>";
  for (int level = 0; level < 6; ++level) {
    xml += "<rules name=\"R" + std::to_string(level) + "\">";
    for (int i = 0; i < 10; ++i)
      xml += "<rules name=\"R" + std::to_string(level + 1) + "\"/>";
    xml += "</rules>";
  }
  xml +=
      "<rules name=\"R6\"><include><objectSet><pattern type=\"File\">"
      "C:\\A\\* [*]</pattern></objectSet></include></rules>"
      "</namedElements>\n<component type=\"Documents\"><displayName>c"
      "</displayName><role role=\"Data\"><rules name=\"R0\"/></role>"
      "</component></migration>";
  RuleSet rules;
  Status s = rules.AddText("rules.xml", xml);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("the components hold more than 100000 <rules>"),
            std::string_view::npos)
      << s.ToString();
}

// A named environment referred to 2,000 times is held once: only its
// 1,000 variables count.
TEST(UsmtXmlFiles, ANamedEnvironmentReferredToOftenIsHeldOnce) {
  std::string xml =
      "<migration urlid=\"http://x/env\"><namedElements>"
      "<environment name=\"E\">";
  for (int i = 0; i < 1000; ++i) {
    xml += "<variable name=\"V" + std::to_string(i) +
           "\"><text>x</text></variable>";
  }
  xml +=
      "</environment></namedElements>\n<component type=\"Documents\">"
      "<displayName>c</displayName>";
  for (int i = 0; i < 2000; ++i) xml += "<environment name=\"E\"/>";
  xml += "<role role=\"Data\"><rules/></role></component></migration>";
  RuleSet rules;
  ASSERT_OK(rules.AddText("env.xml", xml));
  const auto& data = internal::RuleSetAccess::Data(rules);
  ASSERT_EQ(data.components.size(), 1u);
  EXPECT_EQ(data.components[0].env.size(), 1000u);
}

// Each of 40 nested components holds its 150 variables and its
// containers': 123,000 copies, past the 100,000 a file may make.
TEST(UsmtXmlFiles, NestedVariablesThatMultiplyAreRefused) {
  std::string xml = "<migration urlid=\"http://x/nest\">";
  for (int level = 0; level < 40; ++level) {
    xml += "<component type=\"Application\"><displayName>c" +
           std::to_string(level) + "</displayName><environment>";
    for (int i = 0; i < 150; ++i) {
      xml += "<variable name=\"V" + std::to_string(i) +
             "\"><text>x</text></variable>";
    }
    xml += "</environment><role role=\"Container\">";
  }
  for (int level = 0; level < 40; ++level) xml += "</role></component>";
  xml += "</migration>";
  RuleSet rules;
  Status s = rules.AddText("nest.xml", xml);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("the components hold more than 100000 "
                             "variables"),
            std::string_view::npos)
      << s.ToString();
}

// A <rules> with 1,000 conditions holding 300 references to named rules of
// 300 nested <rules>: each of the 90,000 groups would copy the conditions.
TEST(UsmtXmlFiles, ConditionsCopiedIntoNestedRulesAreCounted) {
  std::string conditions = "<conditions>";
  for (int i = 0; i < 1000; ++i) {
    conditions +=
        "<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\A\")"
        "</condition>";
  }
  conditions += "</conditions>";
  std::string xml =
      "<migration urlid=\"http://x/gates\"><namedElements>"
      "<rules name=\"R\">";
  for (int i = 0; i < 300; ++i) xml += "<rules/>";
  xml +=
      "</rules></namedElements>\n<component type=\"Documents\">"
      "<displayName>c</displayName><role role=\"Data\"><rules>" +
      conditions;
  for (int i = 0; i < 300; ++i) xml += "<rules name=\"R\"/>";
  xml += "</rules></role></component></migration>";
  RuleSet rules;
  Status s = rules.AddText("gates.xml", xml);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("conditions once <namedElements> references "
                             "are followed"),
            std::string_view::npos)
      << s.ToString();
}

// <addObjects> that cannot add a value are warned about, with the reason.
TEST(UsmtXmlFiles, BadAddedObjectsAreWarnedAndAddNothing) {
  const std::string xml = OneComponentMigration(
      R"(<rules><addObjects>
        <object><attributes>DWORD</attributes><bytes>00000000</bytes></object>
        <object><location type="Registry">HKLM\A [B]</location><attributes>Color</attributes></object>
        <object><location type="Registry">HKLM\A [C]</location><attributes>DWORD</attributes><bytes>0B00</bytes></object>
        <object><location type="Registry">HKLM\A [D]</location><attributes>Binary</attributes><bytes>0G</bytes></object>
      </addObjects></rules>)",
      "http://test/badadd");
  RuleSet rules;
  ASSERT_OK(rules.AddText("bad.xml", xml));
  std::string all;
  for (const RuleDiagnostic& d :
       internal::RuleSetAccess::Data(rules).diagnostics)
    all += d.ToString() + "\n";
  EXPECT_TRUE(Has(all, "without a <location> adds nothing")) << all;
  EXPECT_TRUE(Has(all, "'Color' is not a registry value type")) << all;
  EXPECT_TRUE(Has(all, "<bytes> of a DWORD must be 4 bytes")) << all;
  EXPECT_TRUE(Has(all, "<bytes> must be pairs of hex digits")) << all;
  for (const internal::ComponentSpec& c :
       internal::RuleSetAccess::Data(rules).components) {
    for (const internal::RuleGroup& g : c.groups)
      EXPECT_TRUE(g.add_objects.empty());
  }
}

// Nine variables, each naming the next 16 times, the last empty: 16^8
// lookups unchecked. The pattern is not expanded (its variable counts as
// missing) and the compile ends at once.
TEST(UsmtXmlFiles, VariablesNamingVariablesManyTimesAreNotExpanded) {
  TempDir dir;
  MakeWindowsRoot(dir.path(), {"alice"});
  std::string env = "<environment>";
  for (int level = 0; level < 9; ++level) {
    std::string text;
    if (level < 8) {
      for (int i = 0; i < 16; ++i)
        text += "%V" + std::to_string(level + 1) + "%";
    }
    env += "<variable name=\"V" + std::to_string(level) + "\"><text>" + text +
           "</text></variable>";
  }
  env += "</environment>";
  const std::string xml =
      "<migration urlid=\"http://x/fan\"><component type=\"Documents\" "
      "context=\"System\"><displayName>c</displayName>" +
      env +
      "<role role=\"Data\"><rules><include><objectSet>"
      "<pattern type=\"File\">C:\\A%V0%\\* [*]</pattern>"
      "</objectSet></include></rules></role></component></migration>";
  Matcher m = CompileTexts(Discover(dir.path()), {{"fan.xml", xml}});
  EXPECT_FALSE(TakesFile(m, "A/x.txt"));
}

// A System component inside a User container follows the container: not
// detected for any user, so its rules take nothing.
TEST(UsmtXmlFiles, ASystemChildOfAnUndetectedUserContainerIsInactive) {
  TempDir dir;
  MakeWindowsRoot(dir.path(), {"alice"}, {"Sys/s.txt"});
  const std::string xml = R"(<migration urlid="http://x/mixed">
    <component type="Application" context="User"><displayName>Outer</displayName>
      <role role="Container">
        <detection><conditions><condition>MigXmlHelper.DoesObjectExist("File","%CSIDL_PERSONAL%\Nope")</condition></conditions></detection>
        <component type="Application" context="System"><displayName>Inner</displayName>
          <role role="Settings"><rules><include><objectSet>
            <pattern type="File">C:\Sys\* [*]</pattern>
          </objectSet></include></rules></role>
        </component>
      </role>
    </component></migration>)";
  Matcher m = CompileTexts(Discover(dir.path()), {{"mixed.xml", xml}});
  EXPECT_FALSE(TakesFile(m, "Sys/s.txt"));
}

TEST(UsmtXmlFiles, Utf16FilesLoad) {
  std::string utf8 = UsmtFile(Inc(R"(C:\Folder\* [*])"));
  std::string utf16 = "\xFF\xFE";
  for (char c : utf8) {
    utf16.push_back(c);
    utf16.push_back('\0');
  }
  RuleSet rules;
  ASSERT_OK(rules.AddText("u16.xml", utf16));
  EXPECT_FALSE(rules.empty());
}

TEST(UsmtConfig, MigrateNoSwitchesOffChildrenAndPoliciesAreKept) {
  std::string config = R"(<Configuration>
  <WindowsComponents>
    <component displayname="parent" migrate="no" ID="parent">
      <component displayname="child" migrate="yes" ID="http://x/child/c/data"/>
    </component>
  </WindowsComponents>
  <Policies>
    <ErrorControl>
      <fileError>
        <nonFatal errorCode="33">* [*]</nonFatal>
        <fatal errorCode="any">C:\Users\* [*]</fatal>
      </fileError>
    </ErrorControl>
    <HardLinkStoreControl>
      <fileLocked><createHardLink>c:\Users\* [*]</createHardLink></fileLocked>
    </HardLinkStoreControl>
  </Policies>
  <ProfileControl><users><user from="D1\u1" to="D2\u2"/></users></ProfileControl>
</Configuration>)";
  RuleSet rules;
  ASSERT_OK(rules.SetConfigText("Config.xml", config));
  const internal::RuleSetData& d = internal::RuleSetAccess::Data(rules);
  ASSERT_EQ(d.config.components.size(), 2u);
  EXPECT_FALSE(d.config.components[1].migrate);  // its parent says no
  ASSERT_EQ(d.config.policies.size(), 4u);
  EXPECT_EQ(d.config.policies[0].kind, "nonFatal");
  EXPECT_EQ(d.config.policies[0].code, "33");
  EXPECT_EQ(d.config.policies[1].pattern, R"(C:\Users\* [*])");
  EXPECT_EQ(d.config.policies[2].kind, "createHardLink");
  EXPECT_EQ(d.config.policies[3].pattern, R"(D1\u1)");
  EXPECT_EQ(d.config.policies[3].to, R"(D2\u2)");
  EXPECT_TRUE(rules.SetConfigText("again.xml", config).IsInvalidArgument());
  RuleSet as_rules;
  EXPECT_TRUE(as_rules.AddText("Config.xml", config).IsInvalidArgument());
}

}  // namespace
}  // namespace migstore::testing
