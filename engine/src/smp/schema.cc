#include "engine/src/smp/schema.h"

#include <string>
#include <vector>

namespace migstore::smp {
namespace {

// Each migration is a list of statements. "{serial}" becomes the dialect's
// auto-numbered primary key. Times are integer seconds since the epoch;
// bytes are hex text. docs/smp.md describes each table.
struct Migration {
  int64_t version;
  std::vector<const char*> statements;
};

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

std::string ForDialect(std::string_view dialect, std::string sql) {
  const std::string serial = dialect == "postgresql"
                                 ? "BIGINT GENERATED ALWAYS AS IDENTITY "
                                   "PRIMARY KEY"
                                 : "INTEGER PRIMARY KEY AUTOINCREMENT";
  const std::string marker = "{serial}";
  for (size_t at = sql.find(marker); at != std::string::npos;
       at = sql.find(marker, at)) {
    sql.replace(at, marker.size(), serial);
  }
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

Status MigrateSchema(Db* db) {
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
    for (const Migration& m : Migrations()) {
      if (m.version <= have) continue;
      for (const char* statement : m.statements) {
        MIGSTORE_RETURN_IF_ERROR(tx.Exec(ForDialect(dialect, statement)));
      }
      MIGSTORE_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO schema_migrations (version, applied_at)"
                  " VALUES ($1, $2)",
                  {m.version, static_cast<int64_t>(::time(nullptr))}));
    }
    return Status::OK();
  });
}

}  // namespace migstore::smp
