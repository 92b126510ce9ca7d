// ClaimSet: what a restore plan already puts at each destination path (a
// directory entry, a folder made only to hold other entries, a symlink,
// anything else), held compactly and exactly.
//
// The planner checks every destination against the claims made before it (a
// file must not land where a folder is planned, a rename candidate must be
// free), so the set holds one claim per destination and per folder above
// one: a million-file restore holds more than a million claims. Planning the
// catalog a window at a time (issue 21: a 1M-file restore in 150 MB) means
// the paths a claim names are no longer kept alive elsewhere, so the set
// owns its keys. A node-based map of owned strings costs about 80 bytes a
// claim beyond the path (std::unordered_map<std::string, Claim>, 1M paths of
// 47 bytes, glibc), this about 20 (docs/design.md, "Bounded memory").
//
// Layout: each claim is a record {varint length, claim byte, path bytes}
// appended to an arena of chunks that never move once written; an
// open-addressing index (linear probing, power-of-two capacity, at most 3/4
// full) of 8-byte slots, each the record's place and 20 bits of the path's
// hash, finds it. Lookups compare the full path bytes, so a hit is always
// the same path (the planner's safety checks depend on it): the hash bits
// only spare most comparisons. There is no deletion; a claim is only ever
// added or replaced.
//
// Thread safety: none. A ClaimSet is used by one thread at a time (the
// planner's); const methods may run concurrently with each other only. A
// moved-from ClaimSet may only be assigned to or destroyed.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_CLAIM_SET_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_CLAIM_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace migstore::restore {

// What the plan already puts at a path: a directory entry, a folder made
// only to hold other entries, a symlink, anything else.
enum class Claim : uint8_t { kDir, kParent, kNonDir, kSymlink };

class ClaimSet {
 public:
  ClaimSet();
  ClaimSet(const ClaimSet&) = delete;
  ClaimSet& operator=(const ClaimSet&) = delete;
  ClaimSet(ClaimSet&&) = default;
  ClaimSet& operator=(ClaimSet&&) = default;

  // The claim at `path`, if any.
  std::optional<Claim> Find(std::string_view path) const;
  // Sets the claim at `path`, inserting or replacing.
  void Set(std::string_view path, Claim claim);
  // Inserts when `path` has no claim; returns whether it inserted (an
  // existing claim is left as it is).
  bool Add(std::string_view path, Claim claim);
  size_t size() const { return size_; }
  // Bytes held (arena + index), for tests and the memory docs.
  size_t memory_bytes() const;

  // A path and its claim; the path's bytes are the set's, valid until it
  // is next changed.
  struct Record {
    std::string_view path;
    Claim claim;
  };
  // Every claim, in no particular order (Claims sorts them to write a run).
  std::vector<Record> Records() const;

 private:
  // Where Lookup ended: the slot holding `path`'s record, or the empty slot
  // where it would go.
  struct Probe {
    size_t slot;
    bool found;
  };

  Probe Lookup(std::string_view path, uint64_t hash) const;
  // The first empty slot from `hash`'s home slot on.
  size_t EmptySlotFor(uint64_t hash) const;
  // The record a slot refers to: its claim byte, followed by its path.
  // Writable: Set replaces a claim in place.
  char* RecordAt(uint64_t slot, size_t* path_size) const;
  // Appends a record and returns its slot value (without hash bits).
  uint64_t Append(std::string_view path, Claim claim);
  // Stores a new record for `path`, which is not in the set, at `at` (or
  // wherever it goes once the index has grown).
  void Insert(std::string_view path, uint64_t hash, Claim claim, size_t at);
  void Grow();

  // The arena. Records are appended to chunks_[current_], which holds
  // `current_size_` bytes of which `used_` are written; a long record gets a
  // chunk of its own at the end of chunks_.
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t current_ = 0;
  size_t current_size_ = 0;
  size_t used_ = 0;
  size_t arena_bytes_ = 0;
  // The index: 0 is an empty slot.
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_CLAIM_SET_H_
