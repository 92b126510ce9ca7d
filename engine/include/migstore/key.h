// Key: what opens (or will protect) an encrypted store — nothing, a key
// file, or a password. Key material never comes from the command line: a
// password is read from a file, an environment variable or a file
// descriptor (standard input), or handed over by an embedding program.
//
// The secret is held in locked, zeroed-on-free memory and shared between
// copies of a Key; it is never written anywhere but into the store's header
// (wrapped) and is never logged.
//
// Thread safety: a Key is immutable; copies may be used from any thread.

#ifndef MIGSTORE_KEY_H_
#define MIGSTORE_KEY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "migstore/result.h"

namespace migstore {

namespace internal {
struct KeyRep;
struct KeyAccess;
}  // namespace internal

class Key {
 public:
  // No key: an unencrypted store (capture), or one that needs none (read).
  Key();

  // A key file made by `migstore keygen` ("migstore-key-v1 <64 hex>").
  // KeyUnreadable when it cannot be read or is not a key file.
  static Result<Key> FromKeyFile(const std::string& path);
  // The first line of a file, without its line ending. KeyUnreadable when the
  // file cannot be read or the password is empty.
  static Result<Key> FromPasswordFile(const std::string& path);
  // The value of an environment variable (MIGSTORE_PASSWORD by default).
  // KeyUnreadable when it is unset or empty.
  static Result<Key> FromPasswordEnvironment(
      const char* name = "MIGSTORE_PASSWORD");
  // The first line read from a file descriptor (0 for standard input).
  static Result<Key> FromPasswordDescriptor(int fd);
  // A password an embedding program already holds, copied into locked
  // memory (the caller zeroes its own copy). InvalidArgument if empty.
  static Result<Key> FromPassword(std::string_view password);
  // The 32-byte secret of a key file, held by an embedding program instead
  // of a file; copied as FromPassword. InvalidArgument unless 32 bytes.
  static Result<Key> FromKeySecret(std::string_view secret);

  bool encrypted() const { return rep_ != nullptr; }
  // "none", "key file" or "password": for reports; never the secret.
  const char* kind() const;
  // What loading it found worth telling the user, though the key is used:
  // a key file or password file that group or others may read ("permissions
  // 0644 for 'K' are too open; ...", as ssh says). Empty when nothing.
  const std::string& warning() const;

 private:
  // The engine reaches the secret through internal::KeyAccess
  // (engine/src/store/key_rep.h); nothing public does.
  friend struct internal::KeyAccess;

  explicit Key(std::shared_ptr<const internal::KeyRep> rep)
      : rep_(std::move(rep)) {}

  std::shared_ptr<const internal::KeyRep> rep_;  // null: no key
};

// Writes a new random key file at `path` with mode 0600, atomically.
// AlreadyExists unless overwrite.
Status WriteKeyFile(const std::string& path, bool overwrite);
// Writes `key` (a key file's secret: FromKeyFile, FromKeySecret) as a key
// file at `path`, mode 0600, atomically: a key recovered from a state
// migration point, for a manual restore. InvalidArgument for a password.
Status WriteKeyFile(const std::string& path, const Key& key, bool overwrite);

// What a run that reads a store (restore, extract, verify, list) accepts of
// the store's key fields. The defaults are the safe choice; each field
// loosens one check, on purpose. Checked where every such run opens its
// store, before any file is read or written.
struct KeyPolicy {
  // With a key (encrypted() is true), a store that is not encrypted — a
  // container written with --no-encrypt, or a hard-link store — is Refused
  // (exit 27) unless this is set: whoever can replace the store could hand
  // over one they wrote, and the key would authenticate nothing.
  bool allow_unencrypted = false;
  // The most Argon2id passes and memory (bytes) a password store's header
  // may ask for; 0: the defaults, 6 passes and 512 MiB (4 times the work of
  // the 3 passes over 256 MiB a capture writes). A header asking for more
  // is Refused before any key derivation: a crafted store must not make
  // every open cost seconds and a gigabyte.
  uint64_t max_kdf_passes = 0;
  uint64_t max_kdf_memory = 0;
};

}  // namespace migstore

#endif  // MIGSTORE_KEY_H_
