#include "engine/src/capture/base_store.h"

#include <oneapi/tbb/parallel_pipeline.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <unordered_map>

#include "engine/base/parallel.h"
#include "engine/base/unique_fd.h"
#include "engine/src/fs/change_time.h"
#include "engine/src/store/open_store.h"
#include "format/coding.h"
#include "format/sorted_runs.h"
#include "format/spill_file.h"
#include "migstore/key.h"

namespace migstore::capture {
namespace {

// A base block is copied only when at least this share of its bytes is
// taken over; below it, its files are read again and the dead bytes stay
// behind (docs/design.md "Incremental capture").
constexpr double kMinLiveShare = 0.5;

constexpr uint64_t kNone = UINT64_MAX;

// The base's file entries are sorted in runs of 16 KiB pieces, as the
// walk's are: a merge holds a piece of each run.
constexpr size_t kPieceBytes = 16 * 1024;

// A file entry of the base, as the match needs it.
struct BaseFile {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t content = 0;
};

void EncodeBaseFile(const BaseFile& f, std::string* out) {
  out->clear();
  format::PutVarint(out, f.size);
  format::PutSignedVarint(out, f.mtime_ns);
  format::PutSignedVarint(out, f.ctime_ns);
  format::PutVarint(out, f.content);
}

bool DecodeBaseFile(std::string_view in, BaseFile* f) {
  format::Decoder d(in);
  f->size = d.Varint();
  f->mtime_ns = d.SignedVarint();
  f->ctime_ns = d.SignedVarint();
  f->content = d.Varint();
  return d.ok() && d.empty();
}

using PathFile = std::pair<std::string, BaseFile>;

bool ByPath(const PathFile& a, const PathFile& b) { return a.first < b.first; }

// A set of numbers, a bit each up to the largest: sized by what is set,
// not by the base's content count, which a forged index could make huge.
class Bits {
 public:
  void Set(uint64_t i) {
    if (i / 64 >= words_.size()) words_.resize(i / 64 + 1);
    words_[i / 64] |= uint64_t{1} << (i % 64);
  }
  bool Has(uint64_t i) const {
    return i / 64 < words_.size() && (words_[i / 64] >> (i % 64) & 1) != 0;
  }
  size_t words() const { return words_.size(); }

 private:
  std::vector<uint64_t> words_;
};

// The base's file entries that could be taken over, in path order. The
// catalog is in (profile, path) order, so it is read segment by segment
// and sorted `run_entries` files at a time into runs on a scratch file,
// then merged; a base that fits one run, or that finds no scratch file, is
// held sorted in memory.
class FilesByPath {
 public:
  Status Read(const format::ContainerReader& r, const TakeOverOptions& o,
              uint64_t* lost) {
    run_entries_ = std::max<size_t>(o.run_entries, 1);
    spill_dirs_ = &o.spill_dirs;
    const auto& segments = r.index().catalog_segments;
    struct Segment {
      size_t index = 0;
      bool lost = false;
      std::vector<PathFile> files;
    };
    // The source and the sink run at once: whether to go on is an atomic,
    // the sink's error its own.
    size_t next = 0;
    Status status;
    std::atomic<bool> failed{false};
    parallel::Pipeline(
        8, tbb::make_filter<void, Segment*>(
               tbb::filter_mode::serial_in_order,
               parallel::Task([&](tbb::flow_control& fc) -> Segment* {
                 if (next == segments.size() || failed.load() ||
                     (o.cancelled && o.cancelled())) {
                   fc.stop();
                   return nullptr;
                 }
                 auto* s = new Segment;
                 s->index = next++;
                 return s;
               })) &
               tbb::make_filter<Segment*, Segment*>(
                   tbb::filter_mode::parallel, parallel::Task([&](Segment* s) {
                     auto entries = r.ReadCatalogSegment(s->index);
                     if (!entries.ok()) {
                       s->lost = true;
                       return s;
                     }
                     for (format::Entry& e : *entries) {
                       // Hard-link members share a content with names the
                       // new capture may not have: they are read again
                       // (rare, and always right).
                       if (e.type != format::EntryType::kFile ||
                           !e.content.has_value() || e.link_group != 0 ||
                           !e.ctime_ns.has_value()) {
                         continue;
                       }
                       s->files.emplace_back(std::move(e.path),
                                             BaseFile{e.size, e.mtime_ns,
                                                      *e.ctime_ns, *e.content});
                     }
                     return s;
                   })) &
               tbb::make_filter<Segment*, void>(
                   tbb::filter_mode::serial_in_order,
                   parallel::Task([&](Segment* s) {
                     std::unique_ptr<Segment> done(s);
                     if (s->lost) {
                       *lost += segments[s->index].entry_count;
                       return;
                     }
                     for (PathFile& f : s->files) held_.push_back(std::move(f));
                     if (held_.size() >= run_entries_ && status.ok()) {
                       status = WriteRun();
                       failed.store(!status.ok());
                     }
                   })));
    MIGSTORE_RETURN_IF_ERROR(status);
    if (runs_.empty()) {
      if (!std::is_sorted(held_.begin(), held_.end(), ByPath))
        std::sort(held_.begin(), held_.end(), ByPath);
      return Status::OK();
    }
    MIGSTORE_RETURN_IF_ERROR(WriteRun());
    merge_ = std::make_unique<format::RunMerge>(spill_.get(), &runs_);
    return Status::OK();
  }

  // The base's file at `path`, or null. Paths must be asked in ascending
  // order.
  Result<const BaseFile*> Find(const std::string& path) {
    if (merge_ == nullptr) {
      while (at_ < held_.size() && held_[at_].first < path) ++at_;
      if (at_ < held_.size() && held_[at_].first == path)
        return &held_[at_].second;
      return nullptr;
    }
    if (!started_) {
      started_ = true;
      MIGSTORE_RETURN_IF_ERROR(merge_->Next(&done_));
    }
    while (!done_ && merge_->key() < path)
      MIGSTORE_RETURN_IF_ERROR(merge_->Next(&done_));
    if (done_ || merge_->key() != path) return nullptr;
    if (!DecodeBaseFile(merge_->value(), &current_)) {
      return Status::Corruption(
          "a base file entry in the capture's scratch file does not decode");
    }
    return &current_;
  }

 private:
  // Sorts what is held and writes it as a run; without a scratch file,
  // holds it on.
  Status WriteRun() {
    if (spill_ == nullptr && !no_spill_) {
      auto spill = format::SpillFile::Create(*spill_dirs_);
      no_spill_ = !spill.ok();
      if (spill.ok()) spill_ = std::move(*spill);
    }
    if (spill_ == nullptr || held_.empty()) return Status::OK();
    if (!std::is_sorted(held_.begin(), held_.end(), ByPath))
      std::sort(held_.begin(), held_.end(), ByPath);
    format::RunWriter run(spill_.get(), nullptr, kPieceBytes);
    std::string value;
    for (const PathFile& f : held_) {
      EncodeBaseFile(f.second, &value);
      MIGSTORE_RETURN_IF_ERROR(run.Add(f.first, value));
    }
    std::vector<PathFile>().swap(held_);
    MIGSTORE_ASSIGN_OR_RETURN(format::SortedRun written, run.Finish());
    runs_.push_back(std::move(written));
    return Status::OK();
  }

  size_t run_entries_ = 0;
  const std::vector<std::string>* spill_dirs_ = nullptr;
  std::unique_ptr<format::SpillFile> spill_;
  bool no_spill_ = false;
  std::vector<format::SortedRun> runs_;
  std::vector<PathFile> held_;               // not yet in a run; or all, sorted
  size_t at_ = 0;                            // Find's place in held_
  std::unique_ptr<format::RunMerge> merge_;  // null: held_
  bool started_ = false;
  bool done_ = false;
  BaseFile current_;
};

}  // namespace

BaseStore::~BaseStore() = default;

Result<std::unique_ptr<BaseStore>> BaseStore::Open(
    const std::string& path, const format::KeySource& key) {
  // The unencrypted case is checked here, with advice that fits a capture
  // (restore's --allow-unencrypted is not one of its options).
  KeyPolicy policy;
  policy.allow_unencrypted = true;
  auto opened = store::OpenStoreForReading(path, key, policy);
  if (!opened.ok()) {
    return opened.status().WithContext("the base store " + path);
  }
  if (opened->hardlink()) {
    return Status::InvalidArgument(
        "the base store " + path +
        " is a hard-link store; --base takes a container");
  }
  if (key.mode() != format::KeyMode::kNone && !opened->reader->encrypted()) {
    return Status::Refused(
        "the base store " + path,
        "is not encrypted, but a key was given: nothing in it is "
        "authenticated by the key, and whoever could replace it could have "
        "written the files it would hand over. Capture without --base, or "
        "use an encrypted base");
  }
  std::unique_ptr<BaseStore> base(new BaseStore());
  base->path_ = path;
  base->reader_ = std::move(opened->reader);
  if (auto created = base->reader_->property("created")) {
    try {
      base->created_ns_ = std::stoll(std::string(*created));
    } catch (const std::exception&) {
      base->created_ns_.reset();
    }
  }
  return base;
}

Result<TakenOverFiles> BaseStore::TakeOver(const WalkedStream& stream,
                                           const WalkedEntries& apart,
                                           format::ContainerWriter* writer,
                                           const TakeOverOptions& options,
                                           TakeOverStats* stats) {
  const format::ContainerReader& r = *reader_;
  if (!created_ns_.has_value()) return TakenOverFiles();
  auto cancelled = [&] { return options.cancelled && options.cancelled(); };
  auto stopped = [&]() -> Status {
    return cancelled() ? Status::Cancelled("capture cancelled") : Status::OK();
  };
  // Racily clean files (git's term): one changed shortly before the base
  // read it could have changed again without its times moving, so only
  // files whose times are settle_ns before the base's capture began are
  // taken over (clamped: a forged time must not overflow).
  const int64_t cutoff =
      *created_ns_ < INT64_MIN + options.settle_ns
          ? INT64_MIN
          : *created_ns_ - std::max<int64_t>(options.settle_ns, 0);

  // Each device's filesystem, judged once: only one whose ctime is a true
  // change time lets a file be taken over (fs/change_time.h).
  std::unordered_map<uint64_t, fs::ChangeTimeTrust> trust;
  std::unordered_map<std::string, uint64_t> untrusted_files;
  // A file that cannot be looked at now (gone, replaced by one on another
  // device) is read again; its device is judged by the next one.
  auto trusted = [&](const WalkedEntry& e) {
    auto it = trust.find(e.dev);
    if (it == trust.end()) {
      auto fd = UniqueFd(::openat(options.root_fd, e.path.c_str(),
                                  O_PATH | O_NOFOLLOW | O_CLOEXEC));
      struct stat st {};
      if (!fd.valid() || ::fstat(fd.get(), &st) != 0 ||
          static_cast<uint64_t>(st.st_dev) != e.dev) {
        return false;
      }
      it = trust.emplace(e.dev, fs::ChangeTimeTrustOf(fd.get())).first;
    }
    if (!it->second.trusted) ++untrusted_files[it->second.filesystem];
    return it->second.trusted;
  };

  // 1. The walk's files the base holds unchanged: the walk's stream and
  //    the set-apart files, both in path order, read beside the base's
  //    files in path order. Each match is kept for its window, its base
  //    content marked wanted. A scratch file that cannot be written or
  //    read back costs the take-over, not the capture (nothing is copied
  //    yet): every file is read.
  FilesByPath base_files;
  const uint64_t content_count = r.index().content_count;
  Bits wanted;
  bool any_wanted = false;
  TakenOverFiles out;
  out.active_ = true;
  out.apart_.assign(apart.size(), TakenOverFiles::kNone);
  // A hard link whose other names are captured too is read again: its
  // content is shared with names the base may not have had. (One whose
  // only name captured is this one is a file like any other, as in the
  // base.) Such files are all set apart.
  std::set<std::pair<uint64_t, uint64_t>> inodes, linked;
  for (const WalkedEntry& e : apart) {
    if (e.nlink > 1 && !inodes.insert({e.dev, e.ino}).second)
      linked.insert({e.dev, e.ino});
  }
  std::set<std::pair<uint64_t, uint64_t>>().swap(inodes);
  auto match = [&](const WalkedEntry& e) -> Result<uint64_t> {
    if (e.type != format::EntryType::kFile ||
        (e.nlink > 1 && linked.count({e.dev, e.ino}) > 0)) {
      return TakenOverFiles::kNone;
    }
    MIGSTORE_ASSIGN_OR_RETURN(const BaseFile* f, base_files.Find(e.path));
    if (f == nullptr || f->size != e.size || f->mtime_ns != e.mtime_ns ||
        f->ctime_ns != e.ctime_ns || f->mtime_ns >= cutoff ||
        f->ctime_ns >= cutoff || f->content >= content_count || !trusted(e)) {
      return TakenOverFiles::kNone;
    }
    wanted.Set(f->content);
    any_wanted = true;
    return f->content;
  };
  size_t next_apart = 0;
  auto match_apart_before = [&](const std::string* path) -> Status {
    for (; next_apart < apart.size() &&
           (path == nullptr || apart[next_apart].path < *path);
         ++next_apart) {
      MIGSTORE_ASSIGN_OR_RETURN(uint64_t c, match(apart[next_apart]));
      out.MatchApart(next_apart, c);
    }
    return Status::OK();
  };
  uint64_t seen = 0;
  auto match_file = [&](const WalkedEntry& e) -> Status {
    if (++seen % 4096 == 0) MIGSTORE_RETURN_IF_ERROR(stopped());
    MIGSTORE_RETURN_IF_ERROR(match_apart_before(&e.path));
    if (e.type != format::EntryType::kFile) return Status::OK();
    MIGSTORE_ASSIGN_OR_RETURN(uint64_t c, match(e));
    out.MatchNext(c);
    return Status::OK();
  };
  Status matched = base_files.Read(r, options, &lost_entries_);
  if (matched.ok()) matched = stopped();
  if (matched.ok()) matched = stream.ForEach(match_file);
  if (matched.ok()) matched = match_apart_before(nullptr);
  if (!matched.ok()) {
    if (matched.IsCancelled()) return matched;
    stats->unmatched = matched.ToString();
    return TakenOverFiles();
  }
  for (auto& [name, files] : untrusted_files)
    stats->untrusted_filesystems.emplace_back(name, files);
  if (!any_wanted) {
    out.Rank();
    return out;
  }

  // 2. What each base block holds, of every content and of the wanted
  //    ones. A content segment that cannot be read loses its wanted
  //    records (their files are read again).
  const auto& csegs = r.index().content_segments;
  const size_t block_count = r.block_count();
  auto chunks_in_store = [&](const format::Content& c) {
    return std::all_of(
        c.chunks.begin(), c.chunks.end(),
        [&](const format::Chunk& ch) { return ch.block < block_count; });
  };
  std::vector<std::atomic<uint64_t>> block_total(block_count);
  std::vector<std::atomic<uint64_t>> block_live(block_count);
  std::vector<uint8_t> segment_lost(csegs.size(), 0);
  parallel::ParallelFor(size_t{0}, csegs.size(), [&](size_t s) {
    auto contents = r.ReadContentSegment(s);
    if (!contents.ok()) {
      segment_lost[s] = 1;
      return;
    }
    for (size_t k = 0; k < contents->size(); ++k) {
      const format::Content& c = (*contents)[k];
      const bool live = wanted.Has(csegs[s].first_id + k) && chunks_in_store(c);
      for (const format::Chunk& ch : c.chunks) {
        if (ch.block >= block_count) continue;
        block_total[ch.block].fetch_add(ch.length, std::memory_order_relaxed);
        if (live)
          block_live[ch.block].fetch_add(ch.length, std::memory_order_relaxed);
      }
    }
  });
  stats->unreadable_segments = static_cast<uint64_t>(
      std::count(segment_lost.begin(), segment_lost.end(), 1));
  MIGSTORE_RETURN_IF_ERROR(stopped());

  // 3. Blocks worth copying: those whose bytes are mostly taken over. A
  //    content with a chunk in any other block is read again instead, and
  //    only the blocks of the others are copied.
  auto worth = [&](uint64_t b) {
    return static_cast<double>(block_live[b].load()) >=
           kMinLiveShare * static_cast<double>(block_total[b].load());
  };
  auto all_worth = [&](const format::Content& c) {
    return chunks_in_store(c) && std::all_of(c.chunks.begin(), c.chunks.end(),
                                             [&](const format::Chunk& ch) {
                                               return worth(ch.block);
                                             });
  };
  std::vector<std::atomic<uint8_t>> needed(block_count);
  parallel::ParallelFor(size_t{0}, csegs.size(), [&](size_t s) {
    if (segment_lost[s]) return;
    auto contents = r.ReadContentSegment(s);
    if (!contents.ok()) return;  // its files are read again
    for (size_t k = 0; k < contents->size(); ++k) {
      const format::Content& c = (*contents)[k];
      if (!wanted.Has(csegs[s].first_id + k) || !all_worth(c)) continue;
      for (const format::Chunk& ch : c.chunks)
        needed[ch.block].store(1, std::memory_order_relaxed);
    }
  });
  std::vector<uint64_t> blocks;
  for (uint64_t b = 0; b < block_count; ++b) {
    if (needed[b].load(std::memory_order_relaxed)) blocks.push_back(b);
  }
  MIGSTORE_RETURN_IF_ERROR(stopped());

  // 4. Copy them in order without decoding them (zstd is not run again):
  //    read and authenticate in parallel, number in order, seal in
  //    parallel, append in order. A block that cannot be read gets no
  //    number. The serial stages run at once, so whether to go on is an
  //    atomic; the writer's error is kept by the append stage alone.
  std::vector<uint64_t> new_number(block_count, kNone);
  std::vector<uint32_t> plain_len(block_count, 0);  // of the copies
  struct Copy {
    uint64_t base = 0;
    uint64_t number = kNone;
    Status status;
    format::FrameHeader header;
    std::string encoded;
    std::string frame;
  };
  size_t next = 0;
  Status write_status;
  std::atomic<bool> stop{false};
  const format::BlockCodec& codec = writer->codec();
  parallel::Pipeline(
      8,
      tbb::make_filter<void, Copy*>(
          tbb::filter_mode::serial_in_order,
          parallel::Task([&](tbb::flow_control& fc) -> Copy* {
            if (next == blocks.size() || stop.load() ||
                (options.cancelled && options.cancelled())) {
              fc.stop();
              return nullptr;
            }
            auto* c = new Copy;
            c->base = blocks[next++];
            return c;
          })) &
          tbb::make_filter<Copy*, Copy*>(
              tbb::filter_mode::parallel, parallel::Task([&](Copy* c) {
                c->status =
                    r.ReadDataBlockEncoded(c->base, &c->encoded, &c->header);
                return c;
              })) &
          tbb::make_filter<Copy*, Copy*>(tbb::filter_mode::serial_in_order,
                                         parallel::Task([&](Copy* c) {
                                           if (c->status.ok() && !stop.load())
                                             c->number = writer->ReserveBlock();
                                           return c;
                                         })) &
          tbb::make_filter<Copy*, Copy*>(
              tbb::filter_mode::parallel, parallel::Task([&](Copy* c) {
                if (c->number != kNone) {
                  codec.SealEncoded(c->number, c->header, c->encoded,
                                    &c->frame);
                }
                std::string().swap(c->encoded);
                return c;
              })) &
          tbb::make_filter<Copy*, void>(
              tbb::filter_mode::serial_in_order, parallel::Task([&](Copy* c) {
                std::unique_ptr<Copy> done(c);
                if (c->number != kNone && write_status.ok()) {
                  write_status = writer->AppendFrame(c->number, c->frame);
                  if (!write_status.ok()) {
                    stop.store(true);
                    return;
                  }
                  new_number[c->base] = c->number;
                  plain_len[c->base] = c->header.plain_len;
                  ++stats->blocks_copied;
                  stats->block_bytes += c->header.plain_len;
                } else if (!c->status.ok()) {
                  ++stats->unreadable_blocks;
                }
              })));
  MIGSTORE_RETURN_IF_ERROR(write_status);
  MIGSTORE_RETURN_IF_ERROR(stopped());

  // 5. The wanted contents whose blocks all arrived, renumbered into the
  //    new store in base order, each checked against its blocks first: a
  //    base record the writer would refuse must cost a re-read, not the
  //    capture. Content segments are read in parallel and added in order.
  out.added_.assign(wanted.words(), 0);
  out.first_ = writer->content_count();
  struct Added {
    size_t segment = 0;
    std::vector<std::pair<uint64_t, format::Content>> contents;
  };
  size_t next_segment = 0;
  Status add_status;  // the sink's; the source sees `add_failed`
  std::atomic<bool> add_failed{false};
  parallel::Pipeline(
      8,
      tbb::make_filter<void, Added*>(
          tbb::filter_mode::serial_in_order,
          parallel::Task([&](tbb::flow_control& fc) -> Added* {
            if (next_segment == csegs.size() || add_failed.load() ||
                cancelled()) {
              fc.stop();
              return nullptr;
            }
            auto* a = new Added;
            a->segment = next_segment++;
            return a;
          })) &
          tbb::make_filter<Added*, Added*>(
              tbb::filter_mode::parallel, parallel::Task([&](Added* a) {
                auto contents = r.ReadContentSegment(a->segment);
                if (!contents.ok()) return a;
                const uint64_t first = csegs[a->segment].first_id;
                for (size_t k = 0; k < contents->size(); ++k) {
                  format::Content& c = (*contents)[k];
                  if (!wanted.Has(first + k)) continue;
                  bool usable = true;
                  for (const format::Chunk& ch : c.chunks) {
                    usable = usable && ch.block < block_count &&
                             new_number[ch.block] != kNone && ch.length > 0 &&
                             ch.offset <= plain_len[ch.block] &&
                             ch.length <= plain_len[ch.block] - ch.offset;
                  }
                  if (!usable) continue;
                  for (format::Chunk& ch : c.chunks)
                    ch.block = new_number[ch.block];
                  a->contents.emplace_back(first + k, std::move(c));
                }
                return a;
              })) &
          tbb::make_filter<Added*, void>(
              tbb::filter_mode::serial_in_order, parallel::Task([&](Added* a) {
                std::unique_ptr<Added> done(a);
                for (const auto& [base, c] : a->contents) {
                  if (!add_status.ok()) return;
                  auto n = writer->AddContent(c);
                  if (!n.ok()) {
                    add_status = n.status();
                  } else if (*n != out.first_ + out.count_) {
                    add_status = Status::InvalidArgument(
                        "the new store numbered a base content out of turn");
                  } else {
                    out.Added(base, c.size);
                  }
                  add_failed.store(!add_status.ok());
                }
              })));
  MIGSTORE_RETURN_IF_ERROR(add_status);
  MIGSTORE_RETURN_IF_ERROR(stopped());
  out.Rank();
  return out;
}

}  // namespace migstore::capture
