// Config.xml's <ErrorControl> (docs/rules.md, "Error control"): which
// errors a capture or restore skips and which stop it, by object pattern
// and Windows error code, the first matching rule winning; registry errors
// by <registryError>. Errors come from the real filesystem (a path longer
// than PATH_MAX, error 206 on Windows) and a damaged hive, so the tests run
// as root as well as not.

#include <gtest/gtest.h>

#include <climits>
#include <filesystem>

#include "tests/util/hive_fixture.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string Config(const std::string& file_rules,
                   const std::string& registry_rules = "") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Configuration>\n"
         "<Policies>\n<ErrorControl>\n<fileError>\n" +
         file_rules + "</fileError>\n<registryError>\n" + registry_rules +
         "</registryError>\n</ErrorControl>\n</Policies>\n</Configuration>\n";
}

constexpr char kSettingsXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://test/settings">
  <component type="Application" context="UserAndSystem">
    <displayName>Settings</displayName>
    <role role="Settings">
      <rules>
        <include><objectSet>
          <pattern type="Registry">HKCU\Software\App\* [*]</pattern>
          <pattern type="Registry">HKLM\SOFTWARE\App\* [*]</pattern>
          <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
        </objectSet></include>
      </rules>
    </role>
  </component>
</migration>
)";

class ErrorControlCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    std::filesystem::create_directories(root_ + "/Windows/System32/config");
    const std::string home = root_ + "/Users/alice";
    std::filesystem::create_directories(home + "/Documents");
    WriteFile(home + "/Documents/a.txt", "a");
    PutHiveValues(home + "/NTUSER.DAT",
                  {{"Software\\App", "Theme", 1, RegSz("dark")}});
    PutHiveValues(root_ + "/Windows/System32/config/SOFTWARE",
                  {{"App", "License", 1, RegSz("L")}});
    // One file the capture cannot open: its path is longer than PATH_MAX.
    std::string deep = "Users/alice/Documents/deep";
    while (deep.size() <= PATH_MAX) deep += "/" + std::string(200, 'd');
    WriteFileBelow(root_, deep + "/deep.txt", "deep");
    WriteFile(dir_ / "settings.xml", kSettingsXml);
  }

  RunResult Capture(const std::string& config,
                    std::vector<std::string> more = {}) {
    std::vector<std::string> args = {
        "capture", "--root",       root_,     "--store",
        Store(),   "--no-encrypt", "--rules", dir_ / "settings.xml"};
    if (!config.empty()) {
      WriteFile(dir_ / "Config.xml", config);
      args.insert(args.end(), {"--config", dir_ / "Config.xml"});
    }
    args.insert(args.end(), more.begin(), more.end());
    std::filesystem::remove(Store());
    return RunMigstore(args);
  }
  std::string Store() const { return dir_ / "s.mig"; }

  TempDir dir_;
  std::string root_;
};

TEST_F(ErrorControlCli, ANonFatalRuleSkipsTheErrorsItNames) {
  RunResult plain = Capture("");
  EXPECT_EQ(plain.exit_code, 61) << plain.err;

  RunResult skip = Capture(
      Config("<nonFatal errorCode=\"206\">C:\\Users\\* [*]</nonFatal>\n"),
      {"--progress-log", dir_ / "progress.log"});
  EXPECT_EQ(skip.exit_code, 3) << skip.err;
  EXPECT_TRUE(std::filesystem::exists(Store()));
  EXPECT_TRUE(Has(skip.err, "File name too long (skipped)")) << skip.err;
  // The logs say what the rule did, not what --continue-on-error would.
  const std::string progress = ReadFile(dir_ / "progress.log");
  EXPECT_TRUE(Has(progress, ", action, Ignore,")) << progress;
  EXPECT_TRUE(Has(progress, ", numberOfIgnoredErrors, 1,")) << progress;

  // Another code, or another place: the rule does not apply.
  RunResult code = Capture(
      Config("<nonFatal errorCode=\"5\">C:\\Users\\* [*]</nonFatal>\n"));
  EXPECT_EQ(code.exit_code, 61) << code.err;
  RunResult place = Capture(
      Config("<nonFatal errorCode=\"any\">C:\\Data\\* [*]</nonFatal>\n"));
  EXPECT_EQ(place.exit_code, 61) << place.err;
}

TEST_F(ErrorControlCli, AFatalRuleStopsEvenWithContinueOnErrorAndTheFirstWins) {
  RunResult fatal = Capture(
      Config("<fatal errorCode=\"any\">C:\\Users\\alice\\Documents\\* "
             "[*]</fatal>\n<nonFatal errorCode=\"any\">* [*]</nonFatal>\n"),
      {"--continue-on-error"});
  EXPECT_EQ(fatal.exit_code, 61) << fatal.err;
  EXPECT_TRUE(Has(fatal.err, "fatal by ")) << fatal.err;
  EXPECT_TRUE(Has(fatal.err, "Config.xml:6")) << fatal.err;
  EXPECT_FALSE(std::filesystem::exists(Store()));

  // The same two rules the other way round: the non-fatal one comes first.
  RunResult first = Capture(
      Config("<nonFatal errorCode=\"any\">* [*]</nonFatal>\n<fatal "
             "errorCode=\"any\">C:\\Users\\alice\\Documents\\* [*]</fatal>\n"));
  EXPECT_EQ(first.exit_code, 3) << first.err;
}

TEST_F(ErrorControlCli, RegistryErrorsFollowRegistryErrorRules) {
  // A damaged hive (Windows' ERROR_FILE_CORRUPT, 1392) is a registry error
  // of the user's HKCU.
  std::string bytes = ReadFile(root_ + "/Users/alice/NTUSER.DAT");
  bytes[0x30] ^= 1;
  WriteFile(root_ + "/Users/alice/NTUSER.DAT", bytes);
  const std::string files =
      "<nonFatal errorCode=\"206\">C:\\Users\\* [*]</nonFatal>\n";
  RunResult stop = Capture(Config(files));
  EXPECT_EQ(stop.exit_code, 61) << stop.err;
  EXPECT_TRUE(Has(stop.err, "NTUSER.DAT")) << stop.err;
  RunResult skip = Capture(
      Config(files, "<nonFatal errorCode=\"1392\">HKCU\\* [*]</nonFatal>\n"),
      {"--json"});
  EXPECT_EQ(skip.exit_code, 3) << skip.err;
  EXPECT_TRUE(Has(skip.out, "\"registry_values\":1")) << skip.out;  // HKLM's

  // At restore: a target without a SOFTWARE hive (error 2) for HKLM.
  const std::string target = dir_ / "target";
  std::filesystem::create_directories(target + "/Users/alice");
  PutHiveValues(target + "/Users/alice/NTUSER.DAT", {});
  RunResult r1 = RunMigstore({"restore", "--store", Store(), "--target", target,
                              "--machine-settings"});
  EXPECT_EQ(r1.exit_code, 61) << r1.err;
  WriteFile(dir_ / "Restore.xml",
            Config("", "<nonFatal errorCode=\"2\">HKLM\\* [*]</nonFatal>\n"));
  RunResult r2 =
      RunMigstore({"restore", "--store", Store(), "--target", target,
                   "--config", dir_ / "Restore.xml", "--machine-settings"});
  EXPECT_EQ(r2.exit_code, 3) << r2.err;
  EXPECT_TRUE(Has(r2.err, "HKLM\\SOFTWARE not restored")) << r2.err;
  // The folder there, the hive not: a missing file is error 2 all the same.
  PutHiveValues(target + "/Windows/System32/config/SYSTEM",
                {{"Select", "Current", 4, RegDword(1)}});
  RunResult r3 =
      RunMigstore({"restore", "--store", Store(), "--target", target,
                   "--config", dir_ / "Restore.xml", "--machine-settings"});
  EXPECT_EQ(r3.exit_code, 3) << r3.err;
  EXPECT_TRUE(Has(r3.err, "no such hive file")) << r3.err;
}

TEST_F(ErrorControlCli, BadRulesAreReportedNotApplied) {
  RunResult r = Capture(
      Config("<nonFatal errorCode=\"lots\">C:\\Users\\* [*]</nonFatal>\n"
             "<nonFatal errorCode=\"5\">%NOPE%\\* [*]</nonFatal>\n"),
      {"--continue-on-error"});
  // Neither rule applies: the error is --continue-on-error's to decide.
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(Has(r.err, "neither a number nor \"any\"")) << r.err;
  EXPECT_TRUE(Has(r.err, "%NOPE%")) << r.err;
}

}  // namespace
}  // namespace migstore::testing
