// S3TestServer: a real S3-compatible server on a free loopback port for the
// s3:// tests, in a temporary folder, stopped (its whole process group
// killed) when the object dies.
//
// It is moto_server when that is on PATH (started with authentication on:
// the fixture creates an IAM user with full access and uses its key, so
// signatures are checked and a wrong secret is refused), else s3rver from
// $MIGSTORE_S3RVER or the source tree's .tools/s3rver (scripts/bootstrap
// installs it there), whose fixed key is S3RVER/S3RVER. A bucket is
// created. When neither can run, Start() says why and the tests skip.
//
// Thread safety: one thread.

#ifndef MIGSTORE_TESTS_UTIL_S3_SERVER_H_
#define MIGSTORE_TESTS_UTIL_S3_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/src/store/s3_config.h"
#include "tests/util/test_util.h"

namespace migstore::testing {

class S3TestServer {
 public:
  // Null, with *why_not set, when no server can run here.
  static std::unique_ptr<S3TestServer> Start(std::string* why_not);
  ~S3TestServer();
  S3TestServer(const S3TestServer&) = delete;
  S3TestServer& operator=(const S3TestServer&) = delete;

  const std::string& kind() const { return kind_; }  // "moto" or "s3rver"
  // s3rver 3.7 neither checks SigV4 signatures (only that the access key
  // exists) nor tracks multipart uploads (ListMultipartUploads answers 501,
  // and a part for an aborted upload is accepted): the tests skip what
  // needs those on it.
  bool checks_signatures() const { return kind_ == "moto"; }
  bool tracks_uploads() const { return kind_ == "moto"; }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& bucket() const { return bucket_; }
  // Path-style, the server's key, quick retries (tests wait less).
  store::S3Config Config() const;
  // The same as environment settings for running the migstore binary.
  std::vector<std::string> Env() const;

 private:
  S3TestServer() = default;

  std::string kind_;
  std::string endpoint_;
  std::string access_key_;
  std::string secret_key_;
  std::string bucket_ = "migstore-test";
  pid_t pid_ = -1;
  std::unique_ptr<TempDir> dir_;
};

// GTEST_SKIP()s the test when no server can run; else sets `var`.
#define MIGSTORE_START_S3_SERVER_OR_SKIP(var)                           \
  do {                                                                  \
    std::string migstore_why_not_;                                      \
    var = ::migstore::testing::S3TestServer::Start(&migstore_why_not_); \
    if (var == nullptr) GTEST_SKIP() << migstore_why_not_;              \
  } while (0)

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_S3_SERVER_H_
