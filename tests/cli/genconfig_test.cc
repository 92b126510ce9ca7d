// `migstore genconfig` (ScanState /genconfig; docs/rules.md, "Generating
// Config.xml"): the components present on a root, nested and escaped as
// written, and the file given back with --config selecting what the rules
// select until a component is switched off.

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

constexpr char kAppXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://test/apps">
  <component type="Application" context="UserAndSystem">
    <displayName>Tools &amp; "Things"</displayName>
    <role role="Container">
      <component type="Application" context="User">
        <displayName>Editor</displayName>
        <role role="Settings">
          <rules><include><objectSet>
            <pattern type="File">%CSIDL_APPDATA%\Editor\* [*]</pattern>
          </objectSet></include></rules>
        </role>
      </component>
    </role>
  </component>
  <component type="Application" context="System">
    <displayName>Not Installed</displayName>
    <role role="Settings">
      <detection>
        <conditions>
          <condition>MigXmlHelper.DoesObjectExist("File","%CSIDL_PROGRAM_FILES%\NotThere [x.exe]")</condition>
        </conditions>
      </detection>
      <rules><include><objectSet>
        <pattern type="File">C:\NotThere\* [*]</pattern>
      </objectSet></include></rules>
    </role>
  </component>
</migration>
)";

class GenConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    const std::string home = root_ + "/Users/alice";
    for (const char* d : {"Documents", "Desktop", "AppData/Roaming/Editor",
                          "Windows/System32", "Program Files"}) {
      std::filesystem::create_directories(
          std::string(d).rfind("Windows", 0) == 0 ||
                  std::string(d).rfind("Program", 0) == 0
              ? root_ + "/" + d
              : home + "/" + d);
    }
    WriteFile(home + "/NTUSER.DAT", "hive");
    WriteFile(home + "/Documents/letter.txt", "letter");
    WriteFile(home + "/Desktop/todo.txt", "todo");
    WriteFile(home + "/AppData/Roaming/Editor/prefs.ini", "prefs");
    WriteFile(dir_ / "apps.xml", kAppXml);
  }
  std::vector<std::string> Rules() const {
    return {"--rules", SourcePath("tests/golden/usmt-xml/MigUser.xml"),
            "--rules", dir_ / "apps.xml"};
  }
  RunResult Run(std::vector<std::string> args) {
    std::vector<std::string> rules = Rules();
    args.insert(args.end(), rules.begin(), rules.end());
    return RunMigstore(args);
  }
  // The files a capture with `more` takes, from --list-files.
  std::string Taken(const std::vector<std::string>& more) {
    std::filesystem::remove(dir_ / "s.mig");
    std::vector<std::string> args = {
        "capture",      "--root",       root_,          "--store",
        dir_ / "s.mig", "--no-encrypt", "--list-files", dir_ / "list.txt"};
    args.insert(args.end(), more.begin(), more.end());
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ReadFile(dir_ / "list.txt");
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(GenConfig, ListsThePresentComponentsAndGivenBackSelectsTheSame) {
  const std::string config = dir_ / "Config.xml";
  RunResult g = Run({"genconfig", "--root", root_, "--out", config});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const std::string xml = ReadFile(config);
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  for (const char* part :
       {"<Applications>",
        "<component displayname=\"Tools &amp; &quot;Things&quot;\" "
        "migrate=\"yes\" ID=\"http://test/apps/tools &amp; "
        "&quot;things&quot;/container\">",
        "<component displayname=\"Editor\" migrate=\"yes\" "
        "ID=\"http://test/apps/editor/settings\" />",
        "<component displayname=\"My Documents\" migrate=\"yes\" "
        "ID=\"http://www.microsoft.com/migration/1.0/migxmlext/miguser/"
        "my documents/data\" />",
        "<ErrorControl>", "<HardLinkStoreControl>", "<ProfileControl>"}) {
    EXPECT_TRUE(Has(xml, part)) << part << "\n" << xml;
  }
  EXPECT_FALSE(Has(xml, "Not Installed")) << xml;
  // The editor is nested in its container.
  EXPECT_LT(xml.find("Tools &amp;"), xml.find("displayname=\"Editor\""));
  EXPECT_LT(xml.find("displayname=\"Editor\""), xml.find("</component>"));

  const std::string plain = Taken({});
  EXPECT_TRUE(Has(plain, "letter.txt")) << plain;
  EXPECT_TRUE(Has(plain, "prefs.ini")) << plain;
  EXPECT_EQ(Taken({"--config", config}), plain);

  // Switched off: My Documents and, by its container, the editor.
  std::string edited = xml;
  for (const char* name :
       {"\"My Documents\" migrate=\"yes\"",
        "\"Tools &amp; &quot;Things&quot;\" migrate=\"yes\""}) {
    size_t at = edited.find(name);
    ASSERT_NE(at, std::string::npos) << name;
    at = edited.find("migrate=\"yes\"", at);
    edited.replace(at, 13, "migrate=\"no\"");
  }
  WriteFile(config, edited);
  const std::string fewer = Taken({"--config", config});
  EXPECT_FALSE(Has(fewer, "letter.txt")) << fewer;
  EXPECT_FALSE(Has(fewer, "prefs.ini")) << fewer;
  EXPECT_TRUE(Has(fewer, "todo.txt")) << fewer;

  // An existing file is kept unless --overwrite.
  RunResult again = Run({"genconfig", "--root", root_, "--out", config});
  EXPECT_EQ(again.exit_code, 27) << again.err;
  EXPECT_EQ(ReadFile(config), edited);
  EXPECT_EQ(Run({"genconfig", "--root", root_, "--out", config, "--overwrite"})
                .exit_code,
            0);
  EXPECT_EQ(ReadFile(config), xml);
  // genconfig takes no --config: what it switches off would come back.
  RunResult with = Run({"genconfig", "--root", root_, "--out",
                        dir_ / "other.xml", "--config", config});
  EXPECT_EQ(with.exit_code, 11) << with.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "other.xml"));
}

}  // namespace
}  // namespace migstore::testing
