// `migstore serve`'s HTTP front (docs/smp.md, "Protocol"): routes each
// request of the v1 protocol to one Service call, with JSON for control and
// raw bodies (Content-Range) and ranged reads for store bytes, over TLS
// when given a certificate and plain HTTP only on a loopback address. The
// HTTP library (cpp-httplib) is this file's business alone.
//
// It also runs the retention's deletion cycle on a timer.
//
// Thread safety: Run blocks serving requests on the library's thread pool;
// Stop may be called from any thread (a signal handler's thread, a test).

#ifndef MIGSTORE_ENGINE_SRC_SMP_HTTP_SERVER_H_
#define MIGSTORE_ENGINE_SRC_SMP_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "engine/src/smp/service.h"
#include "migstore/result.h"

namespace migstore::smp {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 0;          // 0: any free port (port() tells which)
  std::string tls_cert;  // PEM files; both or neither
  std::string tls_key;
  int deletion_cycle_seconds = 60;
  // The largest request body taken (an upload chunk).
  size_t max_body_bytes = size_t{64} << 20;
};

class HttpServer {
 public:
  // Binds the socket. InvalidArgument: plain HTTP on a non-loopback
  // address, one TLS file without the other; Unavailable: cannot bind.
  static Result<std::unique_ptr<HttpServer>> Create(
      Service* service, const ServeOptions& options);
  ~HttpServer();

  int port() const;
  // Serves until Stop.
  Status Run();
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether `host` is a loopback address ("127.x.y.z", "::1", "localhost").
bool IsLoopbackHost(std::string_view host);

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_HTTP_SERVER_H_
