// Include filters (docs/rules.md, "Filters"): FileProperties read and
// applied when the capture chooses files, NeverRestore kept for restore.

#include "engine/src/rules/rule_filter.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

using internal::ParseRuleFilter;
using internal::RuleFilter;

constexpr int64_t kNs = 1000000000;

RuleFilter Parse(const std::string& script) {
  auto f = ParseRuleFilter(script);
  EXPECT_TRUE(f.ok()) << script << ": " << f.status().ToString();
  return f.ok() ? *f : RuleFilter{};
}

FileFacts Sized(uint64_t size) {
  FileFacts f;
  f.size = size;
  return f;
}

// Local midnight of a day, in ns.
int64_t LocalDay(int y, int m, int d) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&tm)) * kNs;
}

TEST(RuleFilter, SizesInPowersOf1024) {
  RuleFilter gt =
      Parse(R"(MigXmlHelper.FileProperties("filesize", "gt", "5GB"))");
  EXPECT_EQ(gt.kind, RuleFilter::Kind::kFileProperties);
  EXPECT_FALSE(gt.Holds(Sized(5ull << 30)));
  EXPECT_TRUE(gt.Holds(Sized((5ull << 30) + 1)));
  RuleFilter range =
      Parse(R"(MigXmlHelper.FileProperties("FileSize", "range", "1KB-1MB"))");
  EXPECT_FALSE(range.Holds(Sized(1023)));
  EXPECT_TRUE(range.Holds(Sized(1024)));
  EXPECT_TRUE(range.Holds(Sized(1 << 20)));
  EXPECT_FALSE(range.Holds(Sized((1 << 20) + 1)));
  RuleFilter eq = Parse(R"(FileProperties("filesize", "eq", "1.5 KB"))");
  EXPECT_TRUE(eq.Holds(Sized(1536)));
  EXPECT_FALSE(eq.Holds(Sized(1535)));
  RuleFilter neq = Parse(R"(FileProperties("filesize", "neq", "0"))");
  EXPECT_FALSE(neq.Holds(Sized(0)));
  EXPECT_TRUE(neq.Holds(Sized(1)));
  RuleFilter lte = Parse(R"(FileProperties("filesize", "lte", "100B"))");
  EXPECT_TRUE(lte.Holds(Sized(100)));
  EXPECT_FALSE(lte.Holds(Sized(101)));
  RuleFilter lt = Parse(R"(FileProperties("filesize", "lt", "100"))");
  EXPECT_FALSE(lt.Holds(Sized(100)));
  RuleFilter gte = Parse(R"(FileProperties("filesize", "gte", "100"))");
  EXPECT_TRUE(gte.Holds(Sized(100)));
  EXPECT_FALSE(gte.Holds(Sized(99)));
}

// Sets TZ for one test and puts back what was there.
class LocalZone {
 public:
  explicit LocalZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", zone, 1);
    ::tzset();
  }
  ~LocalZone() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

TEST(RuleFilter, DatesAreWholeLocalDays) {
  if (::access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0)
    GTEST_SKIP() << "no tzdata for Europe/Berlin on this machine";
  LocalZone berlin("Europe/Berlin");
  const int64_t may15 = LocalDay(2008, 5, 15);
  const int64_t may16 = LocalDay(2008, 5, 16);
  const int64_t may18 = LocalDay(2008, 5, 18);
  FileFacts f;
  RuleFilter eq =
      Parse(R"(FileProperties("dateModified", "eq", "2008/05/15"))");
  f.modified_ns = may15;
  EXPECT_TRUE(eq.Holds(f));
  f.modified_ns = may16 - 1;
  EXPECT_TRUE(eq.Holds(f));
  f.modified_ns = may16;
  EXPECT_FALSE(eq.Holds(f));
  f.modified_ns = may15 - 1;
  EXPECT_FALSE(eq.Holds(f));
  RuleFilter range = Parse(
      R"(FileProperties("dateCreated", "range", "2008/05/15-2008/05/17"))");
  f.created_ns = may15;
  EXPECT_TRUE(range.Holds(f));
  f.created_ns = may18 - 1;
  EXPECT_TRUE(range.Holds(f));
  f.created_ns = may18;
  EXPECT_FALSE(range.Holds(f));
  RuleFilter dashed = Parse(
      R"(FileProperties("dateAccessed", "range", "2008-05-15-2008-05-17"))");
  EXPECT_EQ(dashed.low, range.low);
  EXPECT_EQ(dashed.high, range.high);
  RuleFilter before =
      Parse(R"(FileProperties("dateModified", "lt", "2008/05/16"))");
  f.modified_ns = may16 - 1;
  EXPECT_TRUE(before.Holds(f));
  f.modified_ns = may16;
  EXPECT_FALSE(before.Holds(f));
  RuleFilter after =
      Parse(R"(FileProperties("dateModified", "gt", "2008/05/15"))");
  f.modified_ns = may16 - 1;
  EXPECT_FALSE(after.Holds(f));
  f.modified_ns = may16;
  EXPECT_TRUE(after.Holds(f));
  RuleFilter at_time =
      Parse(R"(FileProperties("dateModified", "gte", "2008/05/15 12:30"))");
  f.modified_ns = may15 + (12 * 3600 + 30 * 60) * kNs;
  EXPECT_TRUE(at_time.Holds(f));
  f.modified_ns -= 1;
  EXPECT_FALSE(at_time.Holds(f));
  // Berlin's days of 23 and 25 hours (summer time begins, ends).
  RuleFilter short_day =
      Parse(R"(FileProperties("dateModified", "eq", "2008/03/30"))");
  f.modified_ns = LocalDay(2008, 3, 30) + (22 * 3600 + 59 * 60) * kNs;
  EXPECT_TRUE(short_day.Holds(f));
  f.modified_ns = LocalDay(2008, 3, 31);
  EXPECT_FALSE(short_day.Holds(f));
  EXPECT_EQ(LocalDay(2008, 3, 31) - LocalDay(2008, 3, 30), 23 * 3600 * kNs);
  RuleFilter long_day =
      Parse(R"(FileProperties("dateModified", "eq", "2008/10/26"))");
  f.modified_ns = LocalDay(2008, 10, 26) + (24 * 3600 + 59 * 60) * kNs;
  EXPECT_TRUE(long_day.Holds(f));
  f.modified_ns = LocalDay(2008, 10, 27);
  EXPECT_FALSE(long_day.Holds(f));
  // Dates past what 64-bit nanoseconds hold mean "ever" and "never".
  RuleFilter ever =
      Parse(R"(FileProperties("dateModified", "lte", "9999/12/31"))");
  RuleFilter early =
      Parse(R"(FileProperties("dateModified", "gte", "1601/01/01"))");
  f.modified_ns = LocalDay(2026, 12, 6);
  EXPECT_TRUE(ever.Holds(f));
  EXPECT_TRUE(early.Holds(f));
}

TEST(RuleFilter, OthersAndMistakes) {
  EXPECT_EQ(Parse("MigXmlHelper.NeverRestore()").kind,
            RuleFilter::Kind::kNeverRestore);
  EXPECT_EQ(Parse("MigXmlHelper.IgnoreIrrelevantLinks()").kind,
            RuleFilter::Kind::kIgnoreIrrelevantLinks);
  for (const char* bad : {
           "MigXmlHelper.AnswerNo()",
           "NeverRestore(\"x\")",
           "FileProperties(\"filesize\", \"gt\")",
           "FileProperties(\"color\", \"gt\", \"1\")",
           "FileProperties(\"filesize\", \"about\", \"1\")",
           "FileProperties(\"filesize\", \"gt\", \"5XB\")",
           "FileProperties(\"filesize\", \"gt\", \"1KB-1MB\")",
           "FileProperties(\"filesize\", \"range\", \"1MB-1KB\")",
           "FileProperties(\"filesize\", \"range\", \"1MB\")",
           "FileProperties(\"filesize\", \"gt\", \"1.2345KB\")",
           "FileProperties(\"filesize\", \"gt\", \"99999999999TB\")",
           "FileProperties(\"dateModified\", \"eq\", \"2008/13/01\")",
           "FileProperties(\"dateModified\", \"eq\", \"2008/02/30\")",
           "FileProperties(\"dateModified\", \"eq\", \"15.05.2008\")",
           "FileProperties(\"dateModified\", \"eq\", \"2008/05/15 25:00\")",
           "not a call",
       }) {
    auto f = ParseRuleFilter(bad);
    EXPECT_FALSE(f.ok()) << bad;
    if (!f.ok()) {
      EXPECT_TRUE(f.status().IsInvalidArgument()) << bad;
    }
  }
}

class FilteredRules : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeWindowsRoot(dir_.path(), {"alice"},
                    {"Data/big.iso", "Data/small.txt", "Data/Sub/s.txt",
                     "Keep/k.txt", "Keep/Sub/deep.txt"});
    machine_ = Discover(dir_.path());
  }
  Matcher System(const std::string& rules) {
    return CompileTexts(machine_, {{"f.xml", UsmtFile(rules)}});
  }
  TempDir dir_;
  Machine machine_;
};

std::string Filtered(const std::string& filter, const std::string& pattern) {
  return "<include filter='" + filter + "'><objectSet><pattern type=\"File\">" +
         pattern + "</pattern></objectSet></include>";
}

TEST_F(FilteredRules, FilePropertiesTakesOnlyFilesThatPass) {
  Matcher m =
      System(Filtered(R"(MigXmlHelper.FileProperties("filesize", "lt", "1MB"))",
                      R"(C:\Data\* [*])"));
  Decision d = m.Decide("Data/small.txt", EntryKind::kFile);
  EXPECT_FALSE(d.taken);
  EXPECT_TRUE(d.needs_facts);
  FileFacts small = Sized(10), big = Sized(2u << 20);
  EXPECT_TRUE(m.Decide("Data/small.txt", EntryKind::kFile, &small).taken);
  EXPECT_FALSE(m.Decide("Data/big.iso", EntryKind::kFile, &big).taken);
  // A file no filtered include matches needs nothing.
  EXPECT_FALSE(m.Decide("Keep/k.txt", EntryKind::kFile).needs_facts);
  // The walk still goes down, and a filter never takes a folder.
  EXPECT_TRUE(m.MayTakeBelow("Data"));
  EXPECT_FALSE(m.Decide("Data/Sub", EntryKind::kDirectory).taken);
}

TEST_F(FilteredRules, AnUnfilteredIncludeTakesWithoutAsking) {
  // Components do not affect each other: another component's plain include
  // takes the file whatever its size.
  std::string xml = UsmtMigration(
      UsmtComponent("Small",
                    Filtered(R"(FileProperties("filesize", "lt", "1KB"))",
                             R"(C:\Data\* [*])")) +
      UsmtComponent("All text", Inc(R"(C:\Data\* [*.txt])")));
  Matcher m = CompileTexts(machine_, {{"f.xml", xml}});
  Decision d = m.Decide("Data/small.txt", EntryKind::kFile);
  EXPECT_TRUE(d.taken);
  EXPECT_FALSE(d.needs_facts);
  EXPECT_TRUE(m.Decide("Data/big.iso", EntryKind::kFile).needs_facts);
  // Within one component an exclude that beats the filtered include wins
  // before any property is read.
  Matcher ex = System(Filtered(R"(FileProperties("filesize", "lt", "1KB"))",
                               R"(C:\Data\* [*])") +
                      Exc(R"(C:\Data\* [*.iso])"));
  Decision iso = ex.Decide("Data/big.iso", EntryKind::kFile);
  EXPECT_FALSE(iso.taken);
  EXPECT_FALSE(iso.needs_facts);
}

TEST_F(FilteredRules, NeverRestoreLeavesOutWhatOnlyItTook) {
  std::string xml = UsmtMigration(
      UsmtComponent("Kept only", Filtered("MigXmlHelper.NeverRestore()",
                                          R"(C:\Keep\* [*])")) +
      UsmtComponent("Deep", Inc(R"(C:\Keep\Sub\* [*])")));
  Matcher m = CompileTexts(machine_, {{"f.xml", xml}});
  ASSERT_TRUE(m.has_never_restore());
  // Captured: NeverRestore is a restore-time filter.
  EXPECT_TRUE(TakesFile(m, "Keep/k.txt"));
  EXPECT_TRUE(m.NeverRestored("Keep/k.txt", EntryKind::kFile));
  // Another component's include restores it.
  EXPECT_FALSE(m.NeverRestored("Keep/Sub/deep.txt", EntryKind::kFile));
  EXPECT_FALSE(m.NeverRestored("Data/small.txt", EntryKind::kFile));
  Matcher plain = System(Inc(R"(C:\Keep\* [*])"));
  EXPECT_FALSE(plain.has_never_restore());
  EXPECT_FALSE(plain.NeverRestored("Keep/k.txt", EntryKind::kFile));
}

TEST_F(FilteredRules, FiltersOnExcludesAndRegistryAreWarnedAbout) {
  Matcher m = System(
      "<exclude filter='MigXmlHelper.FileProperties(\"filesize\", \"gt\", "
      "\"1\")'><objectSet><pattern "
      "type=\"File\">C:\\Data\\* [*.iso]</pattern></objectSet></exclude>" +
      Inc(R"(C:\Data\* [*])"));
  ASSERT_FALSE(m.diagnostics().empty());
  EXPECT_NE(m.diagnostics()[0].message.find("FileProperties filters includes"),
            std::string::npos)
      << m.diagnostics()[0].ToString();
  // The exclude applies, unfiltered.
  EXPECT_FALSE(TakesFile(m, "Data/big.iso"));
  // Microsoft's files put IgnoreIrrelevantLinks() and the like on excludes:
  // no word about those.
  Matcher quiet = System(
      "<exclude filter='MigXmlHelper.NeverRestore()'><objectSet><pattern "
      "type=\"File\">C:\\Data\\* [*.iso]</pattern></objectSet></exclude>" +
      Inc(R"(C:\Data\* [*])"));
  EXPECT_TRUE(quiet.diagnostics().empty());
  EXPECT_FALSE(quiet.has_never_restore());
  Matcher reg = System(
      "<include filter='MigXmlHelper.FileProperties(\"filesize\", \"gt\", "
      "\"1\")'><objectSet><pattern type=\"Registry\">HKLM\\SOFTWARE\\X "
      "[*]</pattern></objectSet></include>");
  ASSERT_FALSE(reg.diagnostics().empty());
  EXPECT_NE(reg.diagnostics()[0].message.find("not applied to registry"),
            std::string::npos)
      << reg.diagnostics()[0].ToString();
}

}  // namespace
}  // namespace migstore::testing
