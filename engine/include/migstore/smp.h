// SmpClient: a computer's (or the administrator's) side of a state
// migration point, `migstore serve` (docs/smp.md). The four task-sequence
// steps are here as calls an agent makes:
//
//   SmpConnection c;
//   c.server = "https://smp.example.org:8443";
//   c.token = *ReadSmpTokenFile("/etc/migstore/pc42.token");
//   auto client = SmpClient::Connect(c);
//   // the old computer: Request State Store, capture, Release State Store
//   CaptureOptions o;  o.root = "/";  ...rules, users...
//   auto report = client->Capture(o, &observer, &store);
//   // the new computer: Request State Store for restore, restore...
//   auto restored = client->Restore(r, &observer, &store);
//   // ...and Release State Store
//   client->ReleaseRestore();
//
// Capture streams the store to the server as the pack pipeline writes it
// (no local copy) and resumes an interrupted upload where it stopped; the
// server makes the store's key and hands it over the authenticated
// connection, so the options' store_path, key and encrypt are set by the
// client, not the caller. Restore reads the store back with ranged reads.
// All the rules, user selection, reports and exit codes of Capture and
// Restore apply unchanged. Errors: the server's refusals map to Refused or
// NotFound (exit 27), a busy server after the retries to Unavailable (27),
// a bad request to InvalidArgument (11), damage to Corruption (42).
//
// Thread safety: an SmpClient may be used from several threads at once.

#ifndef MIGSTORE_SMP_H_
#define MIGSTORE_SMP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "migstore/capture.h"
#include "migstore/key.h"
#include "migstore/restore.h"
#include "migstore/result.h"

namespace migstore {

struct SmpConnection {
  // "http://HOST:PORT" (loopback only) or "https://HOST:PORT".
  std::string server;
  // This computer's token (smp enroll), or the administrator's.
  std::string token;
  // https: the CA certificate (PEM) to trust instead of the system's.
  std::string ca_file;
  // Request State Store: how often to ask again when the server is busy,
  // and how long to wait between (the task-sequence step's options).
  int retry_count = 3;
  int retry_delay_seconds = 30;
};

// A token from a file: its first line. KeyUnreadable when it cannot be read
// or is empty. A token file others may read is used, with a warning in
// `warning` (when given), as for key files.
Result<std::string> ReadSmpTokenFile(const std::string& path,
                                     std::string* warning = nullptr);

// A store as the server describes it (docs/smp.md, "Protocol").
struct SmpStore {
  std::string id;
  std::string source;
  std::string destination;
  std::vector<std::string> users;  // empty: all
  std::string location;
  std::string state;  // "requested" … "deleted"
  uint64_t size = 0;
  std::string sha256;
  int64_t requested_at = 0;
  int64_t captured_at = 0;
  int64_t released_at = 0;
  int64_t restored_at = 0;
  int64_t delete_after = 0;
};

struct SmpAssociation {
  std::string source;
  std::string destination;
  std::vector<std::string> users;
  int64_t created_at = 0;
};

struct SmpListing {
  std::vector<SmpStore> stores;
  std::vector<SmpAssociation> associations;
  int64_t retention_minutes = 0;
  bool restore_only = false;
  int64_t abandon_after_minutes = 0;  // 0: never
};

// A listing as the JSON that `migstore smp list --json` prints and
// migstore_smp_list() hands out, on one line without a line ending:
//   {"stores": [store..], "associations": [{"source", "destination",
//    "users", "created_at"}..], "retention_minutes": N, "restore_only": bool,
//    "abandon_after_minutes": N}
// with each store as docs/smp.md's store object. Strings are shown with
// DisplayBytes (migstore/display.h, docs/cli.md "Names"), as everything
// the command prints is.
std::string SmpListingToJson(const SmpListing& listing);

// What a server node has answered since it started (GET /v1/metrics,
// docs/smp.md "Metrics"): one entry per kind of request.
struct SmpRequestStats {
  std::string kind;  // "control", "upload" or "read"
  uint64_t count = 0;
  uint64_t errors = 0;   // answered 500 or above
  uint64_t refused = 0;  // answered 400-499
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

struct SmpMetrics {
  double uptime_seconds = 0;
  std::vector<SmpRequestStats> requests;
  uint64_t rss_bytes = 0;
  uint64_t peak_rss_bytes = 0;
  std::string json;  // the server's answer as it came, for --json
};

class SmpClient {
 public:
  // Checks the URL (https, or http on a loopback address) and the token; it
  // does not contact the server.
  static Result<SmpClient> Connect(SmpConnection connection);

  SmpClient(SmpClient&&) noexcept;
  SmpClient& operator=(SmpClient&&) noexcept;
  ~SmpClient();

  // --- the steps ------------------------------------------------------------
  // Request State Store (retrying while the server is busy), capture into
  // it, commit, Release State Store. `options.store_path`, `key`, `encrypt`
  // and `overwrite` are the client's. When the association names users,
  // the capture takes those and no others: they are added to the
  // selection's includes and "*" to its excludes (a `last_used` the caller
  // set still adds the users it selects). `store` (when given) receives
  // the store as released.
  Result<CaptureReport> Capture(CaptureOptions options,
                                CaptureObserver* observer = nullptr,
                                SmpStore* store = nullptr);
  // Request State Store for restore (retrying while the server is busy, as
  // Capture), restore, tell the server it is done (not after a dry run,
  // which restored nothing). `options.store_path` and `key` are the
  // client's.
  Result<RestoreReport> Restore(RestoreOptions options,
                                RestoreObserver* observer = nullptr,
                                SmpStore* store = nullptr);
  // Release State Store after restore: the stores released.
  Result<std::vector<SmpStore>> ReleaseRestore();

  // --- administration (the administrator's token) ---------------------------
  // A new token for `computer` (its old one stops working).
  Result<std::string> Enroll(const std::string& computer);
  Status Associate(const std::string& source, const std::string& destination,
                   const std::vector<std::string>& users);
  Status Unassociate(const std::string& source);
  // Everything, for the administrator; a computer's own, for a computer.
  Result<SmpListing> List();
  // A store's key for a manual restore (`migstore restore --key-file`);
  // audited by the server.
  Result<Key> RecoverKey(const std::string& store_id,
                         SmpStore* store = nullptr);
  Status Delete(const std::string& store_id);
  Status SetRestoreOnly(bool on);
  Status SetRetention(int64_t minutes);
  // Minutes after its latest request a capture never committed is deleted
  // by the server (0: never).
  Status SetAbandonAfter(int64_t minutes);

  // What the server node has answered since it started.
  Result<SmpMetrics> Metrics();

  // The server's name for the caller and whether it is the administrator.
  Result<std::string> WhoAmI(bool* admin = nullptr);

 private:
  struct Impl;
  explicit SmpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace migstore

#endif  // MIGSTORE_SMP_H_
