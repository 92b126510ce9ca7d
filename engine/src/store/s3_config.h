// Where an s3:// store lives and how to reach it: the store name
// ("s3://bucket/key") and the endpoint, region and credentials, read from
// the environment the way the AWS tools read them (docs/design.md, "Store
// backends").
//
// Thread safety: plain values.

#ifndef MIGSTORE_ENGINE_SRC_STORE_S3_CONFIG_H_
#define MIGSTORE_ENGINE_SRC_STORE_S3_CONFIG_H_

#include <chrono>
#include <string>
#include <string_view>

#include "migstore/result.h"

namespace migstore::store {

// "s3://bucket/key".
struct S3Location {
  std::string bucket;
  std::string key;
  // The name back: "s3://bucket/key" (for messages).
  std::string Name() const { return "s3://" + bucket + "/" + key; }
};

// True when `name` is meant as an object-store name (starts with "s3://").
bool IsS3Name(std::string_view name);
// InvalidArgument unless `name` is "s3://BUCKET/KEY" with a bucket name S3
// accepts (3-63 of [a-z0-9.-]) and a key of 1-1024 bytes.
Result<S3Location> ParseS3Name(std::string_view name);

// Retries with exponential backoff and jitter: the wait before retry n
// (n = 1, 2, ...) is drawn from [d/2, d], d = min(max_delay,
// base_delay * 2^(n-1)).
struct RetryPolicy {
  int max_attempts = 5;  // the first try included
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5000};
};

struct S3Config {
  // "https://host[:port]" or "http://..." without a trailing slash.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // sent as x-amz-security-token when set
  // Path-style ("endpoint/bucket/key") rather than virtual-hosted
  // ("bucket.endpoint/key") requests.
  bool path_style = false;
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer that moves no byte for this long fails (and is retried).
  std::chrono::seconds stall_timeout{60};

  // From AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  // AWS_REGION (else AWS_DEFAULT_REGION, else us-east-1), AWS_ENDPOINT_URL_S3
  // or AWS_ENDPOINT_URL (else AWS's own https://s3.REGION.amazonaws.com)
  // and MIGSTORE_S3_ADDRESSING (path, virtual or auto: path-style for an
  // explicit endpoint, which is what MinIO, Ceph and test servers want;
  // virtual-hosted for AWS unless the bucket name has a dot).
  // Unavailable when the credentials are missing, InvalidArgument when a
  // variable is malformed.
  static Result<S3Config> FromEnvironment(const S3Location& where);
};

}  // namespace migstore::store

#endif  // MIGSTORE_ENGINE_SRC_STORE_S3_CONFIG_H_
