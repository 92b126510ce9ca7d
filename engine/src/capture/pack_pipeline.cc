#include "engine/src/capture/pack_pipeline.h"
#include "engine/base/parallel.h"

#include <oneapi/tbb/parallel_pipeline.h>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <mutex>

#include "format/coding.h"
#include "format/hash.h"

namespace migstore::capture {
namespace {

constexpr int kReadAttempts = 3;
constexpr size_t kSmallBatchFiles = 64;

}  // namespace

struct PendingBlock {
  uint64_t number = 0;
  bool raw = false;
  std::string plain;
  std::string frame;
};

struct PackPipeline::SmallFile {
  size_t job = 0;
  Status status;
  std::string bytes;  // the stored bytes
  std::optional<std::vector<format::DataRange>> ranges;
  Snapshot snapshot;  // when read
  format::Hash128 hash{};
  int64_t duplicate_of = -1;  // a job with the same MAC (Registry)
  // The content of an earlier run's file with the same MAC.
  int64_t duplicate_content = -1;
  bool registrant = false;  // the first file seen with its MAC
  bool grew = false;        // no longer small: retry it as a large file
};

struct PackPipeline::Item {
  // A batch of small files...
  std::vector<SmallFile> small;
  size_t small_count = 0;
  // ...or one piece of a large file.
  size_t job = SIZE_MAX;
  uint64_t offset = 0;  // into the file's stored bytes
  size_t length = 0;
  bool first = false;
  bool last = false;
  std::string piece;
  Status piece_status;
  bool changed = false;
  // Filled by the pack stage, sealed, appended.
  std::vector<PendingBlock> blocks;
  uint64_t bytes = 0;
  uint64_t files = 0;
};

struct PackPipeline::LargeState {
  format::ContentHasher hasher;
  std::vector<format::Chunk> chunks;
  Status error;
  bool changed = false;
};

// Small files seen so far, by a keyed MAC of their size, data ranges and
// bytes: the first to arrive registers, later ones with the same MAC are
// its duplicates.
//
// The MAC is SipHash-2-4 with a 128-bit output (libsodium's
// crypto_shorthash_siphashx24), a pseudorandom function, under a key drawn
// for this capture and never written anywhere: no one can make two files
// collide, however they choose the bytes (XXH3, the content hash the format
// keeps, is no defence against a user who crafts a file to match another
// user's). It stands in for reading the first file again to compare it
// byte for byte, which needed every registrant's path at hand and cost an
// open and a read per duplicate (docs/design.md, "Capture pipeline").
// SipHash runs at ~2.9 GB/s here, BLAKE2b at ~1 GB/s.
//
// Flat tables of 24-byte slots, not a node per file (117 bytes each: a
// capture of a million tiny files held 61 MB of them; docs/performance.md,
// "Scaling"), and bounded: two generations of at most `max_slots` / 2 slots
// each. MACs register in the young one, which grows by doubling; once it
// is full at its largest, the old generation is dropped and the young one
// takes its place. A MAC found only in the old generation moves to the
// young one, so a file copied all over the tree stays known. The registry
// remembers at least the last 3/8 of max_slots distinct MACs and never
// holds more than max_slots slots; a duplicate of a file forgotten is
// stored again: counted as stored, never wrong (docs/design.md, "Bounded
// memory").
class PackPipeline::Registry {
 public:
  using Mac = std::array<unsigned char, crypto_shorthash_siphashx24_BYTES>;

  explicit Registry(size_t max_slots)
      : generation_slots_(std::max<size_t>(kMinSlots, max_slots / 2)) {
    randombytes_buf(key_.data(), key_.size());
  }
  ~Registry() { sodium_memzero(key_.data(), key_.size()); }

  // F(size ‖ ranges ‖ F(bytes)), F keyed SipHash: the bytes once, without
  // a copy, and the layout bound to them.
  Mac MacOf(uint64_t size,
            const std::optional<std::vector<format::DataRange>>& ranges,
            std::string_view bytes) const {
    Mac inner;
    crypto_shorthash_siphashx24(
        inner.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
        bytes.size(), key_.data());
    // The outer input: the inner MAC, the size, the range count + 1 (0: a
    // dense file), the ranges. A dense file's fits on the stack: no
    // allocation per small file.
    Mac mac;
    if (!ranges) {
      char outer[sizeof(Mac) + 16];
      std::memcpy(outer, inner.data(), inner.size());
      format::EncodeFixed64(outer + sizeof(Mac), size);
      format::EncodeFixed64(outer + sizeof(Mac) + 8, 0);
      crypto_shorthash_siphashx24(mac.data(),
                                  reinterpret_cast<const unsigned char*>(outer),
                                  sizeof(outer), key_.data());
      return mac;
    }
    std::string outer(inner.begin(), inner.end());
    format::PutFixed64(&outer, size);
    format::PutFixed64(&outer, ranges->size() + 1);
    for (const format::DataRange& r : *ranges) {
      format::PutFixed64(&outer, r.offset);
      format::PutFixed64(&outer, r.length);
    }
    crypto_shorthash_siphashx24(
        mac.data(), reinterpret_cast<const unsigned char*>(outer.data()),
        outer.size(), key_.data());
    return mac;
  }

  // What a MAC is registered to: a job of the current run, or, from an
  // earlier run (Resolve), the content its registrant was stored as.
  struct Found {
    bool is_content = false;
    uint64_t value = 0;  // job index or content number
  };

  // Registers `job` under the MAC, or returns what is registered there.
  std::optional<Found> RegisterOrGet(const Mac& mac, size_t job) {
    assert(job + 1 < kGone && "jobs must fit a slot");
    uint64_t a, b;
    std::memcpy(&a, mac.data(), 8);
    std::memcpy(&b, mac.data() + 8, 8);
    std::lock_guard<std::mutex> lock(mu_);
    if ((young_.used + 1) * 4 > young_.slots.size() * 3) MakeRoom();
    Slot* slot = young_.Find(a, b);
    if (Live(*slot)) return FoundIn(*slot);
    if (slot->value == kEmpty && !old_.slots.empty()) {
      const Slot* was = old_.Find(a, b);
      if (Live(*was)) {
        *slot = *was;  // moves to the young generation
        ++young_.used;
        return FoundIn(*slot);
      }
    }
    young_.used += slot->value == kEmpty;
    *slot = Slot{a, b, job + 1};
    return std::nullopt;
  }

  // At the end of a run: each job registered becomes the content it was
  // stored as (content_of_job, by job; -1 for none), so later runs find
  // their duplicates there.
  void Resolve(const std::vector<int64_t>& content_of_job) {
    for (Table* t : {&young_, &old_}) {
      for (Slot& s : t->slots) {
        if (!Live(s) || (s.value & kContent) != 0) continue;
        const int64_t content = content_of_job[s.value - 1];
        s.value =
            content >= 0 ? kContent | static_cast<uint64_t>(content) : kGone;
      }
    }
  }

  // Slots held, both generations (tests and benchmarks).
  size_t slots() const { return young_.slots.size() + old_.slots.size(); }

 private:
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kContent = uint64_t{1} << 63;
  // A registrant that stored nothing (it failed, or grew into a large
  // file): the next file with its MAC registers in its place.
  static constexpr uint64_t kGone = uint64_t{1} << 62;
  static constexpr size_t kMinSlots = 1024;

  struct Slot {
    uint64_t a = 0, b = 0;    // the MAC
    uint64_t value = kEmpty;  // kEmpty, kGone, job + 1, or kContent | content
  };
  static_assert(sizeof(Slot) == 24);

  static bool Live(const Slot& s) {
    return s.value != kEmpty && s.value != kGone;
  }
  static Found FoundIn(const Slot& s) {
    if ((s.value & kContent) != 0) return Found{true, s.value & ~kContent};
    return Found{false, s.value - 1};
  }

  struct Table {
    std::vector<Slot> slots;
    size_t used = 0;

    // The slot holding the MAC, or the empty one where it goes (linear
    // probing; a table is never more than 3/4 full). The MAC is uniform:
    // its own bits index the table.
    Slot* Find(uint64_t a, uint64_t b) {
      const size_t mask = slots.size() - 1;
      for (size_t i = a & mask;; i = (i + 1) & mask) {
        const Slot& s = slots[i];
        if (s.value == kEmpty || (s.a == a && s.b == b)) return &slots[i];
      }
    }
  };

  // The young generation is full: it doubles, or, at its largest, becomes
  // the old one and a new one starts (the old one's memory goes first).
  void MakeRoom() {
    if (young_.slots.size() < generation_slots_) {
      Table bigger;
      bigger.slots.resize(std::max(kMinSlots, young_.slots.size() * 2));
      for (const Slot& s : young_.slots) {
        if (s.value != kEmpty) *bigger.Find(s.a, s.b) = s;
      }
      bigger.used = young_.used;
      young_ = std::move(bigger);
      return;
    }
    old_ = Table();
    old_ = std::move(young_);
    young_ = Table();
    young_.slots.resize(generation_slots_);
  }

  std::array<unsigned char, crypto_shorthash_siphashx24_KEYBYTES> key_;
  const size_t generation_slots_;  // a power of two
  std::mutex mu_;
  Table young_;
  Table old_;
};

PackPipeline::PackPipeline(format::ContainerWriter* writer,
                           const PipelineOptions& options, PipelineSink sink)
    : writer_(writer),
      options_(options),
      sink_(std::move(sink)),
      packer_(writer, options.block_size,
              [this](uint64_t number, std::string plain) {
                assert(emit_to_ != nullptr &&
                       "blocks are emitted only inside the pack stage");
                emit_to_->blocks.push_back(
                    {number, packer_raw_, std::move(plain), {}});
                return Status::OK();
              }),
      registry_(std::make_unique<Registry>(options.dedup_slots)) {}

PackPipeline::~PackPipeline() = default;

// --- input stage -----------------------------------------------------------

PackPipeline::Item* PackPipeline::NextItem(std::vector<FileJob>& jobs) {
  if (next_job_ >= jobs.size()) return nullptr;
  auto item = std::make_unique<Item>();
  const FileJob& job = jobs[next_job_];
  if (job.large) {
    const uint64_t stored = StoredSize(job.d().snapshot.size, job.d().ranges);
    item->job = next_job_;
    item->offset = next_piece_offset_;
    item->length = static_cast<size_t>(
        std::min<uint64_t>(options_.block_size, stored - next_piece_offset_));
    item->first = next_piece_offset_ == 0;
    next_piece_offset_ += item->length;
    item->last = next_piece_offset_ >= stored;
    if (item->last) {
      ++next_job_;
      next_piece_offset_ = 0;
    }
    return item.release();
  }
  // A batch of consecutive small files, about a block's worth of bytes.
  uint64_t bytes = 0;
  while (next_job_ < jobs.size() && !jobs[next_job_].large &&
         item->small_count < kSmallBatchFiles &&
         (item->small_count == 0 ||
          bytes + (*entries_)[jobs[next_job_].entry].size <=
              options_.block_size)) {
    if (item->small.size() <= item->small_count) item->small.emplace_back();
    item->small[item->small_count++].job = next_job_;
    bytes += (*entries_)[jobs[next_job_].entry].size;
    ++next_job_;
  }
  return item.release();
}

// --- read stage ------------------------------------------------------------

void PackPipeline::Read(const std::vector<FileJob>& jobs, Item* item) {
  if (item->job != SIZE_MAX) {
    ReadPiece(jobs[item->job], item);
    return;
  }
  for (size_t i = 0; i < item->small_count; ++i) {
    SmallFile& f = item->small[i];
    ReadSmall(jobs[f.job], f.job, &f);
  }
}

void PackPipeline::ReadSmall(const FileJob& job, size_t job_index,
                             SmallFile* out) {
  const WalkedEntry& walked = (*entries_)[job.entry];
  for (int attempt = 1;; ++attempt) {
    const int64_t read_start = NowNs();
    auto file = SourceFile::Open(options_.root_fd, walked);
    if (!file.ok()) {
      out->status = file.status();
      return;
    }
    const Snapshot before = file->opened();
    if (before.size > options_.block_size) {
      out->grew = true;  // read it in pieces in a later round
      return;
    }
    out->ranges.reset();
    if (before.blocks * 512 < before.size) {
      auto ranges = file->DataRanges(before.size);
      if (!ranges.ok()) {
        out->status = ranges.status();
        return;
      }
      out->ranges = std::move(ranges).value();
    }
    Status read = file->ReadStored(before.size, out->ranges, &out->bytes);
    auto after = file->Stat();
    bool steady = read.ok() && after.ok() && *after == before;
    if (steady && IsHot(before, read_start)) {
      // Recently written: its timestamps cannot vouch for it. Read again.
      auto again = HashStored(*file, before.size, out->ranges);
      auto last = file->Stat();
      steady = again.ok() && *again == format::HashBytes(out->bytes) &&
               last.ok() && *last == before;
    }
    if (steady) {
      out->snapshot = before;
      break;
    }
    if (attempt == kReadAttempts) {
      out->status = !after.ok() ? after.status()
                    : !read.ok() && *after == before
                        ? read
                        : Status::IOError(walked.path,
                                          "kept changing while it was read (" +
                                              std::to_string(kReadAttempts) +
                                              " attempts)");
      return;
    }
  }
  out->hash = format::HashBytes(out->bytes);
  if (out->snapshot.size == 0 || !job.maybe_duplicate) return;

  const Registry::Mac mac =
      registry_->MacOf(out->snapshot.size, out->ranges, out->bytes);
  std::optional<Registry::Found> found =
      registry_->RegisterOrGet(mac, job_index);
  if (!found) {
    out->registrant = true;
  } else if (found->is_content) {
    out->duplicate_content = static_cast<int64_t>(found->value);
  } else {
    out->duplicate_of = static_cast<int64_t>(found->value);
  }
}

void PackPipeline::ReadPiece(const FileJob& job, Item* item) {
  const WalkedEntry& walked = (*entries_)[job.entry];
  auto file = SourceFile::Open(options_.root_fd, walked);
  if (!file.ok()) {
    item->piece_status = file.status();
    return;
  }
  auto unchanged = [&]() {
    auto now = file->Stat();
    return now.ok() && *now == job.d().snapshot;
  };
  if (!unchanged()) {
    item->changed = true;
    return;
  }
  item->piece.resize(item->length);
  // Map the piece of stored bytes onto the file's data ranges.
  const std::vector<format::DataRange> whole = {{0, job.d().snapshot.size}};
  const auto& ranges = job.d().ranges ? *job.d().ranges : whole;
  uint64_t skip = item->offset;
  size_t filled = 0;
  for (const format::DataRange& r : ranges) {
    if (filled == item->length) break;
    if (skip >= r.length) {
      skip -= r.length;
      continue;
    }
    size_t n = static_cast<size_t>(
        std::min<uint64_t>(r.length - skip, item->length - filled));
    Status s = file->ReadAt(r.offset + skip, n, item->piece.data() + filled);
    if (!s.ok()) {
      if (unchanged()) {
        item->piece_status = s;
      } else {
        item->changed = true;
      }
      return;
    }
    filled += n;
    skip = 0;
  }
  if (!unchanged()) item->changed = true;
}

// --- pack stage --------------------------------------------------------------

Status PackPipeline::StoreBytes(std::string_view bytes, bool raw,
                                std::vector<format::Chunk>* chunks,
                                Item* item) {
  emit_to_ = item;
  if (raw != packer_raw_) {
    // A block holds one class of data; close the open one first.
    MIGSTORE_RETURN_IF_ERROR(packer_.Flush());
    packer_raw_ = raw;
  }
  Status s = packer_.Add(bytes, chunks);
  emit_to_ = nullptr;
  stats_.stored_bytes += bytes.size();
  return s;
}

Status PackPipeline::RecordFile(const FileJob& job,
                                std::optional<uint64_t> content) {
  MIGSTORE_RETURN_IF_ERROR(
      sink_.add_entry(job.entry, content, job.d().link_group));
  // The other names of the file are recorded with what was read through
  // the first: one inode has one size, mtime, mode and owner, and a reader
  // refuses a group whose members disagree (docs/format.md, "link_group").
  // The walk looked at each name at its own moment, and the file may have
  // changed in between, or since.
  const WalkedEntry& first = (*entries_)[job.entry];
  for (size_t link : job.d().links) {
    WalkedEntry& l = (*entries_)[link];
    l.size = first.size;
    l.set_blocks(first.blocks());
    l.mtime_ns = first.mtime_ns;
    l.ctime_ns = first.ctime_ns;
    l.mode = first.mode;
    l.uid = first.uid;
    l.gid = first.gid;
    MIGSTORE_RETURN_IF_ERROR(
        sink_.add_entry(link, content, job.d().link_group));
  }
  return Status::OK();
}

Status PackPipeline::PackSmall(const FileJob& job, SmallFile* f, Item* item,
                               std::vector<FileJob>* retry) {
  WalkedEntry& walked = (*entries_)[job.entry];
  if (f->grew) {
    FileJob again = job;
    again.large = true;
    retry->push_back(std::move(again));
    return Status::OK();
  }
  if (!f->status.ok()) return sink_.file_error(walked.path, f->status);
  // The file is recorded as it was read.
  walked.size = f->snapshot.size;
  walked.set_blocks(f->snapshot.blocks);
  walked.mtime_ns = f->snapshot.mtime_ns;
  walked.ctime_ns = f->snapshot.ctime_ns;
  item->bytes += f->bytes.size();
  item->files += 1 + job.d().links.size();
  if (walked.size == 0) return RecordFile(job, std::nullopt);

  const size_t self = f->job;
  int64_t content = f->duplicate_content;
  if (f->duplicate_of >= 0)
    content = content_of_job_[static_cast<size_t>(f->duplicate_of)];
  if (content < 0 && f->registrant) content = content_of_job_[self];
  if (content >= 0) {
    ++stats_.duplicate_files;
    stats_.duplicate_bytes += walked.size;
  } else {
    format::Content c;
    c.size = walked.size;
    c.hash = f->hash;
    if (f->ranges) {
      c.sparse = true;
      c.ranges = *f->ranges;
      ++stats_.sparse_files;
    }
    MIGSTORE_RETURN_IF_ERROR(StoreBytes(f->bytes, job.raw, &c.chunks, item));
    MIGSTORE_ASSIGN_OR_RETURN(uint64_t id, writer_->AddContent(c));
    content = static_cast<int64_t>(id);
  }
  content_of_job_[self] = content;
  // The first of a group stores; the others find it under the registrant.
  if (f->duplicate_of >= 0)
    content_of_job_[static_cast<size_t>(f->duplicate_of)] = content;
  std::string().swap(f->bytes);
  return RecordFile(job, static_cast<uint64_t>(content));
}

Status PackPipeline::PackPiece(const FileJob& job, Item* item,
                               std::vector<FileJob>* retry) {
  if (item->first) large_ = std::make_unique<LargeState>();
  assert(large_ != nullptr && "pieces of a large file arrive in order");
  LargeState& st = *large_;
  if (item->changed) {
    st.changed = true;
  } else if (!item->piece_status.ok()) {
    if (st.error.ok()) st.error = item->piece_status;
  } else if (!st.changed && st.error.ok()) {
    st.hasher.Update(item->piece);
    MIGSTORE_RETURN_IF_ERROR(
        StoreBytes(item->piece, job.raw, &st.chunks, item));
    item->bytes += item->piece.size();
  }
  std::string().swap(item->piece);
  if (!item->last) return Status::OK();

  std::unique_ptr<LargeState> done = std::move(large_);
  WalkedEntry& walked = (*entries_)[job.entry];
  format::Hash128 hash = done->hasher.Digest();
  if (!done->changed && done->error.ok() &&
      IsHot(job.d().snapshot, job.d().planned_ns)) {
    // Recently written: confirm the pieces with a second reading.
    auto file = SourceFile::Open(options_.root_fd, walked);
    auto again = file.ok()
                     ? HashStored(*file, job.d().snapshot.size, job.d().ranges)
                     : Result<format::Hash128>(file.status());
    auto now = file.ok() ? file->Stat() : Result<Snapshot>(file.status());
    if (!again.ok() || *again != hash || !now.ok() || *now != job.d().snapshot)
      done->changed = true;
  }
  if (done->changed) {
    // Its pieces so far stay in the store unused; the file goes round again.
    FileJob again = job;
    again.mutable_d().snapshot = Snapshot();
    retry->push_back(std::move(again));
    return Status::OK();
  }
  if (!done->error.ok()) return sink_.file_error(walked.path, done->error);
  walked.size = job.d().snapshot.size;
  walked.set_blocks(job.d().snapshot.blocks);
  walked.mtime_ns = job.d().snapshot.mtime_ns;
  walked.ctime_ns = job.d().snapshot.ctime_ns;
  format::Content c;
  c.size = job.d().snapshot.size;
  c.hash = hash;
  if (job.d().ranges) {
    c.sparse = true;
    c.ranges = *job.d().ranges;
    ++stats_.sparse_files;
  }
  c.chunks = std::move(done->chunks);
  MIGSTORE_ASSIGN_OR_RETURN(uint64_t id, writer_->AddContent(c));
  item->files += 1 + job.d().links.size();
  MIGSTORE_RETURN_IF_ERROR(RecordFile(job, id));
  // Files found identical before the pipeline share it, if it still reads
  // as it did then; otherwise each is captured on its own.
  for (size_t dup : job.d().duplicates) {
    if (job.d().expected_hash && *job.d().expected_hash == c.hash) {
      ++stats_.duplicate_files;
      stats_.duplicate_bytes += c.size;
      ++item->files;
      MIGSTORE_RETURN_IF_ERROR(sink_.add_entry(dup, id, 0));
    } else {
      FileJob alone;
      alone.entry = dup;
      alone.large = true;
      alone.raw = job.raw;
      retry->push_back(std::move(alone));
    }
  }
  return Status::OK();
}

Status PackPipeline::Pack(std::vector<FileJob>& jobs, Item* item,
                          std::vector<FileJob>* retry) {
  for (std::string spent; spare_plains_.try_pop(spent);)
    packer_.Reuse(std::move(spent));
  if (item->job != SIZE_MAX) return PackPiece(jobs[item->job], item, retry);
  for (size_t i = 0; i < item->small_count; ++i) {
    SmallFile& f = item->small[i];
    MIGSTORE_RETURN_IF_ERROR(PackSmall(jobs[f.job], &f, item, retry));
  }
  return Status::OK();
}

// --- seal and append
// -----------------------------------------------------------

void PackPipeline::Seal(Item* item) {
  for (PendingBlock& b : item->blocks) {
    format::SealOptions o;
    o.level = options_.level;
    o.compress = options_.compress && !b.raw;
    if (!spare_frames_.try_pop(b.frame)) b.frame.clear();
    writer_->codec().Seal(b.number, format::BlockType::kData, b.plain, o,
                          &b.frame);
    spare_plains_.push(std::move(b.plain));
  }
}

Status PackPipeline::Append(Item* item) {
  for (PendingBlock& b : item->blocks) {
    MIGSTORE_RETURN_IF_ERROR(writer_->AppendFrame(b.number, b.frame));
    spare_frames_.push(std::move(b.frame));
  }
  if (sink_.progress && (item->bytes > 0 || item->files > 0)) {
    sink_.progress(item->bytes, item->files);
  }
  return Status::OK();
}

Status PackPipeline::Run(WalkedEntries* entries, std::vector<FileJob>* jobs,
                         std::vector<FileJob>* retry) {
  entries_ = entries;
  next_job_ = 0;
  next_piece_offset_ = 0;
  content_of_job_.assign(jobs->size(), -1);
  auto stop = [this](Status s) {
    if (!s.ok() && !stop_.exchange(true)) stop_status_ = std::move(s);
  };

  // Each filter a parallel::Task, so TSan sees the items' hand-overs.
  using parallel::Task;
  parallel::Pipeline(
      std::max<size_t>(options_.max_items, 2),
      tbb::make_filter<void, Item*>(
          tbb::filter_mode::serial_in_order,
          Task([&](tbb::flow_control& fc) -> Item* {
            if (stop_.load() || (sink_.cancelled && sink_.cancelled())) {
              if (!stop_.load()) stop(Status::Cancelled("capture cancelled"));
              fc.stop();
              return nullptr;
            }
            Item* item = NextItem(*jobs);
            if (item == nullptr) fc.stop();
            return item;
          })) &
          tbb::make_filter<Item*, Item*>(tbb::filter_mode::parallel,
                                         Task([&](Item* item) {
                                           if (!stop_.load()) Read(*jobs, item);
                                           return item;
                                         })) &
          tbb::make_filter<Item*, Item*>(tbb::filter_mode::serial_in_order,
                                         Task([&](Item* item) {
                                           if (!stop_.load())
                                             stop(Pack(*jobs, item, retry));
                                           return item;
                                         })) &
          tbb::make_filter<Item*, Item*>(tbb::filter_mode::parallel,
                                         Task([&](Item* item) {
                                           if (!stop_.load()) Seal(item);
                                           return item;
                                         })) &
          tbb::make_filter<Item*, void>(tbb::filter_mode::serial_in_order,
                                        Task([&](Item* item) {
                                          if (!stop_.load()) stop(Append(item));
                                          delete item;
                                        })));
  registry_->Resolve(content_of_job_);
  return stop_status_;
}

Status PackPipeline::Flush() {
  Item last;
  emit_to_ = &last;
  Status s = packer_.Flush();
  emit_to_ = nullptr;
  MIGSTORE_RETURN_IF_ERROR(s);
  Seal(&last);
  return Append(&last);
}

}  // namespace migstore::capture
