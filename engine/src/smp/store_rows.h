// The service's reading and writing of `stores`, `settings` and `audit`
// rows (schema.cc), shared by service.cc (principals, associations,
// settings) and store_steps.cc (the store life cycle).
//
// Thread safety: functions over one Tx, used by the thread running its body.

#ifndef MIGSTORE_ENGINE_SRC_SMP_STORE_ROWS_H_
#define MIGSTORE_ENGINE_SRC_SMP_STORE_ROWS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/src/smp/db.h"
#include "engine/src/smp/service.h"

// MIGSTORE_RETURN_IF_ERROR around a Db::Transact whose body uses
// MIGSTORE_RETURN_IF_ERROR itself (the two would declare one name twice).
#define MIGSTORE_RETURN_IF_TX_FAILS(expr)                      \
  do {                                                         \
    ::migstore::Status migstore_tx_status_ = (expr);           \
    if (!migstore_tx_status_.ok()) return migstore_tx_status_; \
  } while (0)

namespace migstore::smp::rows {

// The columns StoreFrom reads, for "SELECT " + kStoreColumns + " FROM stores".
extern const char* const kStoreColumns;
StoreInfo StoreFrom(const Row& row);

// One store, `lock`: " FOR UPDATE" or "" (the dialect's row lock for a row
// this transaction will change). NotFound when there is no such store.
Result<StoreInfo> ReadStore(Tx& tx, std::string_view id, std::string_view lock);
// Stores matching `where` (an SQL condition over stores' columns, $1… bound
// to `params`), newest first.
Result<std::vector<StoreInfo>> ReadStores(Tx& tx, const std::string& where,
                                          const std::vector<Value>& params);

// Moves `store` by `event`: Refused when the life cycle (state.h) does not
// allow it; otherwise sets its state (and `extra`, an SQL assignment list
// such as "released_at = $3", $3… bound to `extra_params`) and updates
// `store` in place.
Status Move(Tx& tx, StoreInfo& store, StoreEvent event,
            const std::string& extra = "",
            const std::vector<Value>& extra_params = {});

Result<Settings> ReadSettings(Tx& tx);
Status WriteSetting(Tx& tx, std::string_view name, std::string_view value);

Status Audit(Tx& tx, int64_t now, std::string_view actor,
             std::string_view action, std::string_view store = "",
             std::string_view detail = "");

// A user list as the TEXT column holds it (a JSON array; "" for all).
std::string UsersToText(const std::vector<std::string>& users);
std::vector<std::string> UsersFromText(std::string_view text);

}  // namespace migstore::smp::rows

#endif  // MIGSTORE_ENGINE_SRC_SMP_STORE_ROWS_H_
