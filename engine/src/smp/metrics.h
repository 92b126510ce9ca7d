// RequestMetrics: what `migstore serve` has answered since it started, by
// kind of request (control, upload, read), for the administrator's
// `GET /v1/metrics` (docs/smp.md, "Metrics") and the fleet benchmark
// (bench/fleet): counts, errors, bytes, and latency quantiles from a
// histogram with buckets 10% apart, so p50/p99 are within 10% of the exact
// value while the memory stays fixed whatever the number of requests.
//
// A request's latency runs from the moment its headers are routed (before
// its body is read, so an upload's includes its transfer) until its answer
// is written.
//
// Thread safety: Record and Snapshot may be called from any number of
// threads at once (atomic counters, no lock).

#ifndef MIGSTORE_ENGINE_SRC_SMP_METRICS_H_
#define MIGSTORE_ENGINE_SRC_SMP_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

namespace migstore::smp {

enum class RequestKind { kControl = 0, kUpload = 1, kRead = 2 };
inline constexpr int kRequestKinds = 3;

// Which kind a request is, by its method and path (docs/smp.md).
RequestKind KindOfRequest(std::string_view method, std::string_view path);

class RequestMetrics {
 public:
  RequestMetrics();

  // One answered request: its HTTP status, latency and body bytes.
  void Record(RequestKind kind, int http_status, uint64_t micros,
              uint64_t bytes_in, uint64_t bytes_out);

  // {"uptime_seconds", "requests": {KIND: {"count", "errors" (status >=
  // 500), "refused" (4xx), "bytes_in", "bytes_out", "p50_ms", "p99_ms",
  // "max_ms"}}, "rss_bytes", "peak_rss_bytes"} — the process's resident
  // memory now and at its peak, from /proc/self/status.
  nlohmann::json Snapshot() const;

  // The bucket whose range holds `micros`, and the upper bound of bucket i
  // (for tests).
  static int BucketOf(uint64_t micros);
  static double BucketUpperMicros(int i);
  static constexpr int kBuckets = 200;

 private:
  struct Kind {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> refused{0};
    std::atomic<uint64_t> bytes_in{0};
    std::atomic<uint64_t> bytes_out{0};
    std::atomic<uint64_t> max_micros{0};
    std::array<std::atomic<uint64_t>, kBuckets> buckets{};
  };
  // The latency below which `q` of the kind's requests fell (0 when none).
  static double QuantileMillis(const Kind& k, double q);

  int64_t started_at_;  // steady clock, microseconds
  std::array<Kind, kRequestKinds> kinds_;
};

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_METRICS_H_
