// What the engine's two HTTP clients (the S3 client, s3_client.h, and the
// state migration point's, engine/src/smp/smp_http.h) share of libcurl: the
// one-time global set-up, which failures a retry may cure and how long to
// wait before it, and one request's transfer of bytes (a 2xx body into the
// caller's buffer, anything else kept as the answer's text, an upload
// body read and rewound from memory, an ETag, a cancel flag).
//
// Thread safety: the functions may be called from any thread; a
// CurlTransfer belongs to the thread performing its request.

#ifndef MIGSTORE_ENGINE_SRC_STORE_CURL_TRANSFER_H_
#define MIGSTORE_ENGINE_SRC_STORE_CURL_TRANSFER_H_

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "engine/src/store/s3_config.h"

namespace migstore::store {

// curl_global_init, once per process.
void InitCurlOnce();

// Connection-level failures a later attempt may not meet.
bool RetryableCurlError(CURLcode rc);

// The wait before retry `n` (1, 2, ...): exponential, with jitter so that
// many clients failing together do not come back together.
std::chrono::milliseconds Backoff(const RetryPolicy& p, int n);

// One request's bytes. The pointers outlive the request.
struct CurlTransfer {
  CURL* handle = nullptr;
  // A 2xx body goes here, at most out_len bytes; without `out` it goes to
  // `body`, as every other answer's does, up to max_body bytes.
  char* out = nullptr;
  size_t out_len = 0;
  size_t* out_filled = nullptr;
  std::string* body = nullptr;
  size_t max_body = 0;
  bool* overflow = nullptr;     // set when an answer was longer than allowed
  std::string_view upload;      // a PUT's or POST's body
  std::string* etag = nullptr;  // optional: the ETag header
  const std::atomic<bool>* cancel = nullptr;  // optional: true aborts
  // Internal: where the upload is, the status of the answer being read.
  size_t upload_pos = 0;
  long http = 0;
};

// Sets `t->handle`'s callbacks and its method: "GET", "HEAD", "PUT" (the
// body read from t->upload, rewound on a redirect or retry), "POST", or
// any other (sent with t->upload as its body only when custom_has_body).
void ConfigureTransfer(CurlTransfer* t, const char* method,
                       bool custom_has_body);

}  // namespace migstore::store

#endif  // MIGSTORE_ENGINE_SRC_STORE_CURL_TRANSFER_H_
