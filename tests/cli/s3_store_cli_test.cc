// Stores in an object store, end to end: the real CLI captures to
// s3://bucket/key on a loopback S3 server (moto_server, else s3rver; see
// tests/util/s3_server.h) and list, verify, extract and restore read it
// there by ranged GETs. Overwrite rules, a capture killed mid-upload
// (nothing published), a damaged object (found and kept local, as in a
// file), and credentials or endpoints that do not work (USMT's 27, a store
// location that cannot be used).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "bench/dataset.h"
#include "engine/src/store/s3_client.h"
#include "engine/src/store/s3_store.h"
#include "format/container_reader.h"
#include "format/layout.h"
#include "tests/util/s3_server.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore::testing {
namespace {

using store::S3Client;
using store::S3Location;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

// One server and one source tree for the suite: starting moto takes
// seconds, and every test reads the same capture.
class S3StoreCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = S3TestServer::Start(&why_not_).release();
    if (server_ == nullptr) return;
    dir_ = new TempDir();
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.files = 300;
    spec.bytes = 24 << 20;  // a store of several parts and blocks
    ASSERT_OK(bench::GenerateDataset(*dir_ / "root", spec));
    WriteFile(*dir_ / "all.rules", "include %USERPROFILE%\n");
    ASSERT_EQ(RunMigstore({"keygen", "--out", *dir_ / "k.key"}).exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << why_not_;
    client_ = std::make_unique<S3Client>(server_->Config());
  }

  static std::string Root() { return *dir_ / "root"; }
  static std::string Key() { return *dir_ / "k.key"; }
  std::string Name(const std::string& key) const {
    return "s3://" + server_->bucket() + "/" + key;
  }
  S3Location At(const std::string& key) const {
    return S3Location{server_->bucket(), key};
  }
  std::vector<std::string> CaptureArgs(const std::string& key) const {
    return {"capture",           "--root",     Root(),
            "--store",           Name(key),    "--rules",
            *dir_ / "all.rules", "--key-file", Key()};
  }
  RunResult Run(std::vector<std::string> args,
                std::vector<std::string> extra_env = {}) const {
    RunOptions o;
    o.env = server_->Env();
    o.env.insert(o.env.end(), extra_env.begin(), extra_env.end());
    return RunMigstore(args, o);
  }
  // Captures to `key` once per suite run.
  void Captured(const std::string& key) {
    if (Exists(key)) return;
    RunResult c = Run(CaptureArgs(key));
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  bool Exists(const std::string& key) {
    auto there = client_->Stat(At(key));
    EXPECT_OK(there);
    return there.ok() && there->has_value();
  }
  std::string ReadObject(const std::string& key) {
    auto size = client_->Head(At(key));
    EXPECT_OK(size);
    std::string out(size.ok() ? *size : 0, '\0');
    EXPECT_OK(client_->GetRange(At(key), 0, out.size(), out.data()));
    return out;
  }

  static inline S3TestServer* server_ = nullptr;
  static inline std::string why_not_;
  static inline TempDir* dir_ = nullptr;
  std::unique_ptr<S3Client> client_;
};

TEST_F(S3StoreCli, CaptureToAnObjectAndReadItBackWithEveryCommand) {
  RunResult c = Run(CaptureArgs("pc42.mig"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto size = client_->Head(At("pc42.mig"));
  ASSERT_OK(size);
  EXPECT_GT(*size, uint64_t{8} << 20) << "not a multipart upload";

  RunResult list =
      Run({"list", "--store", Name("pc42.mig"), "--key-file", Key()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Has(list.out, "store " + Name("pc42.mig") + ": format 1"))
      << list.out;
  RunResult json =
      Run({"list", "--store", Name("pc42.mig"), "--key-file", Key(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(Has(json.out, "\"size\":" + std::to_string(*size)))
      << json.out.substr(0, 400);

  RunResult verify = Run({"verify", "--store", Name("pc42.mig"), "--key-file",
                          Key(), "--mode", "all"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(Count(verify.out, "\tCORRUPTED\n"), 0u);
  EXPECT_GT(Count(verify.out, "\tOK\n"), 250u) << verify.out;

  RunResult extract = Run({"extract", "--store", Name("pc42.mig"), "--key-file",
                           Key(), "--to", *dir_ / "x"});
  ASSERT_EQ(extract.exit_code, 0) << extract.err;

  const std::string t = *dir_ / "t";
  RunResult restore = Run({"restore", "--store", Name("pc42.mig"), "--key-file",
                           Key(), "--target", t});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(CompareTrees(Root() + "/home", t + "/home"), "");
  // Run again over its own target: everything is already there.
  RunResult again = Run({"restore", "--store", Name("pc42.mig"), "--key-file",
                         Key(), "--target", t});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(CompareTrees(Root() + "/home", t + "/home"), "");
}

TEST_F(S3StoreCli, AnExistingObjectIsReplacedOnlyWithOverwrite) {
  Captured("kept.mig");
  const std::string before = ReadObject("kept.mig");
  RunResult refused = Run(CaptureArgs("kept.mig"));
  EXPECT_EQ(refused.exit_code, 27) << refused.err;
  EXPECT_TRUE(Has(refused.err, "already exists")) << refused.err;
  EXPECT_EQ(ReadObject("kept.mig"), before);

  std::vector<std::string> args = CaptureArgs("kept.mig");
  args.push_back("--overwrite");
  RunResult replaced = Run(args);
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  const std::string after = ReadObject("kept.mig");
  // A new store: another store id in the header.
  EXPECT_NE(after.substr(0, format::kHeaderSize),
            before.substr(0, format::kHeaderSize));
  RunResult verify =
      Run({"verify", "--store", Name("kept.mig"), "--key-file", Key()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST_F(S3StoreCli, ACaptureKilledMidUploadPublishesNothing) {
  // Killed once its multipart upload is under way (where the server lists
  // uploads), else half-way through a timed capture.
  std::chrono::steady_clock::duration whole{};
  if (!server_->tracks_uploads()) {
    const auto t0 = std::chrono::steady_clock::now();
    Captured("timed.mig");
    whole = std::chrono::steady_clock::now() - t0;
  }
  int mid_upload = 0;
  for (int attempt = 0; attempt < 3 && mid_upload == 0; ++attempt) {
    pid_t pid = SpawnMigstore(CaptureArgs("killed.mig"), server_->Env());
    ASSERT_GT(pid, 0);
    int status = 0;
    bool ended = false, uploading = false;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(120);
    if (server_->tracks_uploads()) {
      while (!ended && !uploading &&
             std::chrono::steady_clock::now() < deadline) {
        auto uploads =
            client_->ListMultipartUploads(server_->bucket(), "killed.mig");
        uploading = uploads.ok() && !uploads->empty();
        ended = ::waitpid(pid, &status, WNOHANG) == pid;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    } else {
      std::this_thread::sleep_for(whole / 2);
      uploading = true;
    }
    if (!ended) {
      ::kill(pid, SIGKILL);
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    }
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    if (killed && uploading) {
      ++mid_upload;
      auto there = client_->Stat(At("killed.mig"));
      ASSERT_OK(there);
      EXPECT_FALSE(there->has_value()) << "a killed capture published";
      RunResult list =
          Run({"list", "--store", Name("killed.mig"), "--key-file", Key()});
      EXPECT_EQ(list.exit_code, 27) << list.err;
      EXPECT_TRUE(Has(list.err, "no such store")) << list.err;
    } else if (ended) {
      // It finished first: start again from nothing.
      ASSERT_OK(client_->Delete(At("killed.mig")));
    }
  }
  EXPECT_EQ(mid_upload, 1) << "no kill landed during the upload";
  // The name is free for the next capture.
  RunResult c = Run(CaptureArgs("killed.mig"));
  EXPECT_EQ(c.exit_code, 0) << c.err;
}

TEST_F(S3StoreCli, DamageInAnObjectIsNamedAndStaysLocal) {
  Captured("pc42.mig");
  std::string bytes = ReadObject("pc42.mig");
  // The data block holding the largest of carol's files, and every file
  // whose data shares it.
  auto key = format::KeySource::FromKeyFile(Key());
  ASSERT_OK(key);
  auto source = store::S3Source::Open(
      std::make_shared<S3Client>(server_->Config()), At("pc42.mig"));
  ASSERT_OK(source);
  auto r = format::ContainerReader::Open(std::move(*source), *key);
  ASSERT_OK(r);
  std::string largest;
  uint64_t largest_size = 0, block = UINT64_MAX;
  std::vector<std::pair<std::string, std::set<uint64_t>>> files;
  for (size_t s = 0; s < (*r)->index().catalog_segments.size(); ++s) {
    auto entries = (*r)->ReadCatalogSegment(s);
    ASSERT_OK(entries);
    for (const format::Entry& e : *entries) {
      if (!e.content) continue;
      auto c = (*r)->ReadContentFor(e);
      ASSERT_OK(c);
      std::set<uint64_t> blocks;
      for (const format::Chunk& ch : c->chunks) blocks.insert(ch.block);
      if (e.path.find("/carol/") != std::string::npos &&
          e.size > largest_size) {
        largest_size = e.size;
        largest = e.path;
        block = *blocks.begin();
      }
      files.emplace_back(e.path, std::move(blocks));
    }
  }
  ASSERT_NE(block, UINT64_MAX);
  std::set<std::string> lost;
  for (const auto& [path, blocks] : files) {
    if (blocks.count(block)) lost.insert(path);
  }
  ASSERT_GE(lost.size(), 1u);
  ASSERT_LT(lost.size(), files.size() / 2);
  bytes[(*r)->block_offset(block) + format::kFrameHeaderSize + 30] ^= 0x10;
  ASSERT_OK(client_->Put(At("damaged.mig"), bytes, /*if_absent=*/false));

  RunResult verify = Run({"verify", "--store", Name("damaged.mig"),
                          "--key-file", Key(), "--mode", "all"});
  EXPECT_EQ(verify.exit_code, 42) << verify.err;
  EXPECT_TRUE(Has(verify.out, largest + "\tCORRUPTED\n")) << verify.out;
  EXPECT_EQ(Count(verify.out, "\tCORRUPTED\n"), lost.size());
  EXPECT_GT(Count(verify.out, "\tOK\n"), 200u);

  RunResult restore =
      Run({"restore", "--store", Name("damaged.mig"), "--key-file", Key(),
           "--target", *dir_ / "damaged", "--continue-on-error"});
  EXPECT_EQ(restore.exit_code, 3) << restore.err;
  EXPECT_TRUE(Has(restore.err, largest + ": Corruption")) << restore.err;
  EXPECT_EQ(Count(restore.err, "(skipped)\n"), lost.size()) << restore.err;
  EXPECT_TRUE(FindTemporaries(*dir_ / "damaged").empty());
}

TEST_F(S3StoreCli, CredentialsOrEndpointsThatDoNotWorkAreA27) {
  Captured("pc42.mig");
  // The server refuses the key: before anything is scanned or sent.
  const std::string wrong = server_->checks_signatures()
                                ? "AWS_SECRET_ACCESS_KEY=wrong-secret"
                                : "AWS_ACCESS_KEY_ID=NOSUCHKEY";
  RunResult list =
      Run({"list", "--store", Name("pc42.mig"), "--key-file", Key()}, {wrong});
  EXPECT_EQ(list.exit_code, 27) << list.err;
  EXPECT_TRUE(Has(list.err, "credential") || Has(list.err, "access key") ||
              Has(list.err, "signature"))
      << list.err;
  RunResult capture = Run(CaptureArgs("refused.mig"), {wrong});
  EXPECT_EQ(capture.exit_code, 27) << capture.err;
  EXPECT_FALSE(Exists("refused.mig"));

  // No credentials at all.
  RunResult none =
      Run({"verify", "--store", Name("pc42.mig"), "--key-file", Key()},
          {"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="});
  EXPECT_EQ(none.exit_code, 27) << none.err;
  EXPECT_TRUE(Has(none.err, "AWS_ACCESS_KEY_ID")) << none.err;

  // Nothing listens there (a port just closed): retried, then given up.
  RunResult unreachable =
      Run({"restore", "--store", Name("pc42.mig"), "--key-file", Key(),
           "--target", *dir_ / "nowhere"},
          {"AWS_ENDPOINT_URL=http://127.0.0.1:9"});
  EXPECT_EQ(unreachable.exit_code, 27) << unreachable.err;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "nowhere"));

  RunResult missing =
      Run({"list", "--store", Name("nothing-here.mig"), "--key-file", Key()});
  EXPECT_EQ(missing.exit_code, 27) << missing.err;
  EXPECT_TRUE(Has(missing.err, "no such store")) << missing.err;

  // A hard-link store is a local directory.
  std::vector<std::string> hardlink = CaptureArgs("hl");
  hardlink.erase(hardlink.end() - 2, hardlink.end());  // no key
  hardlink.push_back("--hardlink");
  RunResult hl = Run(hardlink);
  EXPECT_EQ(hl.exit_code, 11) << hl.err;
  EXPECT_TRUE(Has(hl.err, "local")) << hl.err;
}

}  // namespace
}  // namespace migstore::testing
