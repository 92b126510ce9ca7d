// The store life cycle at the state migration point (docs/smp.md,
// "States"): the source's Request State Store, upload, commit and release;
// the destination's request for restore, restore done and release; reading
// a store's bytes; an administrator's key recovery and deletion; the
// retention's deletion cycle.
//
// Store bytes are written and hashed outside the database transactions
// (an SQLite write transaction locks the whole file, and a commit hashes a
// whole store), so each step checks and moves the state in one short
// transaction and does the file work beside it.

#include <sodium.h>

#include <algorithm>
#include <functional>
#include <string>

#include "engine/src/smp/schema.h"
#include "engine/src/smp/service.h"
#include "engine/src/smp/store_rows.h"

namespace migstore::smp {
namespace {

constexpr char kLiveCaptureStates[] = "('requested', 'capturing', 'captured')";
constexpr char kHandedOverStates[] = "('ready', 'restoring', 'restored')";
// A store to abandon ($1: the cutoff time): a capture never committed (a
// committed one run again is `capturing` too, and keeps its bytes until its
// release) whose latest activity is older than the cutoff.
constexpr char kAbandoned[] =
    "state IN ('requested', 'capturing') AND COALESCE(captured_at, 0) = 0"
    " AND COALESCE(active_at, requested_at) <= $1";

std::string NewStoreId() {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  std::string out(2 * sizeof raw + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), raw, sizeof raw);
  out.pop_back();
  return out;
}

Status RequireComputer(const Principal& who) {
  if (!who.admin) return Status::OK();
  return Status::Refused(
      who.name,
      "the administrator's token is not a computer's: enroll the "
      "computer and use its token");
}

Status RequireSource(const Principal& who, const StoreInfo& s) {
  if (!who.admin && who.name == s.source) return Status::OK();
  return Status::Refused("store " + s.id,
                         who.name + " is not the computer that captures it");
}

Status RequireDestination(const Principal& who, const StoreInfo& s) {
  if (!who.admin && who.name == s.destination) return Status::OK();
  return Status::Refused("store " + s.id,
                         who.name + " is not the computer it is restored to");
}

}  // namespace

std::string_view Service::RowLock() const {
  return db_->dialect() == "postgresql" ? " FOR UPDATE" : "";
}

std::mutex& Service::BytesLock(std::string_view id) {
  return bytes_locks_[std::hash<std::string_view>()(id) % bytes_locks_.size()];
}

Result<StoreGrant> Service::RequestCapture(const Principal& who) {
  MIGSTORE_RETURN_IF_ERROR(RequireComputer(who));
  // Two requests of one computer at once both find no store and both
  // insert one; the database's one-store-per-source index lets the first
  // in, and the second, asked again, finds that store and is handed it.
  Result<StoreGrant> grant = RequestCaptureOnce(who);
  if (grant.ok() || !grant.status().IsAlreadyExists()) return grant;
  return RequestCaptureOnce(who);
}

Result<StoreGrant> Service::RequestCaptureOnce(const Principal& who) {
  StoreInfo store;
  std::string wrapped;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(Settings settings, rows::ReadSettings(tx));
    if (settings.restore_only) {
      return Status::Refused(
          "the state migration point is in restore-only "
          "mode: it takes no new captures");
    }
    // A capture run again (the task sequence restarted) gets its store
    // back: it replaces the upload until the store is released.
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<StoreInfo> live,
        rows::ReadStores(
            tx, std::string("source = $1 AND state IN ") + kLiveCaptureStates,
            {who.name}));
    if (!live.empty()) {
      store = live.front();
      MIGSTORE_ASSIGN_OR_RETURN(
          std::vector<Row> key,
          tx.Query("SELECT wrapped_key FROM stores WHERE id = $1", {store.id}));
      wrapped = key.empty() ? "" : key[0].Text(0);
      // The abandonment time runs from the latest activity.
      MIGSTORE_RETURN_IF_ERROR(tx.Exec(
          "UPDATE stores SET active_at = $1 WHERE id = $2", {Now(), store.id}));
      return rows::Audit(tx, Now(), who.name, "request capture (again)",
                         store.id);
    }
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<StoreInfo> waiting,
        rows::ReadStores(
            tx, std::string("source = $1 AND state IN ") + kHandedOverStates,
            {who.name}));
    if (!waiting.empty()) {
      return Status::Refused(
          "computer " + who.name,
          "its store " + waiting.front().id + " was released and is " +
              std::string(StateName(waiting.front().state)) +
              "; a new capture waits until the destination releases it (or "
              "an administrator deletes it)");
    }
    // The association: where the store goes, and whose state. None: a
    // refresh of this computer.
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> assoc,
        tx.Query("SELECT destination, users FROM associations"
                 " WHERE source = $1",
                 {who.name}));
    store = StoreInfo();
    store.id = NewStoreId();
    store.source = who.name;
    store.destination = assoc.empty() ? who.name : assoc[0].Text(0);
    store.users = assoc.empty() ? std::vector<std::string>()
                                : rows::UsersFromText(assoc[0].Text(1));
    store.requested_at = Now();
    MIGSTORE_ASSIGN_OR_RETURN(store.location, TakeSlot(tx));
    const format::SecretBytes key = KeyEscrow::NewStoreKey();
    wrapped = escrow_.Wrap(store.id, key);
    MIGSTORE_RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO stores (id, source, destination, users, location, state,"
        " wrapped_key, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        {store.id, store.source, store.destination,
         rows::UsersToText(store.users), store.location,
         std::string(StateName(StoreState::kRequested)), wrapped,
         store.requested_at}));
    return rows::Audit(tx, Now(), who.name, "request capture", store.id,
                       store.location);
  }));
  MIGSTORE_ASSIGN_OR_RETURN(format::SecretBytes key,
                            escrow_.Unwrap(store.id, wrapped));
  return StoreGrant{std::move(store), std::move(key)};
}

// The first storage location, in the order given, with a free client slot
// and, for a folder, more free space than its minimum (an object store has
// no free space to measure). With PostgreSQL the location's row
// is locked while its slots are counted and one taken, so two nodes never
// hand out the same slot; a location another node is counting right now
// is skipped (SKIP LOCKED) and tried again, waiting, only when no other has
// room.
Result<std::string> Service::TakeSlot(Tx& tx) {
  std::vector<std::string> skipped;
  auto has_room = [&](const StorageLocation& l) -> Result<bool> {
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> held,
        tx.Query("SELECT COUNT(*) FROM stores WHERE location = $1 AND state IN"
                 " ('requested', 'capturing', 'captured', 'ready',"
                 " 'restoring', 'restored')",
                 {l.path}));
    if (!held.empty() && held[0].Int(0) >= l.max_clients) return false;
    if (l.is_object_store()) return true;
    MIGSTORE_ASSIGN_OR_RETURN(uint64_t free, storage_.FreeBytes(l.path));
    return free > static_cast<uint64_t>(l.min_free_bytes);
  };
  for (const StorageLocation& l : storage_.locations()) {
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> locked,
        tx.Query("SELECT location FROM storage WHERE location = $1" +
                     std::string(tx.LockClause()),
                 {l.path}));
    if (locked.empty()) {
      skipped.push_back(l.path);
      continue;
    }
    MIGSTORE_ASSIGN_OR_RETURN(bool room, has_room(l));
    if (room) return l.path;
  }
  for (const StorageLocation& l : storage_.locations()) {
    if (std::find(skipped.begin(), skipped.end(), l.path) == skipped.end())
      continue;
    MIGSTORE_RETURN_IF_ERROR(
        tx.Exec("SELECT location FROM storage WHERE location = $1" +
                    std::string(RowLock()),
                {l.path}));
    MIGSTORE_ASSIGN_OR_RETURN(bool room, has_room(l));
    if (room) return l.path;
  }
  return Status::Unavailable(
      "the state migration point is busy",
      "no storage location has a free client slot (and, for a folder, its "
      "minimum free space); "
      "ask again later");
}

Result<UploadState> Service::UploadStatus(const Principal& who,
                                          std::string_view id) {
  UploadState out;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(out.store, rows::ReadStore(tx, id, ""));
    return RequireSource(who, out.store);
  }));
  if (out.store.state == StoreState::kCaptured) {
    out.received = static_cast<uint64_t>(out.store.size);
    return out;
  }
  MIGSTORE_ASSIGN_OR_RETURN(out.received,
                            storage_.PartialSize(out.store.location, id));
  return out;
}

Result<UploadState> Service::WriteUpload(const Principal& who,
                                         std::string_view id, uint64_t offset,
                                         std::string_view data) {
  UploadState out;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(out.store, rows::ReadStore(tx, id, RowLock()));
    MIGSTORE_RETURN_IF_ERROR(RequireSource(who, out.store));
    if (out.store.state == StoreState::kCapturing) {
      // An upload going on is not abandoned: its activity is noted, once a
      // minute at most.
      return tx.Exec(
          "UPDATE stores SET active_at = $1 WHERE id = $2 AND"
          " COALESCE(active_at, 0) < $3",
          {Now(), out.store.id, Now() - 60});
    }
    MIGSTORE_RETURN_IF_ERROR(rows::Move(
        tx, out.store, StoreEvent::kUploadStarted, "active_at = $3", {Now()}));
    return rows::Audit(tx, Now(), who.name, "upload", out.store.id);
  }));
  std::lock_guard<std::mutex> lock(BytesLock(id));
  MIGSTORE_ASSIGN_OR_RETURN(
      out.received,
      storage_.WritePartial(out.store.location, id, offset, data));
  return out;
}

Result<StoreInfo> Service::CommitUpload(const Principal& who,
                                        std::string_view id, uint64_t size,
                                        std::string_view sha256) {
  StoreInfo store;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(store, rows::ReadStore(tx, id, ""));
    MIGSTORE_RETURN_IF_ERROR(RequireSource(who, store));
    if (!Next(store.state, StoreEvent::kUploadCommitted)) {
      return Status::Refused("store " + store.id,
                             "is " + std::string(StateName(store.state)) +
                                 ": there is no upload to commit");
    }
    return Status::OK();
  }));
  {
    std::lock_guard<std::mutex> lock(BytesLock(id));
    MIGSTORE_RETURN_IF_ERROR(
        storage_.Publish(store.location, id, size, sha256));
  }
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(store, rows::ReadStore(tx, id, RowLock()));
    MIGSTORE_RETURN_IF_ERROR(
        rows::Move(tx, store, StoreEvent::kUploadCommitted,
                   "size = $3, sha256 = $4, captured_at = $5",
                   {static_cast<int64_t>(size), std::string(sha256), Now()}));
    store.size = static_cast<int64_t>(size);
    store.sha256 = std::string(sha256);
    store.captured_at = Now();
    return rows::Audit(tx, Now(), who.name, "commit", store.id,
                       std::to_string(size) + " bytes");
  }));
  return store;
}

Result<StoreInfo> Service::ReleaseCapture(const Principal& who,
                                          std::string_view id) {
  StoreInfo store;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(store, rows::ReadStore(tx, id, RowLock()));
    MIGSTORE_RETURN_IF_ERROR(RequireSource(who, store));
    MIGSTORE_RETURN_IF_ERROR(rows::Move(tx, store, StoreEvent::kReleaseCapture,
                                        "released_at = $3", {Now()}));
    store.released_at = Now();
    return rows::Audit(tx, Now(), who.name, "release after capture", store.id);
  }));
  return store;
}

Result<StoreGrant> Service::RequestRestore(const Principal& who) {
  MIGSTORE_RETURN_IF_ERROR(RequireComputer(who));
  StoreInfo store;
  std::string wrapped;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<StoreInfo> ready,
        rows::ReadStores(
            tx,
            std::string("destination = $1 AND state IN ") + kHandedOverStates,
            {who.name}));
    if (ready.empty()) {
      return Status::NotFound(
          "computer " + who.name,
          "no store is ready for it: is it associated with the old "
          "computer, and has that computer's capture been released?");
    }
    MIGSTORE_ASSIGN_OR_RETURN(store,
                              rows::ReadStore(tx, ready[0].id, RowLock()));
    MIGSTORE_RETURN_IF_ERROR(
        rows::Move(tx, store, StoreEvent::kRequestRestore));
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> key,
        tx.Query("SELECT wrapped_key FROM stores WHERE id = $1", {store.id}));
    wrapped = key.empty() ? "" : key[0].Text(0);
    return rows::Audit(tx, Now(), who.name, "request restore", store.id);
  }));
  MIGSTORE_ASSIGN_OR_RETURN(format::SecretBytes key,
                            escrow_.Unwrap(store.id, wrapped));
  return StoreGrant{std::move(store), std::move(key)};
}

Result<StoreInfo> Service::RestoreDone(const Principal& who,
                                       std::string_view id) {
  StoreInfo store;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(store, rows::ReadStore(tx, id, RowLock()));
    MIGSTORE_RETURN_IF_ERROR(RequireDestination(who, store));
    MIGSTORE_RETURN_IF_ERROR(rows::Move(tx, store, StoreEvent::kRestoreDone,
                                        "restored_at = $3", {Now()}));
    store.restored_at = Now();
    return rows::Audit(tx, Now(), who.name, "restore done", store.id);
  }));
  return store;
}

Result<std::vector<StoreInfo>> Service::ReleaseRestore(const Principal& who) {
  MIGSTORE_RETURN_IF_ERROR(RequireComputer(who));
  std::vector<StoreInfo> released;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    released.clear();
    MIGSTORE_ASSIGN_OR_RETURN(Settings settings, rows::ReadSettings(tx));
    const int64_t delete_after = Now() + settings.retention_minutes * 60;
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<StoreInfo> held,
        rows::ReadStores(
            tx, "destination = $1 AND state IN ('restoring', 'restored')",
            {who.name}));
    if (held.empty()) {
      return Status::NotFound("computer " + who.name,
                              "holds no store for restore to release");
    }
    for (StoreInfo& s : held) {
      MIGSTORE_ASSIGN_OR_RETURN(s, rows::ReadStore(tx, s.id, RowLock()));
      MIGSTORE_RETURN_IF_ERROR(rows::Move(tx, s, StoreEvent::kReleaseRestore,
                                          "delete_after = $3", {delete_after}));
      s.delete_after = delete_after;
      MIGSTORE_RETURN_IF_ERROR(
          rows::Audit(tx, Now(), who.name, "release after restore", s.id,
                      "delete after " + std::to_string(delete_after)));
      released.push_back(s);
    }
    return Status::OK();
  }));
  return released;
}

Result<std::unique_ptr<format::StoreSource>> Service::OpenForRead(
    const Principal& who, std::string_view id) {
  StoreInfo store;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(store, rows::ReadStore(tx, id, ""));
    return Status::OK();
  }));
  const bool source_may =
      who.name == store.source && store.state == StoreState::kCaptured;
  const bool destination_may =
      who.name == store.destination && (store.state == StoreState::kRestoring ||
                                        store.state == StoreState::kRestored);
  const bool admin_may = who.admin && store.state != StoreState::kDeleted &&
                         store.captured_at != 0;
  if (!who.admin && !source_may && !destination_may) {
    return Status::Refused("store " + store.id,
                           who.name + " may not read it while it is " +
                               std::string(StateName(store.state)));
  }
  if (who.admin && !admin_may) {
    return Status::Refused("store " + store.id,
                           "has no committed bytes while it is " +
                               std::string(StateName(store.state)));
  }
  // A capture run again replaces an object when its upload completes,
  // before the read-back has checked it: until the commit, the object under
  // the store's key is not the committed one (a folder keeps the committed
  // file until the checked partial is renamed over it).
  if (store.state == StoreState::kCapturing &&
      StorageLocation::IsObjectStore(store.location)) {
    return Status::Refused("store " + store.id,
                           "is being captured again: its bytes are being "
                           "replaced");
  }
  return storage_.OpenCommitted(store.location, id,
                                static_cast<uint64_t>(store.size));
}

Result<StoreGrant> Service::RecoverKey(const Principal& who,
                                       std::string_view id) {
  if (!who.admin) {
    return Status::Refused(who.name,
                           "only the administrator may recover a key");
  }
  StoreInfo store;
  std::string wrapped;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(store, rows::ReadStore(tx, id, ""));
    if (store.state == StoreState::kDeleted) {
      return Status::NotFound("store " + store.id, "was deleted");
    }
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> key,
        tx.Query("SELECT wrapped_key FROM stores WHERE id = $1", {store.id}));
    wrapped = key.empty() ? "" : key[0].Text(0);
    return rows::Audit(tx, Now(), who.name, "recover key", store.id);
  }));
  MIGSTORE_ASSIGN_OR_RETURN(format::SecretBytes key,
                            escrow_.Unwrap(store.id, wrapped));
  return StoreGrant{std::move(store), std::move(key)};
}

Status Service::Delete(const Principal& who, std::string_view id) {
  if (!who.admin) {
    return Status::Refused(who.name,
                           "only the administrator may delete a store");
  }
  std::lock_guard<std::mutex> lock(BytesLock(id));
  return db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(StoreInfo store,
                              rows::ReadStore(tx, id, RowLock()));
    if (store.state == StoreState::kDeleted) return Status::OK();
    // Bytes first: a body run again removes nothing twice, and a store
    // whose row says deleted never has bytes left behind.
    MIGSTORE_RETURN_IF_ERROR(storage_.Remove(store.location, store.id));
    MIGSTORE_RETURN_IF_ERROR(
        rows::Move(tx, store, StoreEvent::kDelete, "", {}));
    return rows::Audit(tx, Now(), who.name, "delete", store.id,
                       std::string("was ") + "in " + store.location);
  });
}

Result<int> Service::RunDeletionCycle() {
  int deleted = 0;
  std::vector<std::string> abandoned;
  int64_t cutoff = 0;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    deleted = 0;
    abandoned.clear();
    MIGSTORE_ASSIGN_OR_RETURN(bool mine, tx.TryClusterLock(kDeletionCycleLock));
    if (!mine) return Status::OK();
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<StoreInfo> due,
        rows::ReadStores(tx, "state = 'released' AND delete_after <= $1",
                         {Now()}));
    for (StoreInfo& s : due) {
      MIGSTORE_RETURN_IF_ERROR(storage_.Remove(s.location, s.id));
      MIGSTORE_RETURN_IF_ERROR(rows::Move(tx, s, StoreEvent::kExpire));
      MIGSTORE_RETURN_IF_ERROR(
          rows::Audit(tx, Now(), "retention", "delete", s.id));
      ++deleted;
    }
    // Captures requested and never committed (the computer was wiped or
    // retired mid-capture): their slot and partial upload go after the
    // abandonment time since their latest activity (a request, a chunk).
    MIGSTORE_ASSIGN_OR_RETURN(Settings settings, rows::ReadSettings(tx));
    if (settings.abandon_after_minutes <= 0) return Status::OK();
    cutoff = Now() - settings.abandon_after_minutes * 60;
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> found,
        tx.Query(std::string("SELECT id FROM stores WHERE ") + kAbandoned,
                 {cutoff}));
    for (const Row& r : found) abandoned.push_back(r.Text(0));
    return Status::OK();
  }));
  for (const std::string& id : abandoned) {
    // The bytes lock before the transaction, as everywhere else (a chunk
    // being written on this node finishes first), and the store checked
    // again under its row lock: a request, a chunk or a commit since the
    // list was read keeps it.
    std::lock_guard<std::mutex> lock(BytesLock(id));
    bool gone = false;
    MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
      gone = false;
      MIGSTORE_ASSIGN_OR_RETURN(StoreInfo s,
                                rows::ReadStore(tx, id, RowLock()));
      MIGSTORE_ASSIGN_OR_RETURN(
          std::vector<Row> still,
          tx.Query(std::string("SELECT id FROM stores WHERE id = $2 AND ") +
                       kAbandoned,
                   {cutoff, id}));
      if (still.empty()) return Status::OK();
      MIGSTORE_RETURN_IF_ERROR(storage_.Remove(s.location, s.id));
      MIGSTORE_RETURN_IF_ERROR(rows::Move(tx, s, StoreEvent::kAbandon));
      gone = true;
      return rows::Audit(tx, Now(), "retention", "abandon", s.id,
                         "requested at " + std::to_string(s.requested_at) +
                             ", never committed");
    }));
    if (gone) ++deleted;
  }
  return deleted;
}

}  // namespace migstore::smp
