#include "engine/src/smp/store_rows.h"

#include <nlohmann/json.hpp>

namespace migstore::smp::rows {

const char* const kStoreColumns =
    "id, source, destination, users, location, state, size, sha256,"
    " requested_at, captured_at, released_at, restored_at, delete_after";

StoreInfo StoreFrom(const Row& row) {
  StoreInfo s;
  s.id = row.Text(0);
  s.source = row.Text(1);
  s.destination = row.Text(2);
  s.users = UsersFromText(row.Text(3));
  s.location = row.Text(4);
  // A state this program does not know is kept out of every move: Next()
  // refuses anything from kDeleted.
  s.state = StateFromName(row.Text(5)).value_or(StoreState::kDeleted);
  s.size = row.Int(6);
  s.sha256 = row.Text(7);
  s.requested_at = row.Int(8);
  s.captured_at = row.Int(9);
  s.released_at = row.Int(10);
  s.restored_at = row.Int(11);
  s.delete_after = row.Int(12);
  return s;
}

Result<StoreInfo> ReadStore(Tx& tx, std::string_view id,
                            std::string_view lock) {
  MIGSTORE_ASSIGN_OR_RETURN(
      std::vector<Row> found,
      tx.Query(std::string("SELECT ") + kStoreColumns +
                   " FROM stores WHERE id = $1" + std::string(lock),
               {std::string(id)}));
  if (found.empty())
    return Status::NotFound("store " + std::string(id), "no such store");
  return StoreFrom(found[0]);
}

Result<std::vector<StoreInfo>> ReadStores(Tx& tx, const std::string& where,
                                          const std::vector<Value>& params) {
  MIGSTORE_ASSIGN_OR_RETURN(
      std::vector<Row> found,
      tx.Query(std::string("SELECT ") + kStoreColumns + " FROM stores WHERE " +
                   where + " ORDER BY requested_at DESC, id",
               params));
  std::vector<StoreInfo> out;
  out.reserve(found.size());
  for (const Row& r : found) out.push_back(StoreFrom(r));
  return out;
}

Status Move(Tx& tx, StoreInfo& store, StoreEvent event,
            const std::string& extra, const std::vector<Value>& extra_params) {
  const std::optional<StoreState> to = Next(store.state, event);
  if (!to) {
    return Status::Refused("store " + store.id,
                           "is " + std::string(StateName(store.state)) + ": " +
                               std::string(EventName(event)) +
                               " is not allowed then");
  }
  std::vector<Value> params = {std::string(StateName(*to)), store.id};
  params.insert(params.end(), extra_params.begin(), extra_params.end());
  MIGSTORE_RETURN_IF_ERROR(
      tx.Query("UPDATE stores SET state = $1" +
                   (extra.empty() ? std::string() : ", " + extra) +
                   " WHERE id = $2",
               params)
          .status());
  store.state = *to;
  return Status::OK();
}

Result<Settings> ReadSettings(Tx& tx) {
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<Row> found,
                            tx.Query("SELECT name, value FROM settings", {}));
  Settings s;
  for (const Row& r : found) {
    const std::string name = r.Text(0);
    const std::string value = r.Text(1);
    if (name == "retention_minutes") {
      s.retention_minutes = std::strtoll(value.c_str(), nullptr, 10);
    } else if (name == "restore_only") {
      s.restore_only = value == "1";
    } else if (name == "abandon_after_minutes") {
      s.abandon_after_minutes = std::strtoll(value.c_str(), nullptr, 10);
    }
  }
  return s;
}

Status WriteSetting(Tx& tx, std::string_view name, std::string_view value) {
  MIGSTORE_ASSIGN_OR_RETURN(
      std::vector<Row> updated,
      tx.Query("UPDATE settings SET value = $2 WHERE name = $1 RETURNING name",
               {std::string(name), std::string(value)}));
  if (!updated.empty()) return Status::OK();
  return tx.Exec("INSERT INTO settings (name, value) VALUES ($1, $2)",
                 {std::string(name), std::string(value)});
}

Status Audit(Tx& tx, int64_t now, std::string_view actor,
             std::string_view action, std::string_view store,
             std::string_view detail) {
  return tx.Exec(
      "INSERT INTO audit (at, actor, action, store, detail)"
      " VALUES ($1, $2, $3, $4, $5)",
      {now, std::string(actor), std::string(action), std::string(store),
       std::string(detail)});
}

std::string UsersToText(const std::vector<std::string>& users) {
  if (users.empty()) return "";
  return nlohmann::json(users).dump();
}

std::vector<std::string> UsersFromText(std::string_view text) {
  if (text.empty()) return {};
  nlohmann::json j =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& u : j) {
    if (u.is_string()) out.push_back(u.get<std::string>());
  }
  return out;
}

}  // namespace migstore::smp::rows
