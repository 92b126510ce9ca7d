// The rule elements that act around the copy itself (issue 20, item 4;
// docs/rules.md "Filters", "Restore-time rules", "Processing"), end to end
// through the CLI on an offline Windows root with real hives: the
// FileProperties filter choosing files at capture, NeverRestore() leaving
// them out at restore, <destinationCleanup> of target files and registry
// values, <merge> and <contentModify> of registry values, and the
// <externalProcess> steps that run only when allowed.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/util/hive_fixture.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string Migration(const std::string& rules) {
  return OneComponentMigration(rules, "http://test/elements");
}

// A file rule for the system context (the rules' context attribute).
std::string SystemRules(const std::string& body) {
  return "<rules context=\"System\">\n" + body + "</rules>\n";
}
std::string UserRules(const std::string& body) {
  return "<rules context=\"User\">\n" + body + "</rules>\n";
}
std::string Element(const std::string& name, const std::string& attrs,
                    const std::string& type, const std::string& pattern) {
  return "<" + name + attrs + "><objectSet><pattern type=\"" + type + "\">" +
         pattern + "</pattern></objectSet></" + name + ">\n";
}

class RestoreRulesCli : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = dir_ / "source";
    target_ = dir_ / "target";
    MakeRoot(source_);
    MakeRoot(target_);
  }

  static void MakeRoot(const std::string& root) {
    std::filesystem::create_directories(root + "/Windows/System32/config");
    std::filesystem::create_directories(root + "/Users/alice/Documents");
    PutHiveValues(root + "/Windows/System32/config/SOFTWARE",
                  {{"Microsoft", "", 0, "", true}});
  }

  std::string Rules(const std::string& xml) {
    WriteFile(dir_ / "rules.xml", xml);
    return dir_ / "rules.xml";
  }

  RunResult Capture(const std::string& rules,
                    std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"capture",     "--root",  source_,
                                     "--store",     Store(),   "--no-encrypt",
                                     "--overwrite", "--rules", rules};
    args.insert(args.end(), more.begin(), more.end());
    return RunMigstore(args);
  }
  RunResult Restore(const std::string& rules,
                    std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"restore", "--store", Store(), "--target",
                                     target_,   "--rules", rules};
    args.insert(args.end(), more.begin(), more.end());
    return RunMigstore(args);
  }
  std::string Listing() {
    RunResult l = RunMigstore({"list", "--store", Store()});
    EXPECT_EQ(l.exit_code, 0) << l.err;
    return l.out;
  }
  std::string Store() const { return dir_ / "s.mig"; }

  TempDir dir_;
  std::string source_, target_;
};

TEST_F(RestoreRulesCli, FilePropertiesChoosesFilesBySizeAndDate) {
  WriteFileBelow(source_, "Data/small.txt", "tiny");
  WriteFileBelow(source_, "Data/big.bin", std::string(4096, 'b'));
  WriteFileBelow(source_, "Notes/old.txt", "old");
  WriteFileBelow(source_, "Notes/new.txt", "new");
  WriteFileBelow(source_, "Other/any.bin", std::string(4096, 'o'));
  // old.txt was last written on 2008-05-15 at noon UTC.
  struct timespec times[2] = {{1210852800, 0}, {1210852800, 0}};
  ASSERT_EQ(
      ::utimensat(AT_FDCWD, (source_ + "/Notes/old.txt").c_str(), times, 0), 0);
  const std::string rules = Rules(Migration(SystemRules(
      Element("include",
              " filter='MigXmlHelper.FileProperties(\"filesize\", \"lt\", "
              "\"1KB\")'",
              "File", "C:\\Data\\* [*]") +
      Element("include",
              " filter='MigXmlHelper.FileProperties(\"dateModified\", "
              "\"range\", \"2008/05/01-2008/05/31\")'",
              "File", "C:\\* [*.txt]") +
      Element("include", "", "File", "C:\\Other\\* [*]"))));
  RunResult c = Capture(rules);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_FALSE(Has(c.err, "not applied")) << c.err;
  const std::string list = Listing();
  EXPECT_TRUE(Has(list, "Data/small.txt")) << list;
  // Taken by the date filter alone; the file written today is not.
  EXPECT_TRUE(Has(list, "Notes/old.txt")) << list;
  EXPECT_FALSE(Has(list, "Notes/new.txt")) << list;
  EXPECT_FALSE(Has(list, "Data/big.bin")) << list;
  // An include without a filter takes whatever the size.
  EXPECT_TRUE(Has(list, "Other/any.bin")) << list;

  // A filter migstore cannot read is a warning with its line, and the rule
  // takes every file it matches.
  const std::string bad = Rules(Migration(SystemRules(Element(
      "include",
      " filter='MigXmlHelper.FileProperties(\"filesize\", \"about\", \"1\")'",
      "File", "C:\\Data\\* [*]"))));
  c = Capture(bad);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(Has(c.err, "unknown operator 'about'")) << c.err;
  EXPECT_TRUE(Has(Listing(), "Data/big.bin"));
}

TEST_F(RestoreRulesCli, NeverRestoreIsStoredButNotRestored) {
  WriteFileBelow(source_, "Keep/archive.txt", "archive");
  WriteFileBelow(source_, "Keep/Wanted/w.txt", "wanted");
  WriteFileBelow(source_, "Data/d.txt", "data");
  const std::string rules = Rules(Migration(
      SystemRules(Element("include", " filter='MigXmlHelper.NeverRestore()'",
                          "File", "C:\\Keep\\* [*]") +
                  Element("include", "", "File", "C:\\Keep\\Wanted\\* [*]") +
                  Element("include", "", "File", "C:\\Data\\* [*]"))));
  RunResult c = Capture(rules);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(Has(Listing(), "Keep/archive.txt"));

  RunResult dry = Restore(rules, {"--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(Has(dry.out + dry.err, "NeverRestore")) << dry.out << dry.err;

  RunResult r = Restore(rules);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Exists(target_ + "/Keep/archive.txt"));
  EXPECT_EQ(ReadFile(target_ + "/Keep/Wanted/w.txt"), "wanted");
  EXPECT_EQ(ReadFile(target_ + "/Data/d.txt"), "data");

  // Restored without the rules, the store gives back everything it holds.
  std::filesystem::remove_all(target_);
  MakeRoot(target_);
  RunResult all =
      RunMigstore({"restore", "--store", Store(), "--target", target_});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(ReadFile(target_ + "/Keep/archive.txt"), "archive");
}

TEST_F(RestoreRulesCli, DestinationCleanupDeletesTargetFilesFirst) {
  WriteFileBelow(source_, "Data/report.txt", "new report");
  WriteFileBelow(target_, "Data/report.txt", "old report");
  WriteFileBelow(target_, "Data/stale.tmp", "stale");
  WriteFileBelow(target_, "Data/Sub/deep.tmp", "stale too");
  WriteFileBelow(target_, "Data/keep.doc", "kept");
  WriteFileBelow(target_, "Other/x.tmp", "not named");
  // A symlink out of the target, which the walk must not follow.
  WriteFileBelow(dir_.path(), "outside/victim.tmp", "outside");
  std::filesystem::create_directory_symlink(dir_ / "outside",
                                            target_ + "/Data/link");
  const std::string rules = Rules(Migration(SystemRules(
      Element("include", "", "File", "C:\\Data\\* [*]") +
      Element("destinationCleanup", "", "File", "C:\\Data\\* [*.tmp]") +
      Element("destinationCleanup", "", "File", "C:\\Data\\ [report.txt]"))));
  ASSERT_EQ(Capture(rules).exit_code, 0);

  RunResult dry = Restore(rules, {"--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(
      Has(dry.err + dry.out, "would be deleted by <destinationCleanup>"))
      << dry.err << dry.out;
  EXPECT_TRUE(Exists(target_ + "/Data/stale.tmp"));

  RunResult r = Restore(rules);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Exists(target_ + "/Data/stale.tmp"));
  EXPECT_FALSE(Exists(target_ + "/Data/Sub/deep.tmp"));
  EXPECT_TRUE(Exists(target_ + "/Data/Sub"));  // folders stay
  EXPECT_EQ(ReadFile(target_ + "/Data/keep.doc"), "kept");
  EXPECT_EQ(ReadFile(target_ + "/Other/x.tmp"), "not named");
  EXPECT_EQ(ReadFile(dir_ / "outside/victim.tmp"), "outside");
  // The cleaned report is replaced, not renamed beside the old one.
  EXPECT_EQ(ReadFile(target_ + "/Data/report.txt"), "new report");
  EXPECT_FALSE(Exists(target_ + "/Data/report (1).txt"));

  // The store being restored is never cleaned, even where a pattern names
  // it inside the target.
  std::filesystem::copy_file(Store(), target_ + "/Data/store.tmp");
  RunResult again =
      RunMigstore({"restore", "--store", target_ + "/Data/store.tmp",
                   "--target", target_, "--rules", rules});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(Exists(target_ + "/Data/store.tmp"));
}

TEST_F(RestoreRulesCli, RegistryMergeContentModifyAndCleanup) {
  const std::string hkcu = "Software\\Contoso";
  PutHiveValues(source_ + "/Users/alice/NTUSER.DAT",
                {{hkcu, "Count", 1, RegSz("42")},
                 {hkcu, "Kept", 1, RegSz("source")},
                 {hkcu, "Mode", 4, RegDword(2)},
                 {hkcu, "Paths", 7, std::string("a\0\0\0b\0\0\0\0\0", 10)},
                 {hkcu, "Bad", 1, RegSz("not a number")},
                 {hkcu, "Text", 1, RegSz("words")}});
  PutHiveValues(target_ + "/Users/alice/NTUSER.DAT",
                {{hkcu, "Kept", 1, RegSz("target")},
                 {hkcu, "Paths", 7, std::string("c\0\0\0a\0\0\0\0\0", 10)},
                 {hkcu, "Stale", 1, RegSz("old")},
                 {hkcu + "\\Old", "Junk", 1, RegSz("junk")},
                 {"Software\\Other", "Stays", 1, RegSz("yes")}});
  const std::string reg = "Registry";
  const std::string rules = Rules(Migration(UserRules(
      Element("include", "", reg, "HKCU\\Software\\Contoso\\* [*]") +
      Element("merge", " script=\"MigXmlHelper.DestinationPriority()\"", reg,
              "HKCU\\Software\\Contoso [Kept]") +
      Element("contentModify", " script=\"MigXmlHelper.ConvertToDWORD('7')\"",
              reg, "HKCU\\Software\\Contoso [Count]") +
      Element("contentModify", " script=\"MigXmlHelper.ConvertToDWORD()\"", reg,
              "HKCU\\Software\\Contoso [Bad]") +
      Element("contentModify", " script=\"MigXmlHelper.OffsetValue('1')\"", reg,
              "HKCU\\Software\\Contoso [Text]") +
      Element("contentModify",
              " script=\"MigXmlHelper.SetValueByTable('1,2','10,20','99')\"",
              reg, "HKCU\\Software\\Contoso [Mode]") +
      Element("contentModify",
              " script=\"MigXmlHelper.MergeMultiSzContent('Add','d','Remove','"
              "c')\"",
              reg, "HKCU\\Software\\Contoso [Paths]") +
      Element("destinationCleanup", "", reg,
              "HKCU\\Software\\Contoso [Stale]") +
      Element("destinationCleanup", "", reg,
              "HKCU\\Software\\Contoso\\Old\\* [*]"))));
  RunResult c = Capture(rules);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  RunResult r = Restore(rules);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string hive = target_ + "/Users/alice/NTUSER.DAT";
  uint32_t type = 0;
  std::string data;
  ASSERT_TRUE(GetHiveValue(hive, hkcu, "Count", &type, &data));
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(data, RegDword(42));
  // DestinationPriority(): the target's value stays.
  ASSERT_TRUE(GetHiveValue(hive, hkcu, "Kept", &type, &data));
  EXPECT_EQ(data, RegSz("target"));
  ASSERT_TRUE(GetHiveValue(hive, hkcu, "Mode", &type, &data));
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(data, RegDword(20));
  // The target's list, then the source's new strings, then the instructions.
  ASSERT_TRUE(GetHiveValue(hive, hkcu, "Paths", &type, &data));
  EXPECT_EQ(data, std::string("a\0\0\0b\0\0\0d\0\0\0\0\0", 14));
  // No number and no default: 0, as USMT writes.
  ASSERT_TRUE(GetHiveValue(hive, hkcu, "Bad", &type, &data));
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(data, RegDword(0));
  // A helper that cannot apply: the captured value as it was, with a note.
  ASSERT_TRUE(GetHiveValue(hive, hkcu, "Text", &type, &data));
  EXPECT_EQ(data, RegSz("words"));
  EXPECT_TRUE(Has(r.err + r.out, "contentModify not applied")) << r.err;
  // Cleaned before the apply: the value, and the key its pattern emptied.
  EXPECT_FALSE(GetHiveValue(hive, hkcu, "Stale", &type, &data));
  EXPECT_FALSE(HiveHasKey(hive, hkcu + "\\Old"));
  ASSERT_TRUE(GetHiveValue(hive, "Software\\Other", "Stays", &type, &data));
  EXPECT_TRUE(Has(r.err + r.out, "destinationCleanup deleted 2 values"))
      << r.err << r.out;
}

TEST_F(RestoreRulesCli, ExternalProcessRunsOnlyWhenAllowed) {
  WriteFileBelow(source_, "Data/d.txt", "d");
  const std::string log = dir_ / "steps.log";
  auto step = [&](const std::string& when) {
    return "<externalProcess when=\"" + when +
           "\"><commandLine>echo \"$MIGSTORE_PHASE $(pwd)\" &gt;&gt; " + log +
           "</commandLine></externalProcess>\n";
  };
  const std::string rules = Rules(Migration(SystemRules(
      Element("include", "", "File", "C:\\Data\\* [*]") + step("pre-scan") +
      step("scan-success") + step("post-scan") + step("pre-apply") +
      step("apply-success") + step("post-apply") +
      "<processing when=\"post-apply\"><script>MigXmlHelper.KillExplorer()"
      "</script></processing>\n")));
  RunResult c = Capture(rules);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_FALSE(Exists(log));
  EXPECT_TRUE(Has(c.err, "--allow-processing")) << c.err;

  c = Capture(rules, {"--allow-processing"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  RunResult r = Restore(rules, {"--allow-processing"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.err + r.out, "KillExplorer")) << r.err;
  const std::string root = std::filesystem::canonical(source_).string();
  const std::string target = std::filesystem::canonical(target_).string();
  EXPECT_EQ(ReadFile(log), "pre-scan " + root + "\nscan-success " + root +
                               "\npost-scan " + root + "\npre-apply " + target +
                               "\napply-success " + target + "\npost-apply " +
                               target + "\n");

  // A command that fails stops the run (61), or is skipped with
  // --continue-on-error (3).
  const std::string failing = Rules(Migration(
      SystemRules(Element("include", "", "File", "C:\\Data\\* [*]") +
                  "<externalProcess when=\"pre-scan\"><commandLine>exit 4"
                  "</commandLine></externalProcess>\n")));
  c = Capture(failing, {"--allow-processing"});
  EXPECT_EQ(c.exit_code, 61) << c.err;
  EXPECT_TRUE(Has(c.err, "exited with 4")) << c.err;
  c = Capture(failing, {"--allow-processing", "--continue-on-error"});
  EXPECT_EQ(c.exit_code, 3) << c.err;

  // scan-success runs once the store is in place; a step after it that
  // fails cannot undo the capture: the store stays, exit 3.
  std::filesystem::remove(Store());
  const std::string after = Rules(Migration(SystemRules(
      Element("include", "", "File", "C:\\Data\\* [*]") +
      "<externalProcess when=\"scan-success\"><commandLine>test -f " + Store() +
      "</commandLine></externalProcess>\n"
      "<externalProcess when=\"post-scan\"><commandLine>exit 5"
      "</commandLine></externalProcess>\n")));
  c = Capture(after, {"--allow-processing"});
  EXPECT_EQ(c.exit_code, 3) << c.err;
  EXPECT_TRUE(Has(c.err, "exited with 5")) << c.err;
  EXPECT_FALSE(Has(c.err, "exited with 1")) << c.err;  // test -f held
  EXPECT_TRUE(Exists(Store()));

  // A failed pre-scan still runs post-scan, and writes no store.
  std::filesystem::remove(Store());
  std::filesystem::remove(log);
  const std::string pre = Rules(Migration(
      SystemRules(Element("include", "", "File", "C:\\Data\\* [*]") +
                  "<externalProcess when=\"pre-scan\"><commandLine>exit 4"
                  "</commandLine></externalProcess>\n" +
                  step("post-scan"))));
  c = Capture(pre, {"--allow-processing"});
  EXPECT_EQ(c.exit_code, 61) << c.err;
  EXPECT_FALSE(Exists(Store()));
  EXPECT_EQ(ReadFile(log), "post-scan " + root + "\n");
}

}  // namespace
}  // namespace migstore::testing
