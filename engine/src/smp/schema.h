// The state migration point's schema and its versioned migrations
// (docs/smp.md, "State"). One schema for SQLite and PostgreSQL; each
// migration runs in one transaction and records its version, and only one
// node migrates at a time (the cluster lock). A database whose version is
// newer than this program's is refused rather than written by a program
// that does not know its tables.
//
// Thread safety: MigrateSchema may run from several processes at once on
// one database; the lock makes it happen once.

#ifndef MIGSTORE_ENGINE_SRC_SMP_SCHEMA_H_
#define MIGSTORE_ENGINE_SRC_SMP_SCHEMA_H_

#include <cstdint>

#include "engine/src/smp/db.h"
#include "migstore/status.h"

namespace migstore::smp {

// The newest schema version this program knows.
int64_t SchemaVersion();

// Applies every migration `db` lacks, in order.
Status MigrateSchema(Db* db);
// The same, only up to schema `version`: a database as an older program
// left it, for the tests of a migration.
Status MigrateSchemaTo(Db* db, int64_t version);

// Cluster-wide lock keys (Tx::TryClusterLock).
inline constexpr int64_t kMigrationLock = 0x6d69677374720001;  // "migstr" 1
inline constexpr int64_t kDeletionCycleLock = 0x6d69677374720002;

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_SCHEMA_H_
