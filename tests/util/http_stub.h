// HttpStub: a loopback HTTP/1.1 server for tests that must see exactly what
// a client sent (the signing tests compare the Authorization header libcurl
// computed) or make a server misbehave on cue (503 twice, then 200).
//
// One connection at a time, one request per connection ("Connection:
// close"); a 100-continue expectation is granted. The handler decides each
// answer from the request and its number (0, 1, ...).
//
// Thread safety: requests() and request_count() may be called while the
// server runs.

#ifndef MIGSTORE_TESTS_UTIL_HTTP_STUB_H_
#define MIGSTORE_TESTS_UTIL_HTTP_STUB_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace migstore::testing {

struct HttpRequestRecord {
  std::string method;
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header of that name (case-insensitive), or "".
  std::string Header(const std::string& name) const;
};

struct HttpReply {
  int status = 200;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

class HttpStub {
 public:
  using Handler = std::function<HttpReply(const HttpRequestRecord&, int)>;
  explicit HttpStub(Handler handler);
  ~HttpStub();
  HttpStub(const HttpStub&) = delete;
  HttpStub& operator=(const HttpStub&) = delete;

  int port() const { return port_; }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  std::vector<HttpRequestRecord> requests() const;
  int request_count() const;

 private:
  void Serve();
  void HandleConnection(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<HttpRequestRecord> requests_;  // guarded by mu_
  std::thread thread_;
};

// A loopback port nothing listens on (bound, then closed).
int UnusedLoopbackPort();

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_HTTP_STUB_H_
