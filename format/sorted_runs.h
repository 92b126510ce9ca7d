// Sorted runs: records of (key, value) bytes, written to a SpillFile in key
// order as runs and read back merged, so that what would be sorted in
// memory is sorted a run at a time (docs/design.md, "Bounded memory"). The
// container writer sorts its catalog this way, the capture walk its
// entries.
//
// A run is a list of pieces (64 KiB by default), keys prefix-compressed
// within a piece; a merge holds one decoded piece per run, so a writer
// that makes hundreds of runs makes smaller pieces. Keys order as bytes
// (memcmp); a caller with another order encodes its keys to sort as bytes.
//
// Thread safety: a RunWriter, RunCursor or RunMerge is used from one thread
// at a time. Writers on several threads may share a SpillFile when each is
// given the same mutex; cursors read the file from one thread, not while a
// writer appends.

#ifndef MIGSTORE_FORMAT_SORTED_RUNS_H_
#define MIGSTORE_FORMAT_SORTED_RUNS_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "format/coding.h"
#include "format/spill_file.h"
#include "migstore/result.h"

namespace migstore::format {

// Where a run lies in the scratch file.
using SortedRun = std::vector<SpillFile::Piece>;

// Writes one run. Add records in key order, then Finish.
class RunWriter {
 public:
  static constexpr size_t kDefaultPieceBytes = 64 * 1024;

  // `lock`, when given, is held for each write to `spill`. A piece closes
  // once it holds `piece_bytes`.
  explicit RunWriter(SpillFile* spill, std::mutex* lock = nullptr,
                     size_t piece_bytes = kDefaultPieceBytes)
      : spill_(spill), lock_(lock), piece_bytes_(piece_bytes) {}

  // REQUIRES: key >= the previous key; key.size() <= limits::kMaxPathBytes
  // + 64; value.size() <= limits::kMaxBlockPlain / 2.
  Status Add(std::string_view key, std::string_view value);
  // Writes what is pending and hands the run over.
  Result<SortedRun> Finish();
  // Pieces written so far. When it has grown since the last Add, the
  // next Add starts a new piece.
  size_t pieces() const { return run_.size(); }

 private:
  Status WritePiece();

  SpillFile* spill_;
  std::mutex* lock_;
  size_t piece_bytes_;
  SortedRun run_;
  std::string piece_;
  std::string prev_key_;
};

// Reads one run back, a piece at a time.
class RunCursor {
 public:
  RunCursor(const SpillFile* spill, const SortedRun* run)
      : spill_(spill), run_(run) {}

  // Moves to the next record; *done when the run has no more.
  Status Next(bool* done);

  const std::string& key() const { return key_; }
  // Valid until the next Next().
  std::string_view value() const { return value_; }

 private:
  const SpillFile* spill_;
  const SortedRun* run_;
  size_t next_piece_ = 0;
  std::string plain_;
  Decoder dec_{std::string_view()};
  std::string key_;
  std::string_view value_;
};

// The records of several runs in key order (equal keys: the earlier run's
// first).
class RunMerge {
 public:
  // `runs` must outlive the merge.
  RunMerge(const SpillFile* spill, const std::vector<SortedRun>* runs);

  // Moves to the next record; *done when every run is exhausted. The first
  // call moves to the first record.
  Status Next(bool* done);

  const std::string& key() const { return Top().key(); }
  std::string_view value() const { return Top().value(); }

 private:
  const RunCursor& Top() const { return cursors_[heap_.front()]; }
  bool Greater(size_t x, size_t y) const;

  std::vector<RunCursor> cursors_;
  std::vector<size_t> heap_;  // a min-heap of cursors that have a record
  bool started_ = false;
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_SORTED_RUNS_H_
