// The SQLite Db: one connection, one transaction at a time (SQLite writes
// one at a time anyway; the state migration point's transactions are a few
// small statements). Write-ahead log, synchronous=FULL: a state change the
// server answered for survives a power cut.

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "engine/src/smp/db.h"

namespace migstore::smp {
namespace {

constexpr int kBusyWaitMs = 10000;
constexpr int kAttempts = 5;

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(sqlite3* db) : db_(db) {}

  using Tx::Query;
  Result<std::vector<Row>> Query(std::string_view sql,
                                 const std::vector<Value>& params) override {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt,
                           &tail) != SQLITE_OK) {
      return Error("cannot prepare a statement");
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owned(
        stmt, sqlite3_finalize);
    // One statement per call, as PostgreSQL's PQexecParams allows: SQLite
    // would run the first and silently ignore the rest.
    const std::string_view rest(
        tail, static_cast<size_t>(sql.data() + sql.size() - tail));
    if (stmt == nullptr ||
        rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      return Status::InvalidArgument(
          "smp database", "not one SQL statement: " + std::string(sql));
    }
    MIGSTORE_RETURN_IF_ERROR(Bind(stmt, sql, params));
    std::vector<Row> rows;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error("a statement failed");
      rows.push_back(Row::Read(sqlite3_column_count(stmt),
                               [&](int c) { return Column(stmt, c); }));
    }
    return rows;
  }

  std::string_view LockClause() const override { return ""; }
  Result<bool> TryClusterLock(int64_t) override { return true; }

  bool busy() const { return busy_; }

 private:
  Status Error(std::string_view what) {
    const int code = sqlite3_extended_errcode(db_);
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
      busy_ = true;
    const std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
    if (code == SQLITE_CONSTRAINT_UNIQUE ||
        code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Status::AlreadyExists("smp database", msg);
    }
    return Status::IOError("smp database", msg);
  }

  // Binds params[k] to $k+1. Every parameter must be used and every one
  // used given, as PostgreSQL insists: code tested on SQLite, the default,
  // then runs on PostgreSQL too.
  Status Bind(sqlite3_stmt* stmt, std::string_view sql,
              const std::vector<Value>& params) {
    const int count = sqlite3_bind_parameter_count(stmt);
    for (int at = 1; at <= count; ++at) {
      const char* name = sqlite3_bind_parameter_name(stmt, at);
      const std::optional<int64_t> k = name != nullptr && name[0] == '$'
                                           ? ParseInt64(name + 1)
                                           : std::nullopt;
      if (!k || *k < 1 || static_cast<uint64_t>(*k) > params.size()) {
        return Status::InvalidArgument(
            "smp database",
            "parameter " + std::string(name != nullptr ? name : "?") +
                " is not one of $1…$" + std::to_string(params.size()) +
                " in: " + std::string(sql));
      }
      int rc = SQLITE_OK;
      const Value& v = params[static_cast<size_t>(*k - 1)];
      if (const int64_t* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, at, *n);
      } else if (const std::string* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(stmt, at, s->data(), static_cast<int>(s->size()),
                               SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt, at);
      }
      if (rc != SQLITE_OK) return Error("cannot bind a parameter");
    }
    // $1…$count each bound once (names are distinct): all were used.
    if (static_cast<size_t>(count) != params.size()) {
      return Status::InvalidArgument(
          "smp database", std::to_string(params.size()) +
                              " parameters for a statement that uses " +
                              std::to_string(count) + ": " + std::string(sql));
    }
    return Status::OK();
  }

  static Value Column(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER:
        return static_cast<int64_t>(sqlite3_column_int64(stmt, c));
      case SQLITE_NULL:
        return std::monostate();
      default: {
        // Null for an empty blob (the schema has none, but a NULL pointer
        // must not reach std::string).
        const auto* text = sqlite3_column_text(stmt, c);
        if (text == nullptr) return std::string();
        return std::string(reinterpret_cast<const char*>(text),
                           static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
      }
    }
  }

  sqlite3* db_;
  bool busy_ = false;
};

class SqliteDb final : public Db {
 public:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  ~SqliteDb() override { sqlite3_close_v2(db_); }

  std::string_view dialect() const override { return "sqlite"; }

  Status Transact(const std::function<Status(Tx&)>& body) override {
    std::lock_guard<std::mutex> lock(mu_);
    Status last;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      SqliteTx tx(db_);
      // IMMEDIATE: the write lock is taken now, so two processes on one
      // file never both read, then both write.
      Status s = tx.Exec("BEGIN IMMEDIATE");
      if (s.ok()) {
        s = body(tx);
        if (s.ok()) {
          s = tx.Exec("COMMIT");
          if (s.ok()) return s;
        }
        (void)tx.Exec("ROLLBACK");
      }
      if (!tx.busy()) return s;
      last = s;
    }
    return Status::Unavailable("smp database is busy", last.ToString());
  }

 private:
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<Db>> OpenSqlite(const std::string& path) {
  // Created 0600 before SQLite opens it: it holds token hashes and wrapped
  // keys, nothing for other users to read.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  ::close(fd);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = db != nullptr ? sqlite3_errmsg(db) : "no memory";
    sqlite3_close_v2(db);
    return Status::IOError("cannot open " + path, why);
  }
  auto out = std::make_unique<SqliteDb>(db);
  sqlite3_busy_timeout(db, kBusyWaitMs);
  // Turning a fresh file to write-ahead logging takes an exclusive lock,
  // and SQLite answers BUSY at once, without its busy handler, when
  // another process opening the same file holds one: so wait here, as the
  // busy timeout would.
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyWaitMs);
  for (;;) {
    char* err = nullptr;
    const int set_up =
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "PRAGMA foreign_keys=ON;",
                     nullptr, nullptr, &err);
    const std::string why = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    if (set_up == SQLITE_OK) break;
    if ((set_up & 0xff) != SQLITE_BUSY ||
        std::chrono::steady_clock::now() >= give_up) {
      return Status::IOError("cannot set up " + path, why);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::unique_ptr<Db>(std::move(out));
}

}  // namespace migstore::smp
