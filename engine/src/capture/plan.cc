#include "engine/src/capture/plan.h"

#include <optional>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "engine/base/parallel.h"
#include "engine/src/capture/compressed_types.h"
#include "format/hash.h"
#include "format/limits.h"

namespace migstore::capture {
namespace {

constexpr size_t kReadChunk = size_t{4} << 20;

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    return std::hash<uint64_t>()(p.first * 0x9e3779b97f4a7c15ULL ^ p.second);
  }
};

// Streams a file's stored bytes through `fn`, checking it does not change.
Status ForEachStoredChunk(const SourceFile& file, const FileJob& job,
                          const std::function<bool(std::string_view)>& fn) {
  const std::vector<format::DataRange> whole = {{0, job.d().snapshot.size}};
  std::string buf;
  for (const format::DataRange& r : job.d().ranges ? *job.d().ranges : whole) {
    for (uint64_t at = 0; at < r.length;) {
      size_t n =
          static_cast<size_t>(std::min<uint64_t>(kReadChunk, r.length - at));
      buf.resize(n);
      MIGSTORE_RETURN_IF_ERROR(file.ReadAt(r.offset + at, n, buf.data()));
      if (!fn(buf)) return Status::OK();
      at += n;
    }
  }
  return Status::OK();
}

// XXH3-128 of a large file's stored bytes, or nullopt if it cannot be read
// or changes meanwhile (it is then simply not deduplicated).
std::optional<format::Hash128> HashLarge(int root_fd, const WalkedEntry& e,
                                         const FileJob& job) {
  auto file = SourceFile::Open(root_fd, e);
  if (!file.ok()) return std::nullopt;
  format::ContentHasher hasher;
  Status s = ForEachStoredChunk(*file, job, [&](std::string_view piece) {
    hasher.Update(piece);
    return true;
  });
  auto after = file->Stat();
  if (!s.ok() || !after.ok() || *after != job.d().snapshot) return std::nullopt;
  return hasher.Digest();
}

// Whether `b` holds exactly `a`'s stored bytes, both unchanged.
bool SameBytes(int root_fd, const WalkedEntry& ea, const FileJob& a,
               const WalkedEntry& eb, const FileJob& b) {
  auto fa = SourceFile::Open(root_fd, ea);
  auto fb = SourceFile::Open(root_fd, eb);
  if (!fa.ok() || !fb.ok()) return false;
  uint64_t at = 0;
  std::string other;
  bool equal = true;
  const std::vector<format::DataRange> whole = {{0, b.d().snapshot.size}};
  const auto& b_ranges = b.d().ranges ? *b.d().ranges : whole;
  Status s = ForEachStoredChunk(*fa, a, [&](std::string_view piece) {
    // Stored bytes are compared in order; both have the same ranges.
    other.resize(piece.size());
    uint64_t skip = at;
    size_t filled = 0;
    for (const format::DataRange& r : b_ranges) {
      if (filled == piece.size()) break;
      if (skip >= r.length) {
        skip -= r.length;
        continue;
      }
      size_t n = static_cast<size_t>(
          std::min<uint64_t>(r.length - skip, piece.size() - filled));
      if (!fb->ReadAt(r.offset + skip, n, other.data() + filled).ok()) {
        equal = false;
        return false;
      }
      filled += n;
      skip = 0;
    }
    equal = filled == piece.size() &&
            std::memcmp(other.data(), piece.data(), piece.size()) == 0;
    at += piece.size();
    return equal;
  });
  auto sa = fa->Stat();
  auto sb = fb->Stat();
  return s.ok() && equal && sa.ok() && sb.ok() && *sa == a.d().snapshot &&
         *sb == b.d().snapshot;
}

}  // namespace

CapturePlan PlanCapture(const WalkedEntries& entries, size_t block_size,
                        const SmallSizes* sizes) {
  CapturePlan plan;
  std::unordered_map<std::pair<uint64_t, uint64_t>, size_t, PairHash> by_inode;
  std::vector<FileJob> jobs;
  for (size_t i = 0; i < entries.size(); ++i) {
    const WalkedEntry& e = entries[i];
    if (e.type != format::EntryType::kFile) {
      plan.others.push_back(i);
      continue;
    }
    ++plan.files;
    if (e.nlink > 1) {
      auto [it, inserted] = by_inode.try_emplace({e.dev, e.ino}, jobs.size());
      if (!inserted) {
        jobs[it->second].mutable_d().links.push_back(i);
        continue;
      }
    }
    FileJob job;
    job.entry = i;
    job.large = IsLarge(e, block_size);
    job.raw = LooksCompressed(e.path);
    plan.bytes += e.size;
    plan.data_bytes += DataBytes(e);
    jobs.push_back(std::move(job));
  }
  uint64_t group = 0;
  for (FileJob& job : jobs) {
    if (!job.d().links.empty()) {
      job.mutable_d().link_group = ++group;
      plan.hardlinked_files += 1 + job.d().links.size();
    }
  }
  // Small files that share a size may be duplicates.
  std::optional<SmallSizes> own;
  if (sizes == nullptr) {
    own.emplace(block_size);
    for (const FileJob& job : jobs) {
      if (!job.large) own->Add(entries[job.entry].size);
    }
    sizes = &*own;
  }
  for (FileJob& job : jobs) {
    if (!job.large)
      job.maybe_duplicate = sizes->Shared(entries[job.entry].size);
  }
  auto rank = [](const FileJob& j) { return j.large ? 2 : j.raw ? 1 : 0; };
  std::stable_sort(
      jobs.begin(), jobs.end(),
      [&](const FileJob& a, const FileJob& b) { return rank(a) < rank(b); });
  plan.jobs = std::move(jobs);
  return plan;
}

void PrepareLargeJobs(int root_fd, const WalkedEntries& entries,
                      std::vector<FileJob>* jobs,
                      std::vector<FileIssue>* errors,
                      const std::atomic<bool>* cancel) {
  auto cancelled = [&] { return cancel != nullptr && cancel->load(); };
  std::vector<size_t> todo;
  for (size_t i = 0; i < jobs->size(); ++i) {
    if ((*jobs)[i].large && (*jobs)[i].d().snapshot == Snapshot())
      todo.push_back(i);
  }
  // Side tables by position in `todo` and `candidates`, not by job: a
  // million tiny files must not cost a million empty slots each.
  std::vector<Status> failed_todo(todo.size());
  parallel::ParallelFor(size_t{0}, todo.size(), [&](size_t k) {
    if (cancelled()) return;
    FileJob& job = (*jobs)[todo[k]];
    const WalkedEntry& e = entries[job.entry];
    job.mutable_d().planned_ns = NowNs();
    auto file = SourceFile::Open(root_fd, e);
    auto snap = file.ok() ? Result<Snapshot>(file->opened())
                          : Result<Snapshot>(file.status());
    if (!snap.ok()) {
      failed_todo[k] = snap.status();
      return;
    }
    job.mutable_d().snapshot = *snap;
    job.mutable_d().ranges.reset();
    if (snap->blocks * 512 < snap->size) {
      auto ranges = file->DataRanges(snap->size);
      if (!ranges.ok()) {
        failed_todo[k] = ranges.status();
        return;
      }
      // A file with more holes than a content record can list is stored
      // whole: its holes come back as zeros, its bytes exactly.
      if (*ranges &&
          (*ranges)->size() <= format::limits::kMaxRangesPerContent / 2) {
        job.mutable_d().ranges = std::move(ranges).value();
      }
    }
  });

  std::unordered_map<size_t, Status> failed;  // job index -> why
  for (size_t k = 0; k < todo.size(); ++k) {
    if (!failed_todo[k].ok()) failed.emplace(todo[k], failed_todo[k]);
  }
  failed_todo.clear();

  // Large files sharing a size (and hole layout): hash, then confirm.
  std::map<std::pair<uint64_t, std::vector<format::DataRange>>,
           std::vector<size_t>>
      groups;
  for (size_t i = 0; i < jobs->size(); ++i) {
    const FileJob& job = (*jobs)[i];
    // A job that already speaks for other entries (hard links, or copies
    // confirmed in an earlier round) is never folded into another: its
    // entries would be lost with it.
    if (!job.large || failed.count(i) != 0 || !job.d().links.empty() ||
        !job.d().duplicates.empty() || job.d().snapshot.size == 0) {
      continue;
    }
    groups[{job.d().snapshot.size,
            job.d().ranges.value_or(std::vector<format::DataRange>{})}]
        .push_back(i);
  }
  std::vector<size_t> candidates;
  for (auto& [key, members] : groups) {
    if (members.size() > 1)
      candidates.insert(candidates.end(), members.begin(), members.end());
  }
  std::vector<std::optional<format::Hash128>> hashes(candidates.size());
  parallel::ParallelFor(size_t{0}, candidates.size(), [&](size_t k) {
    if (cancelled()) return;
    size_t i = candidates[k];
    hashes[k] = HashLarge(root_fd, entries[(*jobs)[i].entry], (*jobs)[i]);
  });
  std::unordered_map<size_t, format::Hash128> hash_of;  // job index -> hash
  // Within each (size, hash) bucket, the first is read; the rest are
  // confirmed against it byte for byte and become its duplicates.
  std::vector<std::pair<size_t, size_t>> pairs;  // (copy, first)
  std::map<std::pair<uint64_t, format::Hash128>, size_t> first_of;
  for (size_t k = 0; k < candidates.size(); ++k) {
    if (!hashes[k]) continue;
    const size_t i = candidates[k];
    hash_of.emplace(i, *hashes[k]);
    auto [it, inserted] =
        first_of.try_emplace({(*jobs)[i].d().snapshot.size, *hashes[k]}, i);
    if (!inserted) pairs.emplace_back(i, it->second);
  }
  std::vector<char> confirmed(pairs.size(), 0);
  parallel::ParallelFor(size_t{0}, pairs.size(), [&](size_t k) {
    if (cancelled()) return;
    auto [copy, first] = pairs[k];
    confirmed[k] =
        SameBytes(root_fd, entries[(*jobs)[first].entry], (*jobs)[first],
                  entries[(*jobs)[copy].entry], (*jobs)[copy]);
  });
  std::unordered_set<size_t> drop;
  for (size_t k = 0; k < pairs.size(); ++k) {
    if (!confirmed[k]) continue;
    auto [copy, first] = pairs[k];
    (*jobs)[first].mutable_d().duplicates.push_back((*jobs)[copy].entry);
    (*jobs)[first].mutable_d().expected_hash = hash_of.at(first);
    drop.insert(copy);
  }
  // Compacted in place: a second vector of every job would double the
  // largest table of a capture at its peak.
  if (failed.empty() && drop.empty()) return;
  size_t out = 0;
  for (size_t i = 0; i < jobs->size(); ++i) {
    if (auto f = failed.find(i); f != failed.end()) {
      errors->push_back({entries[(*jobs)[i].entry].path, f->second});
    } else if (drop.count(i) == 0) {
      if (out != i) (*jobs)[out] = std::move((*jobs)[i]);
      ++out;
    }
  }
  jobs->resize(out);
}

}  // namespace migstore::capture
