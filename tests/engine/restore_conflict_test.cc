// What restore does where the target already holds something: the four
// conflict policies (with USMT's "name (1).ext" numbering), USMT <merge>
// rules with the worked example of usmt.md §2 as a table, <locationModify>
// (Move, RelativeMove, ExactMove), entries of the store meeting each other,
// and the dry run.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "format/memory_store.h"
#include "migstore/restore.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore {
namespace {

using format::MemoryFile;
using format::MemoryStore;
using testing::MakeDir;
using testing::MakeFile;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr int64_t kStoreTime = 1700000000123456789;  // MakeFile's mtime

bool Exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

int64_t MtimeNs(const std::string& p) {
  struct stat st;
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

void Put(const std::string& path, const std::string& data, int64_t mtime_ns) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  WriteFile(path, data);
  struct timespec t[2] = {{mtime_ns / 1000000000, mtime_ns % 1000000000},
                          {mtime_ns / 1000000000, mtime_ns % 1000000000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, 0), 0);
}

std::string WriteStore(const TempDir& dir, const MemoryStore& store,
                       const std::string& name = "s.mig") {
  std::string path = dir / name;
  EXPECT_OK(format::WriteMemoryStore(path, format::KeySource::None(), store,
                                     testing::QuickOptions()));
  return path;
}

RestoreOptions Options(const std::string& store, const std::string& target,
                       ConflictPolicy policy = ConflictPolicy::kRename) {
  RestoreOptions o;
  o.store_path = store;
  o.target = target;
  o.on_conflict = policy;
  o.threads = 2;
  return o;
}

// Store: docs/report.docx, docs/notes, docs/.hidden. Target: each of them
// already there with other bytes, and "report (1).docx" taken too.
class Conflicts : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryStore s;
    s.files = {MakeDir(0, "docs"),
               MakeFile(0, "docs/report.docx", "from the store"),
               MakeFile(0, "docs/notes", "store notes"),
               MakeFile(0, "docs/.hidden", "store dot")};
    store_ = WriteStore(dir_, s);
    t_ = dir_ / "t";
    Put(t_ + "/docs/report.docx", "already here", older_);
    Put(t_ + "/docs/report (1).docx", "an earlier copy", older_);
    Put(t_ + "/docs/notes", "target notes", newer_);
    Put(t_ + "/docs/.hidden", "target dot", older_);
  }

  const int64_t older_ = kStoreTime - 1000;
  const int64_t newer_ = kStoreTime + 1000;
  TempDir dir_;
  std::string store_, t_;
};

// Keeps what a restore plans, entry by entry.
struct PlanRecorder : RestoreObserver {
  std::vector<PlannedEntry> entries;
  void OnPlanned(const PlannedEntry& e) override { entries.push_back(e); }
};

TEST_F(Conflicts, RenameNumbersLikeUsmtAndRecognisesItsOwnEarlierCopies) {
  auto r = Restore(Options(store_, t_));
  ASSERT_OK(r);
  EXPECT_EQ(r->renamed, 3u);
  // The first free number, with a space before the parenthesis, the
  // extension kept; no extension: the number at the end; a dot file has none.
  EXPECT_EQ(ReadFile(t_ + "/docs/report (2).docx"), "from the store");
  EXPECT_EQ(ReadFile(t_ + "/docs/notes (1)"), "store notes");
  EXPECT_EQ(ReadFile(t_ + "/docs/.hidden (1)"), "store dot");
  // What was there is untouched.
  EXPECT_EQ(ReadFile(t_ + "/docs/report.docx"), "already here");
  EXPECT_EQ(ReadFile(t_ + "/docs/report (1).docx"), "an earlier copy");
  EXPECT_EQ(MtimeNs(t_ + "/docs/report (2).docx"), kStoreTime);
  // Again: the renamed copies are found, not copied a third time.
  auto again = Restore(Options(store_, t_));
  ASSERT_OK(again);
  EXPECT_EQ(again->identical, 3u);
  EXPECT_EQ(again->renamed, 0u);
  EXPECT_FALSE(Exists(t_ + "/docs/report (3).docx"));
}

TEST_F(Conflicts, OverwriteReplaces) {
  auto r = Restore(Options(store_, t_, ConflictPolicy::kOverwrite));
  ASSERT_OK(r);
  EXPECT_EQ(r->overwritten, 3u);
  EXPECT_EQ(ReadFile(t_ + "/docs/report.docx"), "from the store");
  EXPECT_EQ(ReadFile(t_ + "/docs/notes"), "store notes");
  EXPECT_EQ(MtimeNs(t_ + "/docs/notes"), kStoreTime);
  EXPECT_EQ(ReadFile(t_ + "/docs/report (1).docx"), "an earlier copy");
  EXPECT_FALSE(Exists(t_ + "/docs/notes (1)"));
}

TEST_F(Conflicts, SkipKeepsWhatIsThere) {
  auto r = Restore(Options(store_, t_, ConflictPolicy::kSkip));
  ASSERT_OK(r);
  EXPECT_EQ(r->skipped, 3u);
  EXPECT_EQ(r->files, 0u);
  EXPECT_EQ(ReadFile(t_ + "/docs/report.docx"), "already here");
  EXPECT_EQ(ReadFile(t_ + "/docs/notes"), "target notes");
  EXPECT_EQ(testing::ListDir(t_ + "/docs").size(), 4u);
}

TEST_F(Conflicts, NewerKeepsWhicheverWasModifiedLast) {
  auto r = Restore(Options(store_, t_, ConflictPolicy::kNewer));
  ASSERT_OK(r);
  // The target's report and .hidden are older than the store's: replaced.
  EXPECT_EQ(ReadFile(t_ + "/docs/report.docx"), "from the store");
  EXPECT_EQ(ReadFile(t_ + "/docs/.hidden"), "store dot");
  // Its notes are newer: kept.
  EXPECT_EQ(ReadFile(t_ + "/docs/notes"), "target notes");
  EXPECT_EQ(MtimeNs(t_ + "/docs/notes"), newer_);
  EXPECT_EQ(r->overwritten, 2u);
  EXPECT_EQ(r->skipped, 1u);
}

TEST(RestoreConflicts, FoldersAreMergedNeverReplaced) {
  TempDir dir;
  MemoryStore s;
  s.files = {MakeDir(0, "a"), MakeFile(0, "a/x", "store x"),
             MakeDir(0, "a/sub"), MakeFile(0, "a/sub/y", "store y")};
  const std::string store = WriteStore(dir, s);
  const std::string t = dir / "t";
  // A folder where the store has a file, a file where it has a folder.
  std::filesystem::create_directories(t + "/a/x");
  WriteFile(t + "/a/x/keep", "mine");
  Put(t + "/a/sub", "a file named sub", kStoreTime);
  WriteFile(t + "/a/other", "mine too");

  auto over = Restore(Options(store, t, ConflictPolicy::kOverwrite));
  ASSERT_FALSE(over.ok());
  EXPECT_TRUE(over.status().IsStopped())
      << "a folder is never replaced by a file";
  EXPECT_EQ(ReadFile(t + "/a/x/keep"), "mine");

  auto r = Restore(Options(store, t));
  ASSERT_OK(r);
  EXPECT_EQ(ReadFile(t + "/a/x (1)"), "store x");
  // The folder that met a file went beside it, with its contents.
  EXPECT_EQ(ReadFile(t + "/a/sub (1)/y"), "store y");
  EXPECT_EQ(ReadFile(t + "/a/sub"), "a file named sub");
  EXPECT_EQ(ReadFile(t + "/a/other"), "mine too")
      << "merged into, not replaced";
  EXPECT_EQ(ReadFile(t + "/a/x/keep"), "mine");
}

TEST(RestoreConflicts, EntriesOfTheStoreThatMeetAreKeptApart) {
  TempDir dir;
  MemoryStore s;
  s.profiles = {testing::MakeProfile("alice", "home/alice", 1000),
                testing::MakeProfile("bob", "home/bob", 1001)};
  s.files = {MakeDir(1, "home/alice"),
             MakeFile(1, "home/alice/.bashrc", "alice's"),
             MakeDir(2, "home/bob"), MakeFile(2, "home/bob/.bashrc", "bob's"),
             MakeFile(2, "home/bob/only-bob", "b")};
  const std::string store = WriteStore(dir, s);
  RestoreOptions o = Options(store, dir / "t", ConflictPolicy::kOverwrite);
  o.map_users = {{"bob", "alice"}};
  auto r = Restore(o);
  ASSERT_OK(r);
  // Overwrite does not let one entry of the store replace another.
  EXPECT_EQ(ReadFile(dir / "t/home/alice/.bashrc"), "alice's");
  EXPECT_EQ(ReadFile(dir / "t/home/alice/.bashrc (1)"), "bob's");
  EXPECT_EQ(ReadFile(dir / "t/home/alice/only-bob"), "b");
  EXPECT_FALSE(Exists(dir / "t/home/bob"));
}

TEST(RestoreConflicts, ARunAgainTellsWhatIsAlreadyThere) {
  TempDir dir;
  MemoryStore s;
  s.files = {MakeDir(0, "d"), MakeFile(0, "d/a", "a"), MakeFile(0, "d/b", "b")};
  const std::string store = WriteStore(dir, s);
  RestoreOptions o = Options(store, dir / "t");
  ASSERT_OK(Restore(o));
  PlanRecorder plan;
  o.dry_run = true;
  auto r = Restore(o, &plan);
  ASSERT_OK(r);
  EXPECT_EQ(r->identical, 2u);
  ASSERT_EQ(plan.entries.size(), 3u);
  EXPECT_STREQ(plan.entries[0].action, "merge");
  for (size_t i : {1, 2}) {
    EXPECT_STREQ(plan.entries[i].action, "identical");
    EXPECT_EQ(plan.entries[i].reason, "already there");
    EXPECT_EQ(plan.entries[i].destination, plan.entries[i].path);
  }
}

TEST(RestoreConflicts, ADryRunPlansEverythingAndWritesNothing) {
  TempDir dir;
  MemoryStore s;
  s.files = {MakeDir(0, "d"), MakeFile(0, "d/new", "n"),
             MakeFile(0, "d/old", "store old")};
  const std::string store = WriteStore(dir, s);
  const std::string t = dir / "t";
  Put(t + "/d/old", "target old", kStoreTime);
  auto before = testing::SnapshotTree(dir.path());

  PlanRecorder plan;
  RestoreOptions o = Options(store, t);
  o.dry_run = true;
  auto r = Restore(o, &plan);
  ASSERT_OK(r);
  EXPECT_TRUE(r->dry_run);
  EXPECT_EQ(r->files, 2u);
  EXPECT_EQ(r->renamed, 1u);
  ASSERT_EQ(plan.entries.size(), 3u);
  EXPECT_STREQ(plan.entries[0].action, "merge");
  EXPECT_STREQ(plan.entries[1].action, "create");
  EXPECT_STREQ(plan.entries[2].action, "rename");
  EXPECT_EQ(plan.entries[2].destination, "d/old (1)");
  EXPECT_NE(plan.entries[2].reason.find("exists"), std::string::npos);
  auto after = testing::SnapshotTree(dir.path());
  EXPECT_EQ(before.size(), after.size());
  for (const auto& [path, state] : before) {
    ASSERT_TRUE(after.count(path)) << path;
    EXPECT_EQ(after[path].mtime_ns, state.mtime_ns) << path;
    EXPECT_EQ(after[path].data, state.data) << path;
  }
  // A dry run into a target that does not exist yet does not make it.
  o.target = dir / "nowhere";
  ASSERT_OK(Restore(o));
  EXPECT_FALSE(Exists(dir / "nowhere"));
}

// usmt.md §2: "Source: C:\Data\SampleA.txt, C:\Data\SampleB.txt,
// C:\Data\Folder\SampleB.txt. Destination already has C:\Data\SampleB.txt,
// C:\Data\Folder\SampleB.txt." One <merge> rule per row.
class MergeExample : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryStore s;
    s.properties = {{"layout", "windows"}};
    s.files = {MakeDir(0, "Data"), MakeDir(0, "Data/Folder"),
               MakeFile(0, "Data/Folder/SampleB.txt", "source Folder B"),
               MakeFile(0, "Data/SampleA.txt", "source A"),
               MakeFile(0, "Data/SampleB.txt", "source B")};
    store_ = WriteStore(dir_, s);
  }

  // Restores into a fresh destination with `merges` (pattern, script) in
  // one System component, and says what each file holds afterwards.
  std::string Run(
      const std::vector<std::pair<std::string, std::string>>& merges,
      ConflictPolicy policy = ConflictPolicy::kRename) {
    const std::string t = dir_ / ("t" + std::to_string(++runs_));
    Put(t + "/Data/SampleB.txt", "dest B", kStoreTime);
    Put(t + "/Data/Folder/SampleB.txt", "dest Folder B", kStoreTime);
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<migration "
        "urlid=\"http://www.microsoft.com/migration/1.0/migxmlext/example\">\n"
        " <component type=\"Documents\" context=\"System\">\n"
        "  <displayName>Data</displayName>\n"
        "  <role role=\"Data\"><rules>\n"
        "   <include><objectSet><pattern type=\"File\">c:\\data\\* "
        "[*]</pattern></objectSet>"
        "</include>\n";
    for (const auto& [pattern, script] : merges) {
      xml += "   <merge script=\"MigXmlHelper." + script +
             "\"><objectSet><pattern type=\"File\">" + pattern +
             "</pattern></objectSet></merge>\n";
    }
    xml += "  </rules></role>\n </component>\n</migration>\n";
    WriteFile(dir_ / "merge.xml", xml);
    RestoreOptions o = Options(store_, t, policy);
    o.rules_files = {dir_ / "merge.xml"};
    auto r = Restore(o);
    EXPECT_OK(r);
    std::string out;
    for (const char* f :
         {"Data/SampleA.txt", "Data/SampleB.txt", "Data/SampleB (1).txt",
          "Data/Folder/SampleB.txt", "Data/Folder/SampleB (1).txt"}) {
      out += std::string(f) + "=" +
             (Exists(t + "/" + f) ? ReadFile(t + "/" + f) : "-") + "; ";
    }
    return out;
  }

  TempDir dir_;
  std::string store_;
  int runs_ = 0;
};

TEST_F(MergeExample, DestinationPriorityOnTheWholeFolderRestoresOnlySampleA) {
  EXPECT_EQ(
      Run({{"c:\\data\\* [*]", "DestinationPriority()"}}),
      "Data/SampleA.txt=source A; Data/SampleB.txt=dest B; Data/SampleB "
      "(1).txt=-; "
      "Data/Folder/SampleB.txt=dest Folder B; Data/Folder/SampleB (1).txt=-; ");
}

TEST_F(MergeExample, SourcePriorityOnTheWholeFolderOverwritesBoth) {
  EXPECT_EQ(Run({{"c:\\data\\* [*]", "SourcePriority()"}}),
            "Data/SampleA.txt=source A; Data/SampleB.txt=source B; "
            "Data/SampleB (1).txt=-; "
            "Data/Folder/SampleB.txt=source Folder B; Data/Folder/SampleB "
            "(1).txt=-; ");
}

TEST_F(MergeExample,
       SourcePriorityOnTheFolderAloneLeavesTheSubfolderToTheDefault) {
  // The rule covers files in Data only. Data\SampleB is overwritten;
  // Folder\SampleB.txt meets no merge rule, so the default applies. USMT's
  // page says "not restored"; migstore's default is USMT's documented
  // default for files without a <merge> rule (rename), so the source copy
  // lands beside the destination's, which is untouched (docs/cli.md).
  EXPECT_EQ(Run({{"c:\\data\\ [*]", "SourcePriority()"}}),
            "Data/SampleA.txt=source A; Data/SampleB.txt=source B; "
            "Data/SampleB (1).txt=-; "
            "Data/Folder/SampleB.txt=dest Folder B; Data/Folder/SampleB "
            "(1).txt=source Folder B; ");
  // With skip as the default the row reads exactly as the page does.
  EXPECT_EQ(
      Run({{"c:\\data\\ [*]", "SourcePriority()"}}, ConflictPolicy::kSkip),
      "Data/SampleA.txt=source A; Data/SampleB.txt=source B; Data/SampleB "
      "(1).txt=-; "
      "Data/Folder/SampleB.txt=dest Folder B; Data/Folder/SampleB (1).txt=-; ");
}

TEST_F(MergeExample, TheMostSpecificMergeRuleWins) {
  // "C:\sub\* [*] DestinationPriority beats C:\* [*] SourcePriority".
  EXPECT_EQ(
      Run({{"c:\\* [*]", "SourcePriority()"},
           {"c:\\data\\folder\\* [*]", "DestinationPriority()"}}),
      "Data/SampleA.txt=source A; Data/SampleB.txt=source B; Data/SampleB "
      "(1).txt=-; "
      "Data/Folder/SampleB.txt=dest Folder B; Data/Folder/SampleB (1).txt=-; ");
  // And the other way round, listed in the other order.
  EXPECT_EQ(Run({{"c:\\data\\folder\\* [*]", "SourcePriority()"},
                 {"c:\\* [*]", "DestinationPriority()"}}),
            "Data/SampleA.txt=source A; Data/SampleB.txt=dest B; Data/SampleB "
            "(1).txt=-; "
            "Data/Folder/SampleB.txt=source Folder B; Data/Folder/SampleB "
            "(1).txt=-; ");
}

TEST_F(MergeExample, FindFilePlaceByPatternNamesTheCopy) {
  // The spelling of USMT 3's documentation, without the space.
  Run({{"c:\\data\\* [*]",
        "FindFilePlaceByPattern('&lt;F&gt;(&lt;N&gt;).&lt;E&gt;')"}});
  const std::string t = dir_ / ("t" + std::to_string(runs_));
  EXPECT_EQ(ReadFile(t + "/Data/SampleB(1).txt"), "source B");
  EXPECT_EQ(ReadFile(t + "/Data/Folder/SampleB(1).txt"), "source Folder B");
  EXPECT_EQ(ReadFile(t + "/Data/SampleB.txt"), "dest B");
  EXPECT_FALSE(Exists(t + "/Data/SampleB (1).txt"));
}

// <locationModify> on a windows store with one user.
class LocationModify : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryStore s;
    s.properties = {{"layout", "windows"}};
    format::Profile alice = testing::MakeProfile("alice", "Users/alice", 0);
    alice.layout = format::Layout::kWindows;
    alice.folders = {{"DESKTOP", "Users/alice/Desktop"},
                     {"DOCUMENTS", "Users/alice/Documents"}};
    s.profiles = {alice};
    s.files = {MakeFile(0, "Scattered/a/one.txt", "1"),
               MakeFile(0, "Scattered/b/two.txt", "2"),
               MakeFile(0, "Scattered/c/one.txt", "1c"),
               MakeFile(0, "Single/pick.txt", "picked"),
               MakeDir(1, "Users/alice"),
               MakeFile(1, "Users/alice/Documents/Old/x/y.txt", "old y"),
               MakeFile(1, "Users/alice/Documents/Reports/q1.txt", "q1"),
               MakeFile(1, "Users/alice/Documents/stay.txt", "stay")};
    store_ = WriteStore(dir_, s);
  }

  TempDir dir_;
  std::string store_;
};

TEST_F(LocationModify, MoveRelativeMoveAndExactMoveSendEntriesElsewhere) {
  WriteFile(dir_ / "move.xml", R"xml(<?xml version="1.0"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/moves">
 <component type="Documents" context="User">
  <displayName>Reports</displayName>
  <role role="Data"><rules>
   <locationModify script="MigXmlHelper.Move('%CSIDL_DESKTOP%\FromDocs')">
    <objectSet><pattern type="File">%CSIDL_PERSONAL%\Reports\* [*]</pattern></objectSet>
   </locationModify>
   <locationModify script="MigXmlHelper.RelativeMove('%CSIDL_PERSONAL%\Old','%CSIDL_PERSONAL%\New')">
    <objectSet><pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern></objectSet>
   </locationModify>
  </rules></role>
 </component>
 <component type="Documents" context="System">
  <displayName>Flatten</displayName>
  <role role="Data"><rules>
   <locationModify script="MigXmlHelper.ExactMove('C:\Flat')">
    <objectSet><pattern type="File">C:\Scattered\* [*]</pattern></objectSet>
   </locationModify>
   <locationModify script="MigXmlHelper.ExactMove('C:\One [chosen.txt]')">
    <objectSet><pattern type="File">C:\Single\ [pick.txt]</pattern></objectSet>
   </locationModify>
  </rules></role>
 </component>
</migration>
)xml");
  const std::string t = dir_ / "t";
  RestoreOptions o = Options(store_, t);
  o.rules_files = {dir_ / "move.xml"};
  auto r = Restore(o);
  ASSERT_OK(r);
  EXPECT_TRUE(r->errors.empty());
  // Move: the folders below the longest known folder (Documents) come along.
  EXPECT_EQ(ReadFile(t + "/Users/alice/Desktop/FromDocs/Reports/q1.txt"), "q1");
  EXPECT_FALSE(Exists(t + "/Users/alice/Documents/Reports/q1.txt"));
  // RelativeMove: what is under Old goes to New; the rest stays.
  EXPECT_EQ(ReadFile(t + "/Users/alice/Documents/New/x/y.txt"), "old y");
  EXPECT_EQ(ReadFile(t + "/Users/alice/Documents/stay.txt"), "stay");
  // ExactMove to a folder: flattened, and two files of one name collide as
  // any others would.
  EXPECT_EQ(ReadFile(t + "/Flat/one.txt"), "1");
  EXPECT_EQ(ReadFile(t + "/Flat/one (1).txt"), "1c");
  EXPECT_EQ(ReadFile(t + "/Flat/two.txt"), "2");
  // ExactMove to a leaf: exactly there.
  EXPECT_EQ(ReadFile(t + "/One/chosen.txt"), "picked");
  EXPECT_FALSE(Exists(t + "/Single/pick.txt"));
  EXPECT_EQ(r->moved, 6u);

  // Run again: what a rule moved is found where it went, and said so.
  PlanRecorder plan;
  o.dry_run = true;
  ASSERT_OK(Restore(o, &plan));
  bool seen = false;
  for (const PlannedEntry& e : plan.entries) {
    if (e.path != "Users/alice/Documents/Reports/q1.txt") continue;
    seen = true;
    EXPECT_STREQ(e.action, "identical");
    EXPECT_EQ(e.reason, "already there");
    EXPECT_EQ(e.destination, "Users/alice/Desktop/FromDocs/Reports/q1.txt");
  }
  EXPECT_TRUE(seen);
}

TEST_F(LocationModify, ARuleThatLeadsOutOfTheTargetIsRefused) {
  WriteFile(dir_ / "escape.xml", R"xml(<?xml version="1.0"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/escape">
 <component type="Documents" context="System">
  <displayName>Escape</displayName>
  <role role="Data"><rules>
   <locationModify script="MigXmlHelper.ExactMove('C:\..\..\outside')">
    <objectSet><pattern type="File">C:\Single\* [*]</pattern></objectSet>
   </locationModify>
  </rules></role>
 </component>
</migration>
)xml");
  RestoreOptions o = Options(store_, dir_ / "t");
  o.rules_files = {dir_ / "escape.xml"};
  o.continue_on_error = true;
  auto r = Restore(o);
  ASSERT_OK(r);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].path, "Single/pick.txt");
  EXPECT_FALSE(Exists(dir_ / "outside"));
  EXPECT_TRUE(Exists(dir_ / "t/Scattered/a/one.txt")) << "the rest is restored";
}

}  // namespace
}  // namespace migstore
