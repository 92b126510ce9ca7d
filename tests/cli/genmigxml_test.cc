// `migstore genmigxml` (ScanState /genmigxml; docs/rules.md, "Generating a
// migration XML"): the document finder's rules written out, read back by
// migstore's XML reader, and given to capture in place of MigDocs.xml
// selecting exactly the files MigDocs.xml selects, on a Windows and on a
// Linux root.

#include <gtest/gtest.h>

#include <filesystem>

#include "bench/dataset.h"
#include "migstore/rules.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

// WriteFile, with the folders on the way.
void Put(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  WriteFile(path, data);
}

std::string MigDocs() {
  return SourcePath("tests/golden/usmt-xml/MigDocs.xml");
}

// The entries of `list --json`, from "entries" on: the store's own summary
// (its path, size, creation time) differs between two stores, what they
// hold must not.
std::string Entries(const std::string& store) {
  RunResult l = RunMigstore({"list", "--store", store, "--json"});
  EXPECT_EQ(l.exit_code, 0) << l.err;
  const size_t at = l.out.find("\"entries\":[");
  EXPECT_NE(at, std::string::npos) << l.out.substr(0, 400);
  return at == std::string::npos ? std::string() : l.out.substr(at);
}

class GenMigXmlCli : public ::testing::Test {
 protected:
  void MakeRoot(const std::string& layout) {
    root_ = dir_ / "root";
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.layout = layout;
    spec.users = 2;
    spec.files = 120;
    spec.bytes = 1 << 20;
    spec.sparse_image = false;
    ASSERT_OK(bench::GenerateDataset(root_, spec));
  }

  // A capture of the root with `args` added; the store's entries.
  std::string Taken(const std::string& name, std::vector<std::string> args) {
    const std::string store = dir_ / name;
    std::vector<std::string> all = {"capture", "--root", root_,
                                    "--store", store,    "--no-encrypt"};
    all.insert(all.end(), args.begin(), args.end());
    RunResult r = RunMigstore(all);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Entries(store);
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(GenMigXmlCli, OnAWindowsRootTheFileSelectsWhatMigDocsSelects) {
  MakeRoot("windows");
  // Folders the finder takes by being there, named to test the writing:
  // brackets are escaped, and a "%NAME%" that would read as a variable is
  // widened to a wildcard.
  Put(root_ + "/Data/ledger.txt", "root folder");
  Put(root_ + "/boot.ini", "root file");
  Put(root_ + "/pagefile.sys", "excluded at the root");
  Put(root_ + "/Program Files/Tool/tool.exe", "excluded");
  Put(root_ + "/Users/alice/Projects/p.c", "profile folder");
  Put(root_ + "/Users/alice/[draft]/plan.txt", "profile folder, escaped");
  Put(root_ + "/Users/alice/notes at the top.txt", "profile root");
  Put(root_ + "/Users/bob/50%OFF%/deal.txt", "odd folder name");
  Put(root_ + "/Users/bob/AppData/Roaming/Tool/tool.ini", "excluded");

  const std::string xml_path = dir_ / "docs.xml";
  RunResult g = RunMigstore({"genmigxml", "--root", root_, "--out", xml_path});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_TRUE(Has(g.err, "note: ")) << "the widened name is noted: " << g.err;
  const std::string xml = ReadFile(xml_path);
  for (const char* part :
       {"<migration urlid=\"urn:migstore:genmigxml:migdocs\">",
        "<component type=\"Documents\" context=\"System\">",
        "<component type=\"Documents\" context=\"User\">",
        "<include filter=\"MigXmlHelper.IgnoreIrrelevantLinks()\">",
        "<pattern type=\"File\">C:\\ [*]</pattern>",
        "<pattern type=\"File\">C:\\Data\\* [*]</pattern>",
        "<pattern type=\"File\">%CSIDL_WINDOWS%\\* [*]</pattern>",
        "<pattern type=\"File\">C:\\ [pagefile.sys]</pattern>",
        "<pattern type=\"File\">%CSIDL_COMMON_DOCUMENTS%\\* [*]</pattern>",
        "<pattern type=\"File\">%USERPROFILE%\\ [*]</pattern>",
        "<pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern>",
        "<pattern type=\"File\">%USERPROFILE%\\Projects\\* [*]</pattern>",
        "<pattern type=\"File\">%USERPROFILE%\\^[draft^]\\* [*]</pattern>",
        "<pattern type=\"File\">%USERPROFILE%\\50*OFF%\\* [*]</pattern>",
        "<pattern type=\"File\">%USERPROFILE%\\ [NTUSER.DAT*]</pattern>",
        "<pattern type=\"File\">%CSIDL_APPDATA%\\* [*]</pattern>"}) {
    EXPECT_TRUE(Has(xml, part)) << part << "\n" << xml;
  }
  // Known folders are written once, with their variable.
  EXPECT_FALSE(Has(xml, "%USERPROFILE%\\Documents\\* [*]")) << xml;
  // Nothing names a user: the User component is the same for each.
  EXPECT_FALSE(Has(xml, "Users\\alice")) << xml;

  // migstore's reader takes it as it is.
  RuleSet rules;
  ASSERT_OK(rules.AddFile(xml_path));

  const std::string stock = Taken("stock.mig", {"--rules", MigDocs()});
  EXPECT_TRUE(Has(stock, "\"path\":\"Data/ledger.txt\"")) << stock;
  EXPECT_TRUE(Has(stock, "\"path\":\"Users/alice/Projects/p.c\""));
  EXPECT_TRUE(Has(stock, "\"path\":\"Users/alice/[draft]/plan.txt\""));
  EXPECT_TRUE(Has(stock, "\"path\":\"Users/bob/50%OFF%/deal.txt\""));
  EXPECT_TRUE(Has(stock, "\"path\":\"Users/alice/notes at the top.txt\""));
  EXPECT_FALSE(Has(stock, "tool.ini")) << "AppData is excluded";
  EXPECT_FALSE(Has(stock, "tool.exe")) << "Program Files is excluded";
  EXPECT_FALSE(Has(stock, "pagefile.sys"));
  EXPECT_FALSE(Has(stock, "NTUSER.DAT"));
  EXPECT_EQ(Taken("generated.mig", {"--rules", xml_path}), stock);

  // Users left out when it is written are left out of its folders.
  const std::string alice_path = dir_ / "alice.xml";
  ASSERT_EQ(RunMigstore({"genmigxml", "--root", root_, "--user-exclude", "bob",
                         "--out", alice_path})
                .exit_code,
            0);
  const std::string alice = ReadFile(alice_path);
  EXPECT_FALSE(Has(alice, "50*OFF")) << alice;
  EXPECT_TRUE(Has(alice, "alice")) << "the comment names the users";
  EXPECT_EQ(Taken("alice-generated.mig",
                  {"--rules", alice_path, "--user-exclude", "bob"}),
            Taken("alice-stock.mig",
                  {"--rules", MigDocs(), "--user-exclude", "bob"}));
}

TEST_F(GenMigXmlCli, OnALinuxRootTheFileSelectsWhatMigDocsSelects) {
  MakeRoot("linux");
  Put(root_ + "/srv/share.txt", "a system folder the finder skips");
  Put(root_ + "/archive/old.txt", "a root folder the finder takes");
  Put(root_ + "/home/alice/Projects/p.c", "profile folder");
  const std::string xml_path = dir_ / "docs.xml";
  RunResult g = RunMigstore({"genmigxml", "--root", root_, "--out", xml_path});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const std::string xml = ReadFile(xml_path);
  for (const char* part :
       {"<pattern type=\"File\">C:\\archive\\* [*]</pattern>",
        "<pattern type=\"File\">%USERPROFILE%\\Projects\\* [*]</pattern>",
        "<pattern type=\"File\">%USERPROFILE%\\ [.*]</pattern>",
        "linux root"}) {
    EXPECT_TRUE(Has(xml, part)) << part << "\n" << xml;
  }
  RuleSet rules;
  ASSERT_OK(rules.AddFile(xml_path));
  const std::string stock = Taken("stock.mig", {"--rules", MigDocs()});
  EXPECT_TRUE(Has(stock, "\"path\":\"home/alice/Projects/p.c\"")) << stock;
  EXPECT_TRUE(Has(stock, "\"path\":\"archive/old.txt\"")) << stock;
  EXPECT_FALSE(Has(stock, ".bashrc")) << "dotfiles are settings";
  EXPECT_FALSE(Has(stock, "share.txt")) << "srv is the system's";
  EXPECT_EQ(Taken("generated.mig", {"--rules", xml_path}), stock);
}

TEST_F(GenMigXmlCli, AnExistingFileIsKeptUnlessOverwrite) {
  MakeRoot("linux");
  const std::string out = dir_ / "docs.xml";
  WriteFile(out, "mine");
  RunResult kept = RunMigstore({"genmigxml", "--root", root_, "--out", out});
  EXPECT_EQ(kept.exit_code, 27) << kept.err;
  EXPECT_TRUE(Has(kept.err, "--overwrite")) << kept.err;
  EXPECT_EQ(ReadFile(out), "mine");
  RunResult replaced =
      RunMigstore({"genmigxml", "--root", root_, "--out", out, "--overwrite"});
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_TRUE(Has(ReadFile(out), "<migration ")) << ReadFile(out);
  // Nothing is left beside it.
  EXPECT_EQ(ListDir(dir_.path()),
            (std::vector<std::string>{"docs.xml", "root"}));
  // A root that is not there: nothing is written.
  RunResult bad = RunMigstore(
      {"genmigxml", "--root", dir_ / "nowhere", "--out", dir_ / "x.xml"});
  EXPECT_EQ(bad.exit_code, 11) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.xml"));
}

}  // namespace
}  // namespace migstore::testing
