// Restore rules under --map-user: a mapped user's <merge> and
// <locationModify> rules are LoadState's for the user where it lands (its
// variables are the destination profile's folders, its detection looks
// there), so they apply exactly as they do without the mapping. A Windows
// volume captured with the stock MigUser.xml is restored onto a machine
// where the new user's Desktop already holds a desktop.ini.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "migstore/capture.h"
#include "migstore/restore.h"
#include "tests/engine/rules_test_util.h"
#include "tests/util/test_util.h"

namespace migstore {
namespace {

using testing::MakeWindowsRoot;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// Writes `data` at `path`, making its folders.
void Put(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  WriteFile(path, data);
}

bool Exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// Keeps what a restore plans, entry by entry.
struct PlanRecorder : RestoreObserver {
  std::vector<PlannedEntry> entries;
  void OnPlanned(const PlannedEntry& e) override { entries.push_back(e); }
  const PlannedEntry* Find(const std::string& path) const {
    for (const PlannedEntry& e : entries) {
      if (e.path == path) return &e;
    }
    return nullptr;
  }
};

// A user component whose <locationModify> moves Documents\Reports to the
// Desktop, detected (like MigUser.xml's components) by the Desktop being
// there; and an <exclude> that restore does not apply (rules.md: restore
// runs a file's <merge> and <locationModify> rules only).
constexpr char kMoveXml[] = R"xml(<?xml version="1.0"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/reports">
 <component type="Documents" context="User">
  <displayName>Reports</displayName>
  <role role="Data">
   <detects><detect>
    <condition>MigXmlHelper.DoesObjectExist("File","%CSIDL_DESKTOP%")</condition>
   </detect></detects>
   <rules>
    <include><objectSet><pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern></objectSet></include>
    <exclude><objectSet><pattern type="File">%CSIDL_DESKTOP%\* [*.txt]</pattern></objectSet></exclude>
    <locationModify script="MigXmlHelper.Move('%CSIDL_DESKTOP%\FromDocs')">
     <objectSet><pattern type="File">%CSIDL_PERSONAL%\Reports\* [*]</pattern></objectSet>
    </locationModify>
   </rules>
  </role>
 </component>
</migration>
)xml";

class MapUserRules : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = dir_ / "root";
    MakeWindowsRoot(root, {"alice"});
    Put(root + "/Users/alice/Desktop/desktop.ini", "alice's desktop.ini");
    Put(root + "/Users/alice/Desktop/todo.txt", "alice's todo");
    Put(root + "/Users/alice/Documents/Reports/q1.txt", "q1");
    Put(root + "/Users/alice/Documents/letter.txt", "letter");
    CaptureOptions c;
    c.root = root;
    c.store_path = store_ = dir_ / "s.mig";
    c.encrypt = false;
    c.threads = 2;
    c.rules_files = {testing::SourcePath("tests/golden/usmt-xml/MigUser.xml"),
                     MoveXml()};
    auto captured = Capture(c);
    ASSERT_TRUE(captured.ok()) << captured.status().ToString();
    ASSERT_EQ(captured->layout, "windows");
  }

  std::string MoveXml() {
    const std::string path = dir_ / "move.xml";
    if (!Exists(path)) WriteFile(path, kMoveXml);
    return path;
  }

  // A target holding `user`'s profile with its own desktop.ini.
  std::string Target(const std::string& name, const std::string& user) {
    const std::string t = dir_ / name;
    MakeWindowsRoot(t, {user});
    WriteFile(t + "/Users/" + user + "/Desktop/desktop.ini",
              "the target's desktop.ini");
    return t;
  }

  RestoreOptions Options(const std::string& target) {
    RestoreOptions o;
    o.store_path = store_;
    o.target = target;
    o.threads = 2;
    o.rules_files = {testing::SourcePath("tests/golden/usmt-xml/MigUser.xml"),
                     MoveXml()};
    return o;
  }

  // What the restore into `t` left in `user`'s profile, as a line.
  static std::string Outcome(const std::string& t, const std::string& user) {
    const std::string h = t + "/Users/" + user;
    std::string out;
    for (const char* f : {"Desktop/desktop.ini", "Desktop/desktop (1).ini",
                          "Desktop/todo.txt", "Desktop/FromDocs/Reports/q1.txt",
                          "Documents/Reports/q1.txt", "Documents/letter.txt"}) {
      out += std::string(f) + "=" +
             (Exists(h + "/" + f) ? ReadFile(h + "/" + f) : "-") + "; ";
    }
    return out;
  }

  TempDir dir_;
  std::string store_;
};

// What MigUser.xml's DestinationPriority and the Move rule give, the same
// for alice restored as herself and as alice2.
constexpr char kExpected[] =
    "Desktop/desktop.ini=the target's desktop.ini; Desktop/desktop (1).ini=-; "
    "Desktop/todo.txt=alice's todo; Desktop/FromDocs/Reports/q1.txt=q1; "
    "Documents/Reports/q1.txt=-; Documents/letter.txt=letter; ";

TEST_F(MapUserRules, WithoutMappingTheRulesApply) {
  const std::string t = Target("t", "alice");
  auto r = Restore(Options(t));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->errors.empty());
  EXPECT_EQ(Outcome(t, "alice"), kExpected);
  EXPECT_EQ(r->moved, 2u) << "Documents/Reports and q1.txt in it";
  EXPECT_EQ(r->renamed, 0u);
}

TEST_F(MapUserRules, MergeAndLocationModifyApplyToTheMappedUser) {
  const std::string t = Target("t", "alice2");
  RestoreOptions o = Options(t);
  o.map_users = {{"alice", "alice2"}};
  PlanRecorder plan;
  auto r = Restore(o, &plan);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->errors.empty());
  EXPECT_EQ(Outcome(t, "alice2"), kExpected);
  EXPECT_FALSE(Exists(t + "/Users/alice")) << "nothing lands in the old home";
  EXPECT_EQ(r->moved, 2u) << "Documents/Reports and q1.txt in it";
  EXPECT_EQ(r->renamed, 0u);
  // The plan names the rule that decided.
  const PlannedEntry* ini = plan.Find("Users/alice/Desktop/desktop.ini");
  ASSERT_NE(ini, nullptr);
  EXPECT_STREQ(ini->action, "skip");
  EXPECT_EQ(ini->destination, "Users/alice2/Desktop/desktop.ini");
  EXPECT_NE(ini->reason.find("DestinationPriority"), std::string::npos)
      << ini->reason;
  const PlannedEntry* q1 = plan.Find("Users/alice/Documents/Reports/q1.txt");
  ASSERT_NE(q1, nullptr);
  EXPECT_EQ(q1->destination, "Users/alice2/Desktop/FromDocs/Reports/q1.txt");
  EXPECT_NE(q1->reason.find("moved by"), std::string::npos) << q1->reason;
}

TEST_F(MapUserRules, ADomainQualifiedMappingIsTheSame) {
  const std::string t = Target("t", "alice2");
  RestoreOptions o = Options(t);
  auto m = ParseUserMapping("CONTOSO\\alice:CONTOSO\\alice2");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  o.map_users = {*m};
  auto r = Restore(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->errors.empty());
  EXPECT_EQ(Outcome(t, "alice2"), kExpected);
}

TEST_F(MapUserRules, OntoATargetWithoutTheUserTheOutcomeIsTheUnmappedOne) {
  // Nothing of alice2 on the target, nothing of alice on the other: the
  // mapped restore does what the unmapped one does.
  const std::string t = dir_ / "empty";
  MakeWindowsRoot(t, {});
  RestoreOptions o = Options(t);
  o.map_users = {{"alice", "alice2"}};
  auto r = Restore(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string u = dir_ / "empty-unmapped";
  MakeWindowsRoot(u, {});
  auto unmapped = Restore(Options(u));
  ASSERT_TRUE(unmapped.ok()) << unmapped.status().ToString();
  EXPECT_EQ(Outcome(t, "alice2"), Outcome(u, "alice"));
  EXPECT_EQ(r->files, unmapped->files);
  EXPECT_EQ(r->moved, unmapped->moved);
  EXPECT_EQ(ReadFile(t + "/Users/alice2/Desktop/desktop.ini"),
            "alice's desktop.ini");
}

}  // namespace
}  // namespace migstore
