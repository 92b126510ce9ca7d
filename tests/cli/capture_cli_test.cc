// capture, estimate, list and keygen as scripts and administrators use them:
// exit codes, JSON, logs, key sources, unreadable files.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "bench/dataset.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore::testing {
namespace {

class CaptureCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.files = 300;
    spec.bytes = 3 << 20;
    spec.sparse_image = false;
    ASSERT_OK(bench::GenerateDataset(root_, spec));
    ASSERT_EQ(RunMigstore({"keygen", "--out", dir_ / "k.key"}).exit_code, 0);
  }
  std::string Store() const { return dir_ / "s.mig"; }

  TempDir dir_;
  std::string root_;
};

TEST_F(CaptureCli, CaptureThenListWithAKeyFile) {
  RunResult c = RunMigstore({"capture", "--root", root_, "--store", Store(),
                             "--key-file", dir_ / "k.key", "--threads", "2"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_TRUE(Has(c.out, "captured 3 of 3 users")) << c.out;
  EXPECT_TRUE(Has(c.out, "encrypted with a key file")) << c.out;
  RunResult l = RunMigstore(
      {"list", "--store", Store(), "--key-file", dir_ / "k.key", "--json"});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_TRUE(Has(l.out, "\"users\":[{\"name\":\"alice\""))
      << l.out.substr(0, 400);
  EXPECT_TRUE(
      Has(l.out, "\"path\":\"home/alice/.ssh/id_ed25519\",\"type\":\"file\""));
  // Names that are not UTF-8 are shown byte for byte as \xNN, and newlines too.
  EXPECT_TRUE(Has(l.out, "caf\\\\xe9 latin-1.txt")) << "Latin-1 byte";
  EXPECT_TRUE(Has(l.out, "line\\\\x0abreak.txt")) << "newline";
  EXPECT_TRUE(Has(l.out, "\"type\":\"symlink\""));
  RunResult human =
      RunMigstore({"list", "--store", Store(), "--key-file", dir_ / "k.key"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_TRUE(Has(human.out, "encrypted with a key file"));
}

// --cipher aes-256-gcm: the capture and the listing say so, and every
// reading command reads the store as it reads any other (the header tells
// it the cipher).
TEST_F(CaptureCli, AnAesGcmStoreIsReadByEveryCommand) {
  WriteFile(dir_ / "all.rules", "include %USERPROFILE%\n");
  RunResult c = RunMigstore({"capture", "--root", root_, "--store", Store(),
                             "--key-file", dir_ / "k.key", "--rules",
                             dir_ / "all.rules", "--cipher", "aes-256-gcm"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_TRUE(Has(c.out, "encrypted with a key file (aes-256-gcm)")) << c.out;
  RunResult l = RunMigstore(
      {"list", "--store", Store(), "--key-file", dir_ / "k.key", "--json"});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_TRUE(
      Has(l.out, "\"encryption\":\"key file\",\"cipher\":\"aes-256-gcm\""))
      << l.out.substr(0, 300);
  RunResult human =
      RunMigstore({"list", "--store", Store(), "--key-file", dir_ / "k.key"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_TRUE(Has(human.out, "encrypted with a key file (aes-256-gcm)"))
      << human.out.substr(0, 300);
  RunResult v = RunMigstore({"verify", "--store", Store(), "--key-file",
                             dir_ / "k.key", "--mode", "all"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_TRUE(Has(v.out, "CATALOG\tOK\n")) << v.out.substr(0, 300);
  const std::string t = dir_ / "t";
  RunResult r = RunMigstore({"restore", "--store", Store(), "--key-file",
                             dir_ / "k.key", "--target", t});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(CompareTrees(root_ + "/home", t + "/home"), "");
  // The wrong key is still the wrong key.
  ASSERT_EQ(RunMigstore({"keygen", "--out", dir_ / "other.key"}).exit_code, 0);
  EXPECT_EQ(RunMigstore({"verify", "--store", Store(), "--key-file",
                         dir_ / "other.key"})
                .exit_code,
            37);

  // The default, named or not.
  for (const char* named : {"", "xchacha20-poly1305"}) {
    std::vector<std::string> args = {
        "capture",     "--root",     root_,          "--store", dir_ / "x.mig",
        "--overwrite", "--key-file", dir_ / "k.key", "--json"};
    if (*named != '\0') args.insert(args.end(), {"--cipher", named});
    RunResult d = RunMigstore(args);
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_TRUE(
        Has(d.out, "\"encrypted\":true,\"cipher\":\"xchacha20-poly1305\""))
        << d.out.substr(0, 300);
  }
}

// A cipher seals only what a key protects: asked for without one, the
// capture says so and writes nothing; an unknown name is a usage error.
TEST_F(CaptureCli, ACipherWithoutAKeyOrOfAnUnknownNameIsRefused) {
  const std::string store = dir_ / "c.mig";
  RunResult unknown =
      RunMigstore({"capture", "--root", root_, "--store", store, "--key-file",
                   dir_ / "k.key", "--cipher", "rot13"});
  EXPECT_EQ(unknown.exit_code, 11);
  EXPECT_TRUE(Has(unknown.err, "--cipher")) << unknown.err;
  RunResult plain = RunMigstore({"capture", "--root", root_, "--store", store,
                                 "--no-encrypt", "--cipher", "aes-256-gcm"});
  EXPECT_EQ(plain.exit_code, 11);
  EXPECT_TRUE(Has(plain.err, "not encrypted (--no-encrypt)")) << plain.err;
  RunResult no_key = RunMigstore({"capture", "--root", root_, "--store", store,
                                  "--cipher", "aes-256-gcm"});
  EXPECT_EQ(no_key.exit_code, 11);
  EXPECT_TRUE(Has(no_key.err, "needs a key")) << no_key.err;
  RunResult hardlink =
      RunMigstore({"capture", "--hardlink", "--root", root_, "--store",
                   dir_ / "hl", "--cipher", "xchacha20-poly1305"});
  EXPECT_EQ(hardlink.exit_code, 11);
  EXPECT_TRUE(Has(hardlink.err, "a hard-link store")) << hardlink.err;
  EXPECT_FALSE(std::filesystem::exists(store));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "hl"));
}

TEST_F(CaptureCli, KeysComeFromFilesTheEnvironmentOrStdinNeverArgv) {
  WriteFile(dir_ / "pw", "s3cret\n");
  RunOptions env;
  env.env = {"MIGSTORE_PASSWORD=s3cret"};
  // Argon2id at full cost here: one capture is enough to show the path.
  RunResult c =
      RunMigstore({"capture", "--root", root_, "--store", Store()}, env);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(
      RunMigstore({"list", "--store", Store(), "--password-file", dir_ / "pw"})
          .exit_code,
      0);
  RunOptions in;
  in.stdin_data = "s3cret\n";
  EXPECT_EQ(RunMigstore({"list", "--store", Store(), "--password-stdin"}, in)
                .exit_code,
            0);
  RunResult wrong =
      RunMigstore({"list", "--store", Store(), "--key-file", dir_ / "k.key"});
  EXPECT_EQ(wrong.exit_code, 37) << wrong.err;
  EXPECT_TRUE(Has(wrong.err, "password")) << wrong.err;
  EXPECT_EQ(RunMigstore({"list", "--store", Store()}).exit_code, 37)
      << "no key at all";
  // There is no option that takes a password itself.
  EXPECT_EQ(RunMigstore({"list", "--store", Store(), "--password", "s3cret"})
                .exit_code,
            11);
}

TEST_F(CaptureCli, MistakesGetTheirUsmtCodes) {
  // Encryption is on unless said otherwise.
  RunResult no_key =
      RunMigstore({"capture", "--root", root_, "--store", Store()});
  EXPECT_EQ(no_key.exit_code, 11);
  EXPECT_TRUE(Has(no_key.err, "--no-encrypt")) << no_key.err;
  EXPECT_EQ(
      RunMigstore({"capture", "--root", root_, "--store", Store(), "--key-file",
                   dir_ / "k.key", "--password-file", dir_ / "k.key"})
          .exit_code,
      11);
  EXPECT_EQ(RunMigstore({"capture", "--root", root_, "--store", Store(),
                         "--no-encrypt", "--key-file", dir_ / "k.key"})
                .exit_code,
            11);
  EXPECT_EQ(RunMigstore({"capture", "--root", root_, "--store", Store(),
                         "--key-file", dir_ / "missing.key"})
                .exit_code,
            33);
  WriteFile(dir_ / "empty.key", "");
  EXPECT_EQ(RunMigstore({"capture", "--root", root_, "--store", Store(),
                         "--key-file", dir_ / "empty.key"})
                .exit_code,
            33);
  // An existing store is kept without --overwrite.
  WriteFile(Store(), "not to be replaced");
  RunResult exists = RunMigstore(
      {"capture", "--root", root_, "--store", Store(), "--no-encrypt"});
  EXPECT_EQ(exists.exit_code, 27) << exists.err;
  EXPECT_EQ(ReadFile(Store()), "not to be replaced");
  EXPECT_EQ(RunMigstore({"capture", "--root", root_, "--store", Store(),
                         "--no-encrypt", "--overwrite"})
                .exit_code,
            0);
  EXPECT_EQ(RunMigstore({"list", "--store", dir_ / "missing.mig"}).exit_code,
            27);
  EXPECT_EQ(RunMigstore({"list", "--store", dir_ / "k.key"}).exit_code, 27)
      << "not a store";
  EXPECT_EQ(RunMigstore({"keygen", "--out", dir_ / "k.key"}).exit_code, 27)
      << "exists";
  EXPECT_EQ(RunMigstore({"capture", "--root", root_, "--store", dir_ / "x.mig",
                         "--no-encrypt", "--level", "99"})
                .exit_code,
            11);
}

TEST_F(CaptureCli, UnreadableFilesStopTheRunOrAreSkippedAndReported) {
  const std::string secret = root_ + "/home/alice/Documents/secret.txt";
  WriteFile(secret, "private");
  ASSERT_EQ(::chmod(secret.c_str(), 0), 0);
  RunOptions as;
  if (::geteuid() == 0) {
    // Root reads everything: run as nobody, who may read the rest.
    as.uid = 65534;
    as.gid = 65534;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (e.is_directory() && !e.is_symlink()) {
        std::filesystem::permissions(e.path(), std::filesystem::perms::all);
      } else if (e.is_regular_file() && e.path() != secret) {
        std::filesystem::permissions(e.path(),
                                     std::filesystem::perms::owner_read |
                                         std::filesystem::perms::group_read |
                                         std::filesystem::perms::others_read);
      }
    }
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::all);
  }
  RunResult stop = RunMigstore({"capture", "--root", root_, "--store", Store(),
                                "--no-encrypt", "--log", dir_ / "stop.log"},
                               as);
  EXPECT_EQ(stop.exit_code, 61) << stop.out << stop.err;
  EXPECT_TRUE(Has(stop.err, "secret.txt")) << stop.err;
  EXPECT_FALSE(std::filesystem::exists(Store()))
      << "nothing is left after a stop";
  std::string stop_log = ReadFile(dir_ / "stop.log");
  EXPECT_TRUE(Has(stop_log, "Failed: Stopped")) << stop_log;
  EXPECT_TRUE(Has(stop_log, "USMT ERROR SUMMARY")) << stop_log;
  EXPECT_TRUE(Has(stop_log, "| Yes ")) << "the error caused the abort";

  RunResult skip =
      RunMigstore({"capture", "--root", root_, "--store", Store(),
                   "--no-encrypt", "--continue-on-error", "--json", "--log",
                   dir_ / "skip.log", "--progress-log", dir_ / "progress.log",
                   "--list-files", dir_ / "list.txt"},
                  as);
  EXPECT_EQ(skip.exit_code, 3) << skip.err;
  EXPECT_TRUE(Has(skip.out,
                  "\"errors\":[{\"path\":\"home/alice/Documents/secret.txt\""))
      << skip.out;
  EXPECT_TRUE(Has(skip.out, "\"exit_code\":3"));
  EXPECT_TRUE(std::filesystem::exists(Store()));
  std::string log = ReadFile(dir_ / "skip.log");
  EXPECT_TRUE(Has(log, "Success, 1 errors ignored.")) << log;
  EXPECT_TRUE(Has(log, "| No ")) << log;
  std::string progress = ReadFile(dir_ / "progress.log");
  EXPECT_TRUE(Has(progress, ", PHASE, Saving")) << progress;
  // The percentage reaches 100 before Done, however coarse the progress.
  EXPECT_TRUE(Has(progress, ", totalPercentageCompleted, 100\n")) << progress;
  EXPECT_LT(progress.find(", totalPercentageCompleted, 100\n"),
            progress.find(", PHASE, Done"));
  EXPECT_TRUE(
      Has(progress,
          ", error, UnableToCopy, objectName, home/alice/Documents/secret.txt, "
          "action, Ignore"))
      << progress;
  EXPECT_TRUE(Has(progress, ", detectedUser, alice, includedInMigration, Yes"));
  std::string listed = ReadFile(dir_ / "list.txt");
  EXPECT_TRUE(Has(listed, "home/alice/.bashrc\n"));
  EXPECT_FALSE(Has(listed, "secret.txt"));
}

TEST_F(CaptureCli, TheStoreInsideTheCapturedTreeIsLeftOut) {
  const std::string inside = root_ + "/home/alice/Documents/inside.mig";
  ASSERT_EQ(RunMigstore(
                {"capture", "--root", root_, "--store", inside, "--no-encrypt"})
                .exit_code,
            0);
  ASSERT_EQ(RunMigstore({"capture", "--root", root_, "--store", inside,
                         "--no-encrypt", "--overwrite"})
                .exit_code,
            0);
  RunResult l = RunMigstore({"list", "--store", inside, "--json"});
  EXPECT_EQ(l.exit_code, 0);
  EXPECT_TRUE(Has(l.out, "\"path\":\"home/alice/Documents/odd\""));
  EXPECT_FALSE(Has(l.out, "\"path\":\"home/alice/Documents/inside.mig"))
      << "captured itself";
  EXPECT_FALSE(Has(l.out, "migtmp")) << "captured its own temporary";
}

TEST_F(CaptureCli, TooLittleFreeSpaceIsCode29BeforeAnythingIsWritten) {
  // No filesystem here has an exabyte free.
  RunResult c = RunMigstore({"capture", "--root", root_, "--store", Store(),
                             "--no-encrypt", "--min-free", "1EB"});
  EXPECT_EQ(c.exit_code, 29) << c.err;
  EXPECT_TRUE(Has(c.err, "below the")) << c.err;
  EXPECT_FALSE(std::filesystem::exists(Store()));
  RunResult ok = RunMigstore({"capture", "--root", root_, "--store", Store(),
                              "--no-encrypt", "--min-free", "1MB"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const std::string target = dir_ / "not/yet";
  RunResult r = RunMigstore(
      {"restore", "--store", Store(), "--target", target, "--min-free", "1EB"});
  EXPECT_EQ(r.exit_code, 29) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "not"));
  EXPECT_EQ(RunMigstore({"restore", "--store", Store(), "--target", target,
                         "--min-free", "1MB"})
                .exit_code,
            0);
  // An object store has no filesystem to check.
  EXPECT_EQ(
      RunMigstore({"capture", "--root", root_, "--store", "s3://bucket/s.mig",
                   "--no-encrypt", "--min-free", "1MB"})
          .exit_code,
      11);
}

TEST_F(CaptureCli, EstimateWritesNothingAndSaysHowBig) {
  RunResult e = RunMigstore({"estimate", "--root", root_, "--json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_TRUE(Has(e.out, "\"estimated_store_size\":")) << e.out;
  EXPECT_TRUE(Has(e.out, "\"compression_ratio\":"));
  EXPECT_EQ(ListDir(dir_.path()), (std::vector<std::string>{"k.key", "root"}));

  // ScanState /p:FILE: the same estimate as <PreMigration> XML.
  const std::string xml = dir_ / "pre.xml";
  RunResult p = RunMigstore(
      {"estimate", "--root", root_, "--json", "--premigration", xml});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::string size = [&] {
    size_t at = p.out.find("\"estimated_store_size\":") + 23;
    return p.out.substr(at, p.out.find_first_of(",}", at) - at);
  }();
  const std::string text = ReadFile(xml);
  EXPECT_TRUE(Has(text,
                  "<PreMigration>\n  <storeSize>\n    <size "
                  "clusterSize=\""))
      << text;
  EXPECT_TRUE(Has(text, "\">" + size + "</size>")) << text << size;
  EXPECT_TRUE(Has(text, "<temporarySpace>\n    <size>0</size>")) << text;
  // Kept unless --overwrite.
  EXPECT_EQ(RunMigstore({"estimate", "--root", root_, "--premigration", xml})
                .exit_code,
            27);
  EXPECT_EQ(RunMigstore({"estimate", "--root", root_, "--premigration", xml,
                         "--overwrite"})
                .exit_code,
            0);
}

}  // namespace
}  // namespace migstore::testing
