#include "engine/src/restore/claim_set.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace migstore::restore {

namespace {

// A slot: the record's offset in its chunk (low bits), its chunk's index
// plus one (so that no record's slot is 0, the empty slot), and the top bits
// of the path's hash. The index takes its home slot from the hash's low
// bits, so the two never overlap below 2^44 slots.
constexpr int kOffsetBits = 20;
constexpr int kChunkBits = 24;
constexpr int kTagShift = kOffsetBits + kChunkBits;
constexpr uint64_t kOffsetMask = (uint64_t{1} << kOffsetBits) - 1;
constexpr uint64_t kChunkMask = (uint64_t{1} << kChunkBits) - 1;
constexpr uint64_t kRefMask = (uint64_t{1} << kTagShift) - 1;

// Chunks start small (a plan of a few files holds a few KiB) and double up
// to 1 MiB, where an offset still fits kOffsetBits. A record longer than a
// sixteenth of that gets a chunk of its own, so a chunk's unused tail (a
// record that does not fit starts the next one) wastes at most 1/16 of a
// full-size chunk.
constexpr size_t kFirstChunk = size_t{4} << 10;
constexpr size_t kMaxChunk = size_t{1} << kOffsetBits;
constexpr size_t kOwnChunk = kMaxChunk / 16;
static_assert(kOwnChunk <= kMaxChunk);

constexpr size_t kFirstSlots = 16;

uint64_t Hash(std::string_view path) {
  return XXH3_64bits(path.data(), path.size());
}

size_t VarintSize(size_t n) {
  size_t len = 1;
  while (n >= 0x80) {
    n >>= 7;
    ++len;
  }
  return len;
}

}  // namespace

ClaimSet::ClaimSet() : slots_(kFirstSlots, 0) {}

std::optional<Claim> ClaimSet::Find(std::string_view path) const {
  const Probe p = Lookup(path, Hash(path));
  if (!p.found) return std::nullopt;
  size_t n;
  return static_cast<Claim>(*RecordAt(slots_[p.slot], &n));
}

void ClaimSet::Set(std::string_view path, Claim claim) {
  const uint64_t hash = Hash(path);
  const Probe p = Lookup(path, hash);
  if (p.found) {
    size_t n;
    *RecordAt(slots_[p.slot], &n) = static_cast<char>(claim);
    return;
  }
  Insert(path, hash, claim, p.slot);
}

bool ClaimSet::Add(std::string_view path, Claim claim) {
  const uint64_t hash = Hash(path);
  const Probe p = Lookup(path, hash);
  if (p.found) return false;
  Insert(path, hash, claim, p.slot);
  return true;
}

size_t ClaimSet::memory_bytes() const {
  return arena_bytes_ + chunks_.capacity() * sizeof(chunks_[0]) +
         slots_.capacity() * sizeof(slots_[0]);
}

std::vector<ClaimSet::Record> ClaimSet::Records() const {
  std::vector<Record> out;
  out.reserve(size_);
  for (const uint64_t s : slots_) {
    if (s == 0) continue;
    size_t n;
    const char* record = RecordAt(s, &n);
    out.push_back(
        {std::string_view(record + 1, n), static_cast<Claim>(*record)});
  }
  return out;
}

ClaimSet::Probe ClaimSet::Lookup(std::string_view path, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> kTagShift;
  // The index is never full, so the probe ends at an empty slot.
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint64_t s = slots_[i];
    if (s == 0) return {i, false};
    if ((s >> kTagShift) != tag) continue;
    size_t n;
    const char* record = RecordAt(s, &n);
    if (n == path.size() &&
        (n == 0 || std::memcmp(record + 1, path.data(), n) == 0)) {
      return {i, true};
    }
  }
}

size_t ClaimSet::EmptySlotFor(uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  return i;
}

char* ClaimSet::RecordAt(uint64_t slot, size_t* path_size) const {
  const size_t chunk = ((slot >> kOffsetBits) & kChunkMask) - 1;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(
      chunks_[chunk].get() + (slot & kOffsetMask));
  size_t n = 0;
  for (int shift = 0;; shift += 7) {
    const unsigned char b = *p++;
    n |= static_cast<size_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  *path_size = n;
  return const_cast<char*>(reinterpret_cast<const char*>(p));
}

uint64_t ClaimSet::Append(std::string_view path, Claim claim) {
  const size_t record = VarintSize(path.size()) + 1 + path.size();
  const bool own_chunk = record > kOwnChunk;
  // (No chunk yet is a current chunk of size 0.)
  const bool new_chunk = own_chunk || current_size_ - used_ < record;
  // Past 2^24 chunks, each at least 64 KiB but the first few, a slot could
  // not name the chunk: over a TiB of paths, far beyond what fits in memory.
  if (new_chunk && chunks_.size() >= kChunkMask) {
    throw std::length_error("ClaimSet: too many paths");
  }
  size_t chunk;
  size_t offset;
  if (own_chunk) {
    chunk = chunks_.size();
    offset = 0;
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(record));
    arena_bytes_ += record;
  } else {
    if (new_chunk) {
      const size_t size = std::max(
          record, current_size_ == 0 ? kFirstChunk
                                     : std::min(2 * current_size_, kMaxChunk));
      current_ = chunks_.size();
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(size));
      arena_bytes_ += size;
      current_size_ = size;
      used_ = 0;
    }
    chunk = current_;
    offset = used_;
    used_ += record;
  }

  unsigned char* p =
      reinterpret_cast<unsigned char*>(chunks_[chunk].get() + offset);
  size_t n = path.size();
  while (n >= 0x80) {
    *p++ = static_cast<unsigned char>(n | 0x80);
    n >>= 7;
  }
  *p++ = static_cast<unsigned char>(n);
  *p++ = static_cast<unsigned char>(claim);
  if (!path.empty()) std::memcpy(p, path.data(), path.size());
  return (static_cast<uint64_t>(chunk + 1) << kOffsetBits) | offset;
}

void ClaimSet::Insert(std::string_view path, uint64_t hash, Claim claim,
                      size_t at) {
  // Grow before the table is more than 3/4 full: linear probing's probes
  // lengthen quickly past that.
  if ((size_ + 1) * 4 > slots_.size() * 3) {
    Grow();
    at = EmptySlotFor(hash);
  }
  const uint64_t ref = Append(path, claim);
  slots_[at] = ref | (hash & ~kRefMask);
  ++size_;
}

void ClaimSet::Grow() {
  // The slots keep only the hash's top bits, so each path is hashed again
  // (once per doubling: about two hashes per path over the set's life).
  std::vector<uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  for (const uint64_t s : old) {
    if (s == 0) continue;
    size_t n;
    const char* record = RecordAt(s, &n);
    slots_[EmptySlotFor(Hash(std::string_view(record + 1, n)))] = s;
  }
}

}  // namespace migstore::restore
