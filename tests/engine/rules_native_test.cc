// The native rules language: every rule form, glob form and variable, case
// rules on both layouts, and errors with file:line:column.

#include <gtest/gtest.h>

#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

class NativeLinux : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeLinuxRoot(dir_.path(), {"alice", "bob"},
                  {"home/alice/Docs/report.txt",
                   "home/alice/Docs/Report.TXT",
                   "home/alice/Docs/draft.tmp",
                   "home/alice/Docs/deep/er/x.tmp",
                   "home/alice/Docs/notes.txt/inside.md",
                   "home/alice/Downloads/a.iso",
                   "home/alice/Desktop/d.txt",
                   "home/alice/Pictures/p.jpg",
                   "home/alice/Music/m.ogg",
                   "home/alice/Videos/v.mkv",
                   "home/alice/Templates/t.odt",
                   "home/alice/Public/share.txt",
                   "home/alice/.config/app/conf.ini",
                   "home/alice/.local/share/app/db",
                   "home/alice/.ssh/id_ed25519",
                   "home/alice/.ssh/known_hosts",
                   "home/alice/.bashrc",
                   "home/alice/file1.log",
                   "home/alice/file22.log",
                   "home/alice/filea.log",
                   "home/alice/weird[1].txt",
                   "home/bob/Documents/b.txt",
                   "data/shared/x.txt"});
    // alice keeps her documents in ~/Docs.
    WriteFile(dir_ / "home/alice/.config/user-dirs.dirs",
              "# written by xdg-user-dirs-update\n"
              "XDG_DOCUMENTS_DIR=\"$HOME/Docs\"\n"
              "XDG_DESKTOP_DIR=\"$HOME/Desktop\"\n");
    machine_ = Discover(dir_.path());
  }

  Matcher Rules(const std::string& text) {
    return CompileTexts(machine_, {{"test.rules", text}});
  }

  TempDir dir_;
  Machine machine_;
};

TEST_F(NativeLinux, IncludeExcludeAndComments) {
  Matcher m = Rules(
      "# a comment\n"
      "\n"
      "   # an indented comment\n"
      "include %DOCUMENTS%/**\n"
      "exclude %DOCUMENTS%/**/*.tmp\n");
  EXPECT_TRUE(TakesFile(m, "home/alice/Docs/report.txt"));
  EXPECT_FALSE(TakesFile(m, "home/alice/Docs/draft.tmp"));
  EXPECT_FALSE(TakesFile(m, "home/alice/Docs/deep/er/x.tmp"));
  EXPECT_TRUE(TakesFile(m, "home/bob/Documents/b.txt"));  // per profile
  EXPECT_FALSE(TakesFile(m, "home/alice/Downloads/a.iso"));
}

TEST_F(NativeLinux, UnconditionalExcludeBeatsAnInclude) {
  Matcher m = Rules(
      "component A\n"
      "include %DOCUMENTS%/report.txt\n"
      "component B\n"
      "unconditional-exclude **/*.txt\n");
  EXPECT_FALSE(TakesFile(m, "home/alice/Docs/report.txt"));
}

TEST_F(NativeLinux, ExtensionExcludeDoesNotBeatADirectoryInclude) {
  // USMT precedence applies to native files too: a rule naming a directory
  // beats one naming only an extension, within a component.
  Matcher m = Rules("include %DOCUMENTS%/**\nexclude **/*.tmp\n");
  EXPECT_TRUE(TakesFile(m, "home/alice/Docs/draft.tmp"));
  Matcher other =
      Rules("include %DOCUMENTS%/**\ncomponent Junk\nexclude **/*.tmp\n");
  EXPECT_TRUE(TakesFile(other, "home/alice/Docs/draft.tmp"));
}

TEST_F(NativeLinux, EveryPerUserVariable) {
  struct Case {
    const char* var;
    const char* taken;
  } cases[] = {
      {"%USERPROFILE%/.bashrc", "home/alice/.bashrc"},
      {"%HOME%/.bashrc", "home/alice/.bashrc"},
      {"%DOCUMENTS%/**", "home/alice/Docs/report.txt"},
      {"%DOWNLOADS%/**", "home/alice/Downloads/a.iso"},
      {"%DESKTOP%/**", "home/alice/Desktop/d.txt"},
      {"%PICTURES%/**", "home/alice/Pictures/p.jpg"},
      {"%MUSIC%/**", "home/alice/Music/m.ogg"},
      {"%VIDEOS%/**", "home/alice/Videos/v.mkv"},
      {"%TEMPLATES%/**", "home/alice/Templates/t.odt"},
      {"%PUBLICSHARE%/**", "home/alice/Public/share.txt"},
      {"%APPDATA%/**", "home/alice/.config/app/conf.ini"},
      {"%LOCALAPPDATA%/**", "home/alice/.local/share/app/db"},
      {"%CSIDL_PERSONAL%/**", "home/alice/Docs/report.txt"},
      {"%csidl_mymusic%/**", "home/alice/Music/m.ogg"},
  };
  for (const Case& c : cases) {
    Matcher m = Rules(std::string("include ") + c.var + "\n");
    EXPECT_TRUE(TakesFile(m, c.taken)) << c.var;
    EXPECT_FALSE(TakesFile(m, "data/shared/x.txt")) << c.var;
  }
}

TEST_F(NativeLinux, SystemPatternsAndRootVariables) {
  Matcher m =
      Rules("include data/shared/*.txt\ninclude %SYSTEMDRIVE%/home/bob/**\n");
  EXPECT_TRUE(TakesFile(m, "data/shared/x.txt"));
  EXPECT_TRUE(TakesFile(m, "home/bob/Documents/b.txt"));
  EXPECT_FALSE(TakesFile(m, "home/alice/Docs/report.txt"));
  Matcher lead = Rules("include /data/shared/x.txt\n");
  EXPECT_TRUE(TakesFile(lead, "data/shared/x.txt"));
}

TEST_F(NativeLinux, GlobForms) {
  EXPECT_TRUE(TakesFile(Rules("include %USERPROFILE%/file?.log\n"),
                        "home/alice/file1.log"));
  EXPECT_FALSE(TakesFile(Rules("include %USERPROFILE%/file?.log\n"),
                         "home/alice/file22.log"));
  Matcher cls = Rules("include %USERPROFILE%/file[0-9].log\n");
  EXPECT_TRUE(TakesFile(cls, "home/alice/file1.log"));
  EXPECT_FALSE(TakesFile(cls, "home/alice/filea.log"));
  Matcher neg = Rules("include %USERPROFILE%/file[!0-9].log\n");
  EXPECT_FALSE(TakesFile(neg, "home/alice/file1.log"));
  EXPECT_TRUE(TakesFile(neg, "home/alice/filea.log"));
  Matcher star = Rules("include %USERPROFILE%/*.log\n");
  EXPECT_TRUE(TakesFile(star, "home/alice/file22.log"));
  EXPECT_FALSE(
      TakesFile(star, "home/alice/Docs/x.log"));  // '*' stays in one name
  Matcher anywhere = Rules("include **/*.tmp\n");
  EXPECT_TRUE(TakesFile(anywhere, "home/alice/Docs/deep/er/x.tmp"));
  Matcher middle = Rules("include home/*/Docs/**/x.tmp\n");
  EXPECT_TRUE(TakesFile(middle, "home/alice/Docs/deep/er/x.tmp"));
  Matcher escaped = Rules("include %USERPROFILE%/weird\\[1\\].txt\n");
  EXPECT_TRUE(TakesFile(escaped, "home/alice/weird[1].txt"));
}

TEST_F(NativeLinux, ALiteralNameTakesADirectoryAndWhatItHolds) {
  Matcher m = Rules(
      "include %USERPROFILE%/.ssh\nexclude %USERPROFILE%/.ssh/known_hosts\n");
  EXPECT_TRUE(TakesFile(m, "home/alice/.ssh/id_ed25519"));
  EXPECT_TRUE(TakesDir(m, "home/alice/.ssh"));
  EXPECT_FALSE(TakesFile(m, "home/alice/.ssh/known_hosts"));
  // A wildcard last segment names entries only, not their contents.
  Matcher w = Rules("include %DOCUMENTS%/*.txt\n");
  EXPECT_TRUE(TakesFile(w, "home/alice/Docs/report.txt"));
  EXPECT_TRUE(TakesDir(w, "home/alice/Docs/notes.txt"));
  EXPECT_FALSE(TakesFile(w, "home/alice/Docs/notes.txt/inside.md"));
}

TEST_F(NativeLinux, LinuxMatchesCaseSensitively) {
  Matcher m = Rules("include %DOCUMENTS%/*.txt\n");
  EXPECT_TRUE(TakesFile(m, "home/alice/Docs/report.txt"));
  EXPECT_FALSE(TakesFile(m, "home/alice/Docs/Report.TXT"));
  EXPECT_FALSE(
      TakesFile(Rules("include HOME/alice/**\n"), "home/alice/.bashrc"));
}

TEST_F(NativeLinux, UnselectedUsersAreNeverTaken) {
  RuleSet rules;
  ASSERT_OK(rules.AddText("all.rules", "include **\n"));
  std::vector<UserChoice> users = AllUsers(machine_);
  for (UserChoice& c : users)
    c.selected = machine_.profiles[c.profile].name != "bob";
  Result<Matcher> m = CompileRules(rules, machine_, users);
  ASSERT_OK(m);
  EXPECT_TRUE(TakesFile(*m, "home/alice/.bashrc"));
  EXPECT_FALSE(TakesFile(*m, "home/bob/Documents/b.txt"));
  EXPECT_FALSE(m->MayTakeBelow("home/bob"));
  EXPECT_TRUE(TakesFile(*m, "data/shared/x.txt"));
  Decision d = m->Decide("home/alice/.bashrc", EntryKind::kFile);
  ASSERT_GE(d.profile, 0);
  EXPECT_EQ(machine_.profiles[static_cast<size_t>(d.profile)].name, "alice");
  EXPECT_EQ(m->Decide("data/shared/x.txt", EntryKind::kFile).profile, -1);
}

TEST_F(NativeLinux, AVariableWithoutAFolderIsReportedNotApplied) {
  Matcher m = Rules("include %FAVORITES%/**\ninclude %WINDIR%/**\n");
  EXPECT_EQ(m.rule_count(), 0u);
  int notes = 0;
  for (const RuleDiagnostic& d : m.diagnostics()) {
    if (d.message.find("%FAVORITES%") != std::string::npos ||
        d.message.find("%WINDIR%") != std::string::npos) {
      ++notes;
      EXPECT_EQ(d.file, "test.rules");
      EXPECT_GT(d.line, 0);
    }
  }
  EXPECT_EQ(notes, 2);
}

TEST_F(NativeLinux, ComponentsAreUnited) {
  Matcher m = Rules(
      "include %DOCUMENTS%/**\n"
      "exclude %DOCUMENTS%/report.txt\n"
      "component \"Again\"\n"
      "include %DOCUMENTS%/report.txt\n");
  EXPECT_TRUE(TakesFile(m, "home/alice/Docs/report.txt"));
}

struct BadRule {
  const char* text;
  int line;
  int column;
  const char* says;
};

class NativeErrors : public ::testing::TestWithParam<BadRule> {};

TEST_P(NativeErrors, SayFileLineColumn) {
  RuleSet rules;
  Status s = rules.AddText("bad.rules", GetParam().text);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  std::string where = "bad.rules:" + std::to_string(GetParam().line) + ":" +
                      std::to_string(GetParam().column) + ": ";
  EXPECT_EQ(std::string(s.message()).substr(0, where.size()), where)
      << s.ToString();
  EXPECT_NE(s.message().find(GetParam().says), std::string_view::npos)
      << s.ToString();
  EXPECT_TRUE(rules.empty());  // nothing half-added
}

INSTANTIATE_TEST_SUITE_P(
    Native, NativeErrors,
    ::testing::Values(
        BadRule{"include a\ninclude\n", 2, 8, "needs a pattern"},
        BadRule{"# c\n  includ a/b\n", 2, 3, "unknown keyword 'includ'"},
        BadRule{"include %DOCUMENT%/**\n", 1, 9, "unknown variable %DOCUMENT%"},
        BadRule{"include %DOCUMENTS%/[abc\n", 1, 21, "without a closing ']'"},
        BadRule{"exclude a/b**/c\n", 1, 12,
                "'**' must be a whole path segment"},
        BadRule{"include %APPDATA%\\Mozilla\n", 1, 18, "'\\' escapes only"},
        BadRule{"include a/../b\n", 1, 11, "'.' and '..'"},
        BadRule{"unconditional-exclude   a/[z-a]\n", 1, 28, "reversed range"},
        BadRule{"component\n", 1, 10, "component needs a name"}));

class NativeWindows : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeWindowsRoot(
        dir_.path(), {"Alice"},
        {"Users/Alice/Documents/Report.DOCX", "Users/Alice/Favorites/site.url",
         "Users/Alice/AppData/Roaming/Microsoft/Windows/Start Menu/app.lnk",
         "Users/Public/Documents/shared.txt", "Windows/win.ini"});
    machine_ = Discover(dir_.path());
  }
  TempDir dir_;
  Machine machine_;
};

TEST_F(NativeWindows, WindowsMatchesCaseInsensitively) {
  Matcher m = CompileTexts(
      machine_, {{"w.rules", "include users/ALICE/documents/*.docx\n"}});
  EXPECT_TRUE(TakesFile(m, "Users/Alice/Documents/Report.DOCX"));
  EXPECT_TRUE(TakesFile(m, "USERS/alice/DOCUMENTS/report.docx"));
}

TEST_F(NativeWindows, WindowsVariables) {
  struct Case {
    const char* rule;
    const char* taken;
  } cases[] = {
      {"%FAVORITES%/**", "Users/Alice/Favorites/site.url"},
      {"%STARTMENU%/**",
       "Users/Alice/AppData/Roaming/Microsoft/Windows/Start Menu/app.lnk"},
      {"%COMMON_DOCUMENTS%/**", "Users/Public/Documents/shared.txt"},
      {"%CSIDL_COMMON_DOCUMENTS%/**", "Users/Public/Documents/shared.txt"},
      {"%WINDIR%/*.ini", "Windows/win.ini"},
      {"%USERPROFILE%/Documents/**", "Users/Alice/Documents/Report.DOCX"},
  };
  for (const Case& c : cases) {
    Matcher m =
        CompileTexts(machine_, {{"w.rules", std::string("include ") + c.rule}});
    EXPECT_TRUE(TakesFile(m, c.taken)) << c.rule;
  }
}

}  // namespace
}  // namespace migstore::testing
