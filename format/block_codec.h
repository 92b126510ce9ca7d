// BlockCodec: turns plain block contents into sealed frames and back
// (docs/format.md "Block frame").
//
// Sealing compresses with zstd and keeps the result only when it is smaller
// (otherwise the block is stored raw), then, in an encrypted store, seals it
// with XChaCha20-Poly1305 under a fresh random nonce, or, in an unencrypted
// store, appends an XXH3-64 checksum. Either way the store id, the block's
// number and its frame header are bound in (as associated data, or as the
// checksum's seed), so a frame copied from another store or moved to another
// position fails to open.
//
// Thread safety: a BlockCodec is immutable after construction; Seal() and
// Open() may be called from any number of threads at once (each thread keeps
// its own zstd contexts and scratch memory).

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
  // An empty data_key makes an unencrypted codec.
  BlockCodec(const StoreId& store_id, SecretBytes data_key)
      : store_id_(store_id), key_(std::move(data_key)) {}

  bool encrypted() const { return !key_.empty(); }
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

 private:
  // Associated data: store id, block number, frame header bytes 0..11.
  void BuildAd(uint64_t number, const char* header12, unsigned char* ad) const;

  StoreId store_id_;
  SecretBytes key_;
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_BLOCK_CODEC_H_
