// BlockCodec: turns plain block contents into sealed frames and back
// (docs/format.md "Block frame").
//
// Sealing compresses with zstd and keeps the result only when it is smaller
// (otherwise the block is stored raw), then, in an encrypted store, seals it
// with the store's cipher under a fresh random 24-byte nonce, or, in an
// unencrypted store, appends an XXH3-64 checksum. Either way the store id,
// the block's number and its frame header are bound in (as associated data,
// or as the checksum's seed), so a frame copied from another store or moved
// to another position fails to open.
//
// The ciphers (docs/format.md "Block frame") are XChaCha20-Poly1305-IETF,
// byte for byte libsodium's, and AES-256-GCM under a per-frame subkey. Both
// run on OpenSSL's AEADs, three to four times faster than libsodium's
// portable XChaCha20 (docs/design.md "Why OpenSSL seals the blocks"); the
// per-frame subkeys come from libsodium (HChaCha20, keyed BLAKE2b).
//
// Thread safety: a BlockCodec is immutable after construction; Seal() and
// Open() may be called from any number of threads at once (each thread keeps
// its own zstd and cipher contexts and scratch memory).

#ifndef MIGSTORE_FORMAT_BLOCK_CODEC_H_
#define MIGSTORE_FORMAT_BLOCK_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "format/header.h"
#include "format/layout.h"
#include "format/secret.h"
#include "migstore/result.h"

namespace migstore::format {

struct FrameHeader {
  uint8_t type = 0;  // a BlockType, or a reserved value
  Codec codec = Codec::kStored;
  uint32_t payload_len = 0;
  uint32_t plain_len = 0;
};

struct SealOptions {
  // zstd level (1..19, or negative for the fast levels).
  int level = 3;
  // false stores the block raw without trying to compress it (data known to
  // be compressed already, or --no-compress).
  bool compress = true;
  // No cheaper trial on a prefix first: zstd stores what does not shrink as
  // raw blocks of its own at several GB/s, while a prefix that fails a trial
  // would leave every compressible byte after it uncompressed (docs/design.md
  // "Capture pipeline", seal).
};

class BlockCodec {
 public:
  // An empty data_key makes an unencrypted codec; `cipher` is then unused.
  BlockCodec(const StoreId& store_id, SecretBytes data_key,
             BlockCipher cipher = BlockCipher::kXChaCha20Poly1305)
      : store_id_(store_id), key_(std::move(data_key)), cipher_(cipher) {}

  bool encrypted() const { return !key_.empty(); }
  BlockCipher cipher() const { return cipher_; }
  const StoreId& store_id() const { return store_id_; }

  // The whole frame (header and payload) of block `number`.
  // REQUIRES: plain.size() <= limits::kMaxIndexPlain
  std::string Seal(uint64_t number, BlockType type, std::string_view plain,
                   const SealOptions& options) const;
  // The same into *frame, which is overwritten. A caller that hands back
  // the frames it appended (the capture pipeline does) reuses their memory:
  // no allocation, page faults or zero-fill per block.
  void Seal(uint64_t number, BlockType type, std::string_view plain,
            const SealOptions& options, std::string* frame) const;

  // Decodes and checks the 16-byte frame header of block `number`: its check
  // value, reserved bits, codec, and lengths against the limits.
  Result<FrameHeader> ParseHeader(uint64_t number,
                                  std::string_view bytes) const;

  // Opens the whole frame of block `number` into *plain. Corruption when the
  // frame is damaged, forged, or belongs elsewhere. `frame` is the exact
  // frame: its length must match the header's payload length.
  Status Open(uint64_t number, std::string_view frame, std::string* plain,
              FrameHeader* header_out = nullptr) const;

  // A block moved between stores without being decoded, as an incremental
  // capture copies its base's blocks (docs/design.md "Incremental
  // capture"): OpenEncoded authenticates the frame of block `number` as
  // Open does and gives its codec bytes (zstd's frame, checked to be one
  // frame of the header's plain size, or the stored bytes) and header;
  // SealEncoded seals such bytes as block `number` of this codec's store.
  // Together they cost a decryption and an encryption, not zstd's
  // decompression and compression.
  Status OpenEncoded(uint64_t number, std::string_view frame,
                     std::string* encoded, FrameHeader* header) const;
  // REQUIRES: header came from OpenEncoded with these bytes.
  void SealEncoded(uint64_t number, const FrameHeader& header,
                   std::string_view encoded, std::string* frame) const;

 private:
  // Associated data: store id, block number, frame header bytes 0..11.
  void BuildAd(uint64_t number, const char* header12, unsigned char* ad) const;
  // The frame of block `number` around codec bytes `encoded`.
  void WriteFrame(uint64_t number, BlockType type, Codec codec,
                  size_t plain_len, std::string_view encoded,
                  std::string* out) const;
  // Checks frame's header and length, then its payload (the AEAD tag, or
  // the checksum), and points *encoded at its codec bytes: decrypted into
  // dst(n), which returns room for n bytes, in an encrypted store; in place
  // in `frame` otherwise.
  template <typename Dst>
  Status Authenticate(uint64_t number, std::string_view frame,
                      FrameHeader* header, Dst dst,
                      std::string_view* encoded) const;

  StoreId store_id_;
  SecretBytes key_;
  BlockCipher cipher_;
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_BLOCK_CODEC_H_
