// The object store behind the store I/O seam (engine/src/store/s3_store.h)
// on a loopback S3 server: a container written through S3Sink and read
// through S3Source, the source's few requests to open a store, parallel
// reads, and reads past the end.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "engine/base/deterministic_random.h"
#include "engine/src/store/s3_store.h"
#include "format/container_reader.h"
#include "format/memory_store.h"
#include "tests/util/s3_server.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore::store {
namespace {

using testing::S3TestServer;

class S3StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = S3TestServer::Start(&why_not_).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << why_not_;
    client_ = std::make_shared<S3Client>(server_->Config());
  }
  S3Location At(const std::string& key) const {
    return S3Location{server_->bucket(), key};
  }
  // RichStore with a few megabytes more, in 64 KiB blocks: many blocks.
  static format::MemoryStore Sample() {
    format::MemoryStore s = testing::RichStore();
    DeterministicRandom rnd(7);
    for (int i = 0; i < 40; ++i) {
      s.files.push_back(format::MakeFile(
          1, "home/alice/bulk/" + std::to_string(i) + ".bin",
          rnd.Bytes(100 * 1024 + static_cast<size_t>(i) * 997)));
    }
    return s;
  }
  static format::MemoryWriteOptions Options() {
    format::MemoryWriteOptions o = testing::QuickOptions();
    o.block_size = 64 * 1024;
    return o;
  }
  static format::KeySource Key() {
    return format::KeySource::Password(format::SecretBytes::Copy("pw"));
  }

  static inline S3TestServer* server_ = nullptr;
  static inline std::string why_not_;
  std::shared_ptr<S3Client> client_;
};

TEST_F(S3StoreTest, AContainerWrittenAndReadThroughTheObjectStore) {
  auto sink = S3Sink::Create(client_, At("rich.mig"), S3UploadOptions{});
  ASSERT_OK(sink);
  ASSERT_OK(
      format::WriteMemoryStore(std::move(*sink), Key(), Sample(), Options()));
  auto source = S3Source::Open(client_, At("rich.mig"));
  ASSERT_OK(source);
  S3Source* s = source->get();
  auto reader = format::ContainerReader::Open(std::move(*source), Key());
  ASSERT_OK(reader);
  // Header, trailer and index come from two windows: two GETs.
  EXPECT_LE(s->gets(), 2u);
  auto got = format::ReadMemoryStore(**reader);
  ASSERT_OK(got);
  format::NormalizeMemoryStore(&*got);
  format::MemoryStore want = Sample();
  format::NormalizeMemoryStore(&want);
  EXPECT_EQ(*got, want);
  // Small blocks come from windows: far fewer GETs than blocks.
  EXPECT_LT(s->gets(), (*reader)->block_count() / 4)
      << (*reader)->block_count() << " blocks";
  EXPECT_GT(s->window_hits(), 0u);
}

TEST_F(S3StoreTest, ManyThreadsReadOneSourceAtOnce) {
  std::string object;
  DeterministicRandom rnd(3);
  object = rnd.Bytes(3 << 20);
  ASSERT_OK(client_->Put(At("bytes"), object, false));
  S3SourceOptions small;
  small.window = 64 * 1024;
  small.windows = 3;  // fewer than the threads' windows: evictions
  auto source = S3Source::Open(client_, At("bytes"), small);
  ASSERT_OK(source);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      DeterministicRandom r(100 + t);
      for (int i = 0; i < 60; ++i) {
        const uint64_t off = r.Below(object.size() - 1);
        const size_t n = static_cast<size_t>(
            std::min<uint64_t>(1 + r.Below(i % 3 == 0 ? 200 * 1024 : 20 * 1024),
                               object.size() - off));
        std::string buf(n, '\0');
        Status st = (*source)->ReadAt(off, n, buf.data());
        if (!st.ok() || buf != object.substr(off, n)) ++bad;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);

  char c;
  EXPECT_TRUE((*source)->ReadAt(object.size(), 1, &c).IsCorruption());
  EXPECT_TRUE((*source)->ReadAt(object.size() - 1, 2, &c).IsCorruption());
  EXPECT_OK((*source)->ReadAt(object.size() - 1, 1, &c));
  EXPECT_EQ(c, object.back());
  EXPECT_TRUE(
      S3Source::Open(client_, At("no-such-object")).status().IsNotFound());
}

}  // namespace
}  // namespace migstore::store
