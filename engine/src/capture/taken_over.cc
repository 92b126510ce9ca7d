#include "engine/src/capture/taken_over.h"

#include <algorithm>
#include <bit>

#include "format/coding.h"

namespace migstore::capture {

void TakenOverFiles::MatchNext(uint64_t content) {
  if (content == kNone) {
    format::PutVarint(&stream_, 0);
    return;
  }
  format::PutVarint(
      &stream_, format::ZigZag(static_cast<int64_t>(content - previous_)) + 1);
  previous_ = content;
}

void TakenOverFiles::Added(uint64_t base, uint64_t size) {
  added_[base / 64] |= uint64_t{1} << (base % 64);
  if (size >= UINT32_MAX) {
    large_sizes_.emplace_back(count_, size);
    sizes_.push_back(UINT32_MAX);
  } else {
    sizes_.push_back(static_cast<uint32_t>(size));
  }
  ++count_;
}

void TakenOverFiles::Rank() {
  ranks_.resize(added_.size());
  uint64_t before = 0;
  for (size_t w = 0; w < added_.size(); ++w) {
    ranks_[w] = before;
    before += static_cast<uint64_t>(std::popcount(added_[w]));
  }
  previous_ = 0;  // the stream is decoded from its start
}

std::optional<uint64_t> TakenOverFiles::NewContent(uint64_t base,
                                                   uint64_t size) const {
  const size_t w = base / 64;
  if (w >= added_.size()) return std::nullopt;
  const uint64_t bit = uint64_t{1} << (base % 64);
  if ((added_[w] & bit) == 0) return std::nullopt;
  const uint64_t rank =
      ranks_[w] + static_cast<uint64_t>(std::popcount(added_[w] & (bit - 1)));
  uint64_t held = sizes_[rank];
  if (held == UINT32_MAX) {
    auto it = std::lower_bound(large_sizes_.begin(), large_sizes_.end(), rank,
                               [](const std::pair<uint64_t, uint64_t>& p,
                                  uint64_t r) { return p.first < r; });
    held = it != large_sizes_.end() && it->first == rank ? it->second : kNone;
  }
  if (held != size) return std::nullopt;
  return first_ + rank;
}

Result<std::vector<TakenOver>> TakenOverFiles::Take(const WalkedEntries& window,
                                                    bool apart,
                                                    std::vector<FileJob>* jobs,
                                                    TakeOverStats* stats) {
  std::vector<TakenOver> out;
  if (!active_) return out;
  // The base content each entry of the window matched.
  std::vector<uint64_t> stream_matched;
  if (apart) {
    if (window.size() != apart_.size() || stream_at_ != stream_.size()) {
      return Status::InvalidArgument(
          "the set-apart files, or the stream's before them, are not those "
          "matched against the base");
    }
  } else {
    stream_matched.assign(window.size(), kNone);
    format::Decoder d(std::string_view(stream_).substr(stream_at_));
    const size_t before = d.remaining();
    for (size_t i = 0; i < window.size(); ++i) {
      if (window[i].type != format::EntryType::kFile) continue;
      const uint64_t v = d.Varint();
      if (!d.ok()) {
        return Status::InvalidArgument(
            "the walk's stream holds more files than were matched against "
            "the base");
      }
      if (v == 0) continue;
      previous_ += static_cast<uint64_t>(format::UnZigZag(v - 1));
      stream_matched[i] = previous_;
    }
    stream_at_ += before - d.remaining();
  }
  const std::vector<uint64_t>& matched = apart ? apart_ : stream_matched;
  size_t kept = 0;
  for (size_t j = 0; j < jobs->size(); ++j) {
    FileJob& job = (*jobs)[j];
    const uint64_t base = matched[job.entry];
    if (base != kNone && job.d().links.empty()) {
      const WalkedEntry& e = window[job.entry];
      if (auto n = NewContent(base, e.size)) {
        out.push_back({job.entry, *n});
        ++stats->files;
        stats->bytes += e.size;
        continue;
      }
      ++stats->files_read_again;
    }
    if (kept != j) (*jobs)[kept] = std::move(job);
    ++kept;
  }
  jobs->resize(kept);
  std::sort(out.begin(), out.end(), [](const TakenOver& a, const TakenOver& b) {
    return a.entry < b.entry;
  });
  return out;
}

}  // namespace migstore::capture
