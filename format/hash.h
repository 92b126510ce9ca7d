// XXH3-128 in the catalog's canonical byte order (docs/format.md "Content
// record"): the content hash checked on every read and used to group
// candidate duplicates. Not a cryptographic hash: it never decides alone
// that two files are the same (dedup confirms byte for byte) and it is not
// what protects an encrypted store (the AEAD tags are).
//
// Thread safety: HashBytes is pure; a ContentHasher is used by one thread.

#ifndef MIGSTORE_FORMAT_HASH_H_
#define MIGSTORE_FORMAT_HASH_H_

#include <xxhash.h>

#include <string_view>

#include "format/catalog.h"

namespace migstore::format {

inline Hash128 CanonicalHash(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  Hash128 out;
  static_assert(sizeof(c.digest) == sizeof(out));
  for (size_t i = 0; i < out.size(); ++i) out[i] = c.digest[i];
  return out;
}

inline Hash128 HashBytes(std::string_view bytes) {
  return CanonicalHash(XXH3_128bits(bytes.data(), bytes.size()));
}

// Streaming XXH3-128 over a content's stored bytes.
class ContentHasher {
 public:
  ContentHasher() : state_(XXH3_createState()) { XXH3_128bits_reset(state_); }
  ~ContentHasher() { XXH3_freeState(state_); }
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void Update(std::string_view bytes) {
    XXH3_128bits_update(state_, bytes.data(), bytes.size());
  }
  Hash128 Digest() const { return CanonicalHash(XXH3_128bits_digest(state_)); }
  void Reset() { XXH3_128bits_reset(state_); }

 private:
  XXH3_state_t* state_;
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_HASH_H_
