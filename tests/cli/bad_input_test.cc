// Every bad input gets an answer: one test per row of the table in
// docs/security.md ("Every bad input answered"). Each checks the exit code,
// the message, and that nothing was lost: the sources are untouched, an
// existing store or target file is intact, no temporary is left behind and
// nothing half-written sits under a real name.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <filesystem>

#include "bench/dataset.h"
#include "format/memory_store.h"
#include "migstore/capture.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore::testing {
namespace {

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.files = 60;
    spec.bytes = 1 << 20;
    spec.sparse_image = false;
    ASSERT_OK(bench::GenerateDataset(root_, spec));
    WriteFile(dir_ / "all.rules", "include %USERPROFILE%\n");
    ASSERT_EQ(RunMigstore({"keygen", "--out", dir_ / "k.key"}).exit_code, 0);
    sources_ = SnapshotTree(root_);
  }
  void TearDown() override {
    EXPECT_TRUE(SnapshotTree(root_) == sources_) << "the sources changed";
  }
  std::string Store() const { return dir_ / "s.mig"; }
  std::vector<std::string> Capture(const std::string& store,
                                   std::vector<std::string> more = {}) const {
    std::vector<std::string> args = {"capture",         "--root", root_,
                                     "--store",         store,    "--rules",
                                     dir_ / "all.rules"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  // A reading command on `store` with `more`, and the destination that
  // restore (--target) and extract (--to) need: dir_/t.
  std::vector<std::string> Reading(const std::string& command,
                                   const std::string& store,
                                   std::vector<std::string> more = {}) const {
    std::vector<std::string> args = {command, "--store", store};
    args.insert(args.end(), more.begin(), more.end());
    if (command == "restore") args.insert(args.end(), {"--target", dir_ / "t"});
    if (command == "extract") args.insert(args.end(), {"--to", dir_ / "t"});
    return args;
  }
  void CaptureWithKey() {
    RunResult c = RunMigstore(Capture(Store(), {"--key-file", dir_ / "k.key"}));
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  // The restore arguments for the encrypted store.
  std::vector<std::string> Restore(const std::string& target,
                                   std::vector<std::string> more = {}) const {
    std::vector<std::string> args = {"restore",    "--store",      Store(),
                                     "--key-file", dir_ / "k.key", "--target",
                                     target};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  // Every regular file under a real name below `target` holds exactly the
  // bytes of its source.
  void ExpectOnlyWholeFiles(const std::string& target) {
    EXPECT_TRUE(FindTemporaries(target).empty());
    for (const auto& [rel, state] : SnapshotTree(target)) {
      if (!S_ISREG(state.mode) || !sources_.count(rel)) continue;
      EXPECT_EQ(ReadFile(target + "/" + rel), ReadFile(root_ + "/" + rel))
          << rel << " is not whole";
    }
  }

  TempDir dir_;
  std::string root_;
  std::map<std::string, EntryState> sources_;
};

TEST_F(BadInput, AWrongKeyWritesNothing) {
  CaptureWithKey();
  const std::string before = ReadFile(Store());
  ASSERT_EQ(RunMigstore({"keygen", "--out", dir_ / "other.key"}).exit_code, 0);
  for (const char* command : {"restore", "verify", "list"}) {
    RunResult r = RunMigstore(
        Reading(command, Store(), {"--key-file", dir_ / "other.key"}));
    EXPECT_EQ(r.exit_code, 37) << command;
    EXPECT_TRUE(Has(r.err, "Wrong key: wrong key file: it does not open"))
        << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "t"));
  EXPECT_EQ(ReadFile(Store()), before);
}

TEST_F(BadInput, AKeyRefusesAnUnencryptedStoreUnlessAllowed) {
  // Someone who can replace the store swaps in one written without a key:
  // an operator restoring with the key believes the restore authenticated.
  RunResult c = RunMigstore(Capture(Store(), {"--no-encrypt"}));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const std::string before = ReadFile(Store());
  WriteFile(dir_ / "pw", "s3cret\n");
  ASSERT_EQ(::chmod((dir_ / "pw").c_str(), 0600), 0);
  for (const char* command : {"restore", "extract", "verify", "list"}) {
    for (const std::vector<std::string>& key :
         {std::vector<std::string>{"--key-file", dir_ / "k.key"},
          std::vector<std::string>{"--password-file", dir_ / "pw"}}) {
      std::vector<std::string> args = Reading(command, Store(), key);
      RunResult r = RunMigstore(args);
      EXPECT_EQ(r.exit_code, 27) << command << ": " << r.err;
      EXPECT_TRUE(Has(r.err, std::string("migstore ") + command +
                                 ": Refused: " + Store() +
                                 ": is not encrypted, but a key was given"))
          << r.err;
      EXPECT_TRUE(Has(r.err, "--allow-unencrypted")) << r.err;
      EXPECT_EQ(r.out, "") << command;
      EXPECT_FALSE(std::filesystem::exists(dir_ / "t")) << command;

      args.push_back("--allow-unencrypted");
      RunResult allowed = RunMigstore(args);
      EXPECT_EQ(allowed.exit_code, 0) << command << ": " << allowed.err;
      std::filesystem::remove_all(dir_ / "t");
    }
  }
  // Without a key there is nothing to downgrade.
  EXPECT_EQ(RunMigstore({"verify", "--store", Store()}).exit_code, 0);
  EXPECT_EQ(ReadFile(Store()), before);
}

TEST_F(BadInput, AKeyFileOthersCanReadIsUsedWithAWarning) {
  CaptureWithKey();
  ASSERT_EQ(::chmod((dir_ / "k.key").c_str(), 0644), 0);
  RunResult r =
      RunMigstore({"verify", "--store", Store(), "--key-file", dir_ / "k.key"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.err, "migstore verify: warning: permissions 0644 for '" +
                             (dir_ / "k.key") +
                             "' are too open; it is used anyway"))
      << r.err;
  ASSERT_EQ(::chmod((dir_ / "k.key").c_str(), 0600), 0);
  r = RunMigstore({"verify", "--store", Store(), "--key-file", dir_ / "k.key"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Has(r.err, "warning")) << r.err;
  // A password file too; the warning comes before whatever the run meets
  // (here: the store wants a key file, 37).
  WriteFile(dir_ / "pw", "s3cret\n");
  ASSERT_EQ(::chmod((dir_ / "pw").c_str(), 0640), 0);
  r = RunMigstore({"list", "--store", Store(), "--password-file", dir_ / "pw"});
  EXPECT_EQ(r.exit_code, 37) << r.err;
  EXPECT_TRUE(Has(r.err, "migstore list: warning: permissions 0640 for '" +
                             (dir_ / "pw") +
                             "' are too open; it is used anyway, but other "
                             "users may be able to read this password file"))
      << r.err;
}

TEST_F(BadInput, APasswordStoreCostlierThanAllowedIsRefusedBeforeDerivation) {
  // Written through the engine with a cheap Argon2id (2 passes, 2 MiB) so
  // limits below it show the mechanism quickly; the defaults (6 passes,
  // 512 MiB) turn down the format's maximum, 16 passes over 1 GiB, alike.
  WriteFile(dir_ / "pw", "s3cret\n");
  ASSERT_EQ(::chmod((dir_ / "pw").c_str(), 0600), 0);
  CaptureOptions o;
  o.root = root_;
  o.store_path = Store();
  o.rules_files = {dir_ / "all.rules"};
  o.key = *Key::FromPassword("s3cret");
  o.kdf_opslimit = 2;
  o.kdf_memlimit = 2 << 20;
  ASSERT_OK(migstore::Capture(o));
  const std::vector<std::string> verify = {"verify", "--store", Store(),
                                           "--password-file", dir_ / "pw"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = verify;
    args.insert(args.end(), more.begin(), more.end());
    return RunMigstore(args);
  };
  RunResult memory = with({"--max-kdf-memory", "1"});
  EXPECT_EQ(memory.exit_code, 27) << memory.err;
  EXPECT_TRUE(Has(memory.err,
                  "migstore verify: Refused: " + Store() +
                      ": the store's password needs Argon2id with 2 passes "
                      "over 2 MiB, more than this reader spends unless told "
                      "(6 passes, 1 MiB)"))
      << memory.err;
  EXPECT_TRUE(Has(memory.err, "--max-kdf-memory 2")) << memory.err;
  RunResult passes = with({"--max-kdf-passes", "1"});
  EXPECT_EQ(passes.exit_code, 27) << passes.err;
  EXPECT_TRUE(Has(passes.err, "(1 passes, 512 MiB)")) << passes.err;
  for (const char* command : {"list", "restore", "extract"}) {
    RunResult r = RunMigstore(
        Reading(command, Store(),
                {"--password-file", dir_ / "pw", "--max-kdf-passes", "1"}));
    EXPECT_EQ(r.exit_code, 27) << command << ": " << r.err;
    EXPECT_TRUE(Has(r.err, "Refused")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "t"));
  }
  EXPECT_EQ(with({}).exit_code, 0);
  RunResult exact = with({"--max-kdf-passes", "2", "--max-kdf-memory", "2"});
  EXPECT_EQ(exact.exit_code, 0) << exact.err;
  // Beyond the format's own maxima the options mean nothing: refused.
  EXPECT_EQ(with({"--max-kdf-memory", "2048"}).exit_code, 11);
  EXPECT_EQ(with({"--max-kdf-passes", "0"}).exit_code, 11);
}

TEST_F(BadInput, AnEmptyOrShortKeyFileIsRefusedBeforeAnythingIsWritten) {
  WriteFile(dir_ / "empty.key", "");
  WriteFile(dir_ / "short.key", ReadFile(dir_ / "k.key").substr(0, 30));
  for (const auto& [key, message] :
       {std::pair<std::string, std::string>{"empty.key",
                                            "the key file is empty"},
        {"short.key", "the key file is too short"}}) {
    RunResult c = RunMigstore(Capture(Store(), {"--key-file", dir_ / key}));
    EXPECT_EQ(c.exit_code, 33) << c.err;
    EXPECT_TRUE(
        Has(c.err, "Key unreadable: key file " + (dir_ / key) + ": " + message))
        << c.err;
    EXPECT_FALSE(std::filesystem::exists(Store()));
  }
  CaptureWithKey();
  RunResult r = RunMigstore({"restore", "--store", Store(), "--key-file",
                             dir_ / "short.key", "--target", dir_ / "t"});
  EXPECT_EQ(r.exit_code, 33);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "t"));
}

// An object-store name is never taken for a local path (a folder "s3:"
// made beside the caller): a malformed one is a bad argument (11), a
// well-formed one without credentials a store that cannot be reached (27).
TEST_F(BadInput, AnObjectStoreNameIsNeverTakenForAPath) {
  RunOptions no_credentials;
  no_credentials.env = {"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="};
  for (const auto& [name, code] : std::vector<std::pair<std::string, int>>{
           {"s3://Bad_Bucket/pc42.mig", 11},
           {"s3://bucket", 11},
           {"s3://bucket/pc42.mig", 27}}) {
    RunResult c = RunMigstore(Capture(name, {"--no-encrypt"}), no_credentials);
    EXPECT_EQ(c.exit_code, code) << name << ": " << c.err;
    EXPECT_TRUE(Has(c.err, name)) << c.err;
    for (const char* command : {"list", "verify"}) {
      RunResult r = RunMigstore({command, "--store", name}, no_credentials);
      EXPECT_EQ(r.exit_code, code) << command << " " << name << ": " << r.err;
    }
    RunResult r = RunMigstore(
        {"restore", "--store", name, "--target", dir_ / "t"}, no_credentials);
    EXPECT_EQ(r.exit_code, code) << name << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists("s3:"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "t"));
}

TEST_F(BadInput, AMissingStoreADirectoryOrAnotherFileIsNotAStore) {
  RunResult missing = RunMigstore(
      {"restore", "--store", dir_ / "no.mig", "--target", dir_ / "t"});
  EXPECT_EQ(missing.exit_code, 27);
  EXPECT_TRUE(Has(missing.err, "Not found: no such store: ")) << missing.err;

  std::filesystem::create_directories(dir_ / "d.mig");
  WriteFile(dir_ / "d.mig/keep.txt", "keep");
  RunResult dir_store = RunMigstore({"verify", "--store", dir_ / "d.mig"});
  EXPECT_EQ(dir_store.exit_code, 27);
  // A directory may be a hard-link store; this one has no marker.
  EXPECT_TRUE(
      Has(dir_store.err, "is a directory but not a migstore hard-link store"))
      << dir_store.err;
  // Capturing onto a directory leaves it alone, --overwrite or not.
  for (bool overwrite : {false, true}) {
    std::vector<std::string> more = {"--no-encrypt"};
    if (overwrite) more.push_back("--overwrite");
    RunResult c = RunMigstore(Capture(dir_ / "d.mig", more));
    EXPECT_EQ(c.exit_code, 27) << c.err;
    EXPECT_TRUE(Has(c.err, "is a directory")) << c.err;
  }
  EXPECT_EQ(ListDir(dir_ / "d.mig"), std::vector<std::string>{"keep.txt"});

  RunResult not_store = RunMigstore(
      {"restore", "--store", dir_ / "k.key", "--target", dir_ / "t"});
  EXPECT_EQ(not_store.exit_code, 27);
  EXPECT_TRUE(Has(not_store.err, "no migstore signature at the start"))
      << not_store.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "t"));
}

TEST_F(BadInput, AStoreFromAFutureVersionAsksForANewerMigstore) {
  const std::string future =
      SourcePath("tests/golden/invalid/future-version.mig");
  const std::string before = ReadFile(future);
  for (const char* command : {"restore", "verify", "list"}) {
    RunResult r = RunMigstore(Reading(command, future));
    EXPECT_EQ(r.exit_code, 27) << command;
    EXPECT_TRUE(Has(r.err,
                    "store format version 2: this build reads version "
                    "1; use a newer migstore"))
        << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "t"));
  EXPECT_EQ(ReadFile(future), before);
}

TEST_F(BadInput, AnExistingStoreIsKeptWithoutOverwrite) {
  CaptureWithKey();
  const std::string before = ReadFile(Store());
  RunResult c = RunMigstore(Capture(Store(), {"--no-encrypt"}));
  EXPECT_EQ(c.exit_code, 27);
  EXPECT_TRUE(Has(c.err, "already exists (use --overwrite to replace it)"))
      << c.err;
  EXPECT_EQ(ReadFile(Store()), before);
  EXPECT_EQ(ListDir(dir_.path()),
            (std::vector<std::string>{"all.rules", "k.key", "root", "s.mig"}))
      << "no temporary is left";
}

TEST_F(BadInput, ATargetThatCannotBeWrittenStopsTheRestore) {
  RunResult c = RunMigstore(Capture(Store(), {"--no-encrypt"}));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const std::string ro = dir_ / "ro";
  std::filesystem::create_directories(ro);
  WriteFile(ro + "/keep.txt", "keep");
  RunOptions as;
  if (::geteuid() == 0) {
    // Root writes everywhere: restore as nobody, who may read the store.
    as.uid = 65534;
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(Store().c_str(), 0644), 0);
  }
  ASSERT_EQ(::chmod(ro.c_str(), 0555), 0);
  // A target that cannot be made: the environment failed, 71.
  RunResult none =
      RunMigstore({"restore", "--store", Store(), "--target", ro + "/new"}, as);
  EXPECT_EQ(none.exit_code, 71) << none.err;
  EXPECT_TRUE(
      Has(none.err, "cannot make the target " + ro + "/new: Permission denied"))
      << none.err;
  // A target that exists but cannot be written: its first entry fails, and
  // the restore stops there (61), or skips every entry (3).
  RunResult stop =
      RunMigstore({"restore", "--store", Store(), "--target", ro}, as);
  EXPECT_EQ(stop.exit_code, 61) << stop.err;
  EXPECT_TRUE(Has(stop.err, "cannot make the folder home: Permission denied"))
      << stop.err;
  RunResult skip = RunMigstore(
      {"restore", "--store", Store(), "--target", ro, "--continue-on-error"},
      as);
  EXPECT_EQ(skip.exit_code, 3) << skip.err;
  ASSERT_EQ(::chmod(ro.c_str(), 0755), 0);
  EXPECT_EQ(ListDir(ro), std::vector<std::string>{"keep.txt"});
  EXPECT_EQ(ReadFile(ro + "/keep.txt"), "keep");
}

// A filesystem that fills up: a 1 MiB tmpfs where the test may mount (root),
// else RLIMIT_FSIZE of 1 MiB on the migstore process (EFBIG, not ENOSPC,
// but the same path through the code: a write that fails part-way).
struct SmallDisk {
  explicit SmallDisk(const std::string& at) : mount(at, "1m") {
    if (!mount.mounted()) run.file_size_limit = 1 << 20;
    full_message =
        mount.mounted() ? "No space left on device" : "File too large";
  }
  TmpfsMount mount;
  RunOptions run;
  std::string full_message;
};

TEST_F(BadInput, ADiskFillingUpDuringCaptureLeavesNoStore) {
  // 3 MiB that zstd cannot shrink.
  WriteFile(root_ + "/home/alice/noise.bin",
            DeterministicRandom(7).Bytes(3 << 20));
  sources_ = SnapshotTree(root_);
  SmallDisk disk(dir_ / "small");
  RunResult c =
      RunMigstore(Capture(dir_ / "small/s.mig", {"--no-encrypt"}), disk.run);
  EXPECT_EQ(c.exit_code, 71) << c.err;
  EXPECT_TRUE(Has(c.err, disk.full_message)) << c.err;
  EXPECT_TRUE(ListDir(dir_ / "small").empty()) << "no store, no temporary";
}

TEST_F(BadInput, ADiskFillingUpDuringRestoreKeepsWhatWasThere) {
  WriteFile(root_ + "/home/alice/noise.bin",
            DeterministicRandom(7).Bytes(3 << 20));
  sources_ = SnapshotTree(root_);
  CaptureWithKey();
  SmallDisk disk(dir_ / "small");
  const std::string t = dir_ / "small/t";
  std::filesystem::create_directories(t + "/home/alice");
  WriteFile(t + "/home/alice/keep.txt", "keep");
  RunResult stop = RunMigstore(Restore(t), disk.run);
  EXPECT_EQ(stop.exit_code, 61) << stop.err;
  EXPECT_TRUE(Has(stop.err, "home/alice/noise.bin")) << stop.err;
  EXPECT_TRUE(Has(stop.err, disk.full_message)) << stop.err;
  EXPECT_TRUE(Has(stop.err, "(use --continue-on-error to skip such files)"));
  ExpectOnlyWholeFiles(t);
  EXPECT_FALSE(std::filesystem::exists(t + "/home/alice/noise.bin"));
  EXPECT_EQ(ReadFile(t + "/home/alice/keep.txt"), "keep");

  RunResult skip = RunMigstore(Restore(t, {"--continue-on-error"}), disk.run);
  EXPECT_EQ(skip.exit_code, 3) << skip.err;
  EXPECT_TRUE(Has(skip.err, "home/alice/noise.bin")) << skip.err;
  ExpectOnlyWholeFiles(t);
  EXPECT_FALSE(std::filesystem::exists(t + "/home/alice/noise.bin"));
  EXPECT_EQ(ReadFile(t + "/home/alice/keep.txt"), "keep");
}

TEST_F(BadInput, PathsLongerThanPathMaxAreNamedAndTheRestIsKept) {
  std::string deep = "home/alice/deep";
  while (deep.size() <= PATH_MAX) deep += "/" + std::string(200, 'd');
  WriteFileBelow(root_, deep + "/deep.txt", "deep");
  sources_ = SnapshotTree(root_);
  RunResult stop = RunMigstore(Capture(Store(), {"--no-encrypt"}));
  EXPECT_EQ(stop.exit_code, 61) << stop.err;
  EXPECT_TRUE(Has(stop.err, "File name too long")) << stop.err;
  EXPECT_TRUE(Has(stop.err, "home/alice/deep/ddd")) << stop.err;
  EXPECT_FALSE(std::filesystem::exists(Store()));

  RunResult skip =
      RunMigstore(Capture(Store(), {"--no-encrypt", "--continue-on-error"}));
  EXPECT_EQ(skip.exit_code, 3) << skip.err;
  RunResult r =
      RunMigstore({"restore", "--store", Store(), "--target", dir_ / "t"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  TreeCompareOptions o;
  o.directory_times = false;
  o.ignore = {"alice/deep"};
  EXPECT_EQ(CompareTrees(root_ + "/home", dir_ / "t/home", o), "");
}

TEST_F(BadInput, SymlinkLoopsAreStoredAsLinksAndNeverFollowed) {
  const std::string a = root_ + "/home/alice";
  ASSERT_EQ(::symlink("loop", (a + "/loop").c_str()), 0);
  ASSERT_EQ(::symlink("ping", (a + "/pong").c_str()), 0);
  ASSERT_EQ(::symlink("pong", (a + "/ping").c_str()), 0);
  std::filesystem::create_directories(a + "/up");
  ASSERT_EQ(::symlink("../..", (a + "/up/home").c_str()), 0);
  sources_ = SnapshotTree(root_);
  RunResult c = RunMigstore(Capture(Store(), {"--no-encrypt"}));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  RunResult r =
      RunMigstore({"restore", "--store", Store(), "--target", dir_ / "t"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CompareTrees(root_ + "/home", dir_ / "t/home"), "");
}

TEST_F(BadInput, MalformedRulesAreNamedByFileLineAndColumn) {
  WriteFile(dir_ / "bad.rules", "include %USERPROFILE%\nbogus line here\n");
  RunResult native = RunMigstore(
      Capture(Store(), {"--no-encrypt", "--rules", dir_ / "bad.rules"}));
  EXPECT_EQ(native.exit_code, 11);
  EXPECT_TRUE(Has(native.err, dir_ / "bad.rules:2:1: unknown keyword 'bogus'"))
      << native.err;
  WriteFile(dir_ / "bad.xml",
            "<migration urlid=\"x\">\n<component>\n  <role></component>\n");
  RunResult xml = RunMigstore(
      Capture(Store(), {"--no-encrypt", "--rules", dir_ / "bad.xml"}));
  EXPECT_EQ(xml.exit_code, 11);
  EXPECT_TRUE(Has(xml.err, dir_ / "bad.xml:3:")) << xml.err;
  EXPECT_TRUE(Has(xml.err, "not well-formed XML")) << xml.err;
  EXPECT_FALSE(std::filesystem::exists(Store()));
}

// Every command that reads rules files, with `rules` as one: a capture into
// `new_store`, a restore of `store` (encrypted with `key`) into `target`.
std::vector<std::vector<std::string>> RulesCommands(
    const std::string& root, const std::string& new_store,
    const std::string& store, const std::string& key, const std::string& target,
    const std::string& rules) {
  return {{"capture", "--root", root, "--store", new_store, "--no-encrypt",
           "--rules", rules},
          {"estimate", "--root", root, "--rules", rules},
          {"explain", "--root", root, "--rules", rules, "home/alice"},
          {"restore", "--store", store, "--key-file", key, "--target", target,
           "--rules", rules}};
}

// Elements nested thousands deep used to overflow the readers' stacks
// (SIGSEGV): components in roles and <conditions> in <conditions> recurse
// once per level. They are refused at the first element past the limit. A
// native pattern of 400000 literal folders made the rule index as deep, and
// the capture overflowed its stack on the first folder of the pattern.
TEST_F(BadInput, RulesNestedThousandsDeepAreRefusedNotACrash) {
  CaptureWithKey();
  const std::string store_before = ReadFile(Store());
  constexpr int kLevels = 100000;  // 50000 crashed every reader
  // One element a line: the element at level L starts line L, column 1.
  std::string components = "<migration urlid=\"deep\">\n";
  for (int i = 0; i < kLevels; ++i) {
    components += i % 2 == 0 ? "<component type=\"Documents\">\n"
                             : "<role role=\"Data\">\n";
  }
  for (int i = kLevels - 1; i >= 0; --i)
    components += i % 2 == 0 ? "</component>" : "</role>";
  components += "</migration>\n";
  WriteFile(dir_ / "components.xml", components);
  std::string conditions =
      "<migration urlid=\"deep\">\n<component type=\"Documents\">\n"
      "<role role=\"Data\">\n<rules>\n";
  for (int i = 0; i < kLevels; ++i) conditions += "<conditions>\n";
  conditions += "<condition>MigXmlHelper.IsNative64Bit()</condition>";
  for (int i = 0; i < kLevels; ++i) conditions += "</conditions>";
  conditions += "</rules></role></component></migration>\n";
  WriteFile(dir_ / "conditions.xml", conditions);
  // A million levels: pugixml's parser and its tree's destruction are loops,
  // so the depth is measured before anything recurses.
  std::string million = "<migration urlid=\"deep\">\n";
  for (int i = 0; i < 1000000; ++i) million += "<x>";
  for (int i = 0; i < 1000000; ++i) million += "</x>";
  million += "</migration>\n";
  WriteFile(dir_ / "million.xml", million);

  const std::string t = dir_ / "t";
  for (const auto& [file, where] :
       std::vector<std::pair<std::string, std::string>>{
           {"components.xml", ":101:1: element <role>"},
           {"conditions.xml", ":101:1: element <conditions>"},
           {"million.xml", ":2:298: element <x>"}}) {
    const std::string rules = dir_ / file;
    for (const auto& args : RulesCommands(root_, dir_ / "new.mig", Store(),
                                          dir_ / "k.key", t, rules)) {
      RunResult r = RunMigstore(args);
      EXPECT_EQ(r.exit_code, 11) << args[0] << " " << file << ": " << r.err;
      EXPECT_TRUE(Has(r.err, "migstore " + args[0] +
                                 ": Invalid argument: " + rules + where +
                                 " is nested deeper than 100 levels"))
          << args[0] << ": " << r.err;
    }
  }
  // Config.xml components nest too.
  std::string config = "<Configuration>\n<Applications>\n";
  for (int i = 0; i < kLevels; ++i)
    config += "<component displayname=\"c\" migrate=\"yes\">\n";
  for (int i = 0; i < kLevels; ++i) config += "</component>";
  config += "</Applications></Configuration>\n";
  WriteFile(dir_ / "config.xml", config);
  RunResult c = RunMigstore(Capture(
      dir_ / "new.mig", {"--no-encrypt", "--config", dir_ / "config.xml"}));
  EXPECT_EQ(c.exit_code, 11) << c.err;
  EXPECT_TRUE(Has(c.err, dir_ / "config.xml:101:1: element <component> is "
                                "nested deeper than 100 levels"))
      << c.err;
  // Rules are read before anything is made or opened for writing.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "new.mig"));
  EXPECT_FALSE(std::filesystem::exists(t));
  EXPECT_EQ(ReadFile(Store()), store_before);
  // 100 levels are read.
  std::string hundred = "<migration urlid=\"deep\">\n";
  for (int i = 1; i < 100; ++i) hundred += "<x>";
  for (int i = 1; i < 100; ++i) hundred += "</x>";
  hundred += "</migration>\n";
  WriteFile(dir_ / "hundred.xml", hundred);
  RunResult ok = RunMigstore(
      {"explain", "--root", root_, "--rules", dir_ / "hundred.xml", "home"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  std::filesystem::create_directories(root_ + "/a/a");
  sources_ = SnapshotTree(root_);
  std::string deep = "include ";
  for (int i = 0; i < 400000; ++i) deep += "/a";
  WriteFile(dir_ / "deep.rules", deep + "/b.txt\n");
  RunResult walk =
      RunMigstore({"capture", "--root", root_, "--store", dir_ / "new.mig",
                   "--no-encrypt", "--rules", dir_ / "deep.rules"});
  EXPECT_EQ(walk.exit_code, 0) << walk.err;
}

// Bytes below 0x20 (but the newline that ends a line) or 0x7f.
bool HasControlBytes(const std::string& text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u == 0x7f) return true;
  }
  return false;
}

// A crafted store's user, owner and group names, and a rules file's bytes,
// used to reach the terminal and the logs raw: ESC could clear the screen,
// CR and LF forge log lines. They are shown like names (docs/cli.md).
TEST_F(BadInput, ControlCharactersFromAStoreOrARulesFileAreEscaped) {
  const std::string evil = "ev\x1b[2Jil\r\n2026-01-01 forged\x07";
  const std::string shown = "ev\\x1b[2Jil\\x0d\\x0a2026-01-01 forged\\x07";
  format::MemoryStore s;
  s.profiles = {MakeProfile(evil, "home/evil", 4242)};
  s.owner_names = {{4242,
                    "own\x1b]0;title\x07"
                    "er"}};
  s.group_names = {{4242, "gr\roup\n"}};
  s.files = {MakeDir(0, "home/evil"), MakeFile(0, "home/evil/a.txt", "a")};
  for (format::MemoryFile& f : s.files) f.entry.uid = f.entry.gid = 4242;
  const std::string store = dir_ / "evil.mig";
  ASSERT_OK(format::WriteMemoryStore(store, format::KeySource::None(), s,
                                     QuickOptions()));

  RunResult list = RunMigstore({"list", "--store", store});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Has(list.out, "user " + shown + " (home/evil)\n")) << list.out;
  EXPECT_FALSE(HasControlBytes(list.out)) << list.out;
  RunResult json = RunMigstore({"list", "--store", store, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(Has(json.out, "\"owner\":\"own\\\\x1b]0;title\\\\x07er\""))
      << json.out;
  EXPECT_FALSE(HasControlBytes(json.out)) << json.out;

  // As root the owners are looked up in the target's etc/passwd: these are
  // not there, so notes name them. Otherwise a note says owners are kept.
  const std::string t = dir_ / "t";
  RunResult r =
      RunMigstore({"restore", "--store", store, "--target", t, "--log",
                   dir_ / "load.log", "--progress-log", dir_ / "progress.log"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(t + "/home/evil/a.txt"), "a");
  EXPECT_TRUE(Has(r.out, "user " + shown + " (home/evil): restored")) << r.out;
  const std::string log = ReadFile(dir_ / "load.log");
  const std::string progress = ReadFile(dir_ / "progress.log");
  EXPECT_TRUE(Has(log, "User " + shown + " (home/evil): restored")) << log;
  EXPECT_TRUE(Has(progress, "detectedUser, " + shown + ", ")) << progress;
  if (::geteuid() == 0) {
    EXPECT_TRUE(Has(r.err, "note: owner 4242 (own\\x1b]0;title\\x07er)"))
        << r.err;
    EXPECT_TRUE(Has(r.err, "note: group 4242 (gr\\x0doup\\x0a)")) << r.err;
    EXPECT_TRUE(Has(log, "owner 4242 (own\\x1b]0;title\\x07er)")) << log;
  }
  for (const std::string* text : std::initializer_list<const std::string*>{
           &r.out, &r.err, &log, &progress})
    EXPECT_FALSE(HasControlBytes(*text)) << *text;

  // A rules file's bytes quoted in an error, and in a warning.
  WriteFile(dir_ / "bad.rules", "bo\x1b[2Jgus\x07 line\n");
  RunResult bad = RunMigstore(
      Capture(Store(), {"--no-encrypt", "--rules", dir_ / "bad.rules"}));
  EXPECT_EQ(bad.exit_code, 11);
  EXPECT_TRUE(
      Has(bad.err, "bad.rules:1:1: unknown keyword 'bo\\x1b[2Jgus\\x07'"))
      << bad.err;
  EXPECT_FALSE(HasControlBytes(bad.err)) << bad.err;
  WriteFile(dir_ / "warn.xml",
            "<migration urlid=\"w\"><component type=\"Documents\">"
            "<role role=\"Data\"><rules><include><objectSet>"
            "<pattern type=\"Fi\x1b[2Jle\">x</pattern>"
            "</objectSet></include></rules></role></component></migration>\n");
  RunResult warn = RunMigstore(
      Capture(Store(), {"--no-encrypt", "--rules", dir_ / "warn.xml", "--log",
                        dir_ / "capture.log"}));
  EXPECT_EQ(warn.exit_code, 0) << warn.err;
  EXPECT_TRUE(Has(warn.err, "pattern of unknown type 'Fi\\x1b[2Jle'"))
      << warn.err;
  EXPECT_FALSE(HasControlBytes(warn.err)) << warn.err;
  EXPECT_FALSE(HasControlBytes(ReadFile(dir_ / "capture.log")));
}

// Files that vanish or grow between the walk and their reading: the walk
// is over when the "Saving" phase starts, so the observer changes them
// there, deterministically.
class ChangeAtSaving : public CaptureObserver {
 public:
  explicit ChangeAtSaving(std::string home) : home_(std::move(home)) {}
  void OnProgress(const CaptureProgress& p) override {
    if (done_ || std::string(p.phase) != "Saving") return;
    done_ = true;
    std::filesystem::remove(home_ + "/gone.txt");
    WriteFile(home_ + "/grows.txt", "before and after");
  }

 private:
  std::string home_;
  bool done_ = false;
};

TEST_F(BadInput, FilesThatVanishOrGrowDuringCaptureAreReportedOrWhole) {
  const std::string home = root_ + "/home/alice";
  for (bool keep_going : {false, true}) {
    WriteFile(home + "/gone.txt", "here at the walk");
    WriteFile(home + "/grows.txt", "before");
    std::filesystem::remove(Store());
    ChangeAtSaving observer(home);
    CaptureOptions o;
    o.root = root_;
    o.store_path = Store();
    o.encrypt = false;
    o.threads = 2;
    o.rules_files = {dir_ / "all.rules"};
    o.continue_on_error = keep_going;
    auto report = migstore::Capture(o, &observer);
    if (!keep_going) {
      ASSERT_FALSE(report.ok());
      EXPECT_TRUE(report.status().IsStopped()) << report.status().ToString();
      EXPECT_TRUE(Has(report.status().ToString(), "home/alice/gone.txt"));
      EXPECT_FALSE(std::filesystem::exists(Store()));
      continue;
    }
    ASSERT_OK(report);
    ASSERT_EQ(report->errors.size(), 1u);
    EXPECT_EQ(report->errors[0].path, "home/alice/gone.txt");
    EXPECT_TRUE(Has(report->errors[0].status.ToString(), "No such file"))
        << report->errors[0].status.ToString();
    RunResult r =
        RunMigstore({"restore", "--store", Store(), "--target", dir_ / "t"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "t/home/alice/gone.txt"));
    EXPECT_EQ(ReadFile(dir_ / "t/home/alice/grows.txt"), "before and after")
        << "a file that grew is stored as it is now, whole";
  }
  sources_ = SnapshotTree(root_);
}

}  // namespace
}  // namespace migstore::testing
