// Microsoft's stock MigApp.xml on an offline Windows root (issue 20).
// MigApp.xml ships only inside Microsoft's ADK, so it is not in the
// reference set and cannot be committed here: MIGSTORE_STOCK_MIGAPP names
// a copy (byte for byte as USMT ships it), and without it these tests say
// so and skip. docs/rules.md "The stock MigApp.xml" tells what was checked
// with which copy.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "format/container_reader.h"
#include "format/registry.h"
#include "tests/util/hive_fixture.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

constexpr char kProfileList[] =
    "Microsoft\\Windows NT\\CurrentVersion\\ProfileList";
constexpr char kAliceSid[] = "S-1-5-21-1004336348-1177238915-682003330-1001";

class StockMigApp : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* path = std::getenv("MIGSTORE_STOCK_MIGAPP");
    if (path == nullptr || *path == '\0') {
      GTEST_SKIP() << "Microsoft's MigApp.xml is not in the reference set "
                      "(it ships only with the ADK); set "
                      "MIGSTORE_STOCK_MIGAPP=PATH to a copy to run these";
    }
    migapp_ = path;
    ASSERT_TRUE(std::filesystem::is_regular_file(migapp_)) << migapp_;
    source_ = dir_ / "source";
    const std::string u = "Users/alice";
    for (const char* d :
         {"/Windows/System32/config", "/Windows/SysWOW64", "/Users/Public"}) {
      std::filesystem::create_directories(source_ + d);
    }
    WriteFileBelow(source_, u + "/Documents/notes.txt", "alice's notes");
    // Google Chrome: detected by its program under the user's local
    // application data; its profiles taken, their caches not.
    const std::string chrome = u + "/AppData/Local/Google/Chrome";
    WriteFileBelow(source_, chrome + "/Application/chrome.exe", "MZ");
    WriteFileBelow(source_, chrome + "/User Data/Default/Bookmarks", "{}");
    WriteFileBelow(source_, chrome + "/User Data/Default/Cache/data_0", "c");
    // WinZip's program, where its App Paths key says.
    WriteFileBelow(source_, "Program Files/WinZip/winzip32.exe", "MZ");
    // Opera's profile without Opera installed: not taken.
    WriteFileBelow(source_, u + "/AppData/Roaming/Opera/Opera/profile/x.ini",
                   "x");
    PutHiveValues(
        source_ + "/" + u + "/NTUSER.DAT",
        {// WinZip (detected below by HKLM): values of its keys.
         {"Software\\Nico Mak Computing\\WinZip\\directories", "zDefDir", 1,
          RegSz("C:\\Zips")},
         {"Software\\Nico Mak Computing\\WinZip\\directories", "NotListed", 1,
          RegSz("no")},
         {"Software\\Nico Mak Computing\\WinZip\\WinZip", "ShowTips", 1,
          RegSz("0")},
         {"Software\\Nico Mak Computing\\WinZip\\WinZip", "Display", 1,
          RegSz("excluded")},
         // Word 2010 (32-bit Office on 64-bit Windows, detected below).
         {"Software\\Microsoft\\Office\\14.0\\Word\\Options", "ZoomLevel", 4,
          RegDword(120)},
         {"Software\\Microsoft\\Office\\14.0\\Word\\Options", "PROGRAMDIR", 1,
          RegSz("C:\\Office14")},
         // Word 2007 left behind, not installed: not taken.
         {"Software\\Microsoft\\Office\\12.0\\Word\\Options", "ZoomLevel", 4,
          RegDword(90)},
         // Not an application MigApp knows.
         {"Software\\Fabrikam", "X", 1, RegSz("no")}});
    PutHiveValues(
        source_ + "/Windows/System32/config/SOFTWARE",
        {{"Nico Mak Computing\\WinZip\\WinIni", "win32_version", 1,
          RegSz("10.0")},
         {"Microsoft\\Windows\\CurrentVersion\\App Paths\\winzip32.exe", "", 1,
          RegSz("C:\\Program Files\\WinZip\\winzip32.exe")},
         {"Wow6432Node\\Microsoft\\Office\\14.0\\Word\\InstallRoot", "Path", 1,
          RegSz("C:\\Program Files (x86)\\Microsoft Office\\Office14\\")},
         {"Microsoft\\Windows NT\\CurrentVersion", "CurrentVersion", 1,
          RegSz("6.3")},
         {"Microsoft\\Windows NT\\CurrentVersion", "CurrentMajorVersionNumber",
          4, RegDword(10)},
         {std::string(kProfileList) + "\\" + kAliceSid, "ProfileImagePath", 2,
          RegSz("C:\\Users\\alice")}});
    PutHiveValues(source_ + "/Windows/System32/config/SYSTEM",
                  {{"Select", "Current", 4, RegDword(1)},
                   {"ControlSet001\\Control", "", 0, "", true}});
  }

  RunResult Capture(const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {
        "capture", "--root",
        source_,   "--store",
        Store(),   "--no-encrypt",
        "--rules", migapp_,
        "--rules", SourcePath("tests/golden/usmt-xml/MigUser.xml")};
    args.insert(args.end(), more.begin(), more.end());
    return RunMigstore(args);
  }

  std::string Store() const { return dir_ / "s.mig"; }

  // Each stored value's "KEY [NAME]" and data.
  std::map<std::string, std::string> StoredValues() {
    std::map<std::string, std::string> out;
    auto r = format::ContainerReader::Open(Store(), format::KeySource::None());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return out;
    auto records = (*r)->ReadRegistry();
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    if (!records.ok()) return out;
    for (const format::RegistryRecord& rec : *records) {
      if (rec.has_value) out[rec.key + " [" + rec.name + "]"] = rec.data;
    }
    return out;
  }

  // The files `migstore list` shows ("file  mode size time  PATH").
  std::set<std::string> StoredFiles() {
    std::set<std::string> out;
    std::istringstream lines(RunMigstore({"list", "--store", Store()}).out);
    for (std::string line; std::getline(lines, line);) {
      const size_t path = line.find("  Users/");
      if (line.rfind("file", 0) == 0 && path != std::string::npos)
        out.insert(line.substr(path + 2));
    }
    return out;
  }

  TempDir dir_;
  std::string migapp_;
  std::string source_;
};

TEST_F(StockMigApp, CaptureTakesTheDetectedApplicationsSettings) {
  RunResult c = Capture({"--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err << c.out;
  // Chrome's profile, not its cache; not Opera's (Opera is not installed:
  // the registry holds no install path for its detection).
  const std::string chrome = "Users/alice/AppData/Local/Google/Chrome/";
  EXPECT_EQ(StoredFiles(),
            (std::set<std::string>{chrome + "User Data/Default/Bookmarks",
                                   "Users/alice/Documents/notes.txt"}));
  std::map<std::string, std::string> values = StoredValues();
  // HKLM: only the markers Office reads to upgrade settings, which the
  // detected Office's rules add (<addObjects>; USMT 10's first edition adds
  // Word 2010's, the later one those of the Office versions after it).
  size_t markers = 0;
  for (auto it = values.begin(); it != values.end();) {
    if (it->first.rfind("HKLM\\", 0) != 0) {
      ++it;
      continue;
    }
    EXPECT_TRUE(Has(it->first, "\\Common\\Migration\\")) << it->first;
    ++markers;
    it = values.erase(it);
  }
  EXPECT_GT(markers, 0u);
  EXPECT_EQ(
      values,
      (std::map<std::string, std::string>{
          // WinZip: detected by HKLM and its program's App Paths entry; the
          // listed values and its key's, less the excluded one.
          {"HKCU\\Software\\Nico Mak Computing\\WinZip\\directories [zDefDir]",
           RegSz("C:\\Zips")},
          {"HKCU\\Software\\Nico Mak Computing\\WinZip\\WinZip [ShowTips]",
           RegSz("0")},
          // Word 2010: the child of the Office 2010 container, detected
          // under Wow6432Node (the root has SysWOW64: GlobalEnvX64), less
          // the unconditionally excluded PROGRAMDIR. Office 2007's
          // container is not detected, so its children take nothing.
          {"HKCU\\Software\\Microsoft\\Office\\14.0\\Word\\Options "
           "[ZoomLevel]",
           RegDword(120)}}));
}

TEST_F(StockMigApp, RestoreWritesTheSettingsIntoTheMappedUsersHive) {
  ASSERT_EQ(Capture().exit_code, 0);
  const std::string target = dir_ / "target";
  std::filesystem::create_directories(target + "/Windows/System32/config");
  std::filesystem::create_directories(target + "/Users/alice2");
  const std::string hive = target + "/Users/alice2/NTUSER.DAT";
  PutHiveValues(hive, {{"Software\\Microsoft\\Office\\14.0\\Word\\Options",
                        "Kept", 1, RegSz("target's")}});
  RunResult r = RunMigstore({"restore", "--store", Store(), "--target", target,
                             "--map-user", "alice:alice2"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  uint32_t type = 0;
  std::string data;
  ASSERT_TRUE(GetHiveValue(hive,
                           "Software\\Microsoft\\Office\\14.0\\Word\\Options",
                           "ZoomLevel", &type, &data));
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(data, RegDword(120));
  ASSERT_TRUE(GetHiveValue(hive,
                           "Software\\Microsoft\\Office\\14.0\\Word\\Options",
                           "Kept", &type, &data));
  EXPECT_EQ(data, RegSz("target's"));
  ASSERT_TRUE(GetHiveValue(hive,
                           "Software\\Nico Mak Computing\\WinZip\\directories",
                           "zDefDir", &type, &data));
  EXPECT_EQ(data, RegSz("C:\\Zips"));
  EXPECT_TRUE(std::filesystem::is_regular_file(
      target +
      "/Users/alice2/AppData/Local/Google/Chrome/User Data/Default/"
      "Bookmarks"));
}

}  // namespace
}  // namespace migstore::testing
