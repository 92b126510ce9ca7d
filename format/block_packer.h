// BlockPacker: lays contents out in data blocks (docs/format.md "Data
// blocks"). Small contents share a block, so a profile's many small files
// compress together and cost one frame between them; a large content fills
// consecutive blocks. Each full block goes to a sink with its number: a
// serial caller seals and appends it at once, a pipeline hands it to its
// parallel sealing stage.
//
// Thread safety: one thread at a time (it is the serial stage).

#ifndef MIGSTORE_FORMAT_BLOCK_PACKER_H_
#define MIGSTORE_FORMAT_BLOCK_PACKER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "format/catalog.h"
#include "format/container_writer.h"
#include "migstore/result.h"

namespace migstore::format {

class BlockPacker {
 public:
  using Sink = std::function<Status(uint64_t number, std::string plain)>;

  inline static constexpr size_t kDefaultBlockSize = size_t{4} << 20;

  // Numbers come from writer->ReserveBlock().
  // REQUIRES: 0 < block_size <= limits::kMaxBlockPlain
  BlockPacker(ContainerWriter* writer, size_t block_size, Sink sink);
  // A packer whose sink seals each block with `seal` and appends it to
  // `writer` straight away.
  static BlockPacker Serial(ContainerWriter* writer, size_t block_size,
                            const SealOptions& seal);

  // Appends bytes to the open block(s), extending *chunks to cover them.
  Status Add(std::string_view bytes, std::vector<Chunk>* chunks);
  // Packs one whole dense content: chunks, size and hash.
  Result<Content> Pack(std::string_view bytes);
  // Sends the partly filled block to the sink. Call before Finish().
  Status Flush();
  // Takes back a block the sink is done with, to fill again instead of a
  // new buffer: its pages are mapped already, where a fresh 4 MiB buffer
  // costs the kernel a page fault and a cleared page every 4 KiB
  // (docs/performance.md, "Buffers").
  void Reuse(std::string block);

 private:
  ContainerWriter* writer_;
  size_t block_size_;
  Sink sink_;
  uint64_t number_ = 0;  // of the open block, valid when !open_.empty()
  std::string open_;
  std::vector<std::string> spare_;  // from Reuse
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_BLOCK_PACKER_H_
