#include "engine/src/capture/base_store.h"

#include <oneapi/tbb/parallel_pipeline.h>

#include <xxhash.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <compare>
#include <memory>
#include <span>
#include <unordered_map>

#include "engine/base/parallel.h"
#include "engine/base/unique_fd.h"
#include "engine/src/fs/change_time.h"
#include "engine/src/store/open_store.h"
#include "migstore/key.h"

namespace migstore::capture {
namespace {

// A base block is copied only when at least this share of its bytes is
// taken over; below it, its files are read again and the dead bytes stay
// behind (docs/design.md "Incremental capture").
constexpr double kMinLiveShare = 0.5;

constexpr uint64_t kNone = UINT64_MAX;

// A wanted base content, by its number in the base, held for the length
// of the copy: its chunks in an array shared by all (`KeptChunks`), its
// data ranges only when it is sparse. As a format::Content each, a million
// small files' records took 110 MB; so, 64.
struct Kept {
  uint64_t id = 0;
  uint64_t size = 0;
  format::Hash128 hash{};
  uint32_t first_chunk = 0;
  uint32_t chunk_count = 0;
  // Non-null: sparse, with these ranges (maybe none).
  std::unique_ptr<std::vector<format::DataRange>> ranges;
};
bool ById(const Kept& a, const Kept& b) { return a.id < b.id; }

struct KeptChunks {
  std::vector<format::Chunk> all;
  std::span<format::Chunk> Of(const Kept& k) {
    return {all.data() + k.first_chunk, k.chunk_count};
  }
  // Adds `c`'s chunks; false when the array would outgrow its offsets.
  bool Keep(uint64_t id, format::Content* c, std::vector<Kept>* kept) {
    if (all.size() + c->chunks.size() > UINT32_MAX) return false;
    Kept k;
    k.id = id;
    k.size = c->size;
    k.hash = c->hash;
    k.first_chunk = static_cast<uint32_t>(all.size());
    k.chunk_count = static_cast<uint32_t>(c->chunks.size());
    if (c->sparse) {
      k.ranges = std::make_unique<std::vector<format::DataRange>>(
          std::move(c->ranges));
    }
    all.insert(all.end(), c->chunks.begin(), c->chunks.end());
    kept->push_back(std::move(k));
    return true;
  }
};

// A path's XXH3-128, compared as two integers (compared as bytes, the
// lookups were a seventh of an unchanged million-file capture).
struct PathKey {
  uint64_t high = 0;
  uint64_t low = 0;
  auto operator<=>(const PathKey&) const = default;
};

PathKey KeyOf(std::string_view path) {
  const XXH128_hash_t h = XXH3_128bits(path.data(), path.size());
  return {h.high64, h.low64};
}

}  // namespace

// A file entry of the base, 48 bytes: a million of them cost 48 MB for the
// length of the take-over, not the paths themselves.
struct BaseStore::File {
  PathKey key;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t content = 0;
};

BaseStore::~BaseStore() = default;

size_t BaseStore::file_count() const { return files_.size(); }

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
  const format::ContainerReader& r = *base->reader_;
  if (auto created = r.property("created")) {
    try {
      base->created_ns_ = std::stoll(std::string(*created));
    } catch (const std::exception&) {
      base->created_ns_.reset();
    }
  }

  const size_t segments = r.index().catalog_segments.size();
  std::vector<std::vector<File>> parts(segments);
  std::vector<uint32_t> lost(segments, 0);
  parallel::ParallelFor(size_t{0}, segments, [&](size_t i) {
    auto entries = r.ReadCatalogSegment(i);
    if (!entries.ok()) {
      lost[i] = r.index().catalog_segments[i].entry_count;
      return;
    }
    for (const format::Entry& e : *entries) {
      // Hard-link members share a content with names the new capture may
      // not have; they are read again (rare, and always right).
      if (e.type != format::EntryType::kFile || !e.content.has_value() ||
          e.link_group != 0 || !e.ctime_ns.has_value()) {
        continue;
      }
      parts[i].push_back(
          {KeyOf(e.path), e.size, e.mtime_ns, *e.ctime_ns, *e.content});
    }
  });
  size_t n = 0;
  for (const auto& p : parts) n += p.size();
  base->files_.reserve(n);
  for (size_t i = 0; i < segments; ++i) {
    base->files_.insert(base->files_.end(), parts[i].begin(), parts[i].end());
    std::vector<File>().swap(parts[i]);
    base->lost_entries_ += lost[i];
  }
  std::sort(base->files_.begin(), base->files_.end(),
            [](const File& a, const File& b) { return a.key < b.key; });
  return base;
}

Result<std::vector<TakenOver>> BaseStore::TakeOver(
    const WalkedEntries& entries, std::vector<FileJob>* jobs,
    format::ContainerWriter* writer, const TakeOverOptions& options,
    TakeOverStats* stats) {
  const format::ContainerReader& r = *reader_;
  if (!created_ns_.has_value()) return std::vector<TakenOver>();
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

  // 1. The jobs the base holds unchanged, and the contents they need: the
  //    jobs' path keys, sorted, walked beside the base's sorted files (a
  //    binary search each, a dozen cache misses in 48 MB, cost a seventh
  //    of an unchanged million-file capture).
  struct JobKey {
    PathKey key;
    size_t job = 0;
  };
  std::vector<JobKey> keys(jobs->size());
  parallel::ParallelFor(size_t{0}, jobs->size(), [&](size_t j) {
    keys[j] = {KeyOf(entries[(*jobs)[j].entry].path), j};
  });
  std::sort(keys.begin(), keys.end(),
            [](const JobKey& a, const JobKey& b) { return a.key < b.key; });
  std::vector<int64_t> base_content(jobs->size(), -1);
  std::vector<uint64_t> wanted;
  auto f = files_.begin();
  for (const JobKey& k : keys) {
    while (f != files_.end() && f->key < k.key) ++f;
    if (f == files_.end()) break;
    if (f->key != k.key) continue;
    const FileJob& job = (*jobs)[k.job];
    const WalkedEntry& e = entries[job.entry];
    // A hard link is read again: its content is shared with names the
    // base may not have had.
    if (!job.d().links.empty() || f->size != e.size ||
        f->mtime_ns != e.mtime_ns || f->ctime_ns != e.ctime_ns ||
        f->mtime_ns >= cutoff || f->ctime_ns >= cutoff || !trusted(e)) {
      continue;
    }
    base_content[k.job] = static_cast<int64_t>(f->content);
    wanted.push_back(f->content);
  }
  std::vector<JobKey>().swap(keys);
  for (auto& [name, files] : untrusted_files)
    stats->untrusted_filesystems.emplace_back(name, files);
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  if (wanted.empty()) return std::vector<TakenOver>();

  // 2. Every base content's chunks count towards its blocks' bytes; the
  //    wanted ones are kept, in id order (segments hold ascending ids). A
  //    content segment that cannot be read loses its wanted records (their
  //    files are read again).
  const auto& csegs = r.index().content_segments;
  const size_t block_count = r.block_count();
  std::vector<std::atomic<uint64_t>> block_total(block_count);
  std::vector<std::vector<Kept>> kept_parts(csegs.size());
  std::vector<KeptChunks> chunk_parts(csegs.size());
  std::atomic<uint64_t> unreadable_segments{0};
  parallel::ParallelFor(size_t{0}, csegs.size(), [&](size_t s) {
    auto contents = r.ReadContentSegment(s);
    if (!contents.ok()) {
      unreadable_segments.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const uint64_t first = csegs[s].first_id;
    auto w = std::lower_bound(wanted.begin(), wanted.end(), first);
    for (size_t k = 0; k < contents->size(); ++k) {
      format::Content& c = (*contents)[k];
      bool chunks_ok = true;
      for (const format::Chunk& ch : c.chunks) {
        if (ch.block >= block_count) {
          chunks_ok = false;
          continue;
        }
        block_total[ch.block].fetch_add(ch.length, std::memory_order_relaxed);
      }
      const uint64_t id = first + k;
      while (w != wanted.end() && *w < id) ++w;
      if (w != wanted.end() && *w == id && chunks_ok)
        chunk_parts[s].Keep(id, &c, &kept_parts[s]);
    }
  });
  stats->unreadable_segments = unreadable_segments.load();
  std::vector<Kept> kept;
  KeptChunks chunks;
  kept.reserve(wanted.size());
  for (size_t p = 0; p < kept_parts.size(); ++p) {
    const size_t base = chunks.all.size();
    if (base + chunk_parts[p].all.size() > UINT32_MAX) break;  // read again
    chunks.all.insert(chunks.all.end(), chunk_parts[p].all.begin(),
                      chunk_parts[p].all.end());
    for (Kept& k : kept_parts[p]) {
      k.first_chunk += static_cast<uint32_t>(base);
      kept.push_back(std::move(k));
    }
    std::vector<Kept>().swap(kept_parts[p]);
    std::vector<format::Chunk>().swap(chunk_parts[p].all);
  }
  if (!std::is_sorted(kept.begin(), kept.end(), ById)) {
    std::sort(kept.begin(), kept.end(), ById);
  }

  // 3. Blocks worth copying: those whose bytes are mostly taken over. A
  //    content with a chunk in any other block is read again instead.
  std::vector<uint64_t> block_live(block_count, 0);
  for (const Kept& k : kept) {
    for (const format::Chunk& ch : chunks.Of(k))
      block_live[ch.block] += ch.length;
  }
  auto worth = [&](uint64_t b) {
    return static_cast<double>(block_live[b]) >=
           kMinLiveShare * static_cast<double>(block_total[b].load());
  };
  kept.erase(std::remove_if(kept.begin(), kept.end(),
                            [&](const Kept& k) {
                              const auto of = chunks.Of(k);
                              return !std::all_of(of.begin(), of.end(),
                                                  [&](const format::Chunk& ch) {
                                                    return worth(ch.block);
                                                  });
                            }),
             kept.end());
  std::vector<uint64_t>().swap(block_live);
  std::vector<uint64_t> blocks;
  for (const Kept& k : kept) {
    for (const format::Chunk& ch : chunks.Of(k)) blocks.push_back(ch.block);
  }
  std::sort(blocks.begin(), blocks.end());
  blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());

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
  if (options.cancelled && options.cancelled())
    return Status::Cancelled("capture cancelled");

  // 5. The contents whose blocks all arrived, renumbered into the new
  //    store (kNone: read again), each checked against its blocks and its
  //    file first: a base record the writer would refuse must cost a
  //    re-read, not the capture. Then the jobs they serve leave the list.
  std::vector<uint64_t> new_content(kept.size(), kNone);
  format::Content c;
  for (size_t i = 0; i < kept.size(); ++i) {
    const Kept& k = kept[i];
    bool usable = true;
    for (const format::Chunk& ch : chunks.Of(k)) {
      usable = usable && new_number[ch.block] != kNone && ch.length > 0 &&
               ch.offset <= plain_len[ch.block] &&
               ch.length <= plain_len[ch.block] - ch.offset;
    }
    if (!usable) continue;
    c.size = k.size;
    c.hash = k.hash;
    c.sparse = k.ranges != nullptr;
    c.ranges = c.sparse ? *k.ranges : std::vector<format::DataRange>();
    const auto of = chunks.Of(k);
    c.chunks.assign(of.begin(), of.end());
    for (format::Chunk& ch : c.chunks) ch.block = new_number[ch.block];
    MIGSTORE_ASSIGN_OR_RETURN(new_content[i], writer->AddContent(c));
  }
  auto content_of = [&](uint64_t base_id) -> std::pair<uint64_t, uint64_t> {
    auto it =
        std::lower_bound(kept.begin(), kept.end(), base_id,
                         [](const Kept& k, uint64_t id) { return k.id < id; });
    if (it == kept.end() || it->id != base_id) return {kNone, 0};
    return {new_content[static_cast<size_t>(it - kept.begin())], it->size};
  };

  std::vector<TakenOver> out;
  size_t kept_jobs = 0;
  for (size_t j = 0; j < jobs->size(); ++j) {
    FileJob& job = (*jobs)[j];
    if (base_content[j] >= 0) {
      const auto [n, size] = content_of(static_cast<uint64_t>(base_content[j]));
      if (n != kNone && size == entries[job.entry].size) {
        out.push_back({job.entry, n});
        ++stats->files;
        stats->bytes += entries[job.entry].size;
        continue;
      }
      ++stats->files_read_again;
    }
    if (kept_jobs != j) (*jobs)[kept_jobs] = std::move(job);
    ++kept_jobs;
  }
  jobs->resize(kept_jobs);
  std::sort(out.begin(), out.end(), [](const TakenOver& a, const TakenOver& b) {
    return a.entry < b.entry;
  });
  return out;
}

}  // namespace migstore::capture
