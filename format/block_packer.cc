#include "format/block_packer.h"

#include <cassert>

#include "format/hash.h"
#include "format/limits.h"

namespace migstore::format {

BlockPacker::BlockPacker(ContainerWriter* writer, size_t block_size, Sink sink)
    : writer_(writer), block_size_(block_size), sink_(std::move(sink)) {
  assert(block_size > 0 && block_size <= limits::kMaxBlockPlain);
}

BlockPacker BlockPacker::Serial(ContainerWriter* writer, size_t block_size,
                                const SealOptions& seal) {
  return BlockPacker(
      writer, block_size, [writer, seal](uint64_t n, std::string plain) {
        return writer->AppendFrame(
            n, writer->codec().Seal(n, BlockType::kData, plain, seal));
      });
}

Status BlockPacker::Add(std::string_view bytes, std::vector<Chunk>* chunks) {
  while (!bytes.empty()) {
    if (open_.empty()) {
      number_ = writer_->ReserveBlock();
      if (!spare_.empty()) {
        open_.swap(spare_.back());
        spare_.pop_back();
        open_.clear();
      }
      open_.reserve(block_size_);
    }
    size_t n = std::min(bytes.size(), block_size_ - open_.size());
    auto offset = static_cast<uint32_t>(open_.size());
    if (!chunks->empty() && chunks->back().block == number_ &&
        chunks->back().offset + chunks->back().length == offset) {
      chunks->back().length += static_cast<uint32_t>(n);
    } else {
      chunks->push_back({number_, offset, static_cast<uint32_t>(n)});
    }
    open_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (open_.size() == block_size_) MIGSTORE_RETURN_IF_ERROR(Flush());
  }
  return Status::OK();
}

Result<Content> BlockPacker::Pack(std::string_view bytes) {
  Content c;
  c.size = bytes.size();
  c.hash = HashBytes(bytes);
  MIGSTORE_RETURN_IF_ERROR(Add(bytes, &c.chunks));
  return c;
}

void BlockPacker::Reuse(std::string block) {
  if (block.capacity() >= block_size_) spare_.push_back(std::move(block));
}

Status BlockPacker::Flush() {
  if (open_.empty()) return Status::OK();
  std::string block;
  block.swap(open_);
  return sink_(number_, std::move(block));
}

}  // namespace migstore::format
