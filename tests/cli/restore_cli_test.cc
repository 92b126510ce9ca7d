// restore, extract and verify as scripts and administrators use them: exit
// codes and messages, JSON, LoadState's logs, the dry run and damage. A
// restore killed and run again: crash_consistency_test.cc.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "bench/dataset.h"
#include "format/container_reader.h"
#include "format/layout.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore::testing {
namespace {

class RestoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.files = 400;
    spec.bytes = 24 << 20;  // several 4 MiB blocks
    ASSERT_OK(bench::GenerateDataset(root_, spec));
    WriteFile(dir_ / "all.rules", "include %USERPROFILE%\n");
    ASSERT_EQ(RunMigstore({"keygen", "--out", dir_ / "k.key"}).exit_code, 0);
    RunResult c = RunMigstore({"capture", "--root", root_, "--store", Store(),
                               "--key-file", dir_ / "k.key", "--rules",
                               dir_ / "all.rules"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  std::string Store() const { return dir_ / "s.mig"; }
  std::vector<std::string> Restore(const std::string& target,
                                   std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"restore",    "--store",      Store(),
                                     "--key-file", dir_ / "k.key", "--target",
                                     target};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  // Flips a bit inside the data block holding `path`'s data; returns every
  // store path whose data lives in that block.
  std::set<std::string> DamageDataOf(const std::string& path) {
    std::set<std::string> lost;
    auto key = format::KeySource::FromKeyFile(dir_ / "k.key");
    EXPECT_OK(key);
    auto r = format::ContainerReader::Open(Store(), *key);
    EXPECT_OK(r);
    std::vector<std::pair<std::string, std::vector<uint64_t>>> files;
    uint64_t block = UINT64_MAX;
    for (size_t s = 0; s < (*r)->index().catalog_segments.size(); ++s) {
      auto entries = (*r)->ReadCatalogSegment(s);
      EXPECT_OK(entries);
      for (const format::Entry& x : *entries) {
        if (!x.content) continue;
        auto xc = (*r)->ReadContentFor(x);
        EXPECT_OK(xc);
        std::vector<uint64_t> blocks;
        for (const format::Chunk& ch : xc->chunks) blocks.push_back(ch.block);
        if (x.path == path) block = blocks[0];
        files.emplace_back(x.path, std::move(blocks));
      }
    }
    EXPECT_NE(block, UINT64_MAX) << path;
    for (const auto& [p, blocks] : files) {
      if (std::find(blocks.begin(), blocks.end(), block) != blocks.end())
        lost.insert(p);
    }
    uint64_t at = (*r)->block_offset(block) + format::kFrameHeaderSize + 30;
    int fd = ::open(Store().c_str(), O_RDWR);
    EXPECT_GE(fd, 0);
    char b;
    EXPECT_EQ(::pread(fd, &b, 1, static_cast<off_t>(at)), 1);
    b = static_cast<char>(b ^ 1);
    EXPECT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(at)), 1);
    ::close(fd);
    return lost;
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(RestoreCli, RestoreVerifyAndExtractWithAKeyFile) {
  const std::string t = dir_ / "t";
  RunResult r =
      RunMigstore(Restore(t, {"--threads", "2", "--log", dir_ / "loadstate.log",
                              "--progress-log", dir_ / "progress.log"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "user alice (home/alice): restored")) << r.out;
  EXPECT_TRUE(Has(r.out, "restored 4")) << r.out;
  EXPECT_EQ(CompareTrees(root_ + "/home", t + "/home"), "");
  // LoadState's log formats.
  const std::string log = ReadFile(dir_ / "loadstate.log");
  EXPECT_TRUE(Has(log, "Info                  [0x000000] migstore restore"))
      << log;
  EXPECT_TRUE(Has(log, "User alice (home/alice): restored")) << log;
  EXPECT_TRUE(Has(log, "Status                [0x000000] Success.")) << log;
  const std::string progress = ReadFile(dir_ / "progress.log");
  EXPECT_TRUE(Has(progress, ", program, migstore restore")) << progress;
  EXPECT_TRUE(Has(progress, ", PHASE, Initializing")) << progress;
  EXPECT_TRUE(Has(progress, ", detectedUser, alice, includedInMigration, Yes"))
      << progress;
  EXPECT_TRUE(Has(progress, ", PHASE, Applying")) << progress;
  EXPECT_TRUE(Has(progress, ", totalPercentageCompleted, 100\n")) << progress;
  EXPECT_TRUE(Has(progress, ", totalSizeInMBToTransfer, ")) << progress;
  EXPECT_TRUE(Has(progress, ", PHASE, Done")) << progress;

  RunResult again = RunMigstore(Restore(t, {"--json"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(Has(again.out, "\"command\":\"restore\"")) << again.out;
  EXPECT_TRUE(Has(again.out, "\"files\":0,")) << again.out;
  EXPECT_TRUE(Has(again.out, "\"exit_code\":0")) << again.out;

  RunResult v =
      RunMigstore({"verify", "--store", Store(), "--key-file", dir_ / "k.key"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_TRUE(Has(v.out, "files intact, 0 corrupted; catalog OK")) << v.out;
  RunResult all = RunMigstore({"verify", "--store", Store(), "--key-file",
                               dir_ / "k.key", "--mode", "all"});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_TRUE(Has(all.out, "home/alice/.bashrc\tOK\n"))
      << all.out.substr(0, 300);
  EXPECT_TRUE(Has(all.out, "caf\\xe9 latin-1.txt\tOK\n"))
      << "names shown as DisplayBytes";
  EXPECT_EQ(all.out.substr(all.out.size() - 11), "CATALOG\tOK\n");

  RunResult x =
      RunMigstore({"extract", "--store", Store(), "--key-file", dir_ / "k.key",
                   "--to", dir_ / "x", "--include", "*.md", "--json"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_TRUE(Has(x.out, "\"command\":\"extract\"")) << x.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "x/home/bob/Desktop"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x/home/bob/.bashrc"));
}

TEST_F(RestoreCli, ADryRunPrintsThePlanAndWritesNothing) {
  const std::string t = dir_ / "t";
  RunResult r = RunMigstore(Restore(t, {"--dry-run"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(
      Has(r.out, "create    file              34  home/alice/.bashrc\n"))
      << r.out.substr(0, 500);
  EXPECT_TRUE(Has(r.out, "dry run: would have restored")) << r.out;
  EXPECT_TRUE(Has(r.out, "nothing was written")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(t));
  RunResult j =
      RunMigstore(Restore(t, {"--dry-run", "--json", "--on-conflict", "skip"}));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_TRUE(Has(j.out, "\"dry_run\":true")) << j.out.substr(0, 300);
  EXPECT_TRUE(Has(
      j.out,
      "\"plan\":[{\"path\":\"home\",\"destination\":\"home\",\"type\":\"dir\""))
      << j.out.substr(0, 600);
  EXPECT_FALSE(std::filesystem::exists(t));
}

TEST_F(RestoreCli, MistakesGetTheirUsmtCodes) {
  const std::string t = dir_ / "t";
  // A wrong key, or none: 37, with a message that says so, nothing written.
  ASSERT_EQ(RunMigstore({"keygen", "--out", dir_ / "other.key"}).exit_code, 0);
  RunResult wrong = RunMigstore({"restore", "--store", Store(), "--key-file",
                                 dir_ / "other.key", "--target", t});
  EXPECT_EQ(wrong.exit_code, 37);
  EXPECT_TRUE(Has(wrong.err, "key")) << wrong.err;
  EXPECT_EQ(
      RunMigstore({"restore", "--store", Store(), "--target", t}).exit_code,
      37);
  EXPECT_EQ(RunMigstore({"verify", "--store", Store()}).exit_code, 37);
  EXPECT_EQ(RunMigstore({"extract", "--store", Store(), "--to", t}).exit_code,
            37);
  EXPECT_FALSE(std::filesystem::exists(t));
  // Not a store, a missing store: 27; a truncated one: 42.
  WriteFile(dir_ / "notes.txt", std::string(1000, 'n'));
  RunResult not_store =
      RunMigstore({"restore", "--store", dir_ / "notes.txt", "--target", t});
  EXPECT_EQ(not_store.exit_code, 27);
  EXPECT_TRUE(Has(not_store.err, "Not a store")) << not_store.err;
  EXPECT_EQ(RunMigstore({"verify", "--store", dir_ / "missing.mig"}).exit_code,
            27);
  std::filesystem::copy_file(Store(), dir_ / "cut.mig");
  std::filesystem::resize_file(dir_ / "cut.mig",
                               std::filesystem::file_size(Store()) - 100);
  RunResult cut = RunMigstore({"restore", "--store", dir_ / "cut.mig",
                               "--key-file", dir_ / "k.key", "--target", t});
  EXPECT_EQ(cut.exit_code, 42);
  EXPECT_TRUE(Has(cut.err, "truncated") || Has(cut.err, "trailer")) << cut.err;
  EXPECT_EQ(RunMigstore({"verify", "--store", dir_ / "cut.mig", "--key-file",
                         dir_ / "k.key"})
                .exit_code,
            42);
  EXPECT_FALSE(std::filesystem::exists(t));
  // Bad arguments: 11.
  EXPECT_EQ(RunMigstore(Restore(t, {"--on-conflict", "merge"})).exit_code, 11);
  EXPECT_EQ(RunMigstore(Restore(t, {"--map-user", "alice"})).exit_code, 11);
  RunResult unknown = RunMigstore(Restore(t, {"--map-user", "mallory:eve"}));
  EXPECT_EQ(unknown.exit_code, 11);
  EXPECT_TRUE(Has(unknown.err, "no user mallory")) << unknown.err;
  EXPECT_EQ(RunMigstore(Restore(t, {"--last-used", "0"})).exit_code, 11);
  EXPECT_EQ(RunMigstore({"verify", "--store", Store(), "--mode", "everything"})
                .exit_code,
            11);
  EXPECT_EQ(RunMigstore({"restore", "--store", Store()}).exit_code, 11)
      << "--target is required";
  EXPECT_FALSE(std::filesystem::exists(t));
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST_F(RestoreCli, DamageIsNamedAndStaysLocal) {
  // The largest of carol's files: its block holds few others.
  std::string largest;
  uintmax_t size = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(root_ + "/home/carol")) {
    if (e.is_regular_file() && !e.is_symlink() && e.file_size() > size) {
      size = e.file_size();
      largest = std::filesystem::relative(e.path(), root_).string();
    }
  }
  const std::set<std::string> lost = DamageDataOf(largest);
  ASSERT_GE(lost.size(), 1u);
  ASSERT_LT(lost.size(), 150u);
  const std::string t = dir_ / "t";
  RunResult stopped = RunMigstore(Restore(t));
  EXPECT_EQ(stopped.exit_code, 61) << stopped.err;
  EXPECT_TRUE(Has(stopped.err, "--continue-on-error")) << stopped.err;
  EXPECT_TRUE(FindTemporaries(t).empty());

  RunResult r = RunMigstore(
      Restore(dir_ / "t2", {"--continue-on-error", "--log", dir_ / "l.log"}));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(Has(r.err, largest + ": Corruption")) << r.err;
  EXPECT_EQ(Count(r.err, "(skipped)\n"), lost.size()) << r.err;
  size_t restored = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(root_ + "/home")) {
    if (!e.is_regular_file() || e.is_symlink()) continue;
    std::string rel = std::filesystem::relative(e.path(), root_).string();
    if (lost.count(rel)) {
      EXPECT_FALSE(std::filesystem::exists(dir_ / ("t2/" + rel))) << rel;
    } else {
      EXPECT_EQ(ReadFile(dir_ / ("t2/" + rel)), ReadFile(e.path())) << rel;
      ++restored;
    }
  }
  EXPECT_GT(restored, 100u);
  const std::string log = ReadFile(dir_ / "l.log");
  EXPECT_TRUE(Has(log, "Apply error for " + largest)) << log;
  EXPECT_TRUE(Has(log, "USMT ERROR SUMMARY")) << log;

  RunResult all = RunMigstore({"verify", "--store", Store(), "--key-file",
                               dir_ / "k.key", "--mode", "all"});
  EXPECT_EQ(all.exit_code, 42);
  EXPECT_TRUE(Has(all.out, largest + "\tCORRUPTED\n")) << all.out;
  EXPECT_EQ(Count(all.out, "\tCORRUPTED\n"), lost.size());
  EXPECT_GT(Count(all.out, "\tOK\n"), 100u);
  EXPECT_EQ(all.out.substr(all.out.size() - 11), "CATALOG\tOK\n");
  RunResult failures = RunMigstore({"verify", "--store", Store(), "--key-file",
                                    dir_ / "k.key", "--mode", "failureonly"});
  EXPECT_EQ(failures.exit_code, 42);
  EXPECT_FALSE(Has(failures.out, "\tOK\n")) << failures.out;
  EXPECT_EQ(Count(failures.out, "\tCORRUPTED\n"), lost.size());
  RunResult summary = RunMigstore(
      {"verify", "--store", Store(), "--key-file", dir_ / "k.key", "--json"});
  EXPECT_EQ(summary.exit_code, 42);
  EXPECT_TRUE(Has(summary.out, "\"catalog\":\"OK\"")) << summary.out;
  EXPECT_TRUE(Has(summary.out, "\"damaged\":" + std::to_string(lost.size())))
      << summary.out;
  EXPECT_TRUE(Has(summary.out, "\"exit_code\":42")) << summary.out;
  RunResult catalog = RunMigstore({"verify", "--store", Store(), "--key-file",
                                   dir_ / "k.key", "--mode", "catalog"});
  EXPECT_EQ(catalog.exit_code, 0) << "the catalog itself is intact";
  EXPECT_EQ(catalog.out, "CATALOG\tOK\n");
}

// "Hostile input, round two", item 8: a Windows volume captured with the
// stock MigUser.xml, restored with --map-user (plain and domain-qualified)
// onto a machine whose new user's Desktop already holds a desktop.ini:
// MigUser.xml's DestinationPriority keeps it, as it does without the
// mapping, instead of adding "desktop (1).ini".
TEST(RestoreCliMapUser, MigUserMergeRulesApplyToTheMappedUser) {
  TempDir dir;
  auto windows_root = [](const std::string& root, const std::string& user) {
    std::filesystem::create_directories(root + "/Windows/System32");
    std::filesystem::create_directories(root + "/Users/Public/Documents");
    const std::string h = root + "/Users/" + user;
    for (const char* f : {"Documents", "Desktop", "AppData/Roaming"})
      std::filesystem::create_directories(h + "/" + f);
    WriteFile(h + "/NTUSER.DAT", "hive");
  };
  const std::string root = dir / "root";
  windows_root(root, "alice");
  WriteFile(root + "/Users/alice/Desktop/desktop.ini", "alice's");
  WriteFile(root + "/Users/alice/Desktop/todo.txt", "todo");
  const std::string miguser = SourcePath("tests/golden/usmt-xml/MigUser.xml");
  const std::string store = dir / "s.mig";
  RunResult c = RunMigstore({"capture", "--root", root, "--store", store,
                             "--no-encrypt", "--rules", miguser});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  for (const char* mapping : {"alice:alice2", "CONTOSO\\alice:alice2"}) {
    SCOPED_TRACE(mapping);
    const std::string t =
        dir /
        (std::string("t-") + (Has(mapping, "CONTOSO") ? "domain" : "plain"));
    windows_root(t, "alice2");
    WriteFile(t + "/Users/alice2/Desktop/desktop.ini", "the target's");
    RunResult r = RunMigstore({"restore", "--store", store, "--target", t,
                               "--map-user", mapping, "--rules", miguser});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadFile(t + "/Users/alice2/Desktop/desktop.ini"),
              "the target's");
    EXPECT_FALSE(
        std::filesystem::exists(t + "/Users/alice2/Desktop/desktop (1).ini"));
    EXPECT_EQ(ReadFile(t + "/Users/alice2/Desktop/todo.txt"), "todo");
    EXPECT_FALSE(std::filesystem::exists(t + "/Users/alice"));
  }
}

}  // namespace
}  // namespace migstore::testing
