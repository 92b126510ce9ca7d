// RequestMetrics (engine/src/smp/metrics.h): the histogram's buckets, the
// quantiles it gives, the kind of each request, and counts that stay exact
// when many threads record at once.

#include "engine/src/smp/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace migstore::smp {
namespace {

TEST(RequestMetricsTest, BucketsAreTenPercentApartAndCoverTheirValues) {
  EXPECT_EQ(RequestMetrics::BucketOf(0), 0);
  EXPECT_EQ(RequestMetrics::BucketOf(10), 0);
  EXPECT_EQ(RequestMetrics::BucketOf(11), 1);
  for (uint64_t us : {12ull, 999ull, 1000ull, 123456ull, 60000000ull}) {
    const int i = RequestMetrics::BucketOf(us);
    ASSERT_GT(i, 0);
    // The value lies in (upper(i-1), upper(i)].
    EXPECT_LE(us, RequestMetrics::BucketUpperMicros(i) + 1e-6) << us;
    EXPECT_GT(us, RequestMetrics::BucketUpperMicros(i - 1)) << us;
    EXPECT_NEAR(RequestMetrics::BucketUpperMicros(i) /
                    RequestMetrics::BucketUpperMicros(i - 1),
                1.1, 1e-9);
  }
  // Beyond the last bucket's bound: the last bucket, not past the array.
  EXPECT_EQ(RequestMetrics::BucketOf(~0ull), RequestMetrics::kBuckets - 1);
}

TEST(RequestMetricsTest, QuantilesAreWithinTenPercent) {
  RequestMetrics m;
  // 1..1000 ms: p50 = 500 ms, p99 = 990 ms.
  for (uint64_t ms = 1; ms <= 1000; ++ms) {
    m.Record(RequestKind::kControl, 200, ms * 1000, 10, 20);
  }
  const nlohmann::json c = m.Snapshot()["requests"]["control"];
  EXPECT_EQ(c["count"], 1000);
  EXPECT_EQ(c["bytes_in"], 10000);
  EXPECT_EQ(c["bytes_out"], 20000);
  EXPECT_GE(c["p50_ms"].get<double>(), 500.0);
  EXPECT_LE(c["p50_ms"].get<double>(), 550.0);
  EXPECT_GE(c["p99_ms"].get<double>(), 990.0);
  EXPECT_LE(c["p99_ms"].get<double>(), 1000.0);  // capped by the largest
  EXPECT_DOUBLE_EQ(c["max_ms"].get<double>(), 1000.0);
  // The other kinds saw nothing and say so with zeros.
  const nlohmann::json u = m.Snapshot()["requests"]["upload"];
  EXPECT_EQ(u["count"], 0);
  EXPECT_EQ(u["p99_ms"], 0.0);
}

TEST(RequestMetricsTest, ErrorsAndRefusalsAreCountedApart) {
  RequestMetrics m;
  m.Record(RequestKind::kUpload, 200, 5, 1 << 20, 0);
  m.Record(RequestKind::kUpload, 416, 5, 0, 0);
  m.Record(RequestKind::kUpload, 403, 5, 0, 0);
  m.Record(RequestKind::kUpload, 503, 5, 0, 0);
  const nlohmann::json s = m.Snapshot();
  EXPECT_EQ(s["requests"]["upload"]["count"], 4);
  EXPECT_EQ(s["requests"]["upload"]["refused"], 2);
  EXPECT_EQ(s["requests"]["upload"]["errors"], 1);
  EXPECT_EQ(s["requests"]["upload"]["bytes_in"], 1 << 20);
  // This process's memory, read from /proc.
  EXPECT_GT(s["rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_GE(s["peak_rss_bytes"].get<uint64_t>(),
            s["rss_bytes"].get<uint64_t>());
  EXPECT_GE(s["uptime_seconds"].get<double>(), 0.0);
}

TEST(RequestMetricsTest, KindFollowsMethodAndPath) {
  EXPECT_EQ(KindOfRequest("PUT", "/v1/stores/abc/upload"),
            RequestKind::kUpload);
  EXPECT_EQ(KindOfRequest("GET", "/v1/stores/abc/upload"),
            RequestKind::kControl);  // where the upload stands
  EXPECT_EQ(KindOfRequest("GET", "/v1/stores/abc/data"), RequestKind::kRead);
  EXPECT_EQ(KindOfRequest("HEAD", "/v1/stores/abc/data"), RequestKind::kRead);
  EXPECT_EQ(KindOfRequest("POST", "/v1/capture"), RequestKind::kControl);
  EXPECT_EQ(KindOfRequest("GET", "/v1/metrics"), RequestKind::kControl);
}

TEST(RequestMetricsTest, ConcurrentRecordsAreAllCounted) {
  RequestMetrics m;
  constexpr int kThreads = 8;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < kEach; ++i) {
        m.Record(RequestKind::kRead, 206, 100 + t * 1000 + i % 7, 0, 3);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const nlohmann::json r = m.Snapshot()["requests"]["read"];
  EXPECT_EQ(r["count"], kThreads * kEach);
  EXPECT_EQ(r["bytes_out"], 3ull * kThreads * kEach);
  EXPECT_DOUBLE_EQ(r["max_ms"].get<double>(), (100 + 7000 + 6) / 1000.0);
}

}  // namespace
}  // namespace migstore::smp
