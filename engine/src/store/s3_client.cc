#include "engine/src/store/s3_client.h"

#include "engine/src/store/curl_transfer.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <pugixml.hpp>
#include <random>
#include <thread>

namespace migstore::store {
namespace {

// Error answers and the small XML answers of the multipart calls: more than
// this is not an S3 answer.
constexpr size_t kMaxAnswerBytes = size_t{4} << 20;

// Every uploaded byte is hashed once for its signature, so this is on the
// capture's path: OpenSSL's SHA-256 uses the CPU's SHA extensions (1.8 GB/s
// here) where libsodium's portable one runs at a seventh of that, which cost
// a two-core capture 0.2 s of CPU per 40 MB (docs/performance.md).
std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(),
                 nullptr) != 1 ||
      len != 32) {
    std::abort();  // SHA-256 of bytes in memory cannot fail
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    const unsigned char b = digest[i];
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

struct XmlError {
  std::string code;
  std::string message;
};

// S3's error body: <Error><Code>..</Code><Message>..</Message></Error>.
XmlError ParseXmlError(const std::string& body) {
  XmlError e;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return e;
  pugi::xml_node err = doc.child("Error");
  e.code = err.child_value("Code");
  e.message = err.child_value("Message");
  return e;
}

bool IsCredentialError(const std::string& code) {
  return code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
         code == "ExpiredToken" || code == "InvalidToken" ||
         code == "TokenRefreshRequired" ||
         code == "AuthorizationHeaderMalformed" ||
         code == "InvalidClientTokenId" || code == "RequestTimeTooSkewed";
}

}  // namespace

struct S3Client::Request {
  const char* method = "GET";
  std::string bucket;
  std::string key;  // empty for requests on the bucket
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::string> headers;  // "Name: value", all signed
  std::string_view body;
  // A GET's 2xx body goes here, at most out_len bytes.
  char* out = nullptr;
  size_t out_len = 0;
};

struct S3Client::Response {
  long http = 0;
  std::string body;  // 2xx bodies without `out`, and every error body
  std::string etag;
  int64_t content_length = -1;
  size_t out_filled = 0;
  bool overflow = false;  // the answer was longer than asked for
  int attempts = 0;       // how many times the request was sent
};

S3Client::S3Client(S3Config config) : config_(std::move(config)) {
  InitCurlOnce();
  sigv4_ = "aws:amz:" + config_.region + ":s3";
}

S3Client::~S3Client() {
  for (void* h : pool_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* S3Client::Borrow() {
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

void S3Client::GiveBack(void* handle) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  pool_.push_back(handle);
}

std::string S3Client::UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string S3Client::UrlFor(
    const std::string& bucket, const std::string& key,
    const std::vector<std::pair<std::string, std::string>>& query) const {
  std::string url;
  if (config_.path_style) {
    url = config_.endpoint + "/" + bucket;
    if (!key.empty()) url += "/" + UriEncode(key, true);
  } else {
    const size_t scheme_end = config_.endpoint.find("://") + 3;
    url = config_.endpoint.substr(0, scheme_end) + bucket + "." +
          config_.endpoint.substr(scheme_end) + "/" + UriEncode(key, true);
  }
  // SigV4 signs the query as sent; libcurl 7.88 neither sorts nor encodes
  // it, so it is sent canonical: sorted, encoded, "name=" for flags.
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : query)
    q.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(q.begin(), q.end());
  for (size_t i = 0; i < q.size(); ++i) {
    url += i == 0 ? "?" : "&";
    url += q[i].first + "=" + q[i].second;
  }
  return url;
}

Status S3Client::Attempt(const Request& req, Response* resp, bool* retryable) {
  *retryable = false;
  *resp = Response();
  CURL* h = static_cast<CURL*>(Borrow());
  if (h == nullptr) return Status::IOError("cannot start an HTTP request");
  curl_easy_reset(h);
  const std::string url = UrlFor(req.bucket, req.key, req.query);

  curl_slist* headers = nullptr;
  std::vector<std::string> lines = req.headers;
  lines.push_back("x-amz-content-sha256: " + Sha256Hex(req.body));
  if (!config_.session_token.empty())
    lines.push_back("x-amz-security-token: " + config_.session_token);
  for (const std::string& l : lines)
    headers = curl_slist_append(headers, l.c_str());

  CurlTransfer t;
  t.handle = h;
  t.out = req.out;
  t.out_len = req.out_len;
  t.out_filled = &resp->out_filled;
  t.body = &resp->body;
  t.max_body = kMaxAnswerBytes;
  t.overflow = &resp->overflow;
  t.upload = req.body;
  t.etag = &resp->etag;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // Keys may hold "." and ".." segments: they are names, not paths.
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, config_.access_key_id.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, config_.secret_access_key.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(config_.stall_timeout.count()));
  ConfigureTransfer(&t, req.method, /*custom_has_body=*/false);

  requests_sent_.fetch_add(1, std::memory_order_relaxed);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->http);
  curl_off_t length = -1;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) ==
      CURLE_OK) {
    resp->content_length = length;
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  GiveBack(h);

  if (rc == CURLE_OK) return Status::OK();
  if (rc == CURLE_WRITE_ERROR && resp->overflow) {
    // Ours: the answer was longer than the request allows. ErrorFor and
    // the callers tell what that means.
    return Status::OK();
  }
  *retryable = RetryableCurlError(rc);
  std::string detail = errbuf[0] != 0 ? errbuf : curl_easy_strerror(rc);
  return Status::Unavailable("cannot reach " + config_.endpoint, detail);
}

Result<S3Client::Response> S3Client::Send(const Request& req) {
  const int attempts = std::max(1, config_.retry.max_attempts);
  Status last;
  for (int attempt = 1;; ++attempt) {
    Response resp;
    bool retryable = false;
    Status s = Attempt(req, &resp, &retryable);
    resp.attempts = attempt;
    if (s.ok()) {
      // S3 may answer 200 to CompleteMultipartUpload and report an error in
      // the body; that is a 5xx in all but status.
      bool error_in_200 = resp.http == 200 &&
                          req.method == std::string("POST") &&
                          resp.body.find("<Error>") != std::string::npos;
      // 501 Not Implemented will not change either.
      if ((resp.http < 500 || resp.http == 501) && !error_in_200) return resp;
      XmlError e = ParseXmlError(resp.body);
      last = Status::Unavailable(
          "the server at " + config_.endpoint + " keeps failing",
          "HTTP " + std::to_string(resp.http) +
              (e.code.empty() ? "" : " " + e.code) +
              (e.message.empty() ? "" : ": " + e.message));
    } else if (!retryable) {
      return s;
    } else {
      last = std::move(s);
    }
    if (attempt >= attempts) break;
    std::this_thread::sleep_for(Backoff(config_.retry, attempt));
  }
  return last.WithContext("after " + std::to_string(attempts) + " attempts");
}

Status S3Client::ErrorFor(const Request& req, const Response& resp) const {
  const std::string name = req.key.empty()
                               ? "s3://" + req.bucket
                               : "s3://" + req.bucket + "/" + req.key;
  XmlError e = ParseXmlError(resp.body);
  std::string detail = "HTTP " + std::to_string(resp.http);
  if (!e.code.empty()) detail += " " + e.code;
  if (!e.message.empty()) detail += ": " + e.message;
  if (IsCredentialError(e.code) || (resp.http == 401 && e.code.empty())) {
    return Status::Unavailable(
        name, "the server refuses the credentials (" + detail +
                  "); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
                  "AWS_SESSION_TOKEN");
  }
  if (resp.http == 403) {
    return Status::Unavailable(
        name, "access denied (" + detail +
                  "): the credentials lack permission for this bucket or key");
  }
  if (e.code == "NoSuchBucket") return Status::NotFound("no such bucket", name);
  if (resp.http == 404 && e.code != "NoSuchUpload") {
    return Status::NotFound("no such store", name);
  }
  if (resp.http == 412) {
    return Status::AlreadyExists(name, "appeared while it was written");
  }
  if (resp.http == 416) {
    return Status::Corruption(name,
                              "the object ends before the data it promises");
  }
  return Status::IOError(name,
                         "the server refused the request (" + detail + ")");
}

Result<std::optional<uint64_t>> S3Client::Stat(const S3Location& where) {
  Request req;
  req.method = "HEAD";
  req.bucket = where.bucket;
  req.key = where.key;
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http >= 200 && resp.http < 300) {
    if (resp.content_length < 0) {
      return Status::IOError(where.Name(), "the server did not say its size");
    }
    return std::optional<uint64_t>(static_cast<uint64_t>(resp.content_length));
  }
  if (resp.http >= 400 && resp.http < 500) {
    // A HEAD answer has no body to say why (no such key or no such bucket,
    // wrong credentials or no permission); a one-byte GET's has.
    Request get;
    get.bucket = where.bucket;
    get.key = where.key;
    get.headers.push_back("Range: bytes=0-0");
    char byte;
    get.out = &byte;
    get.out_len = 1;
    MIGSTORE_ASSIGN_OR_RETURN(Response again, Send(get));
    if (again.http >= 400) {
      const std::string code = ParseXmlError(again.body).code;
      if (again.http == 404 && (code == "NoSuchKey" || code.empty())) {
        return std::optional<uint64_t>();
      }
      return ErrorFor(get, again);
    }
  }
  return ErrorFor(req, resp);
}

Result<uint64_t> S3Client::Head(const S3Location& where) {
  MIGSTORE_ASSIGN_OR_RETURN(std::optional<uint64_t> size, Stat(where));
  if (!size) return Status::NotFound("no such store", where.Name());
  return *size;
}

Status S3Client::GetRange(const S3Location& where, uint64_t offset, size_t n,
                          char* out) {
  if (n == 0) return Status::OK();
  Request req;
  req.bucket = where.bucket;
  req.key = where.key;
  req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" +
                        std::to_string(offset + n - 1));
  req.out = out;
  req.out_len = n;
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http == 206 || (resp.http == 200 && offset == 0)) {
    if (resp.overflow) {
      return Status::IOError(where.Name(),
                             "the server sent more than the range asked for");
    }
    if (resp.out_filled != n) {
      return Status::Corruption(where.Name(),
                                "the object ends before the data it promises");
    }
    return Status::OK();
  }
  if (resp.http >= 200 && resp.http < 300) {
    return Status::IOError(where.Name(), "the server ignored the Range header");
  }
  return ErrorFor(req, resp);
}

Status S3Client::Put(const S3Location& where, std::string_view body,
                     bool if_absent) {
  Request req;
  req.method = "PUT";
  req.bucket = where.bucket;
  req.key = where.key;
  req.body = body;
  if (if_absent) req.headers.push_back("If-None-Match: *");
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http >= 200 && resp.http < 300) return Status::OK();
  if (PublishedByAnEarlierAttempt(where, resp, body.size()))
    return Status::OK();
  return ErrorFor(req, resp);
}

bool S3Client::PublishedByAnEarlierAttempt(const S3Location& where,
                                           const Response& resp,
                                           uint64_t size) {
  // A request that was sent again may have been carried out the first time,
  // its answer lost on the way back: the second time, the object then
  // exists (412 to If-None-Match) or the upload is gone (NoSuchUpload).
  // Reporting that as a failure would leave the object written and the
  // capture failed; an object of the expected size is taken as ours.
  if (resp.attempts < 2) return false;
  if (resp.http != 412 && ParseXmlError(resp.body).code != "NoSuchUpload")
    return false;
  Result<std::optional<uint64_t>> st = Stat(where);
  return st.ok() && st->has_value() && **st == size;
}

Status S3Client::Delete(const S3Location& where) {
  Request req;
  req.method = "DELETE";
  req.bucket = where.bucket;
  req.key = where.key;
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http >= 200 && resp.http < 300) return Status::OK();
  return ErrorFor(req, resp);
}

Result<std::string> S3Client::CreateMultipartUpload(const S3Location& where) {
  Request req;
  req.method = "POST";
  req.bucket = where.bucket;
  req.key = where.key;
  req.query = {{"uploads", ""}};
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http < 200 || resp.http >= 300) return ErrorFor(req, resp);
  pugi::xml_document doc;
  std::string id;
  if (doc.load_buffer(resp.body.data(), resp.body.size())) {
    id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  }
  if (id.empty()) {
    return Status::IOError(where.Name(),
                           "the server's answer names no upload id");
  }
  return id;
}

Result<std::string> S3Client::UploadPart(const S3Location& where,
                                         const std::string& upload_id,
                                         int part_number,
                                         std::string_view body) {
  Request req;
  req.method = "PUT";
  req.bucket = where.bucket;
  req.key = where.key;
  req.query = {{"partNumber", std::to_string(part_number)},
               {"uploadId", upload_id}};
  req.body = body;
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http < 200 || resp.http >= 300) return ErrorFor(req, resp);
  if (resp.etag.empty()) {
    return Status::IOError(where.Name(), "the server's answer to part " +
                                             std::to_string(part_number) +
                                             " has no ETag");
  }
  return resp.etag;
}

Status S3Client::CompleteMultipartUpload(const S3Location& where,
                                         const std::string& upload_id,
                                         const std::vector<Part>& parts,
                                         uint64_t size, bool if_absent) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const Part& p : parts) {
    xml += "<Part><PartNumber>" + std::to_string(p.number) +
           "</PartNumber><ETag>" + XmlEscape(p.etag) + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  Request req;
  req.method = "POST";
  req.bucket = where.bucket;
  req.key = where.key;
  req.query = {{"uploadId", upload_id}};
  req.headers.push_back("Content-Type: application/xml");
  if (if_absent) req.headers.push_back("If-None-Match: *");
  req.body = xml;
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http >= 200 && resp.http < 300) return Status::OK();
  if (PublishedByAnEarlierAttempt(where, resp, size)) return Status::OK();
  return ErrorFor(req, resp);
}

Status S3Client::AbortMultipartUpload(const S3Location& where,
                                      const std::string& upload_id) {
  Request req;
  req.method = "DELETE";
  req.bucket = where.bucket;
  req.key = where.key;
  req.query = {{"uploadId", upload_id}};
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http >= 200 && resp.http < 300) return Status::OK();
  // Already gone is what was wanted.
  if (ParseXmlError(resp.body).code == "NoSuchUpload") return Status::OK();
  return ErrorFor(req, resp);
}

Result<std::vector<std::pair<std::string, std::string>>>
S3Client::ListMultipartUploads(const std::string& bucket,
                               const std::string& prefix) {
  Request req;
  req.bucket = bucket;
  req.query = {{"uploads", ""}};
  if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http < 200 || resp.http >= 300) return ErrorFor(req, resp);
  pugi::xml_document doc;
  if (!doc.load_buffer(resp.body.data(), resp.body.size())) {
    return Status::IOError("s3://" + bucket,
                           "the server's list of uploads is not XML");
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (pugi::xml_node u :
       doc.child("ListMultipartUploadsResult").children("Upload")) {
    out.emplace_back(u.child_value("Key"), u.child_value("UploadId"));
  }
  return out;
}

Result<std::vector<S3Client::ListedPart>> S3Client::ListParts(
    const S3Location& where, const std::string& upload_id) {
  std::vector<ListedPart> out;
  std::string marker;
  for (;;) {
    Request req;
    req.bucket = where.bucket;
    req.key = where.key;
    req.query = {{"uploadId", upload_id}};
    if (!marker.empty()) req.query.emplace_back("part-number-marker", marker);
    MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
    if (resp.http < 200 || resp.http >= 300) {
      if (ParseXmlError(resp.body).code == "NoSuchUpload") {
        return Status::NotFound("no such upload", where.Name());
      }
      return ErrorFor(req, resp);
    }
    pugi::xml_document doc;
    if (!doc.load_buffer(resp.body.data(), resp.body.size())) {
      return Status::IOError(where.Name(),
                             "the server's list of parts is not XML");
    }
    // AWS names the root ListPartsResult, moto 5.2 ListPartsResponse: the
    // parts are its children either way.
    pugi::xml_node result = doc.document_element();
    for (pugi::xml_node p : result.children("Part")) {
      out.push_back({std::atoi(p.child_value("PartNumber")),
                     p.child_value("ETag"),
                     std::strtoull(p.child_value("Size"), nullptr, 10)});
    }
    if (std::string_view(result.child_value("IsTruncated")) != "true") break;
    // A page that says there is more but not past where this one ended
    // would be asked for forever.
    const std::string next = result.child_value("NextPartNumberMarker");
    if (std::atoi(next.c_str()) <= std::atoi(marker.c_str())) {
      return Status::IOError(where.Name(),
                             "the server's list of parts is cut short without "
                             "saying where it goes on");
    }
    marker = next;
  }
  return out;
}

Status S3Client::CreateBucket(const std::string& bucket) {
  Request req;
  req.method = "PUT";
  req.bucket = bucket;
  std::string xml;
  if (config_.region != "us-east-1") {
    xml = "<CreateBucketConfiguration><LocationConstraint>" + config_.region +
          "</LocationConstraint></CreateBucketConfiguration>";
    req.body = xml;
  }
  MIGSTORE_ASSIGN_OR_RETURN(Response resp, Send(req));
  if (resp.http >= 200 && resp.http < 300) return Status::OK();
  return ErrorFor(req, resp);
}

}  // namespace migstore::store
