#include "engine/src/store/s3_config.h"

#include <cstdlib>

namespace migstore::store {
namespace {

constexpr std::string_view kScheme = "s3://";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

bool ValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-')) {
      return false;
    }
  }
  return b.front() != '.' && b.front() != '-' && b.back() != '.' &&
         b.back() != '-';
}

}  // namespace

bool IsS3Name(std::string_view name) {
  return name.substr(0, kScheme.size()) == kScheme;
}

Result<S3Location> ParseS3Name(std::string_view name) {
  if (!IsS3Name(name)) {
    return Status::InvalidArgument(std::string(name),
                                   "not an s3://bucket/key name");
  }
  std::string_view rest = name.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return Status::InvalidArgument(
        std::string(name),
        "an object-store name is s3://BUCKET/KEY, with a key");
  }
  S3Location out{std::string(rest.substr(0, slash)),
                 std::string(rest.substr(slash + 1))};
  if (!ValidBucket(out.bucket)) {
    return Status::InvalidArgument(
        std::string(name),
        "the bucket name must be 3 to 63 of a-z, 0-9, '.' and '-'");
  }
  if (out.key.size() > 1024) {
    return Status::InvalidArgument(std::string(name),
                                   "object keys are at most 1024 bytes");
  }
  return out;
}

Result<S3Config> S3Config::FromEnvironment(const S3Location& where) {
  S3Config c;
  c.access_key_id = Env("AWS_ACCESS_KEY_ID");
  c.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  c.session_token = Env("AWS_SESSION_TOKEN");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status::Unavailable(
        where.Name(),
        "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(and AWS_SESSION_TOKEN for temporary ones)");
  }
  c.region = Env("AWS_REGION");
  if (c.region.empty()) c.region = Env("AWS_DEFAULT_REGION");
  if (c.region.empty()) c.region = "us-east-1";
  for (char ch : c.region) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
      return Status::InvalidArgument("AWS_REGION", "is not a region name");
    }
  }
  std::string endpoint = Env("AWS_ENDPOINT_URL_S3");
  if (endpoint.empty()) endpoint = Env("AWS_ENDPOINT_URL");
  const bool explicit_endpoint = !endpoint.empty();
  if (!explicit_endpoint)
    endpoint = "https://s3." + c.region + ".amazonaws.com";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(
        "AWS_ENDPOINT_URL", "must start with http:// or https://: " + endpoint);
  }
  c.endpoint = endpoint;
  const std::string addressing = Env("MIGSTORE_S3_ADDRESSING");
  if (addressing == "path") {
    c.path_style = true;
  } else if (addressing == "virtual") {
    c.path_style = false;
  } else if (addressing.empty() || addressing == "auto") {
    // A dot in a virtual-hosted bucket name breaks the TLS certificate's
    // wildcard match, so such buckets go path-style even on AWS.
    c.path_style =
        explicit_endpoint || where.bucket.find('.') != std::string::npos;
  } else {
    return Status::InvalidArgument("MIGSTORE_S3_ADDRESSING",
                                   "must be path, virtual or auto");
  }
  return c;
}

}  // namespace migstore::store
