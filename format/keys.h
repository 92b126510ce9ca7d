// Keys of an encrypted store (docs/format.md "Keys").
//
// Every store has a random 32-byte data key that seals its blocks. The data
// key is stored in the header, wrapped (XChaCha20-Poly1305) by a key-
// encryption key (KEK) derived from what the user holds: a password through
// Argon2id, or the 32-byte secret of a key file through keyed BLAKE2b. A
// wrong password or key file fails to unwrap: that tag check is the cheap
// key check, and it gives WrongKey before any block is read. Changing a
// password rewraps 48 bytes; no block is re-encrypted.
//
// Key material lives in SecretBytes (zeroed, locked memory), never in argv.
//
// Thread safety: all functions are safe to call concurrently.

#ifndef MIGSTORE_FORMAT_KEYS_H_
#define MIGSTORE_FORMAT_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "format/layout.h"
#include "format/secret.h"
#include "migstore/result.h"

namespace migstore::format {

struct Header;

// Argon2id cost. Default() is libsodium's "moderate" level (3 passes,
// 256 MiB, about 0.5-1 s on a desktop core): an offline guesser pays that
// per guess. Tests use Fast(), which only a test should. ReaderDefault() is
// the most a reader spends on a header unless its caller allows more
// (limits::kReaderKdfOps, kReaderKdfMem).
struct KdfParams {
  uint64_t opslimit = 3;
  uint64_t memlimit = uint64_t{256} << 20;

  static KdfParams Default() { return {}; }
  static KdfParams Fast() { return {1, 8 * 1024}; }
  static KdfParams ReaderDefault();
};

// What the user holds: nothing, a password, or a key file's secret.
class KeySource {
 public:
  static KeySource None() { return KeySource(KeyMode::kNone, SecretBytes()); }
  // REQUIRES: !password.empty()
  static KeySource Password(SecretBytes password) {
    return KeySource(KeyMode::kPassword, std::move(password));
  }
  // REQUIRES: secret.size() == kKeySize
  static KeySource KeyFileSecret(SecretBytes secret) {
    return KeySource(KeyMode::kKeyFile, std::move(secret));
  }
  // Reads and parses a key file (see ParseKeyFile); KeyUnreadable on failure.
  // *warning (when given) is set to LoosePermissionsWarning's answer: a key
  // file others can read is used, but the caller should say so.
  static Result<KeySource> FromKeyFile(const std::string& path,
                                       std::string* warning = nullptr);

  KeyMode mode() const { return mode_; }
  const SecretBytes& secret() const { return secret_; }

 private:
  KeySource(KeyMode mode, SecretBytes secret)
      : mode_(mode), secret_(std::move(secret)) {}

  KeyMode mode_;
  SecretBytes secret_;
};

// Key file text: "migstore-key-v1 " followed by 64 hex digits (the 32-byte
// secret), then optional trailing whitespace. Anything else, an empty file
// included, is KeyUnreadable with a message that says what is wrong.
inline constexpr std::string_view kKeyFilePrefix = "migstore-key-v1 ";
Result<SecretBytes> ParseKeyFile(std::string_view text);
SecretBytes FormatKeyFile(const SecretBytes& secret);
// Writes a fresh random key file at path: mode 0600, atomically, refusing to
// replace an existing file unless overwrite.
Status WriteNewKeyFile(const std::string& path, bool overwrite);

// For a new store: fills the key fields of *header (mode, KDF, parameters,
// salt, wrapped key) from `key`, and returns the new random data key.
// Returns an empty SecretBytes for KeyMode::kNone.
// REQUIRES: header->store_id is set (the wrap authenticates it).
Result<SecretBytes> SetUpKeys(const KeySource& key, const KdfParams& params,
                              Header* header);

// For an existing store: derives the KEK from `key` and unwraps the data key.
// WrongKey when the key does not open the store (or the store needs a key
// and none was given); an empty SecretBytes for an unencrypted store.
// Refused, before any key derivation, when a password store's header asks
// for more Argon2id passes or memory than `most`.
Result<SecretBytes> OpenDataKey(
    const Header& header, const KeySource& key,
    const KdfParams& most = KdfParams::ReaderDefault());

// The warning ssh gives for a private key file that group or others may
// read or write: "permissions 0644 for 'P' are too open; ...". Empty when
// `fd` is not a regular file (a pipe, a terminal) or its mode is 0600 or
// tighter. `what` names the file's role ("key file", "password file").
std::string LoosePermissionsWarning(int fd, std::string_view what,
                                    const std::string& path);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_KEYS_H_
