// PgCluster: a throwaway PostgreSQL server for the tests of the state
// migration point's PostgreSQL backend (docs/smp.md, "State"). Start() runs
// `initdb` and `pg_ctl start` in a fresh temporary folder: the server
// listens on a free loopback TCP port (password authentication, the URIs
// carry the password) and on a unix socket in that folder (trusted), and a
// database is made. The destructor stops it (`pg_ctl stop -m immediate`:
// nothing in it is worth a clean shutdown) and removes the folder.
//
// initdb and postgres refuse to run as root; a test running as root runs
// them as `nobody`, which then owns the folder. The server is tuned for
// speed, not safety (no fsync): it holds nothing that must survive.
//
// When PostgreSQL's server programs are not installed, FindBinDir() and
// Start() answer NotFound and the tests skip (scripts/bootstrap installs the
// `postgresql` package); any other failure is an error the tests report.
//
// Thread safety: Start, CreateDatabase and the destructor belong to one
// thread; the URIs may be used from any thread and process (the server is a
// process of its own).

#ifndef MIGSTORE_TESTS_UTIL_PG_CLUSTER_H_
#define MIGSTORE_TESTS_UTIL_PG_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "migstore/result.h"
#include "tests/util/test_util.h"

namespace migstore::testing {

class PgCluster {
 public:
  // The folder holding initdb, pg_ctl and postgres: $MIGSTORE_PG_BINDIR,
  // `pg_config --bindir`, PATH, then the newest /usr/lib/postgresql/*/bin.
  // NotFound, saying so, when PostgreSQL is not installed.
  static Result<std::string> FindBinDir();

  // A running cluster with one database (uri()).
  static Result<std::unique_ptr<PgCluster>> Start();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // postgresql://USER:PASSWORD@127.0.0.1:PORT/DB of the database made at
  // start.
  const std::string& uri() const { return uri_; }
  // The same database through the unix socket (no password).
  std::string SocketUri(const std::string& database) const;
  // A fresh empty database, e.g. one per test; its TCP URI.
  Result<std::string> CreateDatabase();
  int port() const { return port_; }
  // How long Start() took, initdb included.
  double start_seconds() const { return start_seconds_; }
  // The server's log so far (for a failing test's message).
  std::string ServerLog() const;

 private:
  PgCluster() = default;
  std::string TcpUri(const std::string& database) const;
  // Writes `text` to `path` (0600), owned by the user the server runs as.
  Status WriteOwnFile(const std::string& path, const std::string& text) const;
  // Runs a server program (as `nobody` when this process is root); its
  // output in *output.
  Status Run(const std::vector<std::string>& argv, std::string* output) const;

  std::string bin_dir_;
  std::unique_ptr<TempDir> dir_;
  std::string data_dir_;
  std::string socket_dir_;
  uid_t run_uid_ = static_cast<uid_t>(-1);  // -1: as this process
  gid_t run_gid_ = static_cast<gid_t>(-1);
  std::string user_ = "migstore";
  std::string password_;
  int port_ = 0;
  bool running_ = false;
  int databases_ = 0;
  std::string uri_;
  double start_seconds_ = 0;
};

// The test binary's one cluster, started at the first call and stopped when
// the process exits: a start costs about a second, a database a few
// milliseconds, so tests share the server and take a database each.
// NotFound when PostgreSQL is not installed (the caller skips).
Result<PgCluster*> SharedPgCluster();

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_PG_CLUSTER_H_
