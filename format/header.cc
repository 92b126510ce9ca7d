#include "format/header.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "format/coding.h"
#include "format/limits.h"

namespace migstore::format {
namespace {

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

template <size_t N>
void CopyOut(std::string_view src, size_t offset,
             std::array<unsigned char, N>* dst) {
  std::memcpy(dst->data(), src.data() + offset, N);
}

template <size_t N>
void CopyIn(std::string* dst, size_t offset,
            const std::array<unsigned char, N>& src) {
  std::memcpy(dst->data() + offset, src.data(), N);
}

}  // namespace

const char* CipherName(BlockCipher cipher) {
  return cipher == BlockCipher::kAes256Gcm ? "aes-256-gcm"
                                           : "xchacha20-poly1305";
}

std::string EncodeHeader(const Header& h) {
  std::string out(kHeaderSize, '\0');
  char* p = out.data();
  std::memcpy(p + header::kMagic, kHeaderMagic, sizeof(kHeaderMagic));
  p[header::kVersion] = static_cast<char>(h.version);
  p[header::kVersion + 1] = static_cast<char>(h.version >> 8);
  p[header::kHeaderSize] = static_cast<char>(kHeaderSize);
  p[header::kHeaderSize + 1] = static_cast<char>(kHeaderSize >> 8);
  EncodeFixed32(p + header::kRequiredFeatures, h.required_features);
  EncodeFixed32(p + header::kOptionalFeatures, h.optional_features);
  CopyIn(&out, header::kStoreId, h.store_id);
  p[header::kKeyMode] = static_cast<char>(h.key_mode);
  p[header::kKdf] = static_cast<char>(h.kdf);
  EncodeFixed64(p + header::kKdfOpsLimit, h.kdf_opslimit);
  EncodeFixed64(p + header::kKdfMemLimit, h.kdf_memlimit);
  CopyIn(&out, header::kSalt, h.salt);
  CopyIn(&out, header::kWrapNonce, h.wrap_nonce);
  CopyIn(&out, header::kWrappedKey, h.wrapped_key);
  EncodeFixed64(p + header::kChecksum, XXH3_64bits(p, header::kChecksum));
  return out;
}

std::string HeaderWrapAd(const Header& h) {
  return EncodeHeader(h).substr(0, header::kWrapNonce);
}

Result<Header> DecodeHeader(std::string_view b) {
  if (b.size() < sizeof(kHeaderMagic) ||
      std::memcmp(b.data(), kHeaderMagic, sizeof(kHeaderMagic)) != 0) {
    return Status::NotAStore("no migstore signature at the start of the file");
  }
  if (b.size() < kHeaderSize) {
    return Status::Corruption("store is truncated inside its header");
  }
  Header h;
  h.version = DecodeFixed16(b.data() + header::kVersion);
  if (h.version == 0) return Status::Corruption("header: format version 0");
  if (h.version > kFormatVersion) {
    return Status::UnsupportedVersion(
        "store format version " + std::to_string(h.version),
        "this build reads version " + std::to_string(kFormatVersion) +
            "; use a newer migstore");
  }
  if (DecodeFixed16(b.data() + header::kHeaderSize) != kHeaderSize) {
    return Status::Corruption("header: wrong header size");
  }
  uint64_t want = DecodeFixed64(b.data() + header::kChecksum);
  if (XXH3_64bits(b.data(), header::kChecksum) != want) {
    return Status::Corruption(
        "header checksum mismatch: the header is damaged");
  }
  h.required_features = DecodeFixed32(b.data() + header::kRequiredFeatures);
  if ((h.required_features & ~kKnownRequiredFeatures) != 0) {
    return Status::UnsupportedVersion(
        "store needs features this build does not have; use a newer migstore");
  }
  h.optional_features = DecodeFixed32(b.data() + header::kOptionalFeatures);
  if (!AllZero(b.substr(header::kReserved0, 12)) ||
      !AllZero(b.substr(header::kReserved1, 6)) ||
      !AllZero(b.substr(header::kReserved2,
                        header::kChecksum - header::kReserved2))) {
    return Status::Corruption("header: reserved bytes are not zero");
  }
  CopyOut(b, header::kStoreId, &h.store_id);
  auto mode = static_cast<uint8_t>(b[header::kKeyMode]);
  auto kdf = static_cast<uint8_t>(b[header::kKdf]);
  h.kdf_opslimit = DecodeFixed64(b.data() + header::kKdfOpsLimit);
  h.kdf_memlimit = DecodeFixed64(b.data() + header::kKdfMemLimit);
  CopyOut(b, header::kSalt, &h.salt);
  CopyOut(b, header::kWrapNonce, &h.wrap_nonce);
  CopyOut(b, header::kWrappedKey, &h.wrapped_key);

  switch (mode) {
    case static_cast<uint8_t>(KeyMode::kNone):
      if (kdf != 0 ||
          !AllZero(b.substr(header::kKdfOpsLimit,
                            header::kReserved2 - header::kKdfOpsLimit))) {
        return Status::Corruption(
            "header: key fields set in an unencrypted store");
      }
      break;
    case static_cast<uint8_t>(KeyMode::kPassword):
      if (kdf != static_cast<uint8_t>(Kdf::kArgon2id13)) {
        return Status::Corruption("header: password store without Argon2id");
      }
      if (h.kdf_opslimit < limits::kMinKdfOps ||
          h.kdf_opslimit > limits::kMaxKdfOps ||
          h.kdf_memlimit < limits::kMinKdfMem ||
          h.kdf_memlimit > limits::kMaxKdfMem) {
        return Status::Corruption("header: Argon2id parameters out of range");
      }
      break;
    case static_cast<uint8_t>(KeyMode::kKeyFile):
      if (kdf != static_cast<uint8_t>(Kdf::kBlake2bKeyed) ||
          h.kdf_opslimit != 0 || h.kdf_memlimit != 0) {
        return Status::Corruption("header: key-file store with bad KDF fields");
      }
      break;
    default:
      return Status::Corruption("header: unknown key mode");
  }
  if ((h.required_features & kFeatureExternalContent) != 0 &&
      mode != static_cast<uint8_t>(KeyMode::kNone)) {
    return Status::Corruption(
        "header: external content in an encrypted store (the contents "
        "outside it could not be protected)");
  }
  if ((h.required_features & kFeatureAes256Gcm) != 0 &&
      mode == static_cast<uint8_t>(KeyMode::kNone)) {
    return Status::Corruption(
        "header: a block cipher named in an unencrypted store");
  }
  h.key_mode = static_cast<KeyMode>(mode);
  h.kdf = static_cast<Kdf>(kdf);
  return h;
}

std::string EncodeTrailer(const Trailer& t) {
  std::string out(kTrailerSize, '\0');
  char* p = out.data();
  EncodeFixed64(p + trailer::kIndexOffset, t.index_offset);
  EncodeFixed32(p + trailer::kIndexFrameLen, t.index_frame_len);
  EncodeFixed64(p + trailer::kIndexBlockNumber, t.index_block_number);
  std::memcpy(p + trailer::kStoreId, t.store_id.data(), kStoreIdSize);
  EncodeFixed64(p + trailer::kChecksum, XXH3_64bits(p, trailer::kChecksum));
  std::memcpy(p + trailer::kMagic, kTrailerMagic, sizeof(kTrailerMagic));
  return out;
}

Result<Trailer> DecodeTrailer(std::string_view b) {
  if (b.size() != kTrailerSize ||
      std::memcmp(b.data() + trailer::kMagic, kTrailerMagic,
                  sizeof(kTrailerMagic)) != 0) {
    return Status::Corruption(
        "no valid trailer at the end of the store: it is truncated or was "
        "never "
        "finished");
  }
  if (XXH3_64bits(b.data(), trailer::kChecksum) !=
      DecodeFixed64(b.data() + trailer::kChecksum)) {
    return Status::Corruption(
        "trailer checksum mismatch: the trailer is damaged");
  }
  if (!AllZero(b.substr(trailer::kReserved0, 4)) ||
      !AllZero(b.substr(trailer::kReserved1, 8))) {
    return Status::Corruption("trailer: reserved bytes are not zero");
  }
  Trailer t;
  t.index_offset = DecodeFixed64(b.data() + trailer::kIndexOffset);
  t.index_frame_len = DecodeFixed32(b.data() + trailer::kIndexFrameLen);
  t.index_block_number = DecodeFixed64(b.data() + trailer::kIndexBlockNumber);
  std::memcpy(t.store_id.data(), b.data() + trailer::kStoreId, kStoreIdSize);
  return t;
}

}  // namespace migstore::format
