#include "engine/src/smp/schema.h"

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace migstore::smp {

namespace {

// Each migration is a list of statements. "{serial}" becomes the dialect's
// auto-numbered primary key, "{now}" the time the migration runs. Times are
// integer seconds since the epoch; bytes are hex text. docs/smp.md
// describes each table.
struct Migration {
  int64_t version;
  std::vector<std::string> statements;
};

// Migration 2's one live store per source (stores_one_live_per_source): a
// database of version 1 may hold several for one source (the race that
// index closes). kKeptStore is the id of the one kept among the live
// stores of `stores.source` (the outer statement's row); the others are
// released.
//
// The store furthest on in its life cycle is kept, so that a store nobody
// ever uploaded to (the orphan of the race) never displaces one holding a
// capture, nor one a destination restores: handed over to the destination,
// then holding committed bytes (a capture run again keeps them), then the
// rest. Among equals the newest request is kept, ties by id, in the order
// the service's reads list stores (store_rows.cc), so the store kept is
// the one the service was handing out.
constexpr char kKeptStore[] =
    "(SELECT t.id FROM stores t WHERE t.source = stores.source AND"
    " t.state NOT IN ('released', 'deleted') ORDER BY CASE WHEN t.state IN"
    " ('ready', 'restoring', 'restored') THEN 0 WHEN COALESCE(t.captured_at,"
    " 0) <> 0 THEN 1 ELSE 2 END, t.requested_at DESC, t.id LIMIT 1)";
// The outer statement's row is a live store that is not the one kept.
std::string ReleasedDuplicate() {
  return std::string(
             "stores.state NOT IN ('released', 'deleted') AND stores.id <> ") +
         kKeptStore;
}

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       {
           // Computers and administrators, each known by the hash of its
           // token (the token itself is never kept).
           "CREATE TABLE principals ("
           " name TEXT PRIMARY KEY,"
           " token_hash TEXT NOT NULL UNIQUE,"
           " is_admin BIGINT NOT NULL DEFAULT 0,"
           " enrolled_at BIGINT NOT NULL)",
           // Source -> destination; one per source (USMT's "capture and
           // restore specified"). users: a JSON array, "" for all.
           "CREATE TABLE associations ("
           " source TEXT PRIMARY KEY REFERENCES principals(name),"
           " destination TEXT NOT NULL REFERENCES principals(name),"
           " users TEXT NOT NULL DEFAULT '',"
           " created_at BIGINT NOT NULL)",
           // Where stores go: a folder or an s3:// prefix, with the SMP's
           // two limits.
           "CREATE TABLE storage ("
           " location TEXT PRIMARY KEY,"
           " max_clients BIGINT NOT NULL,"
           " min_free_bytes BIGINT NOT NULL)",
           // One store and its life cycle (state.h).
           "CREATE TABLE stores ("
           " id TEXT PRIMARY KEY,"
           " source TEXT NOT NULL,"
           " destination TEXT NOT NULL,"
           " users TEXT NOT NULL DEFAULT '',"
           " location TEXT NOT NULL REFERENCES storage(location),"
           " state TEXT NOT NULL,"
           " wrapped_key TEXT NOT NULL,"
           " size BIGINT,"
           " sha256 TEXT,"
           " requested_at BIGINT NOT NULL,"
           " captured_at BIGINT,"
           " released_at BIGINT,"
           " restored_at BIGINT,"
           " finished_at BIGINT,"
           " delete_after BIGINT,"
           " deleted_at BIGINT)",
           "CREATE INDEX stores_by_source ON stores (source, state)",
           "CREATE INDEX stores_by_destination ON stores (destination, state)",
           "CREATE INDEX stores_by_location ON stores (location, state)",
           // Server-wide settings: retention_minutes, restore_only (and,
           // from version 2, abandon_after_minutes).
           "CREATE TABLE settings ("
           " name TEXT PRIMARY KEY,"
           " value TEXT NOT NULL)",
           "INSERT INTO settings (name, value) VALUES"
           " ('retention_minutes', '1440'), ('restore_only', '0')",
           // Every change, who made it, when.
           "CREATE TABLE audit ("
           " seq {serial},"
           " at BIGINT NOT NULL,"
           " actor TEXT NOT NULL,"
           " action TEXT NOT NULL,"
           " store TEXT NOT NULL DEFAULT '',"
           " detail TEXT NOT NULL DEFAULT '')",
       }},
      {2,
       {
           // A source's live stores but one (ReleasedDuplicate) are
           // released, so the index below can be made: nothing is deleted
           // now; the retention's deletion cycle deletes them after the
           // retention time, as it does a store released after restore,
           // and until then the administrator may still read them and
           // recover their keys. Each one is audited first, naming the
           // store kept.
           "INSERT INTO audit (at, actor, action, store, detail)"
           " SELECT {now}, 'migration', 'release duplicate', stores.id,"
           " 'was ' || stores.state || ' beside store ' || " +
               std::string(kKeptStore) +
               " || ' of ' || stores.source || ', which is kept (schema 2"
               " allows one store not released per source); deleted after"
               " the retention time' FROM stores WHERE " +
               ReleasedDuplicate() + " ORDER BY stores.id",
           "UPDATE stores SET state = 'released', released_at = {now},"
           " delete_after = {now} + 60 *"
           " COALESCE((SELECT CAST(value AS BIGINT) FROM settings WHERE"
           " name = 'retention_minutes'), 1440) WHERE " +
               ReleasedDuplicate(),
           // At most one store per source that is not yet released: the
           // service checks it before it inserts, and this makes two
           // requests of one computer at once (on two nodes, or a retry
           // while the first is in flight) insert one store, not two.
           "CREATE UNIQUE INDEX stores_one_live_per_source ON stores (source)"
           " WHERE state NOT IN ('released', 'deleted')",
           // The latest request or upload activity of a store not yet
           // committed: captures never committed are abandoned two days
           // after it.
           "ALTER TABLE stores ADD COLUMN active_at BIGINT",
           "INSERT INTO settings (name, value) VALUES"
           " ('abandon_after_minutes', '2880')",
       }},
  };
  return kMigrations;
}

// Every `marker` in `sql` replaced by `with`.
void ReplaceAll(std::string& sql, std::string_view marker,
                const std::string& with) {
  for (size_t at = sql.find(marker); at != std::string::npos;
       at = sql.find(marker, at + with.size())) {
    sql.replace(at, marker.size(), with);
  }
}

std::string ForDialect(std::string_view dialect, int64_t now, std::string sql) {
  ReplaceAll(sql, "{serial}",
             dialect == "postgresql"
                 ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
                 : "INTEGER PRIMARY KEY AUTOINCREMENT");
  ReplaceAll(sql, "{now}", std::to_string(now));
  return sql;
}

Result<int64_t> CurrentVersion(Tx& tx) {
  MIGSTORE_RETURN_IF_ERROR(
      tx.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version BIGINT PRIMARY KEY,"
              " applied_at BIGINT NOT NULL)"));
  MIGSTORE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

}  // namespace

int64_t SchemaVersion() { return Migrations().back().version; }

Status MigrateSchema(Db* db) { return MigrateSchemaTo(db, SchemaVersion()); }

Status MigrateSchemaTo(Db* db, int64_t version) {
  const std::string dialect(db->dialect());
  return db->Transact([&](Tx& tx) -> Status {
    // Every node may start at once: the first takes the lock and migrates;
    // the others wait for it (a retried transaction), then find nothing to
    // do. SQLite's write transaction is the lock already.
    if (dialect == "postgresql") {
      MIGSTORE_RETURN_IF_ERROR(tx.Exec(
          "SELECT pg_advisory_xact_lock($1::bigint)", {kMigrationLock}));
    }
    MIGSTORE_ASSIGN_OR_RETURN(int64_t have, CurrentVersion(tx));
    if (have > SchemaVersion()) {
      return Status::UnsupportedVersion(
          "smp database", "its schema is version " + std::to_string(have) +
                              ", newer than this program's " +
                              std::to_string(SchemaVersion()) +
                              ": run a newer migstore");
    }
    const int64_t now = static_cast<int64_t>(::time(nullptr));
    for (const Migration& m : Migrations()) {
      if (m.version <= have || m.version > version) continue;
      for (const std::string& statement : m.statements) {
        MIGSTORE_RETURN_IF_ERROR(tx.Exec(ForDialect(dialect, now, statement)));
      }
      MIGSTORE_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO schema_migrations (version, applied_at)"
                  " VALUES ($1, $2)",
                  {m.version, now}));
    }
    return Status::OK();
  });
}

}  // namespace migstore::smp
