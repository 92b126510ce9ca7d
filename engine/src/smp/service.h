// The state migration point's rules: who may do what to which store, and in
// which state (docs/smp.md). The HTTP layer (http_server.h) authenticates a
// request with Authenticate and calls one method per request; every method
// checks the caller against the store's source or destination (or the
// administrator), checks the move against the life cycle (state.h), and
// makes its change in one database transaction that also writes the audit
// row. Store bytes are kept by storage.h; a store's key by key_escrow.h.
//
// Errors, as the HTTP layer maps them: Authenticate's Refused (no such
// token) -> 401; Refused: not allowed for this caller, or an illegal move ->
// 403; NotFound -> 404; InvalidArgument -> 400; AlreadyExists -> 409;
// Unavailable: no storage has room -> 503 with Retry-After
// (kBusyRetryAfterSeconds).
//
// Thread safety: every method may be called from any number of threads at
// once, and from several processes sharing one PostgreSQL database.

#ifndef MIGSTORE_ENGINE_SRC_SMP_SERVICE_H_
#define MIGSTORE_ENGINE_SRC_SMP_SERVICE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/src/smp/db.h"
#include "engine/src/smp/key_escrow.h"
#include "engine/src/smp/state.h"
#include "engine/src/smp/storage.h"
#include "format/secret.h"
#include "migstore/result.h"

namespace migstore::smp {

// What a busy server tells a client to wait before asking again; the
// Request State Store step's own retry count and delay decide in the end.
inline constexpr int kBusyRetryAfterSeconds = 30;

// Who is asking: a computer, or the administrator.
struct Principal {
  std::string name;
  bool admin = false;
};

struct StoreInfo {
  std::string id;
  std::string source;       // the computer that captures
  std::string destination;  // the computer that restores (= source: refresh)
  std::vector<std::string> users;  // the association's users; empty: all
  std::string location;            // storage location
  StoreState state = StoreState::kRequested;
  int64_t size = 0;    // committed bytes (0 before commit)
  std::string sha256;  // committed hash, hex
  int64_t requested_at = 0;
  int64_t captured_at = 0;   // 0: not yet
  int64_t released_at = 0;   // released by the source
  int64_t restored_at = 0;   // last restore done
  int64_t delete_after = 0;  // 0: not scheduled
};

// A store handed to a computer for capture or restore, with its key.
struct StoreGrant {
  StoreInfo store;
  format::SecretBytes key;
};

struct AssociationInfo {
  std::string source;
  std::string destination;
  std::vector<std::string> users;
  int64_t created_at = 0;
};

struct Settings {
  int64_t retention_minutes = 1440;
  bool restore_only = false;
  // A capture requested and not committed this long after its latest
  // request is abandoned by the deletion cycle; 0: never (docs/smp.md).
  int64_t abandon_after_minutes = 2880;
};

// Where an upload stands: bytes received so far (a resumed upload goes on
// from there).
struct UploadState {
  StoreInfo store;
  uint64_t received = 0;
};

class Service {
 public:
  using Clock = std::function<int64_t()>;  // seconds since the epoch

  // `db`: schema up to date. `storage`: the locations stores go to, in
  // order of preference; they are recorded in the database (a location's
  // limits updated), so every node must be started with the same set.
  // `clock`: the time (tests inject one).
  static Result<std::unique_ptr<Service>> Open(
      std::unique_ptr<Db> db, KeyEscrow escrow,
      std::vector<StorageLocation> storage, Clock clock);

  // --- principals ---------------------------------------------------------
  // The principal holding `token`; Unauthenticated when none does.
  Result<Principal> Authenticate(std::string_view token);
  // Makes the administrator on first start, hands its token to `keep`
  // (which writes DIR/admin.token) before the change commits, and returns
  // it; empty when there is an administrator already.
  Result<std::string> CreateAdminIfNone(
      const std::function<Status(const std::string&)>& keep);
  // A new token for computer `name` (replacing its old one: a re-enrolled
  // computer's old token stops working). Administrator only.
  Result<std::string> Enroll(const Principal& who, std::string_view name);

  // --- associations (administrator only) -----------------------------------
  // source -> destination, with the users to take (empty: all). One per
  // source: a new one replaces an older one not yet used by a store.
  Status Associate(const Principal& who, std::string_view source,
                   std::string_view destination,
                   const std::vector<std::string>& users);
  Status Unassociate(const Principal& who, std::string_view source);

  // --- the source (Request / Release State Store, capture) ----------------
  // Request State Store for capture: the source's live store (requested,
  // capturing or captured: a capture run again replaces its upload), else a
  // new one in a location with room. Refused in restore-only mode or when
  // the source's store is already released and not yet restored away;
  // Unavailable when no location has room.
  Result<StoreGrant> RequestCapture(const Principal& who);
  // An upload's bytes at `offset` (must equal what was received so far, or
  // 0 to start over). Moves the store to capturing.
  Result<UploadState> WriteUpload(const Principal& who, std::string_view id,
                                  uint64_t offset, std::string_view data);
  Result<UploadState> UploadStatus(const Principal& who, std::string_view id);
  // Checks the upload's length and SHA-256 (hex) against what arrived,
  // publishes it, and moves the store to captured.
  Result<StoreInfo> CommitUpload(const Principal& who, std::string_view id,
                                 uint64_t size, std::string_view sha256);
  // Release State Store after capture: read-only from now on.
  Result<StoreInfo> ReleaseCapture(const Principal& who, std::string_view id);

  // --- the destination ------------------------------------------------------
  // Request State Store for restore: the newest ready (or restoring,
  // restored) store whose destination is the caller.
  Result<StoreGrant> RequestRestore(const Principal& who);
  Result<StoreInfo> RestoreDone(const Principal& who, std::string_view id);
  // Release State Store after restore: every store the caller holds for
  // restore; the retention clock starts.
  Result<std::vector<StoreInfo>> ReleaseRestore(const Principal& who);

  // --- reading a store's bytes ----------------------------------------------
  // The committed store open for reading: its source before release, its
  // destination while restoring or restored, or the administrator.
  Result<std::unique_ptr<format::StoreSource>> OpenForRead(const Principal& who,
                                                           std::string_view id);

  // --- administration
  // --------------------------------------------------------- Every store and
  // association (the administrator); a computer sees the stores it is source or
  // destination of, and its associations.
  Result<std::vector<StoreInfo>> ListStores(const Principal& who);
  Result<std::vector<AssociationInfo>> ListAssociations(const Principal& who);
  Result<Settings> GetSettings(const Principal& who);
  Status SetRetention(const Principal& who, int64_t minutes);
  Status SetAbandonAfter(const Principal& who, int64_t minutes);
  Status SetRestoreOnly(const Principal& who, bool on);
  // A store's key for a manual restore (audited).
  Result<StoreGrant> RecoverKey(const Principal& who, std::string_view id);
  // Deletes a store now, in any state.
  Status Delete(const Principal& who, std::string_view id);

  // --- the deletion cycle ----------------------------------------------------
  // Deletes every released store whose retention is over and abandons every
  // capture left uncommitted past the abandonment time; one node at a time
  // runs it (others return 0 at once). Returns how many stores it deleted.
  Result<int> RunDeletionCycle();

  int64_t Now() const { return clock_(); }

 private:
  // " FOR UPDATE" where rows can be locked (PostgreSQL), else "".
  std::string_view RowLock() const;
  // One try of RequestCapture: AlreadyExists when another request of the
  // same computer inserted its store first.
  Result<StoreGrant> RequestCaptureOnce(const Principal& who);
  // A storage location with room for one more store (store_steps.cc).
  Result<std::string> TakeSlot(Tx& tx);
  // The one upload or removal of a store's bytes at a time in this process
  // (a client sends its chunks one after another; this keeps a retried
  // chunk from racing the one it repeats).
  std::mutex& BytesLock(std::string_view id);

  Service(std::unique_ptr<Db> db, KeyEscrow escrow, Storage storage,
          Clock clock);

  std::unique_ptr<Db> db_;
  KeyEscrow escrow_;
  Storage storage_;
  Clock clock_;
  std::array<std::mutex, 64> bytes_locks_;
};

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_SERVICE_H_
