// ScanState's and LoadState's /auto and /v (docs/cli.md, "--auto" and
// "Logs"): `--auto DIR` is --rules DIR/MigDocs.xml --rules DIR/MigApp.xml
// --verbosity 5, and --verbosity chooses the main log's lines as USMT's
// bitmask does, on every command that writes one.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "bench/dataset.h"
#include "format/container_reader.h"
#include "format/layout.h"
#include "migstore/usmt_log.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

// A small MigApp-style file: an application's settings folder.
constexpr char kAppXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://test/migapp">
  <component type="Application" context="User">
    <displayName>Editor</displayName>
    <role role="Settings">
      <rules><include><objectSet>
        <pattern type="File">%CSIDL_APPDATA%\Editor\* [*]</pattern>
      </objectSet></include></rules>
    </role>
  </component>
</migration>
)";

constexpr char kExtraXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://test/extra">
  <component type="Documents" context="System">
    <displayName>Tools</displayName>
    <role role="Data">
      <rules><include><objectSet>
        <pattern type="File">%CSIDL_PROGRAM_FILES%\Tool\* [*.cfg]</pattern>
      </objectSet></include></rules>
    </role>
  </component>
</migration>
)";

// WriteFile, with the folders on the way.
void Put(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  WriteFile(path, data);
}

size_t Count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos;
       at = s.find(part, at + 1)) {
    ++n;
  }
  return n;
}

// The entries of `list --json`, from "entries" on (the stores' own
// summaries differ).
std::string Entries(const std::string& store) {
  RunResult l = RunMigstore({"list", "--store", store, "--json"});
  EXPECT_EQ(l.exit_code, 0) << l.err;
  const size_t at = l.out.find("\"entries\":[");
  return at == std::string::npos ? std::string() : l.out.substr(at);
}

class AutoCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.layout = "windows";
    spec.users = 2;
    spec.files = 100;
    spec.bytes = 1 << 20;
    spec.sparse_image = false;
    spec.odd_names = false;
    ASSERT_OK(bench::GenerateDataset(root_, spec));
    Put(root_ + "/Users/alice/AppData/Roaming/Editor/prefs.ini", "p");
    Put(root_ + "/Program Files/Tool/tool.cfg", "c");
    std::filesystem::create_directories(auto_);
    std::filesystem::copy_file(SourcePath("tests/golden/usmt-xml/MigDocs.xml"),
                               auto_ + "/MigDocs.xml");
    WriteFile(auto_ + "/MigApp.xml", kAppXml);
    WriteFile(dir_ / "extra.xml", kExtraXml);
  }

  RunResult Capture(const std::string& store, std::vector<std::string> more) {
    std::vector<std::string> args = {"capture", "--root",     root_,
                                     "--store", dir_ / store, "--no-encrypt"};
    args.insert(args.end(), more.begin(), more.end());
    return RunMigstore(args);
  }

  TempDir dir_;
  std::string root_;
  std::string auto_ = dir_ / "usmt";
};

TEST_F(AutoCli, AutoIsMigDocsAndMigAppAtVerbosityFive) {
  RunResult a = Capture("auto.mig", {"--auto", auto_, "--log", dir_ / "a.log"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  RunResult r = Capture("rules.mig", {"--rules", auto_ + "/MigDocs.xml",
                                      "--rules", auto_ + "/MigApp.xml", "--log",
                                      dir_ / "r.log", "--verbosity", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string taken = Entries(dir_ / "auto.mig");
  EXPECT_TRUE(Has(taken, "Users/alice/AppData/Roaming/Editor/prefs.ini"))
      << "MigApp.xml's rule";
  EXPECT_TRUE(Has(taken, "\"path\":\"Users/alice/Documents/notes"))
      << "MigDocs.xml's finder";
  EXPECT_FALSE(Has(taken, "tool.cfg"));
  EXPECT_EQ(Entries(dir_ / "rules.mig"), taken);
  // Verbosity 5: Status lines and every object.
  const std::string log = ReadFile(dir_ / "a.log");
  EXPECT_TRUE(Has(log, "Status                [0x000000] Phase: Scanning"))
      << log.substr(0, 2000);
  EXPECT_TRUE(
      Has(log,
          "Info                  [0x000000] Store C:\\Users\\alice\\AppData"
          "\\Roaming\\Editor [prefs.ini]"))
      << log.substr(0, 2000);
  EXPECT_TRUE(Has(log, "--auto " + auto_));

  // --rules add to --auto's; an explicit --verbosity wins over its 5.
  RunResult more =
      Capture("more.mig", {"--auto=" + auto_, "--rules", dir_ / "extra.xml",
                           "--log", dir_ / "m.log", "-v", "0"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  const std::string more_taken = Entries(dir_ / "more.mig");
  EXPECT_TRUE(Has(more_taken, "Program Files/Tool/tool.cfg")) << more_taken;
  EXPECT_TRUE(Has(more_taken, "Editor/prefs.ini"));
  const std::string quiet = ReadFile(dir_ / "m.log");
  EXPECT_EQ(Count(quiet, " Info "), 1u) << "only USMT Completed at: " << quiet;
  EXPECT_EQ(Count(quiet, " Status "), 1u) << "only the result: " << quiet;

  // The files' names are matched without case, as copied from Windows.
  std::filesystem::rename(auto_ + "/MigApp.xml", auto_ + "/migapp.xml");
  EXPECT_EQ(Capture("lower.mig", {"--auto", auto_}).exit_code, 0);
  EXPECT_EQ(Entries(dir_ / "lower.mig"), taken);

  // The restore takes --auto too: the same rules (their <merge>), and the
  // verbose log names what it applies.
  RunResult restored =
      RunMigstore({"restore", "--store", dir_ / "auto.mig", "--target",
                   dir_ / "target", "--auto", auto_, "--log", dir_ / "l.log"});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(ReadFile(dir_ / "target/Users/alice/AppData/Roaming/Editor/"
                            "prefs.ini"),
            "p");
  const std::string load = ReadFile(dir_ / "l.log");
  EXPECT_TRUE(Has(load, "Status                [0x000000] Phase: Applying"))
      << load.substr(0, 2000);
  EXPECT_TRUE(Has(load,
                  "] Apply Users/alice/AppData/Roaming/Editor/prefs.ini: "
                  "create"))
      << load.substr(0, 2000);
}

TEST_F(AutoCli, AMissingFileOrFolderIsAnInvalidArgument) {
  // As a --rules file that cannot be read: exit 11 (USMT's 28).
  std::filesystem::remove(auto_ + "/MigApp.xml");
  RunResult missing = Capture("s.mig", {"--auto", auto_});
  EXPECT_EQ(missing.exit_code, 11) << missing.err;
  EXPECT_TRUE(Has(missing.err, "no MigApp.xml")) << missing.err;
  EXPECT_EQ(RunMigstore({"capture", "--root", root_, "--store", dir_ / "s.mig",
                         "--no-encrypt", "--rules", auto_ + "/MigApp.xml"})
                .exit_code,
            11);
  RunResult restore = RunMigstore({"restore", "--store", dir_ / "s.mig",
                                   "--target", dir_ / "t", "--auto", auto_});
  EXPECT_EQ(restore.exit_code, 11) << restore.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "t"));
  // No folder: migstore ships no copy of USMT's files.
  RunResult bare = Capture("s.mig", {"--auto"});
  EXPECT_EQ(bare.exit_code, 11) << bare.err;
  EXPECT_TRUE(Has(bare.err, "--auto needs the folder")) << bare.err;
  RunResult nowhere = Capture("s.mig", {"--auto", dir_ / "nowhere"});
  EXPECT_EQ(nowhere.exit_code, 11) << nowhere.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "s.mig"));
}

// --verbosity on every command that writes a --log.
class VerbosityCli : public AutoCli {};

TEST_F(VerbosityCli, EachLevelWritesItsLines) {
  struct Want {
    const char* level;
    bool info;    // the opening Info lines and every object
    bool status;  // phases
  };
  for (const Want& w : {Want{"0", false, false}, Want{"1", true, false},
                        Want{"4", false, true}, Want{"5", true, true},
                        Want{"8", false, false}, Want{"13", true, true}}) {
    SCOPED_TRACE(w.level);
    const std::string log = dir_ / (std::string("v") + w.level + ".log");
    RunResult c =
        Capture("s.mig",
                {"--overwrite", "--rules", auto_ + "/MigDocs.xml", "--rules",
                 auto_ + "/MigDocs.xml", "--log", log, "--verbosity", w.level});
    // The same file twice is an error: a Warning-free failure still ends
    // the log properly.
    EXPECT_EQ(c.exit_code, 11) << c.err;
    RunResult ok =
        Capture("s.mig", {"--overwrite", "--rules", auto_ + "/MigDocs.xml",
                          "--log", log, "--verbosity", w.level});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    const std::string text = ReadFile(log);
    EXPECT_EQ(Has(text, "] migstore capture "), w.info) << text;
    EXPECT_EQ(Has(text, "] User alice (Users/alice): included"), w.info);
    EXPECT_EQ(Has(text, "] Store C:\\Users\\alice\\Documents"), w.info);
    EXPECT_EQ(Has(text, "] Store C:\\Users\\alice\\Desktop\n"), w.info)
        << "a folder is named without brackets";
    EXPECT_EQ(Has(text, "] Phase: Saving"), w.status);
    EXPECT_EQ(Has(text, "debugger output (0x08) is not available"),
              std::string(w.level) == "8" || std::string(w.level) == "13");
    // Whatever the level: warnings, the results and the closing lines.
    EXPECT_TRUE(Has(text, "Warning               [0x0803ea]")) << text;
    EXPECT_TRUE(Has(text, "Failed: ")) << text;
    EXPECT_TRUE(Has(text, "Status                [0x000000] Success.")) << text;
    EXPECT_EQ(Count(text, "USMT Completed at"), 2u) << text;
  }
}

TEST_F(VerbosityCli, TheDefaultIsFiveAndBadSumsAreRefused) {
  ASSERT_EQ(Capture("s.mig", {"--log", dir_ / "c.log"}).exit_code, 0);
  const std::string log = ReadFile(dir_ / "c.log");
  EXPECT_TRUE(Has(log, "] Phase: Scanning")) << log.substr(0, 2000);
  EXPECT_TRUE(Has(log, "] Store C:\\Users\\bob\\Documents")) << log;
  // Plain decimal only: CLI11 would read "0x10" and "+16" (strtoll's base
  // 0) and "015" as octal 13.
  for (const char* bad : {"2", "3", "6", "16", "-1", "x", "0x10", "+16", " 16",
                          "16 ", "015", "0x5", "+5", " 5"}) {
    SCOPED_TRACE(bad);
    RunResult r = Capture("t.mig", {"--log", dir_ / "bad.log", "-v", bad});
    EXPECT_EQ(r.exit_code, 11) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "t.mig"));
    EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.log"));
    EXPECT_TRUE(Has(r.err, "invalid verbosity sum")) << r.err;
  }
  for (const char* command : {"estimate", "restore", "extract", "verify"}) {
    RunResult r = RunMigstore({command, "--verbosity", "7"});
    EXPECT_EQ(r.exit_code, 11) << command << r.err;
    EXPECT_TRUE(Has(r.err, "invalid verbosity sum")) << command << r.err;
  }
}

TEST_F(VerbosityCli, RestoreExtractVerifyAndEstimateFollowIt) {
  const std::string store = dir_ / "s.mig";
  ASSERT_EQ(Capture("s.mig", {}).exit_code, 0);
  // A Windows target names objects in Windows form.
  std::filesystem::create_directories(dir_ / "target/Windows/System32");
  RunResult r =
      RunMigstore({"restore", "--store", store, "--target", dir_ / "target",
                   "--log", dir_ / "r.log", "-v", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string load = ReadFile(dir_ / "r.log");
  EXPECT_TRUE(Has(load, "] Apply C:\\Users\\alice\\Documents: create"))
      << load.substr(0, 3000);
  EXPECT_TRUE(Has(load, "] Apply C:\\Users\\alice\\Desktop\\d000 [file-"))
      << load;
  EXPECT_FALSE(Has(load, "] Phase: ")) << "no status bit";

  RunResult v = RunMigstore(
      {"verify", "--store", store, "--log", dir_ / "v.log", "-v", "5"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const std::string verified = ReadFile(dir_ / "v.log");
  EXPECT_TRUE(Has(verified, "] Verify Users/alice/Desktop/d000/file-"))
      << verified.substr(0, 2000);
  EXPECT_TRUE(Has(verified, "] Phase: ")) << verified.substr(0, 2000);
  RunResult v0 = RunMigstore(
      {"verify", "--store", store, "--log", dir_ / "v0.log", "-v", "0"});
  ASSERT_EQ(v0.exit_code, 0) << v0.err;
  EXPECT_FALSE(Has(ReadFile(dir_ / "v0.log"), " Verify "));
  EXPECT_TRUE(Has(ReadFile(dir_ / "v0.log"), "Success."));

  RunResult x = RunMigstore({"extract", "--store", store, "--to", dir_ / "out",
                             "--log", dir_ / "x.log", "-v", "4"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  const std::string extracted = ReadFile(dir_ / "x.log");
  EXPECT_FALSE(Has(extracted, "] Apply ")) << extracted;
  EXPECT_TRUE(Has(extracted, "] Phase: ")) << extracted;

  RunResult e = RunMigstore({"estimate", "--root", root_, "--log",
                             dir_ / "e.log", "--verbosity", "1"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const std::string estimated = ReadFile(dir_ / "e.log");
  EXPECT_TRUE(Has(estimated, "] migstore estimate ")) << estimated;
  EXPECT_FALSE(Has(estimated, "] Store ")) << "an estimate stores nothing";
}

TEST_F(VerbosityCli, VerifyLogsEachCorruptedFileAtEveryLevel) {
  const std::string store = dir_ / "s.mig";
  ASSERT_EQ(Capture("s.mig", {}).exit_code, 0);
  // A bit flipped in the first data block.
  {
    auto r = format::ContainerReader::Open(store, format::KeySource::None());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const uint64_t at = (*r)->block_offset(0) + format::kFrameHeaderSize + 30;
    const int fd = ::open(store.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char b = 0;
    ASSERT_EQ(::pread(fd, &b, 1, static_cast<off_t>(at)), 1);
    b = static_cast<char>(b ^ 1);
    ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(at)), 1);
    ::close(fd);
  }
  for (const char* level : {"0", "4", "5"}) {
    SCOPED_TRACE(level);
    const std::string log = dir_ / (std::string("v") + level + ".log");
    RunResult v =
        RunMigstore({"verify", "--store", store, "--log", log, "-v", level});
    EXPECT_EQ(v.exit_code, 42) << v.err;
    EXPECT_TRUE(Has(v.out, "corrupted")) << "summary mode: " << v.out;
    EXPECT_FALSE(Has(v.out, "\tCORRUPTED")) << "no per-file lines asked";
    const std::string text = ReadFile(log);
    EXPECT_TRUE(Has(text, "] Corrupted file ")) << text.substr(0, 3000);
  }
}

// The main log's Info lines reach the file at most once a second; any
// other line takes them with it at once.
TEST(UsmtLogFlush, InfoLinesAreBatchedOtherLinesFlushed) {
  TempDir dir;
  const std::string path = dir / "main.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::filesystem::remove(path);
    auto log = UsmtLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    const time_t start = std::time(nullptr);
    (*log)->Info("first");  // the first line of a second goes out
    for (int i = 0; i < 100; ++i) (*log)->Info("batched " + std::to_string(i));
    const std::string before = ReadFile(path);
    if (std::time(nullptr) != start) continue;  // a second went by: again
    EXPECT_TRUE(Has(before, "first")) << before;
    EXPECT_FALSE(Has(before, "batched 99"))
        << "a write(2) per Info line: " << before.size() << " bytes";
    (*log)->Warning("a warning");
    const std::string after = ReadFile(path);
    EXPECT_TRUE(Has(after, "batched 99")) << after.size();
    EXPECT_TRUE(Has(after, "a warning"));
    (*log)->Info("later");
    (*log)->Status("Phase: x");
    EXPECT_TRUE(Has(ReadFile(path), "later"));
    (*log)->SetVerbosity(UsmtLog::kVerbose);  // Status lines not written
    (*log)->Info("before a phase");
    (*log)->Status("Phase: y");
    const std::string quiet = ReadFile(path);
    EXPECT_TRUE(Has(quiet, "before a phase")) << "a phase flushes anyway";
    EXPECT_FALSE(Has(quiet, "Phase: y"));
    return;
  }
  FAIL() << "every attempt crossed a second";
}

}  // namespace
}  // namespace migstore::testing
