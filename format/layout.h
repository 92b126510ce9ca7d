// The fixed numbers of container format version 1: magic values, structure
// sizes and field offsets, block types and codecs. docs/format.md is the
// specification; each constant names the section that defines it. Change a
// number here only together with that document and its "Version changes".

#ifndef MIGSTORE_FORMAT_LAYOUT_H_
#define MIGSTORE_FORMAT_LAYOUT_H_

#include <cstddef>
#include <cstdint>

namespace migstore::format {

// docs/format.md "Version": the only version this build writes and reads.
inline constexpr uint16_t kFormatVersion = 1;

// docs/format.md "Header". 89 'M' 'I' 'G' 0D 0A 1A 0A: the high first byte
// catches 7-bit transfers, CR LF catches line-ending conversion, 1A stops DOS
// `type`, the final LF catches LF -> CR LF (the PNG signature's reasoning).
inline constexpr unsigned char kHeaderMagic[8] = {0x89, 'M',  'I',  'G',
                                                  0x0D, 0x0A, 0x1A, 0x0A};
inline constexpr size_t kHeaderSize = 256;
inline constexpr size_t kStoreIdSize = 16;
inline constexpr size_t kSaltSize = 16;
inline constexpr size_t kNonceSize = 24;  // blocks and the key wrap
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kKeySize = 32;
inline constexpr size_t kWrappedKeySize = kKeySize + kTagSize;

// Header field offsets (docs/format.md "Header", table).
namespace header {
inline constexpr size_t kMagic = 0;
inline constexpr size_t kVersion = 8;
inline constexpr size_t kHeaderSize = 10;
inline constexpr size_t kRequiredFeatures = 12;
inline constexpr size_t kOptionalFeatures = 16;
inline constexpr size_t kReserved0 = 20;  // 12 bytes
inline constexpr size_t kStoreId = 32;
inline constexpr size_t kKeyMode = 48;
inline constexpr size_t kKdf = 49;
inline constexpr size_t kReserved1 = 50;  // 6 bytes
inline constexpr size_t kKdfOpsLimit = 56;
inline constexpr size_t kKdfMemLimit = 64;
inline constexpr size_t kSalt = 72;
inline constexpr size_t kWrapNonce =
    88;  // the wrap's associated data ends here
inline constexpr size_t kWrappedKey = 112;
inline constexpr size_t kReserved2 = 160;  // 88 bytes
inline constexpr size_t kChecksum = 248;
}  // namespace header

// Feature bits (docs/format.md "Header"). Required bit 1: the file contents
// live outside the container (the catalog of a hard-link store). Required
// bit 2: the blocks are sealed with AES-256-GCM under per-frame subkeys
// instead of XChaCha20-Poly1305 (docs/format.md "Block frame"); an older
// reader refuses such a store rather than fail every block. Bit 0 is left
// unassigned: stores that set it (the golden unknown-feature store) stay
// unknown to every reader.
inline constexpr uint32_t kFeatureExternalContent = uint32_t{1} << 1;
inline constexpr uint32_t kFeatureAes256Gcm = uint32_t{1} << 2;
inline constexpr uint32_t kKnownRequiredFeatures =
    kFeatureExternalContent | kFeatureAes256Gcm;

// The AEAD that seals an encrypted store's blocks (docs/format.md "Block
// frame"). Both take the same 24-byte random nonce, 16-byte tag and
// associated data, so the frame layout is the same.
enum class BlockCipher : uint8_t {
  kXChaCha20Poly1305,  // the default: readable by every version
  kAes256Gcm,          // required feature bit 2
};
// The subkey label of AES-256-GCM frames: subkey = BLAKE2b-256(key = data
// key, message = this label (23 bytes, no NUL) || nonce[0..12]).
inline constexpr char kAesGcmSubkeyLabel[] = "migstore aes-256-gcm v1";
inline constexpr size_t kAesGcmSubkeyLabelSize = sizeof(kAesGcmSubkeyLabel) - 1;

// docs/format.md "Keys".
enum class KeyMode : uint8_t {
  kNone = 0,      // not encrypted; blocks carry XXH3-64 checksums
  kPassword = 1,  // KEK = Argon2id(password, salt, opslimit, memlimit)
  kKeyFile = 2,   // KEK = keyed BLAKE2b(key file secret, salt, personal)
};
enum class Kdf : uint8_t {
  kNone = 0,
  kArgon2id13 = 1,
  kBlake2bKeyed = 2,
};
// BLAKE2b personalisation for the key-file KEK: exactly 16 bytes.
inline constexpr char kKeyFilePersonal[16] = {'m', 'i', 'g', 's', 't', 'o',
                                              'r', 'e', '-', 'k', 'e', 'k',
                                              '-', 'v', '1', '\0'};

// docs/format.md "Block frame".
inline constexpr size_t kFrameHeaderSize = 16;
// Associated data: store id, block number, frame header bytes 0..11.
inline constexpr size_t kBlockAdSize = kStoreIdSize + 8 + 12;
inline constexpr size_t kChecksumSize = 8;  // unencrypted payload trailer

enum class BlockType : uint8_t {
  kInvalid = 0x00,
  kData = 0x01,
  kCatalogSegment = 0x02,
  kContentSegment = 0x03,
  kIndex = 0x04,
  kRegistrySegment = 0x05,  // docs/format.md "Registry segment"
};
// 0x06-0x7f: reserved; a reader must reject a store that holds one.
// 0x80-0xff: reserved; a reader must skip them.
inline constexpr uint8_t kFirstSkippableBlockType = 0x80;
inline constexpr bool IsKnownBlockType(uint8_t t) { return t >= 1 && t <= 5; }
inline constexpr bool IsSkippableBlockType(uint8_t t) {
  return t >= kFirstSkippableBlockType;
}

enum class Codec : uint8_t {
  kStored = 0,  // the plain bytes as they are
  kZstd = 1,    // one zstd frame holding the plain bytes
};

// docs/format.md "Trailer".
inline constexpr size_t kTrailerSize = 64;
inline constexpr unsigned char kTrailerMagic[8] = {0x89, 'M', 'I', 'G',
                                                   'E',  'N', 'D', 0x0A};
namespace trailer {
inline constexpr size_t kIndexOffset = 0;
inline constexpr size_t kIndexFrameLen = 8;
inline constexpr size_t kReserved0 = 12;  // 4 bytes
inline constexpr size_t kIndexBlockNumber = 16;
inline constexpr size_t kStoreId = 24;
inline constexpr size_t kReserved1 = 40;  // 8 bytes
inline constexpr size_t kChecksum = 48;
inline constexpr size_t kMagic = 56;
}  // namespace trailer

// Smallest file that can be a store: header, an index frame with an empty
// payload, trailer.
inline constexpr size_t kMinStoreSize =
    kHeaderSize + kFrameHeaderSize + kChecksumSize + kTrailerSize;

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_LAYOUT_H_
