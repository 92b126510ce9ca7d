#include "engine/src/smp/db.h"

#include <charconv>
#include <system_error>

#include "engine/src/smp/schema.h"

namespace migstore::smp {

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t n = 0;
  const char* end = text.data() + text.size();
  const auto [at, err] = std::from_chars(text.data(), end, n);
  if (text.empty() || err != std::errc() || at != end) return std::nullopt;
  return n;
}

Row Row::Read(int n, const std::function<Value(int)>& column) {
  std::vector<Value> cols;
  cols.reserve(static_cast<size_t>(n));
  for (int c = 0; c < n; ++c) cols.push_back(column(c));
  return Row(std::move(cols));
}

int64_t Row::Int(size_t i) const {
  const Value& v = cols_.at(i);
  if (const int64_t* n = std::get_if<int64_t>(&v)) return *n;
  if (const std::string* s = std::get_if<std::string>(&v))
    return ParseInt64(*s).value_or(0);
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = cols_.at(i);
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  if (const int64_t* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  return {};
}

Result<std::vector<Row>> Tx::Query(std::string_view sql,
                                   std::initializer_list<Value> params) {
  return Query(sql, std::vector<Value>(params));
}

Status Tx::Exec(std::string_view sql, std::initializer_list<Value> params) {
  return Query(sql, std::vector<Value>(params)).status();
}

bool IsPostgresUri(std::string_view where) {
  return where.rfind("postgresql://", 0) == 0 ||
         where.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& where) {
  MIGSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, IsPostgresUri(where)
                                                        ? OpenPostgres(where)
                                                        : OpenSqlite(where));
  MIGSTORE_RETURN_IF_ERROR(MigrateSchema(db.get()));
  return db;
}

}  // namespace migstore::smp
