// Settings from offline registry hives (issue 20, docs/rules.md
// "Registry"), end to end through the CLI: an offline Windows root with
// real hive files (made with hivex through tests/util/hive_fixture), a
// capture with the stock MigUser.xml and an application's rules in
// MigApp's style, and a restore onto another root with --map-user that
// writes the values into the target's hives.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>

#include "engine/src/registry/hive.h"
#include "format/container_reader.h"
#include "format/registry.h"
#include "tests/util/hive_fixture.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The application's rules: registry patterns as MigApp.xml writes them
// (per user and per machine, include and exclude in one component, a
// variable for a key, a value excluded from a recursive include).
constexpr char kAppXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/contosoapp">
  <component type="Application" context="UserAndSystem">
    <displayName>Contoso App</displayName>
    <environment>
      <variable name="ContosoMachineKey">
        <text>HKLM\SOFTWARE\Contoso</text>
      </variable>
    </environment>
    <role role="Settings">
      <rules context="User">
        <include>
          <objectSet>
            <pattern type="Registry">HKCU\Control Panel\Desktop [Wallpaper]</pattern>
            <pattern type="Registry">HKCU\Software\Microsoft\Command Processor\* [*]</pattern>
            <pattern type="Registry">HKCU\Software\Contoso\* [*]</pattern>
            <pattern type="Registry">HKCU\Software\Contoso\Empty\*</pattern>
          </objectSet>
        </include>
        <exclude>
          <objectSet>
            <pattern type="Registry">HKCU\Software\Microsoft\Command Processor [DefaultColor]</pattern>
            <pattern type="Registry">HKCU\Software\Contoso\App\Cache\* [*]</pattern>
          </objectSet>
        </exclude>
      </rules>
      <rules context="System">
        <include>
          <objectSet>
            <pattern type="Registry">%ContosoMachineKey%\* [*]</pattern>
            <pattern type="Registry">HKLM\SYSTEM\CurrentControlSet\Control\TimeZoneInformation [TimeZoneKeyName]</pattern>
            <pattern type="Registry">HKLM\SOFTWARE\Classes\.contoso []</pattern>
          </objectSet>
        </include>
      </rules>
    </role>
  </component>
</migration>
)";

constexpr char kProfileList[] =
    "Microsoft\\Windows NT\\CurrentVersion\\ProfileList";
constexpr char kAliceSid[] = "S-1-5-21-1004336348-1177238915-682003330-1001";
constexpr char kBobSid[] = "S-1-5-21-1004336348-1177238915-682003330-1002";

class RegistryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = dir_ / "source";
    MakeWindowsRoot(source_, {"alice", "bob"});
    const std::string alice = source_ + "/Users/alice/NTUSER.DAT";
    PutHiveValues(
        alice,
        {{"Control Panel\\Desktop", "Wallpaper", 1, RegSz("C:\\sea.bmp")},
         {"Control Panel\\Desktop", "ScreenSaveActive", 1, RegSz("1")},
         {"Software\\Microsoft\\Command Processor", "DefaultColor", 4,
          RegDword(7)},
         {"Software\\Microsoft\\Command Processor", "CompletionChar", 4,
          RegDword(9)},
         {"Software\\Microsoft\\Command Processor\\Sub", "Deep", 1,
          RegSz("deep")},
         {"Software\\Contoso\\App", "", 1, RegSz("default value")},
         {"Software\\Contoso\\App", "Theme", 1, RegSz("dark")},
         {"Software\\Contoso\\App", "C:\\odd\\value/name", 3, "\x01\x02"},
         {"Software\\Contoso\\App\\Cache", "Junk", 3, std::string(100, 'j')},
         {"Software\\Contoso\\a/b", "Slash", 4, RegDword(1)},
         {"Software\\Contoso\\Empty\\Leaf", "", 0, "", true},
         {"Software\\Other", "X", 1, RegSz("not taken")}});
    PutHiveValues(source_ + "/Users/bob/NTUSER.DAT",
                  {{"Software\\Contoso\\App", "Theme", 1, RegSz("bob's")}});
    PutHiveValues(
        source_ + "/Windows/System32/config/SOFTWARE",
        {{"Contoso\\Machine", "License", 1, RegSz("ABC-123")},
         {"Classes\\.contoso", "", 1, RegSz("Contoso.Doc")},
         {"Classes\\.contoso", "Content Type", 1, RegSz("x")},
         {"Microsoft\\Windows", "Other", 1, RegSz("no")},
         {std::string(kProfileList) + "\\" + kAliceSid, "ProfileImagePath", 2,
          RegSz("%SystemDrive%\\Users\\alice")},
         {std::string(kProfileList) + "\\" + kBobSid, "ProfileImagePath", 2,
          RegSz("C:\\Users\\bob")},
         {std::string(kProfileList) + "\\S-1-5-18", "ProfileImagePath", 2,
          RegSz("%systemroot%\\system32\\config\\systemprofile")}});
    PutHiveValues(source_ + "/Windows/System32/config/SYSTEM",
                  {{"Select", "Current", 4, RegDword(1)},
                   {"ControlSet001\\Control\\TimeZoneInformation",
                    "TimeZoneKeyName", 1, RegSz("W. Europe Standard Time")},
                   {"ControlSet002\\Control\\TimeZoneInformation",
                    "TimeZoneKeyName", 1, RegSz("stale")}});
    WriteFile(dir_ / "app.xml", kAppXml);
  }

  static void MakeWindowsRoot(const std::string& root,
                              const std::vector<std::string>& users,
                              bool notes = true) {
    std::filesystem::create_directories(root + "/Windows/System32/config");
    std::filesystem::create_directories(root + "/Users/Public/Documents");
    for (const std::string& u : users) {
      for (const char* f : {"Documents", "Desktop", "AppData/Roaming"})
        std::filesystem::create_directories(root + "/Users/" + u + "/" + f);
      if (notes) {
        WriteFile(root + "/Users/" + u + "/Documents/notes.txt",
                  u + "'s notes");
      }
    }
  }

  RunResult Capture(std::vector<std::string> more = {}) {
    std::vector<std::string> args = {
        "capture", "--root",
        source_,   "--store",
        Store(),   "--no-encrypt",
        "--rules", SourcePath("tests/golden/usmt-xml/MigUser.xml"),
        "--rules", dir_ / "app.xml"};
    args.insert(args.end(), more.begin(), more.end());
    return RunMigstore(args);
  }

  std::string Store() const { return dir_ / "s.mig"; }

  std::vector<format::RegistryRecord> StoredRecords() {
    auto r = format::ContainerReader::Open(Store(), format::KeySource::None());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    auto records = (*r)->ReadRegistry();
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    return records.ok() ? *records : std::vector<format::RegistryRecord>{};
  }

  TempDir dir_;
  std::string source_;
};

std::set<std::string> Names(const std::vector<format::RegistryRecord>& rs) {
  std::set<std::string> out;
  for (const format::RegistryRecord& r : rs) {
    out.insert(std::to_string(r.profile) + " " + r.key +
               (r.has_value ? " [" + r.name + "]" : ""));
  }
  return out;
}

TEST_F(RegistryCli, CaptureTakesWhatTheRulesSelectWithUsmtPrecedence) {
  RunResult c = Capture({"--user-exclude", "bob", "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err << c.out;
  EXPECT_TRUE(Has(c.out, "\"registry_values\":10")) << c.out;
  std::set<std::string> names = Names(StoredRecords());
  const std::set<std::string> expected = {
      // alice (profile 1); bob is not captured.
      "1 HKCU\\Control Panel\\Desktop [Wallpaper]",
      // A recursive node takes its own key too ("C:\\Data\\* [*]" takes
      // the Data folder).
      "1 HKCU\\Software\\Microsoft\\Command Processor",
      "1 HKCU\\Software\\Microsoft\\Command Processor [CompletionChar]",
      "1 HKCU\\Software\\Microsoft\\Command Processor\\Sub",
      "1 HKCU\\Software\\Microsoft\\Command Processor\\Sub [Deep]",
      "1 HKCU\\Software\\Contoso",
      "1 HKCU\\Software\\Contoso\\App",
      "1 HKCU\\Software\\Contoso\\App []",
      "1 HKCU\\Software\\Contoso\\App [Theme]",
      "1 HKCU\\Software\\Contoso\\App [C:\\odd\\value/name]",
      "1 HKCU\\Software\\Contoso\\a/b",
      "1 HKCU\\Software\\Contoso\\a/b [Slash]",
      "1 HKCU\\Software\\Contoso\\Empty",
      "1 HKCU\\Software\\Contoso\\Empty\\Leaf",
      // The machine: the variable's key, the current control set only,
      // the default value of one key and not its other values.
      "0 HKLM\\SOFTWARE\\Contoso",
      "0 HKLM\\SOFTWARE\\Contoso\\Machine",
      "0 HKLM\\SOFTWARE\\Contoso\\Machine [License]",
      "0 HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation "
      "[TimeZoneKeyName]",
      "0 HKLM\\SOFTWARE\\Classes\\.contoso []",
  };
  EXPECT_EQ(names, expected);
  // The data is the hive's, bytes for bytes.
  for (const format::RegistryRecord& r : StoredRecords()) {
    if (r.name == "TimeZoneKeyName") {
      EXPECT_EQ(r.data, RegSz("W. Europe Standard Time"));
    }
    if (r.name == "CompletionChar") {
      EXPECT_EQ(r.type, 4u);
      EXPECT_EQ(r.data, RegDword(9));
    }
  }
}

TEST_F(RegistryCli, RestoreWritesTheValuesIntoTheMappedUsersHive) {
  RunResult c = Capture({"--user-exclude", "bob"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(Has(c.out, "settings: 10 registry values, 9 keys")) << c.out;

  const std::string target = dir_ / "target";
  MakeWindowsRoot(target, {"alice2"}, false);
  const std::string hive = target + "/Users/alice2/NTUSER.DAT";
  // The target spells the value's name in another case: it is replaced,
  // not doubled, and what the store does not hold stays.
  PutHiveValues(hive,
                {{"Control Panel\\Desktop", "WALLPAPER", 1, RegSz("old")},
                 {"Control Panel\\Desktop", "Kept", 1, RegSz("target's")}});
  PutHiveValues(target + "/Windows/System32/config/SOFTWARE",
                {{"Microsoft\\Windows", "Target", 1, RegSz("t")}});
  // The target's current control set is another: values follow it.
  PutHiveValues(target + "/Windows/System32/config/SYSTEM",
                {{"Select", "Current", 4, RegDword(2)},
                 {"ControlSet002\\Control", "", 0, "", true}});

  RunResult r =
      RunMigstore({"restore", "--store", Store(), "--target", target,
                   "--map-user", "alice:alice2", "--machine-settings"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(Has(r.out, "settings: 10 registry values")) << r.out;
  uint32_t type = 0;
  std::string data;
  ASSERT_TRUE(
      GetHiveValue(hive, "Control Panel\\Desktop", "Wallpaper", &type, &data));
  EXPECT_EQ(data, RegSz("C:\\sea.bmp"));  // the source's value replaces
  ASSERT_TRUE(
      GetHiveValue(hive, "Control Panel\\Desktop", "Kept", &type, &data));
  EXPECT_EQ(data, RegSz("target's"));  // what it did not capture stays
  EXPECT_FALSE(GetHiveValue(hive, "Control Panel\\Desktop", "ScreenSaveActive",
                            &type, &data));
  {
    auto h = registry::Hive::Open(hive, false);
    ASSERT_TRUE(h.ok());
    auto cp = h->Child(h->root(), "Control Panel");
    ASSERT_TRUE(cp.ok() && *cp != 0);
    auto desktop = h->Child(*cp, "Desktop");
    ASSERT_TRUE(desktop.ok() && *desktop != 0);
    auto values = h->Values(*desktop);
    ASSERT_TRUE(values.ok());
    EXPECT_EQ(values->size(), 2u);  // Wallpaper (once) and Kept
  }
  ASSERT_TRUE(GetHiveValue(hive, "Software\\Contoso\\App",
                           "C:\\odd\\value/name", &type, &data));
  EXPECT_EQ(type, 3u);
  EXPECT_EQ(data, "\x01\x02");
  ASSERT_TRUE(GetHiveValue(hive, "Software\\Contoso\\App", "", &type, &data));
  EXPECT_EQ(data, RegSz("default value"));
  ASSERT_TRUE(
      GetHiveValue(hive, "Software\\Contoso\\a/b", "Slash", &type, &data));
  EXPECT_TRUE(HiveHasKey(hive, "Software\\Contoso\\Empty\\Leaf"));
  EXPECT_FALSE(HiveHasKey(hive, "Software\\Contoso\\App\\Cache"));
  EXPECT_FALSE(GetHiveValue(hive, "Software\\Microsoft\\Command Processor",
                            "DefaultColor", &type, &data));
  const std::string software = target + "/Windows/System32/config/SOFTWARE";
  ASSERT_TRUE(
      GetHiveValue(software, "Contoso\\Machine", "License", &type, &data));
  EXPECT_EQ(data, RegSz("ABC-123"));
  EXPECT_TRUE(
      GetHiveValue(software, "Microsoft\\Windows", "Target", &type, &data));
  const std::string system = target + "/Windows/System32/config/SYSTEM";
  ASSERT_TRUE(GetHiveValue(system,
                           "ControlSet002\\Control\\TimeZoneInformation",
                           "TimeZoneKeyName", &type, &data));
  EXPECT_EQ(data, RegSz("W. Europe Standard Time"));
  EXPECT_FALSE(HiveHasKey(system, "CurrentControlSet"));
  // And the files came along.
  EXPECT_EQ(ReadFile(target + "/Users/alice2/Documents/notes.txt"),
            "alice's notes");
}

TEST_F(RegistryCli,
       ANewProfileStartsFromTheDefaultHiveAndADryRunWritesNothing) {
  ASSERT_EQ(Capture({"--user-exclude", "bob"}).exit_code, 0);
  const std::string target = dir_ / "target";
  MakeWindowsRoot(target, {});
  PutHiveValues(target + "/Users/Default/NTUSER.DAT",
                {{"Control Panel\\Desktop", "FromDefault", 1, RegSz("d")}});
  PutHiveValues(target + "/Windows/System32/config/SOFTWARE", {});
  PutHiveValues(target + "/Windows/System32/config/SYSTEM",
                {{"Select", "Current", 4, RegDword(1)}});
  const std::string software = target + "/Windows/System32/config/SOFTWARE";
  const std::string before = ReadFile(software);

  RunResult dry =
      RunMigstore({"restore", "--store", Store(), "--target", target,
                   "--dry-run", "--json", "--machine-settings"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(Has(dry.out, "\"registry_values\":10")) << dry.out;
  EXPECT_EQ(ReadFile(software), before);
  EXPECT_FALSE(std::filesystem::exists(target + "/Users/alice/NTUSER.DAT"));

  RunResult r = RunMigstore({"restore", "--store", Store(), "--target", target,
                             "--machine-settings"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string hive = target + "/Users/alice/NTUSER.DAT";
  uint32_t type = 0;
  std::string data;
  EXPECT_TRUE(GetHiveValue(hive, "Control Panel\\Desktop", "FromDefault", &type,
                           &data));
  EXPECT_TRUE(
      GetHiveValue(hive, "Control Panel\\Desktop", "Wallpaper", &type, &data));
  EXPECT_TRUE(Has(r.err + r.out, "Default profile hive")) << r.err << r.out;
}

TEST_F(RegistryCli, AHardLinkStoreKeepsTheSettingsInItsCatalog) {
  const std::string store = dir_ / "hl";
  RunResult c = RunMigstore({"capture", "--root", source_, "--store", store,
                             "--hardlink", "--user-exclude", "bob", "--rules",
                             SourcePath("tests/golden/usmt-xml/MigUser.xml"),
                             "--rules", dir_ / "app.xml"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(Has(c.out, "settings: 10 registry values, 9 keys")) << c.out;
  const std::string target = dir_ / "target";
  MakeWindowsRoot(target, {"alice"}, false);
  PutHiveValues(target + "/Users/alice/NTUSER.DAT", {});
  PutHiveValues(target + "/Windows/System32/config/SOFTWARE", {});
  PutHiveValues(target + "/Windows/System32/config/SYSTEM", {});
  RunResult r = RunMigstore({"restore", "--store", store, "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  uint32_t type = 0;
  std::string data;
  EXPECT_TRUE(GetHiveValue(target + "/Users/alice/NTUSER.DAT",
                           "Software\\Contoso\\App", "Theme", &type, &data));
  EXPECT_EQ(data, RegSz("dark"));
}

TEST_F(RegistryCli, MachineSettingsAreRestoredOnlyWhenAskedFor) {
  ASSERT_EQ(Capture({"--user-exclude", "bob"}).exit_code, 0);
  const std::string target = dir_ / "target";
  MakeWindowsRoot(target, {"alice"}, false);
  PutHiveValues(target + "/Users/alice/NTUSER.DAT", {});
  const std::string software = target + "/Windows/System32/config/SOFTWARE";
  PutHiveValues(software, {});
  const std::string before = ReadFile(software);
  RunResult r = RunMigstore(
      {"restore", "--store", Store(), "--target", target, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "\"registry_values\":7")) << r.out;  // alice's
  EXPECT_TRUE(Has(r.out, "say --machine-settings")) << r.out;
  EXPECT_EQ(ReadFile(software), before);
}

// Makes a hive "dirty": its header's sequence numbers differ, as when
// Windows has changes in the transaction logs not yet in the file (the
// header checksum made right again).
void MakeDirty(const std::string& path) {
  std::string h = ReadFile(path);
  h[8] = static_cast<char>(h[4] + 1);
  uint32_t sum = 0;
  for (size_t i = 0; i < 0x1FC; i += 4) {
    uint32_t w = 0;
    for (size_t k = 0; k < 4; ++k) {
      w |= static_cast<uint32_t>(static_cast<unsigned char>(h[i + k]))
           << (8 * k);
    }
    sum ^= w;
  }
  for (size_t k = 0; k < 4; ++k)
    h[0x1FC + k] = static_cast<char>(sum >> (8 * k));
  WriteFile(path, h);
}

TEST_F(RegistryCli, HivesAreWrittenSafely) {
  // A key with many values, and a value too large for one hive cell.
  std::vector<HiveValue> many;
  for (int i = 0; i < 1500; ++i) {
    many.push_back({"Software\\Contoso\\Many", "v" + std::to_string(i), 3,
                    std::string(300, static_cast<char>('a' + i % 26))});
  }
  many.push_back({"Software\\Contoso\\Big", "big", 3, std::string(20000, 'b')});
  PutHiveValues(source_ + "/Users/alice/NTUSER.DAT", many);
  ASSERT_EQ(Capture({"--user-exclude", "bob"}).exit_code, 0);

  const std::string target = dir_ / "target";
  MakeWindowsRoot(target, {"alice"}, false);
  const std::string hive = target + "/Users/alice/NTUSER.DAT";
  // A key of the target that already holds a value too large for one cell
  // is left alone: hivex would rewrite that value in a form Windows does
  // not read.
  PutHiveValues(
      hive, {{"Software\\Contoso\\App", "Cache", 3, std::string(20000, 'c')}});
  RunResult r =
      RunMigstore({"restore", "--store", Store(), "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Set one by one, 1500 values would leave ~1500^2/2 dead cells (about
  // 300 MB); set at once the hive stays near the size of its data.
  EXPECT_LT(std::filesystem::file_size(hive), 4u << 20);
  uint32_t type = 0;
  std::string data;
  EXPECT_TRUE(
      GetHiveValue(hive, "Software\\Contoso\\Many", "v1499", &type, &data));
  EXPECT_FALSE(
      GetHiveValue(hive, "Software\\Contoso\\Big", "big", &type, &data));
  EXPECT_TRUE(Has(r.err + r.out, "16,344 bytes")) << r.err << r.out;
  EXPECT_FALSE(
      GetHiveValue(hive, "Software\\Contoso\\App", "Theme", &type, &data));
  ASSERT_TRUE(
      GetHiveValue(hive, "Software\\Contoso\\App", "Cache", &type, &data));
  EXPECT_EQ(data, std::string(20000, 'c'));
  EXPECT_TRUE(Has(r.err, "which hivex would rewrite")) << r.err;

  // A target hive with changes still in its transaction logs is not
  // changed: writing it would drop them.
  const std::string dirty = dir_ / "dirty";
  MakeWindowsRoot(dirty, {"alice"}, false);
  PutHiveValues(dirty + "/Users/alice/NTUSER.DAT", {});
  MakeDirty(dirty + "/Users/alice/NTUSER.DAT");
  const std::string before = ReadFile(dirty + "/Users/alice/NTUSER.DAT");
  RunResult d = RunMigstore({"restore", "--store", Store(), "--target", dirty});
  EXPECT_EQ(d.exit_code, 61) << d.err;
  EXPECT_TRUE(Has(d.err, "transaction logs")) << d.err;
  EXPECT_EQ(ReadFile(dirty + "/Users/alice/NTUSER.DAT"), before);
}

TEST_F(RegistryCli, AHiveThatIsNotAFileIsAnErrorNotAHang) {
  const std::string hive = source_ + "/Users/alice/NTUSER.DAT";
  std::filesystem::remove(hive);
  ASSERT_EQ(::mkfifo(hive.c_str(), 0644), 0);
  RunResult c = Capture({"--user-exclude", "bob"});
  EXPECT_EQ(c.exit_code, 61) << c.err;
  EXPECT_TRUE(Has(c.err, "not a regular file")) << c.err;
  // A dirty source hive is captured, with a note that it may be stale.
  std::filesystem::remove(hive);
  PutHiveValues(hive, {{"Software\\Contoso\\App", "Theme", 1, RegSz("x")}});
  MakeDirty(hive);
  RunResult d = Capture({"--user-exclude", "bob"});
  EXPECT_EQ(d.exit_code, 0) << d.err;
  EXPECT_TRUE(Has(d.err, "transaction logs")) << d.err;
}

// The ASCII text of a UTF-16LE .reg file (its byte-order mark dropped).
std::string Ascii(const std::string& utf16) {
  std::string out;
  for (size_t i = 2; i + 1 < utf16.size(); i += 2) out.push_back(utf16[i]);
  return out;
}

TEST_F(RegistryCli, ListShowsTheSettingsAndExtractWritesARegFile) {
  ASSERT_EQ(Capture().exit_code, 0);  // alice and bob
  RunResult list = RunMigstore({"list", "--store", Store()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  // Keys and value names are names: their backslashes are doubled, as a
  // path's are (docs/cli.md, "Names").
  EXPECT_TRUE(Has(list.out,
                  "setting HKCU\\\\Control Panel\\\\Desktop [Wallpaper]  "
                  "REG_SZ  C:\\\\sea.bmp  (alice)"))
      << list.out;
  EXPECT_TRUE(Has(list.out, "[Theme]  REG_SZ  bob's  (bob)")) << list.out;
  EXPECT_TRUE(Has(list.out, "[CompletionChar]  REG_DWORD  9  (alice)"));
  EXPECT_TRUE(
      Has(list.out, "key     HKLM\\\\SOFTWARE\\\\Contoso\\\\Machine\n"));
  RunResult json = RunMigstore({"list", "--store", Store(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const std::string bs = "\\\\\\\\";  // a backslash, doubled, JSON-escaped
  EXPECT_TRUE(Has(json.out, "{\"user\":\"alice\",\"key\":\"HKCU" + bs +
                                "Software" + bs + "Contoso" + bs +
                                "App\",\"value\":\"Theme\",\"type\":\"REG_SZ\","
                                "\"size\":10,\"data\":\"dark\"}"))
      << json.out;

  // Two users have settings: whose HKCU goes into the file must be said.
  const std::string reg = dir_ / "settings.reg";
  RunResult ambiguous = RunMigstore(
      {"extract", "--store", Store(), "--to", dir_ / "x1", "--reg", reg});
  EXPECT_EQ(ambiguous.exit_code, 11) << ambiguous.err;
  EXPECT_TRUE(Has(ambiguous.err, "--reg-user")) << ambiguous.err;
  EXPECT_FALSE(std::filesystem::exists(reg));

  RunResult x = RunMigstore({"extract", "--store", Store(), "--to", dir_ / "x2",
                             "--reg", reg, "--reg-user", "alice"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  const std::string bytes = ReadFile(reg);
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes.substr(0, 2), "\xff\xfe");
  const std::string text = Ascii(bytes);
  EXPECT_EQ(text.rfind("Windows Registry Editor Version 5.00\r\n", 0), 0u);
  for (const char* line :
       {"[HKEY_CURRENT_USER\\Control Panel\\Desktop]\r\n"
        "\"Wallpaper\"=\"C:\\\\sea.bmp\"\r\n",
        "\"CompletionChar\"=dword:00000009\r\n",
        "[HKEY_CURRENT_USER\\Software\\Contoso\\App]\r\n"
        "@=\"default value\"\r\n",
        "\"C:\\\\odd\\\\value/name\"=hex:01,02\r\n",
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\"
        "TimeZoneInformation]\r\n",
        "[HKEY_CURRENT_USER\\Software\\Contoso\\Empty\\Leaf]\r\n"}) {
    EXPECT_TRUE(Has(text, line)) << line << "\n" << text;
  }
  EXPECT_FALSE(Has(text, "bob's"));
  EXPECT_TRUE(Has(x.out, "settings: 10 registry values")) << x.out;
}

TEST_F(RegistryCli, UsersAreKnownByTheSidsOfProfileList) {
  RunResult c = Capture({"--user-exclude", kBobSid, "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(
      Has(c.out, std::string("excluded by --user-exclude '") + kBobSid + "'"))
      << c.out;
  RunResult list = RunMigstore({"list", "--store", Store(), "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Has(list.out, std::string("\"sid\":\"") + kAliceSid + "\""))
      << list.out;
  // The setting's user is alice; bob's hive was never read.
  EXPECT_FALSE(Has(list.out, "bob's"));
}

TEST_F(RegistryCli, ADamagedHiveIsAnErrorOfThatHiveOnly) {
  std::string bytes = ReadFile(source_ + "/Users/alice/NTUSER.DAT");
  bytes[0x30] ^= 1;  // header checksum
  WriteFile(source_ + "/Users/alice/NTUSER.DAT", bytes);
  RunResult stop = Capture({"--user-exclude", "bob"});
  EXPECT_NE(stop.exit_code, 0);
  EXPECT_TRUE(Has(stop.err, "NTUSER.DAT")) << stop.err;
  EXPECT_FALSE(std::filesystem::exists(Store()));
  RunResult go = Capture({"--user-exclude", "bob", "--continue-on-error"});
  EXPECT_EQ(go.exit_code, 3) << go.err;
  // The machine's settings are still taken; alice's are not.
  std::set<std::string> names = Names(StoredRecords());
  EXPECT_TRUE(names.count("0 HKLM\\SOFTWARE\\Contoso\\Machine [License]"));
  for (const std::string& n : names) EXPECT_FALSE(Has(n, "HKCU")) << n;
}

// MigApp.xml detects applications by their registry keys: the conditions
// read the root's hives (docs/rules.md, "Detection"), HKLM once and HKCU
// per user, and a component whose key is absent takes nothing.
TEST_F(RegistryCli, RegistryConditionsDecideDetection) {
  for (const char* f :
       {"Present/p.txt", "Absent/a.txt", "Value/v.txt", "Zone/z.txt",
        "Anyone/y.txt", "Unreadable/u.txt", "Nobody/n.txt", "OtherValue/o.txt",
        "StaleZone/s.txt"}) {
    WriteFileBelow(source_, f, "x");
  }
  auto component = [](const std::string& name, const std::string& context,
                      const std::string& condition, const std::string& take) {
    return "<component type=\"Application\" context=\"" + context +
           "\"><displayName>" + name +
           "</displayName><role role=\"Settings\"><detection><conditions>"
           "<condition>" +
           condition +
           "</condition></conditions></detection><rules><include>"
           "<objectSet><pattern type=\"File\">" +
           take + "</pattern></objectSet></include></rules></role></component>";
  };
  const std::string xml =
      "<?xml version=\"1.0\"?><migration urlid=\"http://test/detect\">" +
      component("Present", "System",
                "MigXmlHelper.DoesObjectExist(\"Registry\",\"HKLM\\SOFTWARE\\"
                "Contoso\\Machine [License]\")",
                "C:\\Present\\* [*]") +
      component("Absent", "System",
                "MigXmlHelper.DoesObjectExist(\"Registry\",\"HKLM\\SOFTWARE\\"
                "Contoso\\Missing\")",
                "C:\\Absent\\* [*]") +
      component("Value", "System",
                "MigXmlHelper.DoesStringContentEqual(\"Registry\",\"HKLM\\"
                "SOFTWARE\\Contoso\\Machine [License]\",\"ABC-123\")",
                "C:\\Value\\* [*]") +
      component("Zone", "System",
                "MigXmlHelper.DoesStringContentContain(\"Registry\",\"HKLM\\"
                "SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation "
                "[TimeZoneKeyName]\",\"Europe\")",
                "C:\\Zone\\* [*]") +
      // Per user: alice's theme is dark, bob's is not.
      component("Dark theme", "User",
                "MigXmlHelper.DoesStringContentEqual(\"Registry\",\"HKCU\\"
                "Software\\Contoso\\App [Theme]\",\"dark\")",
                "%CSIDL_PERSONAL%\\* [*]") +
      // HKCU in system context: true when true for one selected user
      // (alice has the key, bob does not), false when true for none.
      component("Anyone", "System",
                "MigXmlHelper.DoesObjectExist(\"Registry\",\"HKCU\\Software\\"
                "Microsoft\\Command Processor [CompletionChar]\")",
                "C:\\Anyone\\* [*]") +
      component("Nobody", "System",
                "MigXmlHelper.DoesObjectExist(\"Registry\",\"HKCU\\Software\\"
                "Nobody\")",
                "C:\\Nobody\\* [*]") +
      // The false sides: another text, and the stale control set's value.
      component("Other value", "System",
                "MigXmlHelper.DoesStringContentEqual(\"Registry\",\"HKLM\\"
                "SOFTWARE\\Contoso\\Machine [License]\",\"XYZ\")",
                "C:\\OtherValue\\* [*]") +
      component("Stale zone", "System",
                "MigXmlHelper.DoesStringContentContain(\"Registry\",\"HKLM\\"
                "SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation "
                "[TimeZoneKeyName]\",\"stale\")",
                "C:\\StaleZone\\* [*]") +
      // A wildcard in the key cannot be decided: taken as true, with a note.
      component("Unreadable", "System",
                "MigXmlHelper.DoesObjectExist(\"Registry\",\"HKLM\\SOFTWARE\\"
                "*\\Machine\")",
                "C:\\Unreadable\\* [*]") +
      "</migration>";
  WriteFile(dir_ / "detect.xml", xml);
  RunResult c = RunMigstore({"capture", "--root", source_, "--store", Store(),
                             "--no-encrypt", "--rules", dir_ / "detect.xml"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(Has(c.err, "taken as true")) << c.err;
  RunResult l = RunMigstore({"list", "--store", Store()});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_TRUE(Has(l.out, "Present/p.txt")) << l.out;
  EXPECT_FALSE(Has(l.out, "Absent/a.txt")) << l.out;
  EXPECT_TRUE(Has(l.out, "Value/v.txt")) << l.out;
  EXPECT_TRUE(Has(l.out, "Zone/z.txt")) << l.out;
  EXPECT_TRUE(Has(l.out, "Users/alice/Documents/notes.txt")) << l.out;
  EXPECT_FALSE(Has(l.out, "Users/bob/Documents/notes.txt")) << l.out;
  EXPECT_TRUE(Has(l.out, "Anyone/y.txt")) << l.out;
  EXPECT_FALSE(Has(l.out, "Nobody/n.txt")) << l.out;
  EXPECT_FALSE(Has(l.out, "OtherValue/o.txt")) << l.out;
  EXPECT_FALSE(Has(l.out, "StaleZone/s.txt")) << l.out;
  EXPECT_TRUE(Has(l.out, "Unreadable/u.txt")) << l.out;
  // explain says why a component is not there.
  RunResult e = RunMigstore({"explain", "--root", source_, "--rules",
                             dir_ / "detect.xml", "Absent/a.txt"});
  EXPECT_TRUE(Has(e.out, "not detected")) << e.out << e.err;
}

// How MigApp.xml is built (its stock copy: stock_migapp_test.cc):
// named environments chosen by their conditions, a Container whose
// detection decides for the components it holds, variables read from the
// registry by GetStringContent and inherited by child components, nested
// <rules> with their own conditions, named <rules>, and the OS and program
// version conditions.
constexpr char kSuiteHead[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/contososuite">
  <namedElements>
    <environment name="Env32">
      <conditions><condition negation="Yes">MigXmlHelper.IsNative64Bit()</condition></conditions>
      <variable name="HklmWow"><text>HKLM\SOFTWARE</text></variable>
    </environment>
    <environment name="Env64">
      <conditions><condition>MigXmlHelper.IsNative64Bit()</condition></conditions>
      <variable name="HklmWow"><text>HKLM\SOFTWARE\Wow6432Node</text></variable>
    </environment>
    <detection name="Writer">
      <conditions>
        <condition>MigXmlHelper.DoesObjectExist("Registry","%HklmWow%\Contoso\%SUITEVERSION%\Writer [Path]")</condition>
      </conditions>
    </detection>
    <rules name="Shared">
      <include><objectSet><pattern type="File">%CSIDL_APPDATA%\Contoso\Shared\* [*]</pattern></objectSet></include>
    </rules>
  </namedElements>
  <component type="Application" context="UserAndSystem">
    <displayName>Contoso Suite 2</displayName>
    <environment name="Env32"/>
    <environment name="Env64"/>
    <environment><variable name="SUITEVERSION"><text>2.0</text></variable></environment>
    <role role="Container">
      <detection name="Writer"/>
      <component type="Application" context="UserAndSystem">
        <displayName>Contoso Writer 2</displayName>
        <environment>
          <variable name="WriterDir">
            <script>MigXmlHelper.GetStringContent("Registry","%HklmWow%\Contoso\%SUITEVERSION%\Writer [Path]")</script>
          </variable>
        </environment>
        <role role="Settings">
          <rules>
            <include><objectSet><pattern type="File">%WriterDir%\Templates\* [*]</pattern></objectSet></include>
            <rules>
              <conditions><condition>MigXmlHelper.IsOSLaterThan("NT","6.2")</condition></conditions>
              <include><objectSet><pattern type="File">C:\New\* [*]</pattern></objectSet></include>
            </rules>
            <rules>
              <conditions><condition>MigXmlHelper.IsOSEarlierThan("NT","6.2")</condition></conditions>
              <include><objectSet><pattern type="File">C:\Old\* [*]</pattern></objectSet></include>
            </rules>
          </rules>
          <rules name="Shared"/>
        </role>
      </component>
    </role>
  </component>
  <component type="Application" context="UserAndSystem">
    <displayName>Contoso Suite 1</displayName>
    <environment name="Env32"/>
    <environment name="Env64"/>
    <environment><variable name="SUITEVERSION"><text>1.0</text></variable></environment>
    <role role="Container">
      <detection name="Writer"/>
      <component type="Application" context="UserAndSystem">
        <displayName>Contoso Suite 1 Common Settings</displayName>
        <role role="Settings">
          <rules><include><objectSet><pattern type="File">C:\Common1\* [*]</pattern></objectSet></include></rules>
        </role>
      </component>
    </role>
  </component>
)";

// A program detected by its version, where a registry value says it is.
std::string ProgramComponent(const std::string& name) {
  return R"(<component type="Application" context="System">
    <displayName>Contoso )" +
         name + R"(</displayName>
    <environment>
      <variable name="Exe">
        <script>MigXmlHelper.GetStringContent("Registry","HKLM\SOFTWARE\Contoso\)" +
         name + R"( [Exe]")</script>
      </variable>
    </environment>
    <role role="Settings">
      <detection><conditions><condition>MigXmlHelper.DoesFileVersionMatch("%Exe%","ProductVersion","3.*")</condition></conditions></detection>
      <rules><include><objectSet><pattern type="File">C:\)" +
         name + R"(\* [*]</pattern></objectSet></include></rules>
    </role>
  </component>)";
}

std::string SuiteXml() {
  return kSuiteHead + ProgramComponent("Painter") + ProgramComponent("Viewer") +
         ProgramComponent("Sketch") + "</migration>";
}

TEST_F(RegistryCli, MigAppsEnvironmentsContainersAndScriptsAreFollowed) {
  std::filesystem::create_directories(source_ + "/Windows/SysWOW64");
  for (const char* f :
       {"Apps/Writer/Templates/t.dotx", "Wrong/Templates/w.dotx", "New/n.txt",
        "Old/o.txt", "Common1/c.txt", "Painter/p.txt", "Viewer/v.txt",
        "Program Files/Viewer/viewer.exe", "Sketch/k.txt",
        "Users/alice/AppData/Roaming/Contoso/Shared/s.txt"}) {
    WriteFileBelow(source_, f, "x");
  }
  PutHiveValues(source_ + "/Windows/System32/config/SOFTWARE",
                {// 32-bit Writer 2 on 64-bit Windows: its key is under
                 // Wow6432Node; the 64-bit view's key names another folder.
                 {"Wow6432Node\\Contoso\\2.0\\Writer", "Path", 1,
                  RegSz("C:\\Apps\\Writer\\")},
                 {"Contoso\\2.0\\Writer", "Path", 1, RegSz("C:\\Wrong")},
                 // Painter's program is not where its key says; Viewer's is;
                 // Sketch has no key.
                 {"Contoso\\Painter", "Exe", 1,
                  RegSz("C:\\Program Files\\Painter\\painter.exe")},
                 {"Contoso\\Viewer", "Exe", 2,
                  RegSz("C:\\Program Files\\Viewer\\viewer.exe")},
                 {"Microsoft\\Windows NT\\CurrentVersion",
                  "CurrentMajorVersionNumber", 4, RegDword(10)},
                 {"Microsoft\\Windows NT\\CurrentVersion",
                  "CurrentMinorVersionNumber", 4, RegDword(0)},
                 {"Microsoft\\Windows NT\\CurrentVersion", "CurrentVersion", 1,
                  RegSz("6.3")}});
  WriteFile(dir_ / "suite.xml", SuiteXml());
  RunResult c = RunMigstore({"capture", "--root", source_, "--store", Store(),
                             "--no-encrypt", "--user-exclude", "bob", "--rules",
                             dir_ / "suite.xml"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  RunResult l = RunMigstore({"list", "--store", Store()});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  for (const char* taken :
       {"Apps/Writer/Templates/t.dotx", "New/n.txt", "Viewer/v.txt",
        "Users/alice/AppData/Roaming/Contoso/Shared/s.txt"}) {
    EXPECT_TRUE(Has(l.out, taken)) << taken << "\n" << l.out;
  }
  for (const char* left : {"Wrong/Templates/w.dotx", "Old/o.txt",
                           "Common1/c.txt", "Painter/p.txt", "Sketch/k.txt"}) {
    EXPECT_FALSE(Has(l.out, left)) << left << "\n" << l.out;
  }
  // The program whose version cannot be read is said to be taken as true.
  EXPECT_TRUE(Has(c.err, "version is not read offline")) << c.err;
  // explain names the container that was not detected.
  RunResult e = RunMigstore({"explain", "--root", source_, "--rules",
                             dir_ / "suite.xml", "Common1/c.txt"});
  EXPECT_TRUE(Has(e.out, "its container \"Contoso Suite 1\" is not detected"))
      << e.out << e.err;
}

// On 32-bit Windows (no SysWOW64) the other named environment holds, and
// an OS older than the rule's version takes the other nested rules.
TEST_F(RegistryCli, TheNamedEnvironmentFollowsTheRootsWindows) {
  for (const char* f : {"Apps/Writer/Templates/t.dotx",
                        "Wrong/Templates/w.dotx", "New/n.txt", "Old/o.txt"}) {
    WriteFileBelow(source_, f, "x");
  }
  PutHiveValues(
      source_ + "/Windows/System32/config/SOFTWARE",
      {{"Wow6432Node\\Contoso\\2.0\\Writer", "Path", 1, RegSz("C:\\Wrong")},
       {"Contoso\\2.0\\Writer", "Path", 1, RegSz("C:\\Apps\\Writer")},
       {"Microsoft\\Windows NT\\CurrentVersion", "CurrentVersion", 1,
        RegSz("6.1")}});
  WriteFile(dir_ / "suite.xml", SuiteXml());
  RunResult c = RunMigstore({"capture", "--root", source_, "--store", Store(),
                             "--no-encrypt", "--user-exclude", "bob", "--rules",
                             dir_ / "suite.xml"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  RunResult l = RunMigstore({"list", "--store", Store()});
  EXPECT_TRUE(Has(l.out, "Apps/Writer/Templates/t.dotx")) << l.out;
  EXPECT_TRUE(Has(l.out, "Old/o.txt")) << l.out;
  EXPECT_FALSE(Has(l.out, "Wrong/Templates/w.dotx")) << l.out;
  EXPECT_FALSE(Has(l.out, "New/n.txt")) << l.out;
}

// The finer points: a child's variable hides its container's of the same
// name; a User environment is not there in the system run; a variable read
// from HKCU cannot be read in the system run, so a condition naming it is
// undecided there (taken as true), not false; a <rules context="System">
// nested in a User one never runs, one nested in a <rules> whose
// conditions are false neither; OS versions compare in four parts.
constexpr char kFinerXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/contosofiner">
  <component type="Application" context="UserAndSystem">
    <displayName>Contoso Outer</displayName>
    <environment><variable name="Dir"><text>C:\Parent</text></variable></environment>
    <role role="Container">
      <component type="Application" context="UserAndSystem">
        <displayName>Contoso Inner</displayName>
        <environment><variable name="Dir"><text>C:\Child</text></variable></environment>
        <role role="Settings">
          <rules><include><objectSet><pattern type="File">%Dir%\* [*]</pattern></objectSet></include></rules>
        </role>
      </component>
    </role>
  </component>
  <component type="Application" context="UserAndSystem">
    <displayName>Contoso Notes</displayName>
    <environment context="User"><variable name="UserOnly"><text>C:\UserOnly</text></variable></environment>
    <environment>
      <variable name="NotesData">
        <script>MigXmlHelper.GetStringContent("Registry","HKCU\Software\Contoso\Notes [DataPath]")</script>
      </variable>
    </environment>
    <role role="Settings">
      <detection><conditions><condition>MigXmlHelper.DoesObjectExist("File","%NotesData% [notes.db]")</condition></conditions></detection>
      <rules context="System"><include><objectSet><pattern type="File">C:\NotesMachine\* [*]</pattern></objectSet></include></rules>
      <rules context="User">
        <include><objectSet><pattern type="File">%UserOnly%\* [*]</pattern></objectSet></include>
        <rules context="System"><include><objectSet><pattern type="File">C:\NeverRuns\* [*]</pattern></objectSet></include></rules>
      </rules>
      <rules>
        <conditions><condition>MigXmlHelper.IsOSLaterThan("NT","6.1.7601.0")</condition></conditions>
        <include><objectSet><pattern type="File">C:\Build\* [*]</pattern></objectSet></include>
      </rules>
      <rules>
        <conditions><condition>MigXmlHelper.IsOSLaterThan("NT","6.1.7602")</condition></conditions>
        <include><objectSet><pattern type="File">C:\Later\* [*]</pattern></objectSet></include>
        <rules><include><objectSet><pattern type="File">C:\LaterNested\* [*]</pattern></objectSet></include></rules>
      </rules>
    </role>
  </component>
</migration>
)";

TEST_F(RegistryCli, ContainersContextsAndUnreadableVariablesAreUsmts) {
  for (const char* f :
       {"Parent/p.txt", "Child/c.txt", "UserOnly/u.txt", "NotesMachine/m.txt",
        "NeverRuns/n.txt", "Build/b.txt", "Later/l.txt", "LaterNested/l.txt",
        "Users/alice/NotesData/notes.db"}) {
    WriteFileBelow(source_, f, "x");
  }
  PutHiveValues(source_ + "/Users/alice/NTUSER.DAT",
                {{"Software\\Contoso\\Notes", "DataPath", 1,
                  RegSz("C:\\Users\\alice\\NotesData")}});
  PutHiveValues(source_ + "/Windows/System32/config/SOFTWARE",
                {{"Microsoft\\Windows NT\\CurrentVersion", "CurrentVersion", 1,
                  RegSz("6.1")},
                 {"Microsoft\\Windows NT\\CurrentVersion", "CurrentBuildNumber",
                  1, RegSz("7601")}});
  WriteFile(dir_ / "finer.xml", kFinerXml);
  RunResult c = RunMigstore({"capture", "--root", source_, "--store", Store(),
                             "--no-encrypt", "--user-exclude", "bob", "--rules",
                             dir_ / "finer.xml"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  RunResult l = RunMigstore({"list", "--store", Store()});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  for (const char* taken :
       {"Child/c.txt", "UserOnly/u.txt", "NotesMachine/m.txt", "Build/b.txt"}) {
    EXPECT_TRUE(Has(l.out, taken)) << taken << "\n" << l.out;
  }
  for (const char* left : {"Parent/p.txt", "NeverRuns/n.txt", "Later/l.txt",
                           "LaterNested/l.txt"}) {
    EXPECT_FALSE(Has(l.out, left)) << left << "\n" << l.out;
  }
}

// <addObjects> as MigApp.xml writes it for Office's settings upgrade: a
// value the source is taken to hold, captured when the rules take it.
constexpr char kAddXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/contosoadd">
  <component type="Application" context="UserAndSystem">
    <displayName>Contoso Upgrade</displayName>
    <environment><variable name="AppKey"><text>HKLM\SOFTWARE\Contoso\Migration</text></variable></environment>
    <role role="Settings">
      <rules context="System">
        <include><objectSet><pattern type="Registry">%AppKey% [*]</pattern></objectSet></include>
        <addObjects>
          <object>
            <location type="Registry">%AppKey% [UpgradeVersion]</location>
            <attributes>DWORD</attributes>
            <bytes>0B000000</bytes>
          </object>
          <object>
            <location type="Registry">%AppKey% [Real]</location>
            <attributes>DWORD</attributes>
            <bytes>01000000</bytes>
          </object>
          <object>
            <location type="Registry">HKLM\SOFTWARE\Contoso\NotTaken [X]</location>
            <attributes>DWORD</attributes>
            <bytes>01000000</bytes>
          </object>
          <object>
            <location type="File">C:\Emulated [file.txt]</location>
            <attributes>Archive</attributes>
          </object>
        </addObjects>
        <addObjects>
          <conditions><condition>MigXmlHelper.DoesObjectExist("Registry","HKLM\SOFTWARE\Contoso\Absent")</condition></conditions>
          <object>
            <location type="Registry">%AppKey% [Gated]</location>
            <attributes>DWORD</attributes>
            <bytes>01000000</bytes>
          </object>
        </addObjects>
      </rules>
      <rules context="User">
        <include><objectSet><pattern type="Registry">HKCU\Software\Contoso\Added [*]</pattern></objectSet></include>
        <addObjects>
          <object>
            <location type="Registry">HKCU\Software\Contoso\Added [Greeting]</location>
            <attributes>String</attributes>
            <bytes string="Yes">hello</bytes>
          </object>
        </addObjects>
      </rules>
    </role>
  </component>
</migration>
)";

TEST_F(RegistryCli, AddObjectsAreCapturedAsIfTheSourceHeldThem) {
  PutHiveValues(source_ + "/Windows/System32/config/SOFTWARE",
                {{"Contoso\\Migration", "Real", 4, RegDword(7)}});
  WriteFile(dir_ / "add.xml", kAddXml);
  RunResult c = RunMigstore({"capture", "--root", source_, "--store", Store(),
                             "--no-encrypt", "--user-exclude", "bob", "--rules",
                             dir_ / "add.xml"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(Has(c.err, "migstore adds registry values only")) << c.err;
  std::map<std::string, std::string> data;
  for (const format::RegistryRecord& r : StoredRecords()) {
    if (r.has_value) data[r.key + " [" + r.name + "]"] = r.data;
  }
  EXPECT_EQ(
      data,
      (std::map<std::string, std::string>{
          // Added; the hive's own value wins over the added one; an
          // added value no rule takes, or whose conditions are false,
          // is not there.
          {"HKLM\\SOFTWARE\\Contoso\\Migration [UpgradeVersion]", RegDword(11)},
          {"HKLM\\SOFTWARE\\Contoso\\Migration [Real]", RegDword(7)},
          {"HKCU\\Software\\Contoso\\Added [Greeting]", RegSz("hello")}}));

  // Restored as any captured value.
  const std::string target = dir_ / "target";
  MakeWindowsRoot(target, {"alice"}, false);
  PutHiveValues(target + "/Windows/System32/config/SOFTWARE",
                {{"Microsoft\\Windows", "Target", 1, RegSz("t")}});
  PutHiveValues(target + "/Users/alice/NTUSER.DAT",
                {{"Software", "", 0, "", true}});
  RunResult r = RunMigstore({"restore", "--store", Store(), "--target", target,
                             "--machine-settings"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  uint32_t type = 0;
  std::string value;
  ASSERT_TRUE(GetHiveValue(target + "/Windows/System32/config/SOFTWARE",
                           "Contoso\\Migration", "UpgradeVersion", &type,
                           &value));
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(value, RegDword(11));
  ASSERT_TRUE(GetHiveValue(target + "/Users/alice/NTUSER.DAT",
                           "Software\\Contoso\\Added", "Greeting", &type,
                           &value));
  EXPECT_EQ(type, 1u);
  EXPECT_EQ(value, RegSz("hello"));
}

TEST_F(RegistryCli, ExplainTellsWhichRuleDecidedAValue) {
  RunResult e = RunMigstore(
      {"explain", "--root", source_, "--rules", dir_ / "app.xml",
       "--user-exclude", "bob",
       "HKCU\\Software\\Microsoft\\Command Processor [DefaultColor]",
       "HKCU\\Software\\Microsoft\\Command Processor [CompletionChar]",
       "HKLM\\SOFTWARE\\Contoso\\Machine [License]", "HKLM\\SOFTWARE\\Other"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  // One explanation per argument (HKCU: per selected user, alice only).
  const std::string& out = e.out;
  size_t color = out.find("[DefaultColor]");
  size_t completion = out.find("[CompletionChar]");
  size_t license = out.find("[License]");
  size_t other = out.find("HKLM\\SOFTWARE\\Other");
  ASSERT_NE(color, std::string::npos) << out;
  ASSERT_NE(completion, std::string::npos) << out;
  ASSERT_NE(license, std::string::npos) << out;
  ASSERT_NE(other, std::string::npos) << out;
  const std::string color_part = out.substr(color, completion - color);
  EXPECT_TRUE(Has(color_part, "not taken")) << color_part;
  EXPECT_TRUE(Has(color_part, "Command Processor [DefaultColor]"))
      << color_part;
  EXPECT_TRUE(Has(color_part, "app.xml:")) << color_part;
  const std::string completion_part =
      out.substr(completion, license - completion);
  EXPECT_TRUE(Has(completion_part, "taken by an include")) << completion_part;
  EXPECT_TRUE(Has(out.substr(license, other - license), "taken by an include"))
      << out;
  EXPECT_TRUE(Has(out.substr(other), "not taken")) << out;
}

// HKCU\Software\Classes is the user's UsrClass.dat (docs/rules.md,
// "Registry"): captured from it, restored into the target profile's.
TEST_F(RegistryCli, UserClassesComeFromUsrClassDat) {
  const std::string classes = "/AppData/Local/Microsoft/Windows/UsrClass.dat";
  PutHiveValues(
      source_ + "/Users/alice" + classes,
      {{".contoso", "", 1, RegSz("Contoso.Doc")},
       {"Contoso.Doc\\shell\\open\\command", "", 1, RegSz("contoso.exe %1")}});
  // A key of that name in NTUSER.DAT is not what Windows shows there.
  PutHiveValues(source_ + "/Users/alice/NTUSER.DAT",
                {{"Software\\Classes\\.stale", "", 1, RegSz("stale")}});
  const std::string xml =
      "<?xml version=\"1.0\"?><migration urlid=\"http://test/classes\">"
      "<component type=\"Application\" context=\"User\"><displayName>C"
      "</displayName><role role=\"Settings\"><rules><include><objectSet>"
      "<pattern type=\"Registry\">HKCU\\Software\\Classes\\* [*]</pattern>"
      "</objectSet></include></rules></role></component></migration>";
  WriteFile(dir_ / "classes.xml", xml);
  RunResult c = RunMigstore({"capture", "--root", source_, "--store", Store(),
                             "--no-encrypt", "--user-exclude", "bob", "--rules",
                             dir_ / "classes.xml"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  std::set<std::string> names = Names(StoredRecords());
  EXPECT_TRUE(names.count("1 HKCU\\Software\\Classes\\.contoso []"))
      << ::testing::PrintToString(names);
  EXPECT_TRUE(names.count(
      "1 HKCU\\Software\\Classes\\Contoso.Doc\\shell\\open\\command []"));
  for (const std::string& n : names) EXPECT_FALSE(Has(n, ".stale")) << n;

  // A target profile without UsrClass.dat: those settings wait, with a
  // note that says what to do; the rest is restored.
  const std::string target = dir_ / "target";
  MakeWindowsRoot(target, {"alice"}, false);
  RunResult none =
      RunMigstore({"restore", "--store", Store(), "--target", target});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_TRUE(Has(none.err + none.out, "first logon")) << none.err;

  PutHiveValues(target + "/Users/alice" + classes,
                {{".txt", "", 1, RegSz("txtfile")}});
  RunResult r =
      RunMigstore({"restore", "--store", Store(), "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  uint32_t type = 0;
  std::string data;
  const std::string hive = target + "/Users/alice" + classes;
  ASSERT_TRUE(GetHiveValue(hive, ".contoso", "", &type, &data));
  EXPECT_EQ(data, RegSz("Contoso.Doc"));
  ASSERT_TRUE(GetHiveValue(hive, "Contoso.Doc\\shell\\open\\command", "", &type,
                           &data));
  ASSERT_TRUE(GetHiveValue(hive, ".txt", "", &type, &data));
  EXPECT_EQ(data, RegSz("txtfile"));
  EXPECT_FALSE(HiveHasKey(target + "/Users/alice/NTUSER.DAT",
                          "Software\\Classes\\.contoso"));
}

TEST_F(RegistryCli, AHiveReachedThroughASymlinkIsNotWritten) {
  ASSERT_EQ(Capture({"--user-exclude", "bob"}).exit_code, 0);
  const std::string target = dir_ / "target";
  MakeWindowsRoot(target, {});
  const std::string outside = dir_ / "outside";
  PutHiveValues(outside + "/NTUSER.DAT", {});
  PutHiveValues(target + "/Windows/System32/config/SOFTWARE", {});
  PutHiveValues(target + "/Windows/System32/config/SYSTEM", {});
  // Windows/System32/config swapped for a link out of the target.
  std::filesystem::remove_all(target + "/Windows/System32/config");
  std::filesystem::create_directory_symlink(
      outside, target + "/Windows/System32/config");
  PutHiveValues(outside + "/SOFTWARE", {});
  const std::string before = ReadFile(outside + "/SOFTWARE");
  RunResult r = RunMigstore({"restore", "--store", Store(), "--target", target,
                             "--continue-on-error", "--machine-settings"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(ReadFile(outside + "/SOFTWARE"), before);
  EXPECT_TRUE(Has(r.err, "not restored")) << r.err;
}

}  // namespace
}  // namespace migstore::testing
