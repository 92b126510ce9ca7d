#include "engine/src/smp/smp_http.h"

#include "engine/src/store/curl_transfer.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <strings.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>

namespace migstore::smp {
namespace {

// Control answers (a listing of every store included) and error bodies:
// more than this is not the state migration point talking.
constexpr size_t kMaxAnswerBytes = size_t{64} << 20;

// 5xx but 501 (will not change) and 503 (busy: the caller decides).
bool RetryableHttp(long http) {
  return http >= 500 && http != 501 && http != 503;
}

// The "error" and "kind" of an error body, when it is one.
struct ErrorBody {
  std::string message;
  std::string kind;
};

ErrorBody ParseErrorBody(const std::string& body) {
  ErrorBody e;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return e;
  auto m = j.find("error");
  if (m != j.end() && m->is_string()) e.message = m->get<std::string>();
  auto k = j.find("kind");
  if (k != j.end() && k->is_string()) e.kind = k->get<std::string>();
  return e;
}

// An error the server reported with `kind`; `fallback` when the kind is
// unknown.
Status StatusOfKind(const std::string& kind, const std::string& msg,
                    const std::string& detail, Status fallback) {
  if (kind == "InvalidArgument") return Status::InvalidArgument(msg, detail);
  if (kind == "NotFound") return Status::NotFound(msg, detail);
  if (kind == "AlreadyExists") return Status::AlreadyExists(msg, detail);
  if (kind == "Refused") return Status::Refused(msg, detail);
  if (kind == "Unavailable") return Status::Unavailable(msg, detail);
  if (kind == "Corruption") return Status::Corruption(msg, detail);
  if (kind == "IOError") return Status::IOError(msg, detail);
  return fallback;
}

}  // namespace

struct SmpHttp::Request {
  const char* method = "GET";
  std::string path;  // "/v1/...", made only of checked ids and encoded names
  std::vector<std::string> headers;  // "Name: value"
  bool has_body = false;
  std::string_view body;
  // A 2xx body goes here, at most out_len bytes.
  char* out = nullptr;
  size_t out_len = 0;
  const std::atomic<bool>* cancel = nullptr;
};

struct SmpHttp::Response {
  long http = 0;
  std::string body;  // 2xx bodies without `out`, and every error body
  int64_t content_length = -1;
  size_t out_filled = 0;
  bool overflow = false;  // the answer was longer than allowed
  bool cancelled = false;
  int attempts = 0;
};

bool IsStoreId(std::string_view id) {
  if (id.size() != 32) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
  });
}

std::string PathSegment(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

SmpHttp::SmpHttp(SmpHttpOptions options) : options_(std::move(options)) {
  store::InitCurlOnce();
  auth_header_ = "Authorization: Bearer " + options_.token;
}

SmpHttp::~SmpHttp() {
  for (void* h : pool_) curl_easy_cleanup(static_cast<CURL*>(h));
  OPENSSL_cleanse(auth_header_.data(), auth_header_.size());
  OPENSSL_cleanse(options_.token.data(), options_.token.size());
}

void* SmpHttp::Borrow() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      void* h = pool_.back();
      pool_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void SmpHttp::GiveBack(void* handle) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  pool_.push_back(handle);
}

std::string SmpHttp::Describe(const Request& req) const {
  return std::string(req.method) + " " + options_.server + req.path;
}

bool SmpHttp::WaitBeforeRetry(int n, const std::atomic<bool>* cancel) const {
  const auto until =
      std::chrono::steady_clock::now() + store::Backoff(retry(), n);
  // In small steps, so that an abandoned upload stops promptly.
  while (std::chrono::steady_clock::now() < until) {
    if (cancel != nullptr && cancel->load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50),
        until - std::chrono::steady_clock::now()));
  }
  return cancel == nullptr || !cancel->load();
}

Status SmpHttp::Attempt(const Request& req, Response* resp, bool* retryable) {
  *retryable = false;
  *resp = Response();
  CURL* h = static_cast<CURL*>(Borrow());
  if (h == nullptr) return Status::IOError("cannot start an HTTP request");
  curl_easy_reset(h);
  const std::string url = options_.server + req.path;

  curl_slist* headers = curl_slist_append(nullptr, auth_header_.c_str());
  // No "Expect: 100-continue" before an upload's body: a server that does
  // not answer it would cost a second per chunk.
  headers = curl_slist_append(headers, "Expect:");
  for (const std::string& l : req.headers)
    headers = curl_slist_append(headers, l.c_str());

  store::CurlTransfer t;
  t.handle = h;
  t.out = req.out;
  t.out_len = req.out_len;
  t.out_filled = &resp->out_filled;
  t.body = &resp->body;
  t.max_body = kMaxAnswerBytes;
  t.overflow = &resp->overflow;
  t.upload = req.body;
  t.cancel = req.cancel;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  if (!options_.ca_file.empty())
    curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(options_.stall_timeout.count()));
  store::ConfigureTransfer(&t, req.method, req.has_body);

  requests_sent_.fetch_add(1, std::memory_order_relaxed);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->http);
  curl_off_t length = -1;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) ==
      CURLE_OK) {
    resp->content_length = length;
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  // The header list held the token: freed at once, and the handle forgets
  // it before it goes back to the pool.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  GiveBack(h);

  if (rc == CURLE_OK) return Status::OK();
  if (rc == CURLE_WRITE_ERROR && resp->overflow) {
    // Ours: the answer was longer than the request allows; the callers
    // tell what that means.
    return Status::OK();
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    resp->cancelled = true;
    return Status::Cancelled(Describe(req), "stopped");
  }
  *retryable = store::RetryableCurlError(rc);
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
    // Not retried, and said plainly: the usual cause is a CA file that does
    // not match the server's certificate.
    return Status::Unavailable(
        "cannot reach " + options_.server,
        std::string(errbuf[0] != 0 ? errbuf : curl_easy_strerror(rc)) +
            " (check the server's certificate and --ca-file)");
  }
  std::string detail = errbuf[0] != 0 ? errbuf : curl_easy_strerror(rc);
  return Status::Unavailable("cannot reach " + options_.server, detail);
}

Result<SmpHttp::Response> SmpHttp::Send(const Request& req, int max_attempts) {
  const int attempts = std::max(1, max_attempts);
  for (int attempt = 1;; ++attempt) {
    Response resp;
    bool retryable = false;
    Status s = Attempt(req, &resp, &retryable);
    resp.attempts = attempt;
    if (s.ok()) {
      if (!RetryableHttp(resp.http) || attempt >= attempts) return resp;
    } else if (!retryable || attempt >= attempts) {
      if (attempt == 1) return s;
      return s.WithContext("after " + std::to_string(attempt) + " attempts");
    }
    if (!WaitBeforeRetry(attempt, req.cancel))
      return Status::Cancelled(Describe(req), "stopped");
  }
}

Status SmpHttp::ErrorFor(const Request& req, const Response& resp) const {
  const ErrorBody e = ParseErrorBody(resp.body);
  const std::string what = Describe(req);
  std::string detail = e.message.empty() ? "" : e.message + " ";
  detail += "(HTTP " + std::to_string(resp.http) + ")";
  if (resp.attempts > 1)
    detail += " after " + std::to_string(resp.attempts) + " attempts";
  switch (resp.http) {
    case 400:
      return Status::InvalidArgument(what, detail);
    case 401:
      return Status::Refused(
          what, detail +
                    ": the server does not know this token (enrolled "
                    "again since?)");
    case 403:
    case 409: {
      // AlreadyExists and NotFound say more and are the same exit code.
      Status fallback = Status::Refused(what, detail);
      if (e.kind == "AlreadyExists" || e.kind == "NotFound")
        return StatusOfKind(e.kind, what, detail, std::move(fallback));
      return fallback;
    }
    case 404:
      return Status::NotFound(what, detail);
    case 416:
      return Status::IOError(what, detail);
    case 422:
      return Status::Corruption(what, detail);
    case 500:
      return Status::IOError(what, detail);
    case 503:
      return Status::Unavailable(what, detail + ": the server is busy");
    default:
      break;
  }
  if (resp.http >= 500) {
    return Status::Unavailable(what, detail + ": the server keeps failing");
  }
  if (resp.http >= 200 && resp.http < 300 && resp.overflow) {
    return Status::IOError(what, "the server's answer is too long");
  }
  return StatusOfKind(e.kind, what, detail, Status::IOError(what, detail));
}

Result<nlohmann::json> SmpHttp::Call(std::string_view method,
                                     const std::string& path,
                                     const nlohmann::json& body,
                                     int* attempts) {
  const std::string m(method);
  Request req;
  req.method = m.c_str();
  req.path = path;
  std::string text;
  if (!body.is_null()) {
    // Names come from the command line and may not be UTF-8: replaced, not
    // thrown on.
    text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    req.has_body = true;
    req.body = text;
    req.headers.push_back("Content-Type: application/json");
  } else if (m == "POST" || m == "PUT") {
    text = "{}";
    req.has_body = true;
    req.body = text;
    req.headers.push_back("Content-Type: application/json");
  }
  req.headers.push_back("Accept: application/json");
  MIGSTORE_ASSIGN_OR_RETURN(Response resp,
                            Send(req, options_.retry.max_attempts));
  if (attempts != nullptr) *attempts = resp.attempts;
  if (resp.http < 200 || resp.http >= 300 || resp.overflow)
    return ErrorFor(req, resp);
  nlohmann::json answer =
      resp.body.empty() ? nlohmann::json::object()
                        : nlohmann::json::parse(resp.body, nullptr, false);
  // Answers may carry a store's key: the copy read off the wire goes now.
  OPENSSL_cleanse(resp.body.data(), resp.body.size());
  if (!answer.is_object()) {
    return Status::IOError(Describe(req),
                           "the server's answer is not a JSON object");
  }
  return answer;
}

UploadAnswer SmpHttp::PutRange(const std::string& path, uint64_t offset,
                               std::string_view data,
                               const std::atomic<bool>* cancel) {
  Request req;
  req.method = "PUT";
  req.path = path;
  req.has_body = true;
  req.body = data;
  req.cancel = cancel;
  req.headers.push_back("Content-Type: application/octet-stream");
  req.headers.push_back("Content-Range: bytes " + std::to_string(offset) + "-" +
                        std::to_string(offset + data.size() - 1) + "/*");
  req.headers.push_back("Accept: application/json");
  UploadAnswer a;
  Result<Response> sent = Send(req, 1);
  if (!sent.ok()) {
    a.error = sent.status();
    a.retryable = !a.error.IsCancelled();
    return a;
  }
  const Response& resp = *sent;
  a.http = resp.http;
  const bool ok = resp.http >= 200 && resp.http < 300 && !resp.overflow;
  if (ok || resp.http == 416) {
    nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
    auto r = j.is_object() ? j.find("received") : j.end();
    if (r != j.end() && r->is_number_unsigned()) {
      a.received = r->get<uint64_t>();
    } else if (r != j.end() && r->is_number_integer() &&
               r->get<int64_t>() >= 0) {
      a.received = static_cast<uint64_t>(r->get<int64_t>());
    } else {
      a.http = 0;
      a.error = Status::IOError(Describe(req),
                                "the server's answer does not say how many "
                                "bytes it received (HTTP " +
                                    std::to_string(resp.http) + ")");
      return a;
    }
    if (ok) return a;
  }
  a.error = ErrorFor(req, resp);
  a.retryable = resp.http >= 500;
  return a;
}

Status SmpHttp::GetRange(const std::string& path, uint64_t offset, size_t n,
                         char* out) {
  if (n == 0) return Status::OK();
  Request req;
  req.path = path;
  req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" +
                        std::to_string(offset + n - 1));
  req.out = out;
  req.out_len = n;
  MIGSTORE_ASSIGN_OR_RETURN(Response resp,
                            Send(req, options_.retry.max_attempts));
  if (resp.http == 206 || (resp.http == 200 && offset == 0)) {
    if (resp.overflow) {
      return Status::IOError(Describe(req),
                             resp.http == 200
                                 ? "the server ignored the Range header"
                                 : "the server sent more than the range "
                                   "asked for");
    }
    if (resp.out_filled != n) {
      return Status::Corruption(Describe(req),
                                "the store ends before the data it promises (" +
                                    std::to_string(resp.out_filled) + " of " +
                                    std::to_string(n) + " bytes)");
    }
    return Status::OK();
  }
  if (resp.http >= 200 && resp.http < 300) {
    return Status::IOError(Describe(req),
                           "the server ignored the Range header");
  }
  if (resp.http == 416) {
    return Status::Corruption(Describe(req),
                              "the store ends before the data it promises");
  }
  return ErrorFor(req, resp);
}

Result<uint64_t> SmpHttp::Head(const std::string& path) {
  Request req;
  req.method = "HEAD";
  req.path = path;
  MIGSTORE_ASSIGN_OR_RETURN(Response resp,
                            Send(req, options_.retry.max_attempts));
  if (resp.http >= 200 && resp.http < 300) {
    if (resp.content_length < 0) {
      return Status::IOError(Describe(req), "the server did not say its size");
    }
    return static_cast<uint64_t>(resp.content_length);
  }
  if (resp.http >= 400 && resp.http < 500) {
    // A HEAD answer has no body to say why; the same GET's error has.
    Request get;
    get.path = path;
    get.headers.push_back("Range: bytes=0-0");
    char byte;
    get.out = &byte;
    get.out_len = 1;
    Result<Response> again = Send(get, 1);
    if (again.ok() && again->http == resp.http) {
      Response told = std::move(again).value();
      told.attempts = resp.attempts;
      return ErrorFor(req, told);
    }
  }
  return ErrorFor(req, resp);
}

}  // namespace migstore::smp
