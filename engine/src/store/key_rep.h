// The engine-side body of migstore::Key: the format's KeySource.

#ifndef MIGSTORE_ENGINE_SRC_STORE_KEY_REP_H_
#define MIGSTORE_ENGINE_SRC_STORE_KEY_REP_H_

#include "format/keys.h"
#include "migstore/key.h"

namespace migstore::internal {

struct KeyRep {
  format::KeySource source;
};

// The KeySource behind a Key (KeySource::None() for a Key without one).
format::KeySource SourceOf(const Key& key);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_STORE_KEY_REP_H_
