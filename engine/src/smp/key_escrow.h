// Key escrow at the state migration point (docs/smp.md, "Keys"): the server
// makes each store's key (a key-file secret, format/keys.h) and keeps it in
// the database only wrapped by the server key, with XChaCha20-Poly1305 and
// the store's id as associated data (a wrapped key copied to another store's
// row does not unwrap). The server key lives in a file of mode 0600 beside
// the database (`DIR/server.key`), made on first start; a database stolen
// without it yields no store key.
//
// Thread safety: Wrap and Unwrap may run from any thread.

#ifndef MIGSTORE_ENGINE_SRC_SMP_KEY_ESCROW_H_
#define MIGSTORE_ENGINE_SRC_SMP_KEY_ESCROW_H_

#include <string>
#include <string_view>

#include "format/secret.h"
#include "migstore/result.h"

namespace migstore::smp {

class KeyEscrow {
 public:
  // Reads the server key at `path`, making it (0600, atomically) when there
  // is none. A key file others may read is refused: it unlocks every store.
  static Result<KeyEscrow> OpenOrCreate(const std::string& path);

  // A fresh random store key.
  static format::SecretBytes NewStoreKey();
  // `key` wrapped for store `store_id`: hex text for the database.
  std::string Wrap(std::string_view store_id,
                   const format::SecretBytes& key) const;
  // The key Wrap wrapped; Corruption when `wrapped` is not one this server
  // key made for this store.
  Result<format::SecretBytes> Unwrap(std::string_view store_id,
                                     std::string_view wrapped) const;

 private:
  explicit KeyEscrow(format::SecretBytes key) : key_(std::move(key)) {}

  format::SecretBytes key_;
};

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_KEY_ESCROW_H_
