#include "engine/src/restore/block_pool.h"

namespace migstore::restore {

BlockPool::BlockPool(const format::ContainerReader& reader,
                     std::vector<uint32_t> uses, uint64_t max_bytes)
    : reader_(reader), max_bytes_(max_bytes) {
  slots_.resize(reader.block_count());
  for (size_t b = 0; b < uses.size() && b < slots_.size(); ++b)
    slots_[b].remaining = uses[b];
}

void BlockPool::Decode(uint64_t block, std::unique_lock<std::mutex>* lock) {
  lock->unlock();
  std::string plain;
  Status s = reader_.ReadDataBlock(block, &plain);
  lock->lock();
  Slot& slot = slots_[block];
  ++opened_;
  if (!s.ok()) {
    slot.state = State::kFailed;
    slot.error = std::move(s);
  } else {
    slot.state = State::kReady;
    cached_bytes_ += plain.size();
    slot.plain = std::make_shared<const std::string>(std::move(plain));
    slot.last_used = ++clock_;
    ready_.push_back(block);
    EvictLocked(block);
  }
  decoded_.notify_all();
}

Result<std::shared_ptr<const std::string>> BlockPool::Acquire(uint64_t block) {
  if (block >= slots_.size()) {
    return Status::Corruption("reference to block " + std::to_string(block) +
                              ", past the last block");
  }
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    Slot& slot = slots_[block];
    switch (slot.state) {
      case State::kReady:
        slot.last_used = ++clock_;
        return slot.plain;
      case State::kFailed:
        return slot.error;
      case State::kDecoding:
        decoded_.wait(lock);
        break;
      case State::kIdle:
        slot.state = State::kDecoding;
        Decode(block, &lock);
        break;
    }
  }
}

void BlockPool::Prefetch(uint64_t block) {
  if (block >= slots_.size()) return;
  std::unique_lock<std::mutex> lock(mu_);
  Slot& slot = slots_[block];
  if (slot.state != State::kIdle) return;
  slot.state = State::kDecoding;
  Decode(block, &lock);
}

void BlockPool::Release(uint64_t block) {
  if (block >= slots_.size()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Slot& slot = slots_[block];
  if (slot.remaining > 0) --slot.remaining;
  if (slot.remaining == 0 && slot.state == State::kReady) DropLocked(block);
}

void BlockPool::DropLocked(uint64_t block) {
  Slot& slot = slots_[block];
  cached_bytes_ -= slot.plain->size();
  slot.plain.reset();  // threads that hold it keep their copy alive
  slot.state = State::kIdle;
  for (size_t i = 0; i < ready_.size(); ++i) {
    if (ready_[i] == block) {
      ready_[i] = ready_.back();
      ready_.pop_back();
      break;
    }
  }
}

void BlockPool::EvictLocked(uint64_t keep) {
  while (cached_bytes_ > max_bytes_) {
    uint64_t victim = keep;
    for (uint64_t b : ready_) {
      if (b != keep &&
          (victim == keep || slots_[b].last_used < slots_[victim].last_used)) {
        victim = b;
      }
    }
    if (victim == keep) return;
    DropLocked(victim);
  }
}

uint64_t BlockPool::blocks_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_;
}

}  // namespace migstore::restore
