// SmpHttp: the client's side of the state migration point's HTTP protocol
// (docs/smp.md, "Protocol"), over libcurl: JSON control requests, the
// upload's ranged PUTs, the store's ranged GETs and its size by HEAD. Every
// request carries the bearer token; the token is never put in a message or
// a log, and redirects are not followed, so it goes to no other host.
//
// Control requests and reads are retried with exponential backoff and
// jitter (RetryPolicy) when the connection fails or the server answers 5xx,
// except 503, which is the server saying it is busy (the Request State Store
// step waits on its own terms, SmpConnection::retry_*), and 501. An upload's
// PUT is sent once: after a failure the uploader asks the server what
// arrived and resumes (smp_sink.h), which a blind resend cannot do.
//
// A failure maps to Status as docs/smp.md's error table says: 400 ->
// InvalidArgument; 401, 403, 409 -> Refused (AlreadyExists when the server
// says so); 404 -> NotFound; 422 -> Corruption; 503, and a server that cannot
// be reached or keeps failing, -> Unavailable; 500 -> IOError. The message
// names the request and carries the server's "error" text.
//
// Thread safety: every method may be called from any number of threads at
// once (each request borrows a curl handle from a small pool, so
// connections are reused).

#ifndef MIGSTORE_ENGINE_SRC_SMP_SMP_HTTP_H_
#define MIGSTORE_ENGINE_SRC_SMP_SMP_HTTP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/src/store/s3_config.h"
#include "migstore/result.h"

namespace migstore::smp {

struct SmpHttpOptions {
  // "http://HOST:PORT" or "https://HOST:PORT", no trailing slash; checked
  // by the caller (SmpClient::Connect).
  std::string server;
  std::string token;
  // https: the CA certificate (PEM) to trust instead of the system's.
  std::string ca_file;
  // About 8 to 15 s of waiting in all: long enough for a server restarted
  // by its service manager to come back in the middle of a capture.
  store::RetryPolicy retry{6, std::chrono::milliseconds(500),
                           std::chrono::milliseconds(10000)};
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer that moves no byte for this long fails (and is retried).
  std::chrono::seconds stall_timeout{60};
};

// What became of one upload PUT.
struct UploadAnswer {
  // 2xx: accepted; 416: the range did not start where the server's bytes
  // end; 0: no answer (the connection failed or the PUT was cancelled).
  long http = 0;
  // With 2xx and 416: the bytes the server holds now.
  uint64_t received = 0;
  // Unless 2xx: what went wrong (for 416 too, should the caller give up).
  Status error;
  // The connection failed or the server answered 5xx: asking the server
  // what arrived and resuming may succeed.
  bool retryable = false;
};

class SmpHttp {
 public:
  explicit SmpHttp(SmpHttpOptions options);
  ~SmpHttp();
  SmpHttp(const SmpHttp&) = delete;
  SmpHttp& operator=(const SmpHttp&) = delete;

  const std::string& server() const { return options_.server; }
  const store::RetryPolicy& retry() const { return options_.retry; }

  // A control request: `body` (unless null) is sent as JSON; the answer's
  // JSON object is returned. `attempts` (when given) receives how many
  // times the request was sent, so a caller can tell that an error may
  // answer a repeat of a request already carried out.
  Result<nlohmann::json> Call(std::string_view method, const std::string& path,
                              const nlohmann::json& body = nullptr,
                              int* attempts = nullptr);

  // PUT `data` as bytes [offset, offset + data.size()) of `path`, once.
  // Stops early (http 0, Cancelled) when `cancel` becomes true.
  // REQUIRES: !data.empty().
  UploadAnswer PutRange(const std::string& path, uint64_t offset,
                        std::string_view data,
                        const std::atomic<bool>* cancel = nullptr);

  // Reads bytes [offset, offset + n) of `path` into out: the server must
  // answer 206 with exactly n bytes (Corruption when it has fewer).
  Status GetRange(const std::string& path, uint64_t offset, size_t n,
                  char* out);

  // The Content-Length of a HEAD of `path`.
  Result<uint64_t> Head(const std::string& path);

  // Waits before retry `n` (1, 2, ...) as the retry policy says; returns
  // early, false, when `cancel` becomes true.
  bool WaitBeforeRetry(int n, const std::atomic<bool>* cancel = nullptr) const;

  // HTTP requests sent so far, every attempt counted.
  uint64_t requests_sent() const { return requests_sent_.load(); }

 private:
  struct Request;
  struct Response;
  // One request, sent up to `max_attempts` times as the class comment says.
  Result<Response> Send(const Request& req, int max_attempts);
  Status Attempt(const Request& req, Response* resp, bool* retryable);
  // The Status for a final answer that is not 2xx.
  Status ErrorFor(const Request& req, const Response& resp) const;
  std::string Describe(const Request& req) const;

  void* Borrow();
  void GiveBack(void* handle);

  SmpHttpOptions options_;
  std::string auth_header_;  // "Authorization: Bearer TOKEN"
  std::mutex pool_mu_;
  std::vector<void*> pool_;  // idle CURL easy handles, guarded by pool_mu_
  std::atomic<uint64_t> requests_sent_{0};
};

// Whether `id` is a store id as the server makes them (32 hex digits): the
// only ids put into a request's path.
bool IsStoreId(std::string_view id);

// Percent-encodes every byte but A-Z a-z 0-9 - . _ ~, for a path segment.
std::string PathSegment(std::string_view s);

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_SMP_HTTP_H_
