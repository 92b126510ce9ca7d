// The state migration point's database: one small interface over SQLite (the
// embedded default, one `serve` node) and PostgreSQL (several nodes sharing
// one state). docs/smp.md, "State".
//
// Every change of state is one transaction: Db::Transact runs a body against
// a Tx and commits when the body returns OK, rolls back otherwise, and runs
// the body again when the database says the transaction lost a race
// (PostgreSQL's serialization failure or deadlock; SQLite's busy, after its
// own wait). A body must therefore be safe to run more than once: it does
// nothing outside the database but compute.
//
// SQL is written once for both: parameters are $1, $2, … (SQLite accepts
// them as named parameters), values are NULL, 64-bit integers or text
// (bytes are stored as hex), times are integer seconds computed by the
// caller. What differs is asked of the Tx: LockClause() for row locks, and
// TryClusterLock() for the lock one node holds while it runs the deletion
// cycle.
//
// Thread safety: a Db is used from many threads at once (each Transact takes
// a connection of its own, or waits for one); a Tx belongs to the thread
// running the body.

#ifndef MIGSTORE_ENGINE_SRC_SMP_DB_H_
#define MIGSTORE_ENGINE_SRC_SMP_DB_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "migstore/result.h"
#include "migstore/status.h"

namespace migstore::smp {

// One SQL value.
using Value = std::variant<std::monostate, int64_t, std::string>;

// One row of a result, its columns in the SELECT's order.
class Row {
 public:
  explicit Row(std::vector<Value> cols) : cols_(std::move(cols)) {}
  // A row of `n` columns, column c being `column(c)`: how both backends
  // read their results.
  static Row Read(int n, const std::function<Value(int)>& column);

  size_t size() const { return cols_.size(); }
  bool IsNull(size_t i) const {
    return std::holds_alternative<std::monostate>(cols_.at(i));
  }
  // Column i as an integer. Text holding a whole number is read as one:
  // what is an integer on one backend may be text on the other
  // (PostgreSQL's SUM of BIGINT is NUMERIC; settings' values are TEXT on
  // both). NULL, and text that is not a whole number, are 0.
  int64_t Int(size_t i) const;
  // Column i as text: an integer is formatted, NULL is "".
  std::string Text(size_t i) const;

 private:
  std::vector<Value> cols_;
};

class Tx {
 public:
  virtual ~Tx() = default;
  // Runs one statement; the rows it returns (SELECT, or RETURNING).
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         std::initializer_list<Value> params);
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<Value>& params) = 0;
  // A statement whose rows are not wanted.
  Status Exec(std::string_view sql, std::initializer_list<Value> params = {});
  // What to append to a SELECT that picks rows this transaction will
  // change, so that another node's concurrent transaction skips them
  // instead of taking them too: " FOR UPDATE SKIP LOCKED" on PostgreSQL; ""
  // on SQLite, whose write transactions never overlap.
  virtual std::string_view LockClause() const = 0;
  // Takes the cluster-wide lock `key` until this transaction ends, without
  // waiting: false when another node holds it. Always true on SQLite.
  virtual Result<bool> TryClusterLock(int64_t key) = 0;
};

class Db {
 public:
  virtual ~Db() = default;
  // `where`: "postgresql://…" or "postgres://…" (a libpq connection URI),
  // or the path of an SQLite file (created if missing). The schema is
  // brought to the newest version this program knows (schema.h); a
  // database written by a newer program is refused.
  static Result<std::unique_ptr<Db>> Open(const std::string& where);

  // "sqlite" or "postgresql".
  virtual std::string_view dialect() const = 0;
  // Runs `body` in one transaction; see the file comment.
  virtual Status Transact(const std::function<Status(Tx&)>& body) = 0;
};

// `text` as a whole decimal number (an optional '-', digits, nothing else,
// within int64_t), else nothing.
std::optional<int64_t> ParseInt64(std::string_view text);

// Opens without bringing the schema up to date (schema.cc does that).
Result<std::unique_ptr<Db>> OpenSqlite(const std::string& path);
Result<std::unique_ptr<Db>> OpenPostgres(const std::string& uri);
// Whether `where` names a PostgreSQL database rather than an SQLite file.
bool IsPostgresUri(std::string_view where);

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_DB_H_
