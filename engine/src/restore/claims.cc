#include "engine/src/restore/claims.h"

#include <xxhash.h>

#include <algorithm>
#include <utility>

#include "engine/base/rel_path.h"

namespace migstore::restore {
namespace {

// Small pieces: a lookup that the filter lets through reads and decodes
// one, and a plan's lookups are many and scattered.
constexpr size_t kPieceBytes = 16 * 1024;

// A run holds at least this many claims beyond the folders kept, so that
// a budget smaller than an empty set (tests give 1) makes many runs, not
// a run a claim, whose lookups would each ask every run.
constexpr size_t kMinRun = 32;

// A blocked Bloom filter: each path sets kProbes bits of one 512-bit block
// (one cache line), so a lookup costs one miss. At 12 bits a path about
// one lookup in 150 of a path that is not there gets through.
constexpr size_t kBitsPerPath = 12;
constexpr int kProbes = 7;  // each 9 bits of the hash: a bit of the block
constexpr size_t kBlockWords = 8;

uint64_t Hash(std::string_view path) {
  return XXH3_64bits(path.data(), path.size());
}

size_t BloomWords(size_t paths) {
  const size_t blocks = std::max<size_t>(1, (paths * kBitsPerPath + 511) / 512);
  return blocks * kBlockWords;
}

// The block's first word. The block comes from the hash's bits mixed again,
// the bits within it from its low 63 bits, so the two are not the same bits.
size_t BlockOf(const std::vector<uint64_t>& bloom, uint64_t hash) {
  const uint64_t blocks = bloom.size() / kBlockWords;
  const uint64_t mixed = hash * 0x9E3779B97F4A7C15ull;
  // (A filter of 2^32 blocks would be 256 GiB: blocks fits 32 bits.)
  return static_cast<size_t>(((mixed >> 32) * blocks) >> 32) * kBlockWords;
}

void BloomAdd(std::vector<uint64_t>* bloom, uint64_t hash) {
  uint64_t* block = bloom->data() + BlockOf(*bloom, hash);
  for (int i = 0; i < kProbes; ++i) {
    const unsigned bit = (hash >> (9 * i)) & 511;
    block[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool BloomMay(const std::vector<uint64_t>& bloom, uint64_t hash) {
  const uint64_t* block = bloom.data() + BlockOf(bloom, hash);
  for (int i = 0; i < kProbes; ++i) {
    const unsigned bit = (hash >> (9 * i)) & 511;
    if ((block[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

}  // namespace

Claims::Claims(size_t memory, std::vector<std::string> spill_dirs)
    : memory_(memory), spill_dirs_(std::move(spill_dirs)) {}

Claims::~Claims() = default;

std::optional<Claim> Claims::Find(std::string_view path) {
  if (std::optional<Claim> c = set_.Find(path)) return c;
  if (runs_.empty() || !status_.ok() || path > max_last_) return std::nullopt;
  const uint64_t hash = Hash(path);
  for (size_t r = runs_.size(); r-- > 0;) {
    Result<std::optional<Claim>> c = FindIn(r, path, hash);
    if (!c.ok()) {
      status_ = c.status();
      return std::nullopt;
    }
    if (*c) return *c;
  }
  return std::nullopt;
}

void Claims::Set(std::string_view path, Claim claim) {
  set_.Set(path, claim);
  last_.assign(path);
  MaybeSpill();
}

bool Claims::Add(std::string_view path, Claim claim) {
  if (Find(path)) return false;
  set_.Add(path, claim);
  MaybeSpill();
  return true;
}

size_t Claims::memory_bytes() const {
  size_t kept = kept_.capacity() * sizeof(kept_[0]);
  for (const auto& k : kept_) kept += k.first.capacity();
  return set_.memory_bytes() + last_.capacity() + max_last_.capacity() + kept +
         runs_bytes_ + runs_.capacity() * sizeof(Run);
}

void Claims::MaybeSpill() {
  // Writing a run first lists the set's records (a view each): that counts
  // against the budget too.
  if (memory_ == 0 || !status_.ok() ||
      set_.memory_bytes() + set_.size() * sizeof(ClaimSet::Record) <= memory_ ||
      set_.size() < kept_.size() + kMinRun) {
    return;
  }
  if (Status s = Spill(); !s.ok()) status_ = std::move(s);
}

Status Claims::Spill() {
  if (spill_ == nullptr) {
    MIGSTORE_ASSIGN_OR_RETURN(spill_, format::SpillFile::Create(spill_dirs_));
  }
  std::vector<ClaimSet::Record> records = set_.Records();
  std::sort(records.begin(), records.end(),
            [](const ClaimSet::Record& a, const ClaimSet::Record& b) {
              return a.path < b.path;
            });
  // A folder kept at the last run and still claimed alike is in that run
  // already: writing it again would stretch this run's range back over
  // the earlier ones.
  auto written = [this](const ClaimSet::Record& r) {
    for (const auto& [path, claim] : kept_) {
      if (path == r.path) return claim == r.claim;
    }
    return false;
  };
  records.erase(std::remove_if(records.begin(), records.end(), written),
                records.end());
  Run run;
  run.bloom.assign(BloomWords(records.size()), 0);
  format::RunWriter writer(spill_.get(), nullptr, kPieceBytes);
  for (const ClaimSet::Record& r : records) {
    if (writer.pieces() == run.first.size()) run.first.emplace_back(r.path);
    const char claim = static_cast<char>(r.claim);
    MIGSTORE_RETURN_IF_ERROR(writer.Add(r.path, std::string_view(&claim, 1)));
    BloomAdd(&run.bloom, Hash(r.path));
  }
  MIGSTORE_ASSIGN_OR_RETURN(run.pieces, writer.Finish());

  // The folders above the last path claimed are what the next entries ask
  // about: they stay in the set (and in a run, where the set shadows
  // them).
  std::vector<std::pair<std::string, Claim>> keep;
  for (std::string_view a = last_; !a.empty(); a = ParentOf(a)) {
    if (std::optional<Claim> c = set_.Find(a)) keep.emplace_back(a, *c);
  }
  if (!records.empty()) {
    run.last.assign(records.back().path);
    max_last_ = std::max(max_last_, run.last);
  }
  records = {};
  set_ = ClaimSet();
  for (const auto& [path, claim] : keep) set_.Set(path, claim);
  kept_ = std::move(keep);
  if (run.pieces.empty()) return Status::OK();  // all of it was kept

  runs_bytes_ += run.bloom.capacity() * sizeof(uint64_t) +
                 run.pieces.capacity() * sizeof(run.pieces[0]) +
                 run.first.capacity() * sizeof(std::string) +
                 run.last.capacity();
  for (const std::string& f : run.first) runs_bytes_ += f.capacity();
  runs_.push_back(std::move(run));
  return Status::OK();
}

Result<std::optional<Claim>> Claims::FindIn(size_t r, std::string_view path,
                                            uint64_t hash) {
  const Run& run = runs_[r];
  if (path < run.first.front() || path > run.last) return {std::nullopt};
  if (!BloomMay(run.bloom, hash)) return {std::nullopt};
  // The last piece whose first path is not after `path`.
  const size_t i =
      std::upper_bound(
          run.first.begin(), run.first.end(), path,
          [](std::string_view p, const std::string& f) { return p < f; }) -
      run.first.begin() - 1;
  if (cached_run_ != r || cached_piece_ != i) {
    cached_run_ = SIZE_MAX;
    cached_paths_.clear();
    cached_claims_.clear();
    ++pieces_read_;
    const format::SortedRun one{run.pieces[i]};
    format::RunCursor cursor(spill_.get(), &one);
    for (;;) {
      bool done;
      MIGSTORE_RETURN_IF_ERROR(cursor.Next(&done));
      if (done) break;
      const std::string_view v = cursor.value();
      if (v.size() != 1 ||
          static_cast<uint8_t>(v[0]) > static_cast<uint8_t>(Claim::kSymlink)) {
        return Status::Corruption(
            "a claimed destination on the restore's scratch file does not "
            "decode");
      }
      cached_paths_.push_back(cursor.key());
      cached_claims_.push_back(static_cast<Claim>(v[0]));
    }
    cached_run_ = r;
    cached_piece_ = i;
  }
  const auto it =
      std::lower_bound(cached_paths_.begin(), cached_paths_.end(), path);
  if (it == cached_paths_.end() || *it != path) return {std::nullopt};
  return {cached_claims_[it - cached_paths_.begin()]};
}

}  // namespace migstore::restore
