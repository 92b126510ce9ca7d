// The service's own rules that need a clock or real concurrency to show
// (engine/src/smp/service.h): abandoned captures, and one store per
// computer however many of its requests arrive at once. On SQLite and on a
// throwaway PostgreSQL cluster; the clock is the test's.

#include "engine/src/smp/service.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "engine/src/smp/db.h"
#include "engine/src/smp/key_escrow.h"
#include "tests/util/pg_cluster.h"
#include "tests/util/test_util.h"

namespace migstore::smp {
namespace {

namespace fs = std::filesystem;
using testing::ListDir;
using testing::Sha256Hex;
using testing::TempDir;

constexpr int64_t kMinute = 60;
constexpr int64_t kStart = 1'800'000'000;

class ServiceTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      Result<testing::PgCluster*> pg = testing::SharedPgCluster();
      if (pg.status().IsNotFound()) GTEST_SKIP() << pg.status().ToString();
      ASSERT_OK(pg);
      Result<std::string> uri = (*pg)->CreateDatabase();
      ASSERT_OK(uri);
      where_ = *uri;
    } else {
      where_ = dir_ / "smp.db";
    }
    folder_ = dir_ / "storage";
    ASSERT_EQ(::mkdir(folder_.c_str(), 0700), 0);
    service_ = Node();
    ASSERT_NE(service_, nullptr);
    Result<std::string> admin_token = service_->CreateAdminIfNone(
        [](const std::string&) { return Status::OK(); });
    ASSERT_OK(admin_token);
    Result<Principal> admin = service_->Authenticate(*admin_token);
    ASSERT_OK(admin);
    admin_ = *admin;
    Result<std::string> pc_token = service_->Enroll(admin_, "PC");
    ASSERT_OK(pc_token);
    Result<Principal> pc = service_->Authenticate(*pc_token);
    ASSERT_OK(pc);
    pc_ = *pc;
  }

  // A service on the test's database, storage and clock: another node
  // when called again.
  std::unique_ptr<Service> Node() {
    Result<std::unique_ptr<Db>> db = Db::Open(where_);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    Result<KeyEscrow> escrow = KeyEscrow::OpenOrCreate(dir_ / "server.key");
    EXPECT_TRUE(escrow.ok()) << escrow.status().ToString();
    if (!db.ok() || !escrow.ok()) return nullptr;
    Result<std::unique_ptr<Service>> s =
        Service::Open(std::move(db).value(), std::move(escrow).value(),
                      {{folder_, 2, 0}}, [this] { return now_.load(); });
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  StoreInfo Store(const std::string& id) {
    Result<std::vector<StoreInfo>> all = service_->ListStores(admin_);
    EXPECT_TRUE(all.ok());
    for (const StoreInfo& s : *all) {
      if (s.id == id) return s;
    }
    ADD_FAILURE() << "no store " << id;
    return {};
  }

  std::string Request() {
    Result<StoreGrant> g = service_->RequestCapture(pc_);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? g->store.id : "";
  }

  TempDir dir_;
  std::string where_;
  std::string folder_;
  std::atomic<int64_t> now_{kStart};
  std::unique_ptr<Service> service_;
  Principal admin_;
  Principal pc_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ServiceTest, ::testing::Bool(),
                         [](const auto& p) {
                           return p.param ? "PostgreSQL" : "SQLite";
                         });

TEST_P(ServiceTest, AnUnfinishedCaptureIsAbandonedAfterTheTime) {
  Result<Settings> settings = service_->GetSettings(admin_);
  ASSERT_OK(settings);
  EXPECT_EQ(settings->abandon_after_minutes, 2880);  // the default: two days

  const std::string id = Request();
  now_ += 100 * kMinute;
  ASSERT_OK(service_->WriteUpload(pc_, id, 0, std::string(1000, 'x')));
  EXPECT_EQ(ListDir(folder_).size(), 1u);

  // The time runs from the first chunk, not the request.
  now_ += 2880 * kMinute - 1;
  EXPECT_EQ(*service_->RunDeletionCycle(), 0);
  EXPECT_EQ(Store(id).state, StoreState::kCapturing);
  now_ += 1;
  EXPECT_EQ(*service_->RunDeletionCycle(), 1);
  EXPECT_EQ(Store(id).state, StoreState::kDeleted);
  EXPECT_TRUE(ListDir(folder_).empty()) << "the partial upload stays";

  // A chunk that arrives later is refused and leaves nothing behind.
  EXPECT_FALSE(service_->WriteUpload(pc_, id, 1000, "late").ok());
  EXPECT_FALSE(service_->WriteUpload(pc_, id, 0, "late").ok());
  EXPECT_TRUE(ListDir(folder_).empty());
  // The computer's next capture gets a new store.
  const std::string next = Request();
  EXPECT_NE(next, id);
  EXPECT_EQ(Store(next).state, StoreState::kRequested);
}

TEST_P(ServiceTest, AnUploadGoingOnIsNotAbandoned) {
  const std::string id = Request();
  std::string data = "first";
  ASSERT_OK(service_->WriteUpload(pc_, id, 0, data));
  // A chunk every 1000 minutes, for ten days.
  for (int i = 0; i < 15; ++i) {
    now_ += 1000 * kMinute;
    ASSERT_OK(service_->WriteUpload(pc_, id, data.size(), "more"));
    data += "more";
    EXPECT_EQ(*service_->RunDeletionCycle(), 0);
  }
  EXPECT_EQ(Store(id).state, StoreState::kCapturing);
  now_ += 2880 * kMinute;
  EXPECT_EQ(*service_->RunDeletionCycle(), 1);
}

TEST_P(ServiceTest, ARequestAgainStartsTheTimeOver) {
  const std::string id = Request();
  now_ += 2000 * kMinute;
  EXPECT_EQ(Request(), id);
  now_ += 2000 * kMinute;
  EXPECT_EQ(*service_->RunDeletionCycle(), 0);
  EXPECT_EQ(Store(id).state, StoreState::kRequested);
  now_ += 880 * kMinute;
  EXPECT_EQ(*service_->RunDeletionCycle(), 1);
  EXPECT_EQ(Store(id).state, StoreState::kDeleted);
}

TEST_P(ServiceTest, ACommittedCaptureIsNeverAbandoned) {
  const std::string id = Request();
  const std::string data(5000, 'y');
  ASSERT_OK(service_->WriteUpload(pc_, id, 0, data));
  ASSERT_OK(service_->CommitUpload(pc_, id, data.size(), Sha256Hex(data)));
  EXPECT_EQ(Store(id).state, StoreState::kCaptured);
  now_ += int64_t{10} * 366 * 24 * 60 * kMinute;
  EXPECT_EQ(*service_->RunDeletionCycle(), 0);
  EXPECT_EQ(Store(id).state, StoreState::kCaptured);
  EXPECT_EQ(ListDir(folder_).size(), 1u);

  // Run again and left unfinished, it is capturing again: still not
  // abandoned, its committed bytes kept.
  EXPECT_EQ(Request(), id);
  ASSERT_OK(service_->WriteUpload(pc_, id, 0, "again"));
  EXPECT_EQ(Store(id).state, StoreState::kCapturing);
  now_ += int64_t{10} * 366 * 24 * 60 * kMinute;
  EXPECT_EQ(*service_->RunDeletionCycle(), 0);
  EXPECT_TRUE(fs::exists(folder_ + "/" + id + ".mig"));
}

TEST_P(ServiceTest, ZeroNeverAbandons) {
  EXPECT_TRUE(service_->SetAbandonAfter(pc_, 0).IsRefused());
  EXPECT_TRUE(service_->SetAbandonAfter(admin_, -1).IsInvalidArgument());
  ASSERT_OK(service_->SetAbandonAfter(admin_, 0));
  const std::string id = Request();
  now_ += int64_t{10} * 366 * 24 * 60 * kMinute;
  EXPECT_EQ(*service_->RunDeletionCycle(), 0);
  EXPECT_EQ(Store(id).state, StoreState::kRequested);
  ASSERT_OK(service_->SetAbandonAfter(admin_, 5));
  EXPECT_EQ(*service_->RunDeletionCycle(), 1);
}

// A computer whose agent retries while its first request is in flight, or
// that is balanced onto two nodes: every request gets the same store.
TEST_P(ServiceTest, RequestsOfOneComputerAtOnceGetOneStore) {
  constexpr int kNodes = 2, kEach = 4;
  std::vector<std::unique_ptr<Service>> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.push_back(Node());
    ASSERT_NE(nodes.back(), nullptr);
  }
  for (int round = 0; round < 5; ++round) {
    std::vector<std::string> ids(kNodes * kEach);
    std::vector<std::thread> threads;
    std::atomic<int> go{0};
    for (int t = 0; t < kNodes * kEach; ++t) {
      threads.emplace_back([&, t] {
        go.fetch_add(1);
        while (go.load() < kNodes * kEach) std::this_thread::yield();
        Result<StoreGrant> g = nodes[t % kNodes]->RequestCapture(pc_);
        ids[t] = g.ok() ? g->store.id : g.status().ToString();
      });
    }
    for (std::thread& t : threads) t.join();
    const std::set<std::string> distinct(ids.begin(), ids.end());
    ASSERT_EQ(distinct.size(), 1u)
        << *distinct.begin() << " / " << *distinct.rbegin();
    ASSERT_EQ(distinct.begin()->size(), 32u) << *distinct.begin();
    // Next round: that store deleted, a new one to race for.
    ASSERT_OK(service_->Delete(admin_, *distinct.begin()));
  }
  Result<std::vector<StoreInfo>> all = service_->ListStores(admin_);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 5u);
}

}  // namespace
}  // namespace migstore::smp
