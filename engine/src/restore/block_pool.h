// BlockPool: decoded data blocks shared by every worker of a restore,
// extract or verify, so that each block is opened (read, authenticated,
// decompressed) once however many files it holds and whichever threads
// write them.
//
// The run knows beforehand how many times each block will be asked for (one
// use per file per block its data touches). A block is decoded by the first
// thread that asks, kept while uses remain, and dropped after its last
// Release. Files are worked on roughly in block order, so only a few blocks
// are alive at once; to keep a hostile or oddly packed store from holding
// every block in memory, the pool also drops the least recently used
// unpinned blocks beyond `max_bytes` (such a block is decoded again if asked
// for again, and counted). A block that fails to open fails every file that
// asks for it, and is not tried again.
//
// Thread safety: every method may be called from any thread. A thread that
// asks for a block another thread is decoding waits for it; a block is only
// marked as being decoded by a thread that is decoding it, so waiting never
// depends on queued work.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_BLOCK_POOL_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_BLOCK_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "format/container_reader.h"
#include "migstore/result.h"

namespace migstore::restore {

class BlockPool {
 public:
  // `uses[b]`: how many times block b will be acquired and released.
  BlockPool(const format::ContainerReader& reader, std::vector<uint32_t> uses,
            uint64_t max_bytes);

  // Data block `block`'s plain contents, decoding it if nobody has.
  Result<std::shared_ptr<const std::string>> Acquire(uint64_t block);
  // Decodes `block` now if nobody has started to (a read-ahead for a large
  // file); returns at once otherwise.
  void Prefetch(uint64_t block);
  // One planned use of `block` is over.
  void Release(uint64_t block);

  // Blocks decoded so far (re-decodes included).
  uint64_t blocks_opened() const;

 private:
  enum class State : uint8_t { kIdle, kDecoding, kReady, kFailed };
  struct Slot {
    State state = State::kIdle;
    uint32_t remaining = 0;
    uint64_t last_used = 0;
    std::shared_ptr<const std::string> plain;
    Status error;
  };

  // Decodes `block`, whose slot the caller has just marked kDecoding.
  void Decode(uint64_t block, std::unique_lock<std::mutex>* lock);
  void EvictLocked(uint64_t keep);
  void DropLocked(uint64_t block);

  const format::ContainerReader& reader_;
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable decoded_;
  std::vector<Slot> slots_;
  std::vector<uint64_t> ready_;  // blocks in kReady: what eviction scans
  uint64_t clock_ = 0;
  uint64_t cached_bytes_ = 0;
  uint64_t opened_ = 0;
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_BLOCK_POOL_H_
