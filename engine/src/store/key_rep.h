// The engine-side body of migstore::Key: the format's KeySource.

#ifndef MIGSTORE_ENGINE_SRC_STORE_KEY_REP_H_
#define MIGSTORE_ENGINE_SRC_STORE_KEY_REP_H_

#include <string>

#include "format/keys.h"
#include "migstore/key.h"

namespace migstore::internal {

struct KeyRep {
  format::KeySource source;
  std::string warning;  // Key::warning()
};

// The body of a Key, which Key keeps private; null for a Key without one.
struct KeyAccess {
  static const KeyRep* Rep(const Key& key) { return key.rep_.get(); }
  static Key Make(format::KeySource source, std::string warning = {}) {
    return Key(std::make_shared<const KeyRep>(
        KeyRep{std::move(source), std::move(warning)}));
  }
};

// The KeySource behind a Key (KeySource::None() for a Key without one).
format::KeySource SourceOf(const Key& key);

// The most Argon2id cost `policy` lets a reader spend (its zeros replaced
// by the defaults).
format::KdfParams MostKdfOf(const KeyPolicy& policy);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_STORE_KEY_REP_H_
