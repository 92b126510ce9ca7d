// The container's fixed 256-byte header (docs/format.md "Header") and its
// 64-byte trailer (docs/format.md "Trailer"): plain structs, and their
// encoding and validating decoding.
//
// Thread safety: values and pure functions.

#ifndef MIGSTORE_FORMAT_HEADER_H_
#define MIGSTORE_FORMAT_HEADER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "format/layout.h"
#include "migstore/result.h"

namespace migstore::format {

using StoreId = std::array<unsigned char, kStoreIdSize>;

struct Header {
  uint16_t version = kFormatVersion;
  uint32_t required_features = 0;
  uint32_t optional_features = 0;
  StoreId store_id{};
  KeyMode key_mode = KeyMode::kNone;
  Kdf kdf = Kdf::kNone;
  uint64_t kdf_opslimit = 0;
  uint64_t kdf_memlimit = 0;
  std::array<unsigned char, kSaltSize> salt{};
  std::array<unsigned char, kNonceSize> wrap_nonce{};
  std::array<unsigned char, kWrappedKeySize> wrapped_key{};
};

// The cipher that seals the blocks of an encrypted store with header `h`
// (required feature bit 2); meaningless for an unencrypted one.
inline BlockCipher CipherOf(const Header& h) {
  return (h.required_features & kFeatureAes256Gcm) != 0
             ? BlockCipher::kAes256Gcm
             : BlockCipher::kXChaCha20Poly1305;
}
// Its name as the command and docs spell it: "xchacha20-poly1305" or
// "aes-256-gcm".
const char* CipherName(BlockCipher cipher);

// The 256 bytes of `h`, checksum included.
std::string EncodeHeader(const Header& h);
// The bytes the data-key wrap authenticates: header bytes [0, 88).
std::string HeaderWrapAd(const Header& h);

// Validates and decodes 256 header bytes. NotAStore without the magic;
// UnsupportedVersion for a newer version or an unknown required feature;
// Corruption for a bad checksum, size, reserved byte or key field, or a
// feature the key mode rules out (external content in an encrypted store,
// a block cipher in an unencrypted one).
Result<Header> DecodeHeader(std::string_view bytes);

struct Trailer {
  uint64_t index_offset = 0;
  uint32_t index_frame_len = 0;
  uint64_t index_block_number = 0;
  StoreId store_id{};
};

std::string EncodeTrailer(const Trailer& t);
// Corruption unless the magic, checksum and reserved bytes are right.
Result<Trailer> DecodeTrailer(std::string_view bytes);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_HEADER_H_
