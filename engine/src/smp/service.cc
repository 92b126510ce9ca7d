// The service's principals, associations, settings and listing; the store
// life cycle is in store_steps.cc. docs/smp.md.

#include "engine/src/smp/service.h"

#include <sodium.h>

#include <ctime>

#include "engine/src/smp/store_rows.h"
#include "format/layout.h"

namespace migstore::smp {
namespace {

constexpr std::string_view kAdminName = "admin";
// A row of `settings` holding a key wrapped by the server key: a node
// started with another server key finds it does not open, and stops.
constexpr std::string_view kKeyCheckSetting = "server_key_check";
constexpr std::string_view kKeyCheckId = "server-key-check";
constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxNameLength = 64;

std::string Hex(const unsigned char* p, size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

std::string NewToken() {
  unsigned char raw[kTokenBytes];
  randombytes_buf(raw, sizeof raw);
  std::string token = "mst1_" + Hex(raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  return token;
}

// Tokens are kept only as their hash: a copy of the database lets nobody
// in. 256 random bits need no slow hash.
std::string TokenHash(std::string_view token) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest,
                     reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return Hex(digest, sizeof digest);
}

// Computer names: what a Windows or Linux host name may hold, and nothing
// a log line or a path could be fooled by.
Status CheckName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxNameLength;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
  }
  if (!ok) {
    return Status::InvalidArgument(
        "computer name '" + std::string(name) + "'",
        "must be 1 to 64 letters, digits, '-', '_' or '.'");
  }
  return Status::OK();
}

Status CheckUsers(const std::vector<std::string>& users) {
  for (const std::string& u : users) {
    if (u.empty() || u.size() > 256 ||
        u.find_first_of(std::string_view("\0\n\r", 3)) != std::string::npos) {
      return Status::InvalidArgument("user '" + u + "'", "is not a user name");
    }
  }
  return Status::OK();
}

Status RequireAdmin(const Principal& who) {
  if (who.admin) return Status::OK();
  return Status::Refused(who.name, "only the administrator may do this");
}

Result<bool> IsEnrolled(Tx& tx, std::string_view name) {
  MIGSTORE_ASSIGN_OR_RETURN(
      std::vector<Row> found,
      tx.Query("SELECT name FROM principals WHERE name = $1 AND is_admin = 0",
               {std::string(name)}));
  return !found.empty();
}

}  // namespace

Service::Service(std::unique_ptr<Db> db, KeyEscrow escrow, Storage storage,
                 Clock clock)
    : db_(std::move(db)),
      escrow_(std::move(escrow)),
      storage_(std::move(storage)),
      clock_(std::move(clock)) {}

Result<std::unique_ptr<Service>> Service::Open(
    std::unique_ptr<Db> db, KeyEscrow escrow,
    std::vector<StorageLocation> locations, Clock clock) {
  if (!clock) clock = [] { return static_cast<int64_t>(::time(nullptr)); };
  MIGSTORE_ASSIGN_OR_RETURN(Storage storage,
                            Storage::Open(std::move(locations)));
  std::unique_ptr<Service> s(new Service(std::move(db), std::move(escrow),
                                         std::move(storage), std::move(clock)));
  const std::string check =
      s->escrow_.Wrap(kKeyCheckId, format::SecretBytes(format::kKeySize));
  MIGSTORE_RETURN_IF_TX_FAILS(s->db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> found,
        tx.Query("SELECT value FROM settings WHERE name = $1",
                 {std::string(kKeyCheckSetting)}));
    if (found.empty()) {
      MIGSTORE_RETURN_IF_ERROR(rows::WriteSetting(tx, kKeyCheckSetting, check));
    } else if (!s->escrow_.Unwrap(kKeyCheckId, found[0].Text(0)).ok()) {
      return Status::Refused(
          "the server key",
          "is not the one this database's keys are wrapped with: start "
          "every node with the same --server-key");
    }
    for (const StorageLocation& l : s->storage_.locations()) {
      MIGSTORE_ASSIGN_OR_RETURN(
          std::vector<Row> updated,
          tx.Query("UPDATE storage SET max_clients = $2, min_free_bytes = $3"
                   " WHERE location = $1 RETURNING location",
                   {l.path, l.max_clients, l.min_free_bytes}));
      if (updated.empty()) {
        MIGSTORE_RETURN_IF_ERROR(tx.Exec(
            "INSERT INTO storage (location, max_clients, min_free_bytes)"
            " VALUES ($1, $2, $3)",
            {l.path, l.max_clients, l.min_free_bytes}));
      }
    }
    return Status::OK();
  }));
  return s;
}

Result<Principal> Service::Authenticate(std::string_view token) {
  if (token.empty()) return Status::Refused("no token given");
  const std::string hash = TokenHash(token);
  Principal who;
  bool found_one = false;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> found,
        tx.Query("SELECT name, is_admin FROM principals WHERE token_hash = $1",
                 {hash}));
    found_one = !found.empty();
    if (found_one) {
      who.name = found[0].Text(0);
      who.admin = found[0].Int(1) != 0;
    }
    return Status::OK();
  }));
  if (!found_one) return Status::Refused("the token is not known here");
  return who;
}

Result<std::string> Service::CreateAdminIfNone(
    const std::function<Status(const std::string&)>& keep) {
  std::string token;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    token.clear();
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> found,
        tx.Query("SELECT name FROM principals WHERE is_admin = 1", {}));
    if (!found.empty()) return Status::OK();
    token = NewToken();
    MIGSTORE_RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO principals (name, token_hash, is_admin, enrolled_at)"
        " VALUES ($1, $2, 1, $3)",
        {std::string(kAdminName), TokenHash(token), Now()}));
    MIGSTORE_RETURN_IF_ERROR(
        rows::Audit(tx, Now(), "server", "create administrator"));
    // Kept before the commit: an administrator whose token was lost would
    // lock everyone out.
    return keep(token);
  }));
  return token;
}

Result<std::string> Service::Enroll(const Principal& who,
                                    std::string_view name) {
  MIGSTORE_RETURN_IF_ERROR(RequireAdmin(who));
  MIGSTORE_RETURN_IF_ERROR(CheckName(name));
  if (name == kAdminName) {
    return Status::InvalidArgument("computer name 'admin'",
                                   "is the administrator's");
  }
  std::string token;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    token = NewToken();
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> updated,
        tx.Query("UPDATE principals SET token_hash = $2, enrolled_at = $3"
                 " WHERE name = $1 AND is_admin = 0 RETURNING name",
                 {std::string(name), TokenHash(token), Now()}));
    if (updated.empty()) {
      MIGSTORE_RETURN_IF_ERROR(tx.Exec(
          "INSERT INTO principals (name, token_hash, is_admin, enrolled_at)"
          " VALUES ($1, $2, 0, $3)",
          {std::string(name), TokenHash(token), Now()}));
    }
    return rows::Audit(tx, Now(), who.name,
                       updated.empty() ? "enroll" : "re-enroll", "",
                       std::string(name));
  }));
  return token;
}

Status Service::Associate(const Principal& who, std::string_view source,
                          std::string_view destination,
                          const std::vector<std::string>& users) {
  MIGSTORE_RETURN_IF_ERROR(RequireAdmin(who));
  MIGSTORE_RETURN_IF_ERROR(CheckName(source));
  MIGSTORE_RETURN_IF_ERROR(CheckName(destination));
  MIGSTORE_RETURN_IF_ERROR(CheckUsers(users));
  if (source == destination) {
    return Status::InvalidArgument(
        "associate " + std::string(source),
        "a computer restoring its own state (a refresh) needs no "
        "association");
  }
  const std::string users_text = rows::UsersToText(users);
  return db_->Transact([&](Tx& tx) -> Status {
    for (std::string_view name : {source, destination}) {
      MIGSTORE_ASSIGN_OR_RETURN(bool enrolled, IsEnrolled(tx, name));
      if (!enrolled) {
        return Status::NotFound("computer " + std::string(name),
                                "is not enrolled (smp enroll)");
      }
    }
    MIGSTORE_RETURN_IF_ERROR(tx.Exec(
        "DELETE FROM associations WHERE source = $1", {std::string(source)}));
    MIGSTORE_RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO associations (source, destination, users, created_at)"
        " VALUES ($1, $2, $3, $4)",
        {std::string(source), std::string(destination), users_text, Now()}));
    // A store the source has not yet handed over follows the association.
    MIGSTORE_RETURN_IF_ERROR(tx.Exec(
        "UPDATE stores SET destination = $2, users = $3 WHERE source = $1"
        " AND state IN ('requested', 'capturing', 'captured', 'ready')",
        {std::string(source), std::string(destination), users_text}));
    return rows::Audit(tx, Now(), who.name, "associate", "",
                       std::string(source) + " -> " + std::string(destination) +
                           (users.empty() ? "" : " users " + users_text));
  });
}

Status Service::Unassociate(const Principal& who, std::string_view source) {
  MIGSTORE_RETURN_IF_ERROR(RequireAdmin(who));
  MIGSTORE_RETURN_IF_ERROR(CheckName(source));
  return db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> gone,
        tx.Query("DELETE FROM associations WHERE source = $1 RETURNING source",
                 {std::string(source)}));
    if (gone.empty()) {
      return Status::NotFound("computer " + std::string(source),
                              "has no association");
    }
    return rows::Audit(tx, Now(), who.name, "unassociate", "",
                       std::string(source));
  });
}

Result<std::vector<StoreInfo>> Service::ListStores(const Principal& who) {
  std::vector<StoreInfo> out;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(
        out, who.admin ? rows::ReadStores(tx, "1 = 1", {})
                       : rows::ReadStores(tx, "source = $1 OR destination = $1",
                                          {who.name}));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<AssociationInfo>> Service::ListAssociations(
    const Principal& who) {
  std::vector<AssociationInfo> out;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    out.clear();
    const std::string sql =
        "SELECT source, destination, users, created_at FROM associations";
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<Row> found,
        who.admin ? tx.Query(sql + " ORDER BY source", {})
                  : tx.Query(sql + " WHERE source = $1 OR destination = $1"
                                   " ORDER BY source",
                             {who.name}));
    for (const Row& r : found) {
      out.push_back(
          {r.Text(0), r.Text(1), rows::UsersFromText(r.Text(2)), r.Int(3)});
    }
    return Status::OK();
  }));
  return out;
}

Result<Settings> Service::GetSettings(const Principal&) {
  Settings out;
  MIGSTORE_RETURN_IF_TX_FAILS(db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(out, rows::ReadSettings(tx));
    return Status::OK();
  }));
  return out;
}

// Up to ten years: a number past that is a typo, not a policy.
constexpr int64_t kMaxSettingMinutes = int64_t{10} * 366 * 24 * 60;

Status Service::SetRetention(const Principal& who, int64_t minutes) {
  MIGSTORE_RETURN_IF_ERROR(RequireAdmin(who));
  if (minutes < 0 || minutes > kMaxSettingMinutes) {
    return Status::InvalidArgument("retention " + std::to_string(minutes),
                                   "must be 0 to 5270400 minutes");
  }
  return db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_RETURN_IF_ERROR(
        rows::WriteSetting(tx, "retention_minutes", std::to_string(minutes)));
    return rows::Audit(tx, Now(), who.name, "set retention", "",
                       std::to_string(minutes) + " minutes");
  });
}

Status Service::SetAbandonAfter(const Principal& who, int64_t minutes) {
  MIGSTORE_RETURN_IF_ERROR(RequireAdmin(who));
  if (minutes < 0 || minutes > kMaxSettingMinutes) {
    return Status::InvalidArgument(
        "abandonment time " + std::to_string(minutes),
        "must be 0 (never) to 5270400 minutes");
  }
  return db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_RETURN_IF_ERROR(rows::WriteSetting(tx, "abandon_after_minutes",
                                                std::to_string(minutes)));
    return rows::Audit(tx, Now(), who.name, "set abandonment time", "",
                       std::to_string(minutes) + " minutes");
  });
}

Status Service::SetRestoreOnly(const Principal& who, bool on) {
  MIGSTORE_RETURN_IF_ERROR(RequireAdmin(who));
  return db_->Transact([&](Tx& tx) -> Status {
    MIGSTORE_RETURN_IF_ERROR(
        rows::WriteSetting(tx, "restore_only", on ? "1" : "0"));
    return rows::Audit(tx, Now(), who.name,
                       on ? "restore-only on" : "restore-only off");
  });
}

}  // namespace migstore::smp
