// Which files of an incremental capture are taken over from its base, and
// as which contents of the new store (docs/design.md, "Incremental capture
// in windows"). BaseStore::TakeOver makes it before the first window, from
// one pass over the whole walk; each window then asks for its own files.
//
// Nothing of the files' paths is kept: per file of the walk's stream, the
// base content it matched as a varint difference from the previous match
// (a byte or two), per set-apart file its base content number, and per
// base content added to the new store a bit and four bytes of size: a few
// MB at a million files.
//
// Thread safety: one thread at a time.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_TAKEN_OVER_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_TAKEN_OVER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/src/capture/pack_pipeline.h"
#include "engine/src/capture/walk.h"
#include "migstore/result.h"

namespace migstore::capture {

// A file taken over: the walked entry and its content number in the new
// store.
struct TakenOver {
  size_t entry = 0;
  uint64_t content = 0;
};

struct TakeOverStats {
  uint64_t files = 0;          // files taken over
  uint64_t bytes = 0;          // their logical bytes
  uint64_t blocks_copied = 0;  // base data blocks copied
  uint64_t block_bytes = 0;    // their plain bytes
  // Base files that were the same but are read again: their blocks held
  // too little the new store needs, or could not be read.
  uint64_t files_read_again = 0;
  uint64_t unreadable_blocks = 0;
  uint64_t unreadable_segments = 0;  // content segments
  // Files read again because their filesystem's change time cannot be
  // trusted, by filesystem name ("vfat", "ntfs3", ...).
  std::vector<std::pair<std::string, uint64_t>> untrusted_filesystems;
  // Why nothing was taken over, when the match could not be made (a
  // scratch file that could not be written or read back); else empty.
  std::string unmatched;
};

class TakenOverFiles {
 public:
  // Takes nothing over.
  TakenOverFiles() = default;

  // The files of `window` taken over: their jobs leave *jobs (the rest keep
  // their order) and they are returned in entry order. `window` is the next
  // window of the walk's stream, the windows asked for in the order they
  // were taken, or (`apart`) the entries the walk set apart. A window the
  // match did not see is InvalidArgument.
  Result<std::vector<TakenOver>> Take(const WalkedEntries& window, bool apart,
                                      std::vector<FileJob>* jobs,
                                      TakeOverStats* stats);

 private:
  friend class BaseStore;
  static constexpr uint64_t kNone = UINT64_MAX;

  // The match, in walk order: the next file of the stream, or a set-apart
  // entry, matched base content `content` (kNone: none).
  void MatchNext(uint64_t content);
  void MatchApart(size_t index, uint64_t content) { apart_[index] = content; }
  // Base content `base` (ascending from one call to the next) was added to
  // the new store as the next content, holding `size` bytes.
  void Added(uint64_t base, uint64_t size);
  // Done adding: ranks the bits.
  void Rank();
  // The new store's number for base content `base`, when it was added and
  // holds `size` bytes.
  std::optional<uint64_t> NewContent(uint64_t base, uint64_t size) const;

  bool active_ = false;  // false: takes nothing
  std::string stream_;   // per stream file: 0, or ZigZag(difference) + 1
  size_t stream_at_ = 0;
  uint64_t previous_ = 0;        // the last content encoded or decoded
  std::vector<uint64_t> apart_;  // per set-apart entry: base content or kNone
  // Base contents added, a bit each by base number, and the bits set before
  // each word: a content's new number is first_ + its rank.
  std::vector<uint64_t> added_;
  std::vector<uint64_t> ranks_;
  uint64_t first_ = 0;
  uint64_t count_ = 0;           // added
  std::vector<uint32_t> sizes_;  // by rank; UINT32_MAX: in large_sizes_
  std::vector<std::pair<uint64_t, uint64_t>> large_sizes_;  // (rank, size)
};

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_TAKEN_OVER_H_
