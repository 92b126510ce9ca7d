#include "engine/src/smp/metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <string>

namespace migstore::smp {
namespace {

// Bucket i holds latencies up to kFirstMicros * kStep^i: 10 us to about
// half an hour over kBuckets buckets.
constexpr double kFirstMicros = 10.0;
constexpr double kStep = 1.1;

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "VmRSS:    1234 kB" → 1234 * 1024; 0 when the line is missing.
uint64_t StatusKilobytes(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      return std::stoull(line.substr(name.size() + 1)) * 1024;
    }
  }
  return 0;
}

const char* NameOf(int kind) {
  switch (static_cast<RequestKind>(kind)) {
    case RequestKind::kControl:
      return "control";
    case RequestKind::kUpload:
      return "upload";
    case RequestKind::kRead:
      return "read";
  }
  return "?";
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

RequestKind KindOfRequest(std::string_view method, std::string_view path) {
  if (method == "PUT" && EndsWith(path, "/upload")) return RequestKind::kUpload;
  if ((method == "GET" || method == "HEAD") && EndsWith(path, "/data")) {
    return RequestKind::kRead;
  }
  return RequestKind::kControl;
}

RequestMetrics::RequestMetrics() : started_at_(SteadyMicros()) {}

int RequestMetrics::BucketOf(uint64_t micros) {
  if (micros <= kFirstMicros) return 0;
  const int i = static_cast<int>(
      std::ceil(std::log(micros / kFirstMicros) / std::log(kStep) - 1e-9));
  return i < kBuckets ? i : kBuckets - 1;
}

double RequestMetrics::BucketUpperMicros(int i) {
  return kFirstMicros * std::pow(kStep, i);
}

void RequestMetrics::Record(RequestKind kind, int http_status, uint64_t micros,
                            uint64_t bytes_in, uint64_t bytes_out) {
  Kind& k = kinds_[static_cast<int>(kind)];
  k.count.fetch_add(1, std::memory_order_relaxed);
  if (http_status >= 500) k.errors.fetch_add(1, std::memory_order_relaxed);
  if (http_status >= 400 && http_status < 500) {
    k.refused.fetch_add(1, std::memory_order_relaxed);
  }
  k.bytes_in.fetch_add(bytes_in, std::memory_order_relaxed);
  k.bytes_out.fetch_add(bytes_out, std::memory_order_relaxed);
  k.buckets[BucketOf(micros)].fetch_add(1, std::memory_order_relaxed);
  uint64_t seen = k.max_micros.load(std::memory_order_relaxed);
  while (micros > seen && !k.max_micros.compare_exchange_weak(
                              seen, micros, std::memory_order_relaxed)) {
  }
}

double RequestMetrics::QuantileMillis(const Kind& k, double q) {
  uint64_t total = 0;
  for (const auto& b : k.buckets) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  // The smallest bucket at or below which at least q of the requests fell;
  // its upper bound, capped by the largest latency seen.
  const auto rank = static_cast<uint64_t>(std::ceil(q * total));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += k.buckets[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const double max = k.max_micros.load(std::memory_order_relaxed);
      return std::min(BucketUpperMicros(i), max) / 1000.0;
    }
  }
  return k.max_micros.load(std::memory_order_relaxed) / 1000.0;
}

nlohmann::json RequestMetrics::Snapshot() const {
  nlohmann::json requests = nlohmann::json::object();
  for (int i = 0; i < kRequestKinds; ++i) {
    const Kind& k = kinds_[i];
    requests[NameOf(i)] = {{"count", k.count.load()},
                           {"errors", k.errors.load()},
                           {"refused", k.refused.load()},
                           {"bytes_in", k.bytes_in.load()},
                           {"bytes_out", k.bytes_out.load()},
                           {"p50_ms", QuantileMillis(k, 0.50)},
                           {"p99_ms", QuantileMillis(k, 0.99)},
                           {"max_ms", k.max_micros.load() / 1000.0}};
  }
  return {{"uptime_seconds", (SteadyMicros() - started_at_) / 1000000.0},
          {"requests", requests},
          {"rss_bytes", StatusKilobytes("VmRSS")},
          {"peak_rss_bytes", StatusKilobytes("VmHWM")}};
}

}  // namespace migstore::smp
