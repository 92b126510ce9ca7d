#include "format/sorted_runs.h"

#include <algorithm>
#include <cassert>

#include "format/catalog_codec.h"
#include "format/limits.h"

namespace migstore::format {
namespace {

// What a record may hold; a piece is then always within what a SpillFile
// takes (kMaxIndexPlain), whatever piece size is asked for.
constexpr size_t kMaxKey = limits::kMaxPathBytes + 64;
constexpr size_t kMaxValue = limits::kMaxIndexPlain / 2;

}  // namespace

// A record: the key's length shared with the previous key of the piece,
// the rest of the key, the value.
Status RunWriter::Add(std::string_view key, std::string_view value) {
  assert(key.size() <= kMaxKey && value.size() <= kMaxValue);
  assert(prev_key_ <= key);  // within a piece; a new piece starts at ""
  EncodeEntryPath(key, prev_key_, &piece_);  // the catalog's prefix coding
  PutBytes(&piece_, value);
  prev_key_.assign(key);
  if (piece_.size() >= std::min(piece_bytes_, limits::kMaxIndexPlain / 4))
    return WritePiece();
  return Status::OK();
}

Status RunWriter::WritePiece() {
  if (piece_.empty()) return Status::OK();
  std::unique_lock<std::mutex> hold;
  if (lock_ != nullptr) hold = std::unique_lock<std::mutex>(*lock_);
  MIGSTORE_ASSIGN_OR_RETURN(SpillFile::Piece p, spill_->Write(piece_));
  run_.push_back(p);
  piece_.clear();
  prev_key_.clear();  // the next piece starts without a predecessor
  return Status::OK();
}

Result<SortedRun> RunWriter::Finish() {
  MIGSTORE_RETURN_IF_ERROR(WritePiece());
  return std::move(run_);
}

Status RunCursor::Next(bool* done) {
  if (dec_.empty()) {
    if (next_piece_ == run_->size()) {
      // A merge of hundreds of runs goes on long after some end.
      std::string().swap(plain_);
      *done = true;
      return Status::OK();
    }
    MIGSTORE_RETURN_IF_ERROR(spill_->Read((*run_)[next_piece_++], &plain_));
    dec_ = Decoder(plain_);
    key_.clear();
  }
  const uint64_t shared = dec_.VarintAtMost(key_.size());
  const std::string_view suffix = dec_.Bytes(kMaxKey);
  value_ = dec_.Bytes(kMaxValue);
  if (!dec_.ok()) {
    return Status::Corruption(
        "a sorted run of the scratch file does not decode");
  }
  key_.resize(shared);
  key_.append(suffix);
  *done = false;
  return Status::OK();
}

RunMerge::RunMerge(const SpillFile* spill, const std::vector<SortedRun>* runs) {
  cursors_.reserve(runs->size());
  for (const SortedRun& run : *runs) cursors_.emplace_back(spill, &run);
}

bool RunMerge::Greater(size_t x, size_t y) const {
  const int c = cursors_[x].key().compare(cursors_[y].key());
  return c != 0 ? c > 0 : x > y;
}

Status RunMerge::Next(bool* done) {
  auto greater = [this](size_t x, size_t y) { return Greater(x, y); };
  if (!started_) {
    started_ = true;
    for (size_t i = 0; i < cursors_.size(); ++i) {
      bool empty = false;
      MIGSTORE_RETURN_IF_ERROR(cursors_[i].Next(&empty));
      if (!empty) heap_.push_back(i);
    }
    std::make_heap(heap_.begin(), heap_.end(), greater);
  } else if (!heap_.empty()) {
    // Move the record just read past, then put its cursor back in order.
    std::pop_heap(heap_.begin(), heap_.end(), greater);
    bool empty = false;
    MIGSTORE_RETURN_IF_ERROR(cursors_[heap_.back()].Next(&empty));
    if (empty) {
      heap_.pop_back();
    } else {
      std::push_heap(heap_.begin(), heap_.end(), greater);
    }
  }
  *done = heap_.empty();
  return Status::OK();
}

}  // namespace migstore::format
