#include "engine/src/store/curl_transfer.h"

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <random>

namespace migstore::store {
namespace {

size_t OnWrite(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  const size_t n = size * nmemb;
  if (t->http == 0)
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &t->http);
  if (t->out != nullptr && t->http >= 200 && t->http < 300) {
    if (n > t->out_len - *t->out_filled) {
      *t->overflow = true;
      return 0;  // aborts the transfer
    }
    std::memcpy(t->out + *t->out_filled, data, n);
    *t->out_filled += n;
    return n;
  }
  if (t->body->size() + n > t->max_body) {
    *t->overflow = true;
    return 0;
  }
  t->body->append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  const size_t n = size * nmemb;
  std::string_view line(data, n);
  // A new status line (after a 100 Continue, say) starts a new answer.
  if (line.substr(0, 5) == "HTTP/") t->http = 0;
  constexpr std::string_view kEtag = "etag:";
  if (t->etag != nullptr && line.size() > kEtag.size() &&
      strncasecmp(line.data(), kEtag.data(), kEtag.size()) == 0) {
    std::string_view v = line.substr(kEtag.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
      v.remove_prefix(1);
    while (!v.empty() &&
           (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
      v.remove_suffix(1);
    t->etag->assign(v);
  }
  return n;
}

size_t OnRead(char* buffer, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  size_t n = std::min(size * nitems, t->upload.size() - t->upload_pos);
  std::memcpy(buffer, t->upload.data() + t->upload_pos, n);
  t->upload_pos += n;
  return n;
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<CurlTransfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<uint64_t>(offset) > t->upload.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->upload_pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<CurlTransfer*>(user);
  return t->cancel != nullptr && t->cancel->load() ? 1 : 0;
}

void SetBody(CURL* h, std::string_view body) {
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
}

}  // namespace

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool RetryableCurlError(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::chrono::milliseconds Backoff(const RetryPolicy& p, int n) {
  int64_t d = p.base_delay.count();
  for (int i = 1; i < n && d < p.max_delay.count(); ++i) d *= 2;
  d = std::min<int64_t>(d, p.max_delay.count());
  thread_local std::minstd_rand rng(std::random_device{}());
  std::uniform_int_distribution<int64_t> jitter(d / 2, d);
  return std::chrono::milliseconds(d > 0 ? jitter(rng) : 0);
}

void ConfigureTransfer(CurlTransfer* t, const char* method,
                       bool custom_has_body) {
  CURL* h = t->handle;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
  if (t->cancel != nullptr) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
  }
  const std::string_view m = method;
  if (m == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (m == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(h, CURLOPT_READDATA, t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(t->upload.size()));
  } else if (m == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    SetBody(h, t->upload);
  } else if (m != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (custom_has_body) SetBody(h, t->upload);
  }
}

}  // namespace migstore::store
