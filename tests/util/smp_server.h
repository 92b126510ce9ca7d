// A real `migstore serve` for tests: the built binary, started as a child
// process on a free loopback port with its data and storage folders in a
// temporary directory, and waited for until it answers. Tests kill it (-9,
// as a crash) and start it again on the same port and folders.
//
// Thread safety: one test thread uses an SmpTestServer.

#ifndef MIGSTORE_TESTS_UTIL_SMP_SERVER_H_
#define MIGSTORE_TESTS_UTIL_SMP_SERVER_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace migstore::testing {

class SmpTestServer {
 public:
  // `dir`: holds data/ and storage/ (made here). `extra`: more serve
  // arguments (--db URL, --storage …, --deletion-cycle 1).
  SmpTestServer(std::string dir, std::vector<std::string> extra = {},
                int port = 0);
  ~SmpTestServer();
  SmpTestServer(const SmpTestServer&) = delete;
  SmpTestServer& operator=(const SmpTestServer&) = delete;

  // "NAME=value" settings added to the server's environment at every start
  // (the S3 settings of an object-store storage location).
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }

  // Starts the server and waits (up to 30 s) until it listens; false with
  // `error()` saying why (its output) otherwise.
  bool Start();
  // SIGKILL, as a crash or a power cut would stop it.
  void Kill9();
  // SIGTERM, and waits for it to exit; its exit code.
  int Stop();

  const std::string& error() const { return error_; }
  std::string url() const;
  int port() const { return port_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string storage_dir() const { return dir_ + "/storage"; }
  std::string admin_token_file() const { return data_dir() + "/admin.token"; }
  // What the server printed (stdout and stderr), all starts so far.
  std::string output() const;

 private:
  std::string dir_;
  std::vector<std::string> extra_;
  std::vector<std::string> env_;
  int port_;
  pid_t pid_ = -1;
  std::string error_;
};

// A free TCP port on 127.0.0.1 (bound, read and released).
int FreeLoopbackPort();

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_SMP_SERVER_H_
