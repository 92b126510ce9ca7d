// S3Client: the few S3 operations a store needs (HEAD, ranged GET, PUT,
// multipart upload, DELETE), over libcurl, signed by libcurl's own AWS
// Signature Version 4 (CURLOPT_AWS_SIGV4) with the credentials of an
// S3Config. Works with AWS and with S3-compatible servers (MinIO, Ceph RGW).
//
// Every request is retried with exponential backoff and jitter
// (S3Config::retry) when the connection fails or the server answers 5xx
// (but 501 Not Implemented); never on 4xx, which a retry cannot change.
// Failures map to Status:
//   - the endpoint cannot be reached, or keeps answering 5xx: Unavailable;
//   - the server refuses the credentials (403 InvalidAccessKeyId,
//     SignatureDoesNotMatch, ExpiredToken...) or access: Unavailable, with a
//     message that says which;
//   - no such key or bucket: NotFound; a conditional write that lost:
//     AlreadyExists; a range past the object's end: Corruption;
//   - anything else the server refuses: IOError with its code and message.
// Both Unavailable and NotFound are USMT's 27, an invalid store location.
//
// libcurl 7.88's signer signs the query string and path as given, without
// sorting or encoding them, and signs every header set on the request: so
// this client builds canonical URLs itself (keys percent-encoded, query
// parameters sorted, "name=" for a flag such as "uploads=") and sends the
// payload's SHA-256 in x-amz-content-sha256, which S3 requires and checks.
//
// Thread safety: every method may be called from any number of threads at
// once (each request borrows a curl handle from a small pool, so
// connections are reused).

#ifndef MIGSTORE_ENGINE_SRC_STORE_S3_CLIENT_H_
#define MIGSTORE_ENGINE_SRC_STORE_S3_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/src/store/s3_config.h"
#include "migstore/result.h"

namespace migstore::store {

class S3Client {
 public:
  explicit S3Client(S3Config config);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Config& config() const { return config_; }

  // The object's size. NotFound when there is none.
  Result<uint64_t> Head(const S3Location& where);
  // The object's size, or nullopt when the bucket holds no such key (a
  // missing bucket is NotFound).
  Result<std::optional<uint64_t>> Stat(const S3Location& where);
  // Reads bytes [offset, offset + n) into out: the server must answer 206
  // with exactly n bytes (Corruption when the object is shorter).
  Status GetRange(const S3Location& where, uint64_t offset, size_t n,
                  char* out);
  // Writes a whole object. With if_absent, only if there is none yet
  // (If-None-Match: *; AlreadyExists when one appeared).
  Status Put(const S3Location& where, std::string_view body, bool if_absent);
  Status Delete(const S3Location& where);

  // Multipart upload: nothing is visible under the key until Complete.
  Result<std::string> CreateMultipartUpload(const S3Location& where);
  // Returns the part's ETag. part_number: 1 to 10000.
  Result<std::string> UploadPart(const S3Location& where,
                                 const std::string& upload_id, int part_number,
                                 std::string_view body);
  struct Part {
    int number;
    std::string etag;
  };
  // `parts` in ascending number order, `size` bytes in all. if_absent as
  // for Put.
  Status CompleteMultipartUpload(const S3Location& where,
                                 const std::string& upload_id,
                                 const std::vector<Part>& parts, uint64_t size,
                                 bool if_absent);
  Status AbortMultipartUpload(const S3Location& where,
                              const std::string& upload_id);
  // The (key, upload id) of every unfinished upload in the bucket whose key
  // starts with prefix (the first 1000).
  Result<std::vector<std::pair<std::string, std::string>>> ListMultipartUploads(
      const std::string& bucket, const std::string& prefix);
  struct ListedPart {
    int number;
    std::string etag;
    uint64_t size;
  };
  // The parts an unfinished upload holds, in ascending number order (every
  // page of the listing: up to 10,000). NotFound when there is no such
  // upload (never made, aborted or completed).
  Result<std::vector<ListedPart>> ListParts(const S3Location& where,
                                            const std::string& upload_id);

  Status CreateBucket(const std::string& bucket);

  // HTTP requests sent so far, every attempt counted.
  uint64_t requests_sent() const { return requests_sent_.load(); }

  // Percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (and '/', when
  // keep_slash), as SigV4's canonical request wants.
  static std::string UriEncode(std::string_view s, bool keep_slash);

 private:
  struct Request;
  struct Response;
  // One request, retried as RetryPolicy says.
  Result<Response> Send(const Request& req);
  Status Attempt(const Request& req, Response* resp, bool* retryable);
  // Whether a non-2xx answer to a request sent more than once means an
  // earlier attempt already published `where` (`size` bytes).
  bool PublishedByAnEarlierAttempt(const S3Location& where,
                                   const Response& resp, uint64_t size);
  // The Status for a final non-2xx answer.
  Status ErrorFor(const Request& req, const Response& resp) const;
  std::string UrlFor(
      const std::string& bucket, const std::string& key,
      const std::vector<std::pair<std::string, std::string>>& query) const;

  void* Borrow();
  void GiveBack(void* handle);

  S3Config config_;
  std::string sigv4_;  // "aws:amz:REGION:s3"
  std::mutex pool_mu_;
  std::vector<void*> pool_;  // idle CURL easy handles, guarded by pool_mu_
  std::atomic<uint64_t> requests_sent_{0};
};

}  // namespace migstore::store

#endif  // MIGSTORE_ENGINE_SRC_STORE_S3_CLIENT_H_
