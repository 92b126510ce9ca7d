// The PostgreSQL Db: a small pool of libpq connections, one per transaction
// in flight, so several `serve` nodes (and the threads of each) share one
// state. Transactions run at READ COMMITTED; what must not be handed out
// twice is taken with row locks (Tx::LockClause, "FOR UPDATE SKIP LOCKED"),
// and a lost race (serialization failure 40001, deadlock 40P01) runs the
// body again. The deletion cycle's "one node at a time" is a transaction-
// scoped advisory lock.

#include <libpq-fe.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/src/smp/db.h"

namespace migstore::smp {
namespace {

constexpr size_t kMaxConnections = 8;
constexpr int kAttempts = 8;
constexpr char kConnectTimeout[] = "10";  // seconds
constexpr unsigned kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23;

using Conn = std::unique_ptr<PGconn, void (*)(PGconn*)>;
using PgResult = std::unique_ptr<PGresult, void (*)(PGresult*)>;

// The URI without its password, wherever it holds one: between the user
// and the host, or as a password= parameter.
std::string Redacted(std::string uri) {
  const size_t scheme = uri.find("://");
  const size_t at = uri.find('@');
  if (scheme != std::string::npos && at != std::string::npos) {
    const size_t colon = uri.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at)
      uri = uri.substr(0, colon) + ":***" + uri.substr(at);
  }
  const size_t query = uri.find('?');
  for (size_t p = query == std::string::npos ? std::string::npos
                                             : uri.find("password=", query);
       p != std::string::npos; p = uri.find("password=", p + 1)) {
    if (uri[p - 1] != '?' && uri[p - 1] != '&') continue;
    const size_t value = p + std::string_view("password=").size();
    const size_t end = uri.find('&', value);
    uri.replace(value,
                end == std::string::npos ? std::string::npos : end - value,
                "***");
  }
  return uri;
}

class PgTx final : public Tx {
 public:
  explicit PgTx(PGconn* conn) : conn_(conn) {}

  using Tx::Query;
  Result<std::vector<Row>> Query(std::string_view sql,
                                 const std::vector<Value>& params) override {
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      if (const int64_t* n = std::get_if<int64_t>(&params[i])) {
        text[i] = std::to_string(*n);
        values[i] = text[i].c_str();
      } else if (const std::string* s = std::get_if<std::string>(&params[i])) {
        values[i] = s->c_str();
      }
    }
    const std::string statement(sql);
    PgResult res(
        PQexecParams(conn_, statement.c_str(), static_cast<int>(params.size()),
                     nullptr, values.data(), nullptr, nullptr, 0),
        PQclear);
    const ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
      const std::string code = state != nullptr ? state : "";
      if (code == "40001" || code == "40P01") retry_ = true;
      // No result at all (the connection failed, or no memory): the
      // connection's message says why.
      const std::string msg = res != nullptr ? PQresultErrorMessage(res.get())
                                             : PQerrorMessage(conn_);
      if (code == "23505") return Status::AlreadyExists("smp database", msg);
      if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
      return Status::IOError("smp database", msg);
    }
    std::vector<Row> rows;
    const int nrows = PQntuples(res.get());
    rows.reserve(static_cast<size_t>(nrows));
    for (int r = 0; r < nrows; ++r) {
      rows.push_back(Row::Read(PQnfields(res.get()),
                               [&](int c) { return Column(res.get(), r, c); }));
    }
    return rows;
  }

  std::string_view LockClause() const override {
    return " FOR UPDATE SKIP LOCKED";
  }

  Result<bool> TryClusterLock(int64_t key) override {
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        Query("SELECT pg_try_advisory_xact_lock($1::bigint)", {key}));
    return !rows.empty() && rows[0].Int(0) == 1;
  }

  bool retry() const { return retry_; }
  bool broken() const { return broken_; }

 private:
  // Integers as integers (and booleans as 0 or 1); anything else as its
  // text (Row::Int reads NUMERIC's whole numbers too).
  static Value Column(const PGresult* res, int r, int c) {
    if (PQgetisnull(res, r, c)) return std::monostate();
    const char* v = PQgetvalue(res, r, c);
    const std::string_view text(v, static_cast<size_t>(PQgetlength(res, r, c)));
    const Oid type = PQftype(res, c);
    if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid) {
      if (std::optional<int64_t> n = ParseInt64(text)) return *n;
    } else if (type == kBoolOid) {
      return static_cast<int64_t>(text == "t" ? 1 : 0);
    }
    return std::string(text);
  }

  PGconn* conn_;
  bool retry_ = false;
  bool broken_ = false;
};

class PgDb final : public Db {
 public:
  explicit PgDb(std::string uri) : uri_(std::move(uri)) {}

  std::string_view dialect() const override { return "postgresql"; }

  Status Transact(const std::function<Status(Tx&)>& body) override {
    Status last;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      MIGSTORE_ASSIGN_OR_RETURN(Conn conn, Take());
      PgTx tx(conn.get());
      Status s = tx.Exec("BEGIN ISOLATION LEVEL READ COMMITTED");
      const bool began = s.ok();
      if (began) {
        s = body(tx);
        if (s.ok()) s = tx.Exec("COMMIT");
        if (!s.ok()) (void)tx.Exec("ROLLBACK");
      }
      Give(std::move(conn), tx.broken());
      if (s.ok()) return s;
      // An idle pooled connection the server closed (it restarted, or an
      // administrator ended the session) fails at BEGIN, before the body
      // ran: try again on a fresh one. A connection lost later may have
      // committed: that error is the caller's.
      if (!tx.retry() && !(tx.broken() && !began)) return s;
      last = s;
    }
    return Status::Unavailable("smp database: a transaction kept losing races",
                               last.ToString());
  }

  Result<Conn> Connect() const {
    // A database host that drops packets would hold a request (and a
    // node's start) for the system's TCP timeout, minutes: give up after
    // kConnectTimeout unless the URI says otherwise (keywords later in the
    // list override earlier ones, and the URI is expanded last).
    const char* const keys[] = {"connect_timeout", "dbname", nullptr};
    const char* const values[] = {kConnectTimeout, uri_.c_str(), nullptr};
    Conn conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1), PQfinish);
    if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
      return Status::Unavailable(
          "cannot connect to " + Redacted(uri_),
          conn != nullptr ? PQerrorMessage(conn.get()) : "no memory");
    }
    // Notices (e.g. "relation already exists, skipping") are not errors.
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr);
    return conn;
  }

 private:
  Result<Conn> Take() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < kMaxConnections; });
    if (!idle_.empty()) {
      Conn c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
    lock.unlock();
    Result<Conn> c = Connect();
    if (!c.ok()) {
      lock.lock();
      --open_;
      cv_.notify_one();
    }
    return c;
  }

  // A broken connection (the server went away) is closed, not kept, and so
  // are the idle ones, which a restarted server has closed too: the next
  // transactions open fresh ones.
  void Give(Conn conn, bool broken) {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken) {
      open_ -= 1 + idle_.size();
      idle_.clear();
    } else {
      idle_.push_back(std::move(conn));
    }
    cv_.notify_all();
  }

  const std::string uri_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Conn> idle_;  // guarded by mu_
  size_t open_ = 0;         // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Db>> OpenPostgres(const std::string& uri) {
  auto db = std::make_unique<PgDb>(uri);
  // Connect once now: a wrong URI is found at start, not at the first
  // request.
  MIGSTORE_RETURN_IF_ERROR(db->Connect().status());
  return std::unique_ptr<Db>(std::move(db));
}

}  // namespace migstore::smp
