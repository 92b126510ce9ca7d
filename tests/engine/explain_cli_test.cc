// `migstore explain` end to end: the real binary on generated roots of both
// layouts, its output and its exit codes.

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ExplainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeWindowsRoot(win_.path(), {"alice", "bob"},
                    {"Users/alice/Documents/a.txt", "Users/alice/notes.txt",
                     "data/b.docx"});
    MakeLinuxRoot(lin_.path(), {"alice", "bob"},
                  {"home/alice/Documents/cv.odt", "home/alice/.cache/x",
                   "home/bob/Documents/b.odt"});
  }
  TempDir win_, lin_, files_;
};

TEST_F(ExplainCli, WindowsBuiltInRules) {
  RunResult r = RunMigstore(
      {"explain", "--root", win_.path(), "Users/alice/Documents/a.txt",
       "Users\\alice\\notes.txt", win_.path() + "/data/b.docx", "Windows"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "(windows layout)")) << r.out;
  EXPECT_TRUE(Has(r.out, "user alice (Users/alice): selected")) << r.out;
  EXPECT_TRUE(Has(r.out, "Users/alice/Documents/a.txt: taken (user alice)"))
      << r.out;
  EXPECT_TRUE(Has(
      r.out, "decided by: include %DOCUMENTS%/**  (<built-in windows rules>:"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "Users/alice/notes.txt: not taken (user alice)"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "beat: include **/*.txt")) << r.out;
  EXPECT_TRUE(
      Has(r.out, "a rule naming a directory beats an extension-only rule"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "data/b.docx: taken")) << r.out;
  EXPECT_TRUE(Has(r.out, "Windows/: not taken")) << r.out;
  EXPECT_TRUE(Has(r.out, "nothing below can be taken")) << r.out;
}

TEST_F(ExplainCli, WindowsStockXmlWithFileAndLine) {
  std::string miguser = SourcePath("tests/golden/usmt-xml/MigUser.xml");
  std::string config = SourcePath("tests/golden/usmt-xml/Config.xml");
  ASSERT_TRUE(std::filesystem::exists(miguser))
      << "no stock XML at " << miguser;
  RunResult r =
      RunMigstore({"explain", "--root", win_.path(), "--layout", "windows",
                   "--rules", miguser, "--config", config,
                   "Users/alice/notes.txt", "Users/alice/Documents/a.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Rule texts keep their backslashes (docs/cli.md, "Names").
  EXPECT_TRUE(Has(r.out, "decided by: exclude %PROFILESFOLDER%\\* [*]  (" +
                             miguser + ":534:"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "applied as C:\\Users\\* [*]")) << r.out;
  EXPECT_TRUE(Has(r.out, "component \"My Documents\", user alice")) << r.out;
}

TEST_F(ExplainCli, LinuxNativeRulesAndUserSelection) {
  WriteFile(files_ / "my.rules", "include %DOCUMENTS%/**\n");
  RunResult r = RunMigstore(
      {"explain", "--root", lin_.path(), "--rules", files_ / "my.rules",
       "--user-exclude", "bob", "home/alice/Documents/cv.odt",
       "home/bob/Documents/b.odt", "/home/alice/.cache/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "(linux layout)")) << r.out;
  EXPECT_TRUE(Has(
      r.out,
      "user bob (home/bob): not selected, excluded by --user-exclude 'bob'"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "home/alice/Documents/cv.odt: taken (user alice)"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "my.rules:1:9")) << r.out;
  EXPECT_TRUE(
      Has(r.out,
          "home/bob/Documents/b.odt: not taken: inside the profile of bob") ||
      Has(r.out, "inside the profile of bob, who is not selected"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "home/alice/.cache/x: not taken")) << r.out;
}

TEST_F(ExplainCli, LinuxBuiltInRulesAndLastUsed) {
  RunResult r = RunMigstore({"explain", "--root", lin_.path(), "--last-used",
                             "2000-01-01", "home/alice/.cache",
                             "home/alice/Documents/cv.odt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "home/alice/.cache/: not taken")) << r.out;
  EXPECT_TRUE(Has(r.out, "unconditional-exclude %USERPROFILE%/.cache"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "within --last-used 2000-01-01")) << r.out;
}

TEST_F(ExplainCli, DiagnosticsGoToStandardError) {
  WriteFile(files_ / "r.xml",
            UsmtFile("<include><objectSet><pattern type=\"Registry\">HKCU\\X "
                     "[y]</pattern></objectSet></include><bogus/>"));
  RunResult r = RunMigstore({"explain", "--root", win_.path(), "--rules",
                             files_ / "r.xml", "data/b.docx"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.err, "warning: HKCU pattern in a System-context component"))
      << r.err;
  EXPECT_TRUE(Has(r.err, "warning: unknown element <bogus> ignored")) << r.err;
  EXPECT_TRUE(Has(r.out, "data/b.docx: not taken")) << r.out;
}

TEST_F(ExplainCli, ExitCodes) {
  WriteFile(files_ / "bad.rules", "include a\nexclude %NOPE%/x\n");
  RunResult bad = RunMigstore({"explain", "--root", lin_.path(), "--rules",
                               files_ / "bad.rules", "home/alice"});
  EXPECT_EQ(bad.exit_code, 11);
  EXPECT_TRUE(Has(bad.err, "bad.rules:2:9: unknown variable %NOPE%"))
      << bad.err;
  EXPECT_EQ(RunMigstore({"explain", "--root", lin_.path(), "--rules",
                         files_ / "missing.rules", "x"})
                .exit_code,
            11);
  EXPECT_EQ(
      RunMigstore({"explain", "--root", files_ / "nowhere", "x"}).exit_code,
      11);
  EXPECT_EQ(
      RunMigstore({"explain", "--root", lin_.path(), "--layout", "beos", "x"})
          .exit_code,
      11);
  EXPECT_EQ(RunMigstore({"explain", "--root", lin_.path()}).exit_code,
            11);  // no PATH
  EXPECT_EQ(RunMigstore(
                {"explain", "--root", lin_.path(), "--last-used", "soon", "x"})
                .exit_code,
            11);
  EXPECT_EQ(
      RunMigstore({"explain", "--root", win_.path(), "--last-used", "0", "x"})
          .exit_code,
      11);
  WriteFile(files_ / "Config.xml", "<Configuration/>");
  EXPECT_EQ(RunMigstore({"explain", "--root", win_.path(), "--rules",
                         files_ / "Config.xml", "x"})
                .exit_code,
            11);
  RunResult help = RunMigstore({"explain", "--help"});
  EXPECT_EQ(help.exit_code, 1);
  EXPECT_TRUE(Has(help.out, "--user-include")) << help.out;
}

}  // namespace
}  // namespace migstore::testing
