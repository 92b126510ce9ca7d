// The state migration point end to end, with the real binaries: a real
// `migstore serve` on loopback (its state in SQLite, or in a throwaway
// PostgreSQL cluster), computers enrolled and associated by the
// administrator with `migstore smp`, a capture on the old computer and a
// restore on the new one with `--smp`, the release, the retention's
// deletion. Then what must be refused: a computer that is not associated, a
// wrong or missing token, a capture in restore-only mode; a server killed
// mid-upload (the capture resumes); two nodes on one PostgreSQL that must
// not hand out one storage slot twice. The capture and restore, and the
// server killed mid-upload, also with the stores in an object-store
// location (a real S3-compatible server on loopback, tests/util/s3_server.h).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "bench/dataset.h"
#include "engine/src/store/s3_client.h"
#include "tests/util/pg_cluster.h"
#include "tests/util/s3_server.h"
#include "tests/util/smp_server.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore::testing {
namespace {

namespace fs = std::filesystem;

enum class Backend { kSqlite, kPostgres };
// Where the server keeps store bytes.
enum class Storage { kFolder, kObjectStore };
struct Setup {
  Backend db;
  Storage storage;
};

std::string SetupName(const ::testing::TestParamInfo<Setup>& info) {
  return std::string(info.param.db == Backend::kSqlite ? "SQLite"
                                                       : "PostgreSQL") +
         (info.param.storage == Storage::kObjectStore ? "_S3" : "");
}

// What gtest shows for a parameter (in ctest's names too).
void PrintTo(const Setup& setup, std::ostream* os) {
  *os << SetupName(::testing::TestParamInfo<Setup>(setup, 0));
}

// Files directly in `dir` (not its subfolders).
std::set<std::string> FilesIn(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

class SmpFleet : public ::testing::TestWithParam<Setup> {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir();
    bench::DatasetSpec spec;
    ASSERT_OK(bench::SpecForPreset("demo", &spec));
    spec.files = 200;
    spec.bytes = 6 << 20;
    ASSERT_OK(bench::GenerateDataset(*data_ / "root", spec));
    WriteFile(*data_ / "all.rules", "include %USERPROFILE%\n");
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }

  void SetUp() override {
    if (GetParam().storage == Storage::kObjectStore) {
      MIGSTORE_START_S3_SERVER_OR_SKIP(s3_);
      if (!s3_->tracks_uploads()) {
        GTEST_SKIP() << s3_->kind() << " does not list an upload's parts, "
                     << "which resuming after a restart needs";
      }
      s3_client_ = std::make_unique<store::S3Client>(s3_->Config());
    }
    if (GetParam().db == Backend::kPostgres) {
      Result<PgCluster*> pg = SharedPgCluster();
      if (!pg.ok() && pg.status().IsNotFound())
        GTEST_SKIP() << pg.status().ToString();
      ASSERT_OK(pg);
      Result<std::string> db = (*pg)->CreateDatabase();
      ASSERT_OK(db);
      db_uri_ = *db;
    }
  }

  // Server arguments for this backend and storage, plus `extra`.
  std::vector<std::string> ServeArgs(std::vector<std::string> extra = {}) {
    extra.push_back("--deletion-cycle");
    extra.push_back("1");
    if (s3_ != nullptr) {
      // The bucket, not a prefix in it: moto refuses the signed listing of
      // a prefixed key's uploads (docs/design.md, "Test servers").
      extra.push_back("--storage");
      extra.push_back("s3://" + s3_->bucket());
    }
    if (!db_uri_.empty()) {
      extra.push_back("--db");
      extra.push_back(db_uri_);
    }
    return extra;
  }

  // Starts one server in dir_/name.
  std::unique_ptr<SmpTestServer> StartServer(
      const std::string& name = "smp", std::vector<std::string> extra = {},
      int port = 0) {
    auto s =
        std::make_unique<SmpTestServer>(dir_ / name, ServeArgs(extra), port);
    if (s3_ != nullptr) s->set_env(s3_->Env());
    EXPECT_TRUE(s->Start()) << s->error();
    return s;
  }

  // Whether the server holds store `id`'s committed bytes.
  bool HoldsStore(const SmpTestServer& s, const std::string& id) {
    if (s3_ == nullptr) return fs::exists(s.storage_dir() + "/" + id + ".mig");
    Result<std::optional<uint64_t>> st =
        s3_client_->Stat({s3_->bucket(), id + ".mig"});
    EXPECT_OK(st);
    return st.ok() && st->has_value();
  }

  // Bytes of unfinished uploads the server holds: a folder's partials, the
  // parts of an object store's multipart uploads.
  uint64_t BytesUploading(const SmpTestServer& s) {
    uint64_t total = 0;
    if (s3_ == nullptr) {
      for (const auto& e : fs::directory_iterator(s.storage_dir())) {
        if (e.path().extension() == ".part") total += e.file_size();
      }
      return total;
    }
    auto uploads = s3_client_->ListMultipartUploads(s3_->bucket(), "");
    EXPECT_OK(uploads);
    if (!uploads.ok()) return 0;
    for (const auto& [key, upload_id] : *uploads) {
      auto parts = s3_client_->ListParts({s3_->bucket(), key}, upload_id);
      if (!parts.ok()) continue;  // completed since
      for (const auto& p : *parts) total += p.size;
    }
    return total;
  }

  // Enrolls PC-OLD and PC-NEW and associates them: their token files.
  std::pair<std::string, std::string> EnrollAssociatedPair(
      const SmpTestServer& s) {
    std::pair<std::string, std::string> out = {Enroll(s, "PC-OLD"),
                                               Enroll(s, "PC-NEW")};
    RunResult assoc =
        Smp(s, s.admin_token_file(), {"associate", "PC-OLD", "PC-NEW"});
    EXPECT_EQ(assoc.exit_code, 0) << assoc.err;
    return out;
  }

  RunResult Smp(const SmpTestServer& s, const std::string& token_file,
                std::vector<std::string> args) {
    std::vector<std::string> all = {"smp", "--server", s.url(), "--token-file",
                                    token_file};
    all.insert(all.end(), args.begin(), args.end());
    return RunMigstore(all);
  }

  // Enrolls `computer`; the path of its token file.
  std::string Enroll(const SmpTestServer& s, const std::string& computer) {
    const std::string token = dir_ / (computer + ".token");
    RunResult r = Smp(s, s.admin_token_file(),
                      {"enroll", computer, "--out", token, "--overwrite"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return token;
  }

  RunResult Capture(const SmpTestServer& s, const std::string& token,
                    std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "capture", "--smp", s.url(),   "--token-file",       token,
        "--root",  Root(),  "--rules", *data_ / "all.rules", "--retry-count",
        "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunMigstore(args);
  }

  RunResult Restore(const SmpTestServer& s, const std::string& token,
                    const std::string& target) {
    return RunMigstore({"restore", "--smp", s.url(), "--token-file", token,
                        "--target", target});
  }

  static std::string Root() { return *data_ / "root"; }

  TempDir dir_;
  std::string db_uri_;
  std::unique_ptr<S3TestServer> s3_;  // for Storage::kObjectStore
  std::unique_ptr<store::S3Client> s3_client_;
  static TempDir* data_;
};

// The tests of SmpFleet run with a storage folder; these also with an
// object-store location.
class SmpFleetAnyStorage : public SmpFleet {};

TempDir* SmpFleet::data_ = nullptr;

TEST_P(SmpFleet, CaptureRestoreReleaseAndRetention) {
  auto server = StartServer();
  ASSERT_TRUE(fs::exists(server->admin_token_file())) << server->output();
  EXPECT_EQ(
      fs::status(server->admin_token_file()).permissions() & fs::perms::all,
      fs::perms::owner_read | fs::perms::owner_write);
  const auto [old_pc, new_pc] = EnrollAssociatedPair(*server);

  RunResult cap = Capture(*server, old_pc);
  ASSERT_EQ(cap.exit_code, 0) << cap.err << server->output();
  EXPECT_TRUE(Has(cap.out, "released")) << cap.out;

  // The store is in the storage folder and nowhere else; the data folder
  // holds only the server's own files.
  const std::set<std::string> stored = FilesIn(server->storage_dir());
  ASSERT_EQ(stored.size(), 1u);
  const std::string store_file = *stored.begin();
  EXPECT_EQ(store_file.size(), 32u + 4u) << store_file;  // ID.mig
  for (const std::string& f : FilesIn(server->data_dir())) {
    EXPECT_TRUE(f == "server.key" || f == "admin.token" ||
                f.rfind("smp.db", 0) == 0)
        << f;
  }

  RunResult listed =
      Smp(*server, server->admin_token_file(), {"list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(Has(listed.out, "\"state\":\"ready\"")) << listed.out;
  EXPECT_TRUE(Has(listed.out, "\"destination\":\"PC-NEW\"")) << listed.out;

  const std::string target = dir_ / "new-root";
  RunResult res = Restore(*server, new_pc, target);
  ASSERT_EQ(res.exit_code, 0) << res.err << server->output();
  EXPECT_EQ(CompareTrees(Root() + "/home", target + "/home"), "");
  // A restore may run again until the destination releases.
  RunResult again = Restore(*server, new_pc, target);
  ASSERT_EQ(again.exit_code, 0) << again.err;

  // The old computer may not read it back, nor capture anew while it waits.
  RunResult old_reads = Restore(*server, old_pc, dir_ / "elsewhere");
  EXPECT_EQ(old_reads.exit_code, 27) << old_reads.err;
  RunResult recapture = Capture(*server, old_pc);
  EXPECT_EQ(recapture.exit_code, 27) << recapture.err;

  RunResult release = Smp(*server, new_pc, {"release"});
  ASSERT_EQ(release.exit_code, 0) << release.err;
  RunResult after = Restore(*server, new_pc, dir_ / "late");
  EXPECT_EQ(after.exit_code, 27) << after.err;

  // Retention 0: the next deletion cycle (every second here) removes it.
  RunResult ret = Smp(*server, server->admin_token_file(), {"retention", "0"});
  ASSERT_EQ(ret.exit_code, 0) << ret.err;
  // The release was stamped with the old retention (a day): it stays.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(FilesIn(server->storage_dir()).size(), 1u);

  // A store released under a retention of 0 goes at the next cycle.
  RunResult cap2 = Capture(*server, old_pc);
  ASSERT_EQ(cap2.exit_code, 0) << cap2.err;
  ASSERT_EQ(Restore(*server, new_pc, dir_ / "second").exit_code, 0);
  ASSERT_EQ(Smp(*server, new_pc, {"release"}).exit_code, 0);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gone = FilesIn(server->storage_dir()).size() == 1;
  }
  EXPECT_TRUE(gone) << "the second store was not deleted";
  RunResult final_list =
      Smp(*server, server->admin_token_file(), {"list", "--json"});
  EXPECT_TRUE(Has(final_list.out, "\"state\":\"deleted\"")) << final_list.out;

  // The administrator deletes the first one at once.
  RunResult del = Smp(*server, server->admin_token_file(),
                      {"delete", store_file.substr(0, 32)});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_TRUE(FilesIn(server->storage_dir()).empty());
}

TEST_P(SmpFleet, ARefreshNeedsNoAssociation) {
  auto server = StartServer();
  const std::string pc = Enroll(*server, "PC-SAME");
  ASSERT_EQ(Capture(*server, pc).exit_code, 0);
  const std::string target = dir_ / "t";
  RunResult res = Restore(*server, pc, target);
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(CompareTrees(Root() + "/home", target + "/home"), "");

  // The server counted the upload and the reads, and says so to the
  // administrator only.
  RunResult m = Smp(*server, server->admin_token_file(), {"metrics", "--json"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const auto metrics = nlohmann::json::parse(m.out);
  const auto& upload = metrics["requests"]["upload"];
  EXPECT_GE(upload["count"].get<uint64_t>(), 1u) << m.out;
  EXPECT_GT(upload["bytes_in"].get<uint64_t>(), 0u) << m.out;
  EXPECT_EQ(upload["errors"].get<uint64_t>(), 0u) << m.out;
  EXPECT_GE(metrics["requests"]["read"]["count"].get<uint64_t>(), 1u);
  EXPECT_GT(metrics["requests"]["read"]["bytes_out"].get<uint64_t>(), 0u)
      << m.out;
  EXPECT_GT(metrics["peak_rss_bytes"].get<uint64_t>(), 0u);
  RunResult table = Smp(*server, server->admin_token_file(), {"metrics"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(Has(table.out, "upload")) << table.out;
  EXPECT_EQ(Smp(*server, pc, {"metrics"}).exit_code, 27);
}

TEST_P(SmpFleet, OnlyTheAssociatedComputerMayRestore) {
  auto server = StartServer();
  const std::string old_pc = Enroll(*server, "PC-OLD");
  Enroll(*server, "PC-NEW");
  const std::string other = Enroll(*server, "PC-OTHER");
  ASSERT_EQ(Smp(*server, server->admin_token_file(),
                {"associate", "PC-OLD", "PC-NEW"})
                .exit_code,
            0);
  ASSERT_EQ(Capture(*server, old_pc).exit_code, 0);
  RunResult r = Restore(*server, other, dir_ / "t");
  EXPECT_EQ(r.exit_code, 27) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "t/home"));
  // Nor may a computer administer.
  RunResult admin = Smp(*server, other, {"enroll", "X", "--out", dir_ / "x"});
  EXPECT_EQ(admin.exit_code, 27) << admin.err;
  RunResult key = Smp(*server, other, {"list"});
  EXPECT_EQ(key.exit_code, 0) << key.err;
  EXPECT_FALSE(Has(key.out, "PC-OLD")) << key.out;
}

TEST_P(SmpFleet, AWrongOrMissingTokenIsRefused) {
  auto server = StartServer();
  WriteFile(dir_ / "bad.token", "mst1_" + std::string(64, '0') + "\n");
  RunResult bad = Capture(*server, dir_ / "bad.token");
  EXPECT_EQ(bad.exit_code, 27) << bad.err;
  EXPECT_TRUE(Has(bad.err, "token")) << bad.err;
  // The token never appears in what is printed.
  EXPECT_FALSE(Has(bad.err, std::string(64, '0'))) << bad.err;
  RunResult missing = Capture(*server, dir_ / "no-such.token");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(Has(missing.err, "no-such.token")) << missing.err;
  RunResult none =
      RunMigstore({"capture", "--smp", server->url(), "--root", Root()});
  EXPECT_EQ(none.exit_code, 11) << none.err;
  // A re-enrolled computer's old token stops working.
  const std::string pc = Enroll(*server, "PC-A");
  const std::string old_copy = dir_ / "old.token";
  fs::copy_file(pc, old_copy);
  Enroll(*server, "PC-A");
  EXPECT_EQ(Capture(*server, old_copy).exit_code, 27);
  EXPECT_EQ(Capture(*server, pc).exit_code, 0);
}

TEST_P(SmpFleet, RestoreOnlyModeRefusesCapturesAndServesRestores) {
  auto server = StartServer();
  const std::string pc = Enroll(*server, "PC-R");
  ASSERT_EQ(Capture(*server, pc).exit_code, 0);
  ASSERT_EQ(Smp(*server, server->admin_token_file(), {"restore-only", "on"})
                .exit_code,
            0);
  const std::string other = Enroll(*server, "PC-S");
  RunResult cap = Capture(*server, other);
  EXPECT_EQ(cap.exit_code, 27) << cap.err;
  EXPECT_TRUE(Has(cap.err, "restore-only")) << cap.err;
  RunResult res = Restore(*server, pc, dir_ / "t");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  ASSERT_EQ(Smp(*server, server->admin_token_file(), {"restore-only", "off"})
                .exit_code,
            0);
  EXPECT_EQ(Capture(*server, other).exit_code, 0);
}

TEST_P(SmpFleet, ARecoveredKeyOpensTheStoreByHand) {
  auto server = StartServer();
  const std::string pc = Enroll(*server, "PC-K");
  ASSERT_EQ(Capture(*server, pc).exit_code, 0);
  const std::set<std::string> stored = FilesIn(server->storage_dir());
  ASSERT_EQ(stored.size(), 1u);
  const std::string id = stored.begin()->substr(0, 32);
  RunResult computer =
      Smp(*server, pc, {"recover-key", id, "--out", dir_ / "k.key"});
  EXPECT_EQ(computer.exit_code, 27) << computer.err;
  RunResult rec = Smp(*server, server->admin_token_file(),
                      {"recover-key", id, "--out", dir_ / "k.key"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const std::string store = server->storage_dir() + "/" + *stored.begin();
  RunResult manual = RunMigstore({"restore", "--store", store, "--key-file",
                                  dir_ / "k.key", "--target", dir_ / "t"});
  ASSERT_EQ(manual.exit_code, 0) << manual.err;
  EXPECT_EQ(CompareTrees(Root() + "/home", dir_ / "t/home"), "");
}

TEST_P(SmpFleetAnyStorage, TheAssociatedComputerRestoresTheCapture) {
  auto server = StartServer();
  const auto [old_pc, new_pc] = EnrollAssociatedPair(*server);
  RunResult cap = Capture(*server, old_pc);
  ASSERT_EQ(cap.exit_code, 0) << cap.err << server->output();
  RunResult listed =
      Smp(*server, server->admin_token_file(), {"list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const size_t at = listed.out.find("\"id\":\"");
  ASSERT_NE(at, std::string::npos) << listed.out;
  const std::string id = listed.out.substr(at + 6, 32);
  EXPECT_TRUE(HoldsStore(*server, id)) << id;

  const std::string target = dir_ / "new-root";
  RunResult res = Restore(*server, new_pc, target);
  ASSERT_EQ(res.exit_code, 0) << res.err << server->output();
  EXPECT_EQ(CompareTrees(Root() + "/home", target + "/home"), "");
  ASSERT_EQ(Smp(*server, new_pc, {"release"}).exit_code, 0);

  RunResult del = Smp(*server, server->admin_token_file(), {"delete", id});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_FALSE(HoldsStore(*server, id));
  EXPECT_EQ(BytesUploading(*server), 0u);
}

TEST_P(SmpFleetAnyStorage, ACaptureResumesAfterTheServerIsKilledMidUpload) {
  // Incompressible and large enough to be mid-upload when the server dies.
  // Less of it for the object store: the test server (moto) copies a whole
  // object for every ranged GET, so the read-back at commit and the
  // restore's reads cost it the square of the store's size.
  const int files = s3_ != nullptr ? 4 : 10;
  const std::string big_root = dir_ / "big-root";
  fs::create_directories(big_root);
  WriteFileBelow(big_root, "etc/passwd",
                 "alice:x:1000:1000::/home/alice:/bin/bash\n");
  std::mt19937_64 random(42);
  for (int f = 0; f < files; ++f) {
    std::string bytes(16 << 20, '\0');
    for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
      const uint64_t v = random();
      std::memcpy(bytes.data() + i, &v, 8);
    }
    WriteFileBelow(big_root, "home/alice/data" + std::to_string(f) + ".bin",
                   bytes);
  }
  auto server = StartServer();
  const std::string pc = Enroll(*server, "PC-BIG");

  const int pid = SpawnMigstore(
      {"capture", "--smp", server->url(), "--token-file", pc, "--root",
       big_root, "--rules", *data_ / "all.rules", "--threads", "1"});
  // Wait until part of the store has arrived, then kill the server.
  uint64_t seen = 0;
  for (int i = 0; i < 600 && seen < (16u << 20); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = BytesUploading(*server);
  }
  ASSERT_GE(seen, 16u << 20) << "the upload never got going";
  server->Kill9();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(server->Start()) << server->error();
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << server->output();
  // The upload went on where it stopped: the server saw a request for the
  // received length and bytes that started past 0 after its restart.
  const std::string target = dir_ / "t";
  const std::string new_pc = pc;
  RunResult res = Restore(*server, new_pc, target);
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(CompareTrees(big_root + "/home", target + "/home"), "");
}

INSTANTIATE_TEST_SUITE_P(
    Backends, SmpFleet,
    ::testing::Values(Setup{Backend::kSqlite, Storage::kFolder},
                      Setup{Backend::kPostgres, Storage::kFolder}),
    SetupName);
INSTANTIATE_TEST_SUITE_P(
    Backends, SmpFleetAnyStorage,
    ::testing::Values(Setup{Backend::kSqlite, Storage::kFolder},
                      Setup{Backend::kPostgres, Storage::kFolder},
                      Setup{Backend::kSqlite, Storage::kObjectStore}),
    SetupName);

// Two serve nodes on one PostgreSQL database, sharing the server key and a
// storage folder with room for three stores: six computers asking at once,
// three on each node, get exactly three slots.
TEST(SmpTwoNodes, NeverHandOutOneSlotTwice) {
  Result<PgCluster*> pg = SharedPgCluster();
  if (!pg.ok() && pg.status().IsNotFound())
    GTEST_SKIP() << pg.status().ToString();
  ASSERT_OK(pg);
  Result<std::string> db = (*pg)->CreateDatabase();
  ASSERT_OK(db);
  TempDir dir;
  fs::create_directories(dir / "storage");
  const std::vector<std::string> shared = {
      "--db",         *db,
      "--server-key", dir / "server.key",
      "--storage",    dir / "storage,max-clients=3"};
  SmpTestServer a(dir / "a", shared);
  ASSERT_TRUE(a.Start()) << a.error();
  SmpTestServer b(dir / "b", shared);
  ASSERT_TRUE(b.Start()) << b.error();
  // The administrator was made by the first node; its token is there.
  ASSERT_TRUE(fs::exists(a.admin_token_file()));
  EXPECT_FALSE(fs::exists(b.admin_token_file()));

  TempDir src;
  bench::DatasetSpec spec;
  ASSERT_OK(bench::SpecForPreset("demo", &spec));
  spec.files = 20;
  spec.bytes = 1 << 20;
  ASSERT_OK(bench::GenerateDataset(src / "root", spec));
  WriteFile(src / "all.rules", "include %USERPROFILE%\n");

  std::vector<std::string> tokens;
  for (int i = 0; i < 6; ++i) {
    const std::string t = dir / ("pc" + std::to_string(i) + ".token");
    RunResult r = RunMigstore({"smp", "--server", i % 2 ? b.url() : a.url(),
                               "--token-file", a.admin_token_file(), "enroll",
                               "PC" + std::to_string(i), "--out", t});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    tokens.push_back(t);
  }
  std::vector<int> pids;
  for (int i = 0; i < 6; ++i) {
    pids.push_back(
        SpawnMigstore({"capture", "--smp", i % 2 ? b.url() : a.url(),
                       "--token-file", tokens[i], "--root", src / "root",
                       "--rules", src / "all.rules", "--retry-count", "0"}));
  }
  int ok = 0, busy = 0;
  for (int pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) ++ok;
    if (WEXITSTATUS(status) == 27) ++busy;
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(busy, 3);
  std::set<std::string> stored;
  for (const auto& e : fs::directory_iterator(dir / "storage"))
    stored.insert(e.path().filename().string());
  EXPECT_EQ(stored.size(), 3u);
}

}  // namespace
}  // namespace migstore::testing
