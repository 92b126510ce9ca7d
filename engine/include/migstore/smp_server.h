// SmpServer: the state migration point, `migstore serve` (docs/smp.md). It
// hands out store locations to the computers that capture, keeps the
// stores and their keys, links each old computer to its new one, and
// deletes stores after their retention time.
//
//   SmpServeOptions o;
//   o.data_dir = "/var/lib/migstore-smp";   // smp.db, server.key, admin.token
//   o.storage = {{"/srv/smp/a"}};
//   o.host = "127.0.0.1"; o.port = 8080;    // or TLS on any address
//   auto server = SmpServer::Start(o);
//   server->Wait();                          // until Stop()
//
// The server side lives in its own library (migstore_smp_server), linked
// into the migstore program; an agent embedding libmigstore gets the client
// (migstore/smp.h), not this.
//
// Thread safety: Stop may be called from any thread while Wait runs.

#ifndef MIGSTORE_SMP_SERVER_H_
#define MIGSTORE_SMP_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "migstore/result.h"

namespace migstore {

// A storage location (docs/smp.md, "Storage"): a folder, or an object-store
// location "s3://BUCKET/PREFIX" whose S3 settings come from the server's
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_REGION, AWS_ENDPOINT_URL).
struct SmpStorageFolder {
  std::string path;  // an existing folder, absolute; or s3://BUCKET/PREFIX
  int64_t max_clients = 100;
  int64_t min_free_bytes = 0;  // folders only
};

struct SmpServeOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a free port (SmpServer::port says which)
  // Holds smp.db (unless `db` says PostgreSQL), server.key (unless
  // `server_key`) and admin.token. Made if missing (0700).
  std::string data_dir;
  // "postgresql://…": the state in PostgreSQL, shared by several nodes.
  std::string db;
  // The server key; default DATA_DIR/server.key. Nodes sharing one
  // database must share this key.
  std::string server_key;
  std::vector<SmpStorageFolder> storage;
  std::string tls_cert;  // PEM; both or neither. Without: loopback only.
  std::string tls_key;
  int deletion_cycle_seconds = 60;
};

class SmpServer {
 public:
  // Opens (or makes) the state, checks the storage locations and the
  // server key, writes DATA_DIR/admin.token (0600) on the first start, and
  // listens. InvalidArgument for bad options; Refused for a server key
  // others may read, or one that is not this database's; Unavailable when
  // the database, an object-store location or the address cannot be had.
  static Result<SmpServer> Start(const SmpServeOptions& options);

  SmpServer(SmpServer&&) noexcept;
  SmpServer& operator=(SmpServer&&) noexcept;
  ~SmpServer();

  int port() const;
  // The administrator's token file, when this start made it; else empty.
  const std::string& new_admin_token_file() const;
  // Serves until Stop.
  Status Wait();
  void Stop();

 private:
  struct Impl;
  explicit SmpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "PATH[,max-clients=N][,min-free=SIZE]" (SIZE: bytes, or with K, M, G, T),
// or "s3://BUCKET/PREFIX[,max-clients=N]" (min-free refused: an object store
// has no free space to keep).
Result<SmpStorageFolder> ParseSmpStorageFolder(const std::string& text);

}  // namespace migstore

#endif  // MIGSTORE_SMP_SERVER_H_
