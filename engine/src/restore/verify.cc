// Verify: the catalog first (every catalog and content segment), then each
// distinct content once, in parallel and in block order through a
// BlockPool, so every data block is opened once; then the verdicts, file by
// file, in catalog order.

#include "migstore/verify.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>

#include "engine/src/report/reporter.h"
#include "engine/src/restore/block_pool.h"
#include "engine/src/restore/store_catalog.h"
#include "engine/src/store/key_rep.h"
#include "format/container_reader.h"

namespace migstore {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

const char* VerifyModeName(VerifyMode mode) {
  switch (mode) {
    case VerifyMode::kSummary:
      return "summary";
    case VerifyMode::kAll:
      return "all";
    case VerifyMode::kFailures:
      return "failures";
    case VerifyMode::kCatalog:
      return "catalog";
  }
  return "summary";
}

Result<VerifyMode> ParseVerifyMode(std::string_view text) {
  if (text == "failureonly") return VerifyMode::kFailures;
  for (VerifyMode m : {VerifyMode::kSummary, VerifyMode::kAll,
                       VerifyMode::kFailures, VerifyMode::kCatalog}) {
    if (text == VerifyModeName(m)) return m;
  }
  return Status::InvalidArgument(
      "unknown verify mode (summary, all, failures or catalog)", text);
}

Result<VerifyReport> Verify(const VerifyOptions& o, RestoreObserver* observer) {
  const auto start = Clock::now();
  if (o.store_path.empty()) return Status::InvalidArgument("no store given");
  if (o.threads < 0 || o.threads > 1024)
    return Status::InvalidArgument("--threads out of range");
  report::Reporter<RestoreObserver> reporter(observer, start);
  reporter.Phase("Verifying");
  MIGSTORE_ASSIGN_OR_RETURN(
      auto reader,
      format::ContainerReader::Open(o.store_path, internal::SourceOf(o.key)));
  const format::StoreIndex& x = reader->index();
  VerifyReport report;
  report.entries = x.entry_count;
  const int threads =
      o.threads > 0 ? o.threads : std::max(1, tbb::info::default_concurrency());
  tbb::task_arena arena(threads);
  arena.execute([&] {
    // The catalog: entries, then every content segment.
    restore::Catalog catalog = restore::LoadCatalog(*reader);
    for (const restore::LostSegment& lost : catalog.lost) {
      report.catalog_intact = false;
      report.entries_lost += lost.entries;
      report.catalog_damage.push_back(
          "catalog segment " + std::to_string(lost.segment) + " (" +
          std::to_string(lost.entries) + " entries from " + lost.first_path +
          "): " + lost.status.ToString());
    }
    std::vector<Result<std::vector<format::Content>>> segments(
        x.content_segments.size(), Status::Corruption("not read"));
    tbb::parallel_for(size_t{0}, segments.size(), [&](size_t i) {
      segments[i] = reader->ReadContentSegment(i);
    });
    for (size_t i = 0; i < segments.size(); ++i) {
      if (segments[i].ok()) continue;
      report.catalog_intact = false;
      report.catalog_damage.push_back(
          "content segment " + std::to_string(i) + " (" +
          std::to_string(x.content_segments[i].record_count) +
          " file contents): " + segments[i].status().ToString());
    }
    if (o.mode == VerifyMode::kCatalog) return;

    // Each file's content record, checked against its entry.
    const std::vector<format::Entry>& entries = catalog.entries;
    std::vector<Status> verdict(entries.size());
    std::vector<const format::Content*> content_of(entries.size(), nullptr);
    std::vector<std::vector<size_t>> users_of;  // by distinct content
    std::vector<const format::Content*> distinct;
    std::unordered_map<uint64_t, size_t> slot_of;  // content id -> distinct
    for (size_t i = 0; i < entries.size(); ++i) {
      const format::Entry& e = entries[i];
      if (e.type != format::EntryType::kFile || !e.content) continue;
      uint64_t id = *e.content;
      size_t seg = format::ContentSegmentOf(x, id);
      if (!segments[seg].ok()) {
        verdict[i] = segments[seg].status();
        continue;
      }
      const format::Content& c = (*segments[seg])[static_cast<size_t>(
          id - x.content_segments[seg].first_id)];
      if (Status s = format::ContainerReader::CheckContentFor(e, c); !s.ok()) {
        verdict[i] = s;
        continue;
      }
      auto [it, fresh] = slot_of.emplace(id, distinct.size());
      if (fresh) {
        distinct.push_back(&c);
        users_of.emplace_back();
      }
      users_of[it->second].push_back(i);
    }

    // Each distinct content once, in the order of its first block.
    std::vector<size_t> order(distinct.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    auto first = [&](size_t k) -> std::pair<uint64_t, uint64_t> {
      const format::Content* c = distinct[k];
      if (c->chunks.empty()) return {UINT64_MAX, 0};
      return {c->chunks[0].block, c->chunks[0].offset};
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return first(a) < first(b); });
    auto blocks_of = [](const format::Content& c) {
      std::vector<uint64_t> out;
      for (const format::Chunk& ch : c.chunks) out.push_back(ch.block);
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      return out;
    };
    std::vector<uint32_t> uses(reader->block_count(), 0);
    for (const format::Content* c : distinct) {
      for (uint64_t b : blocks_of(*c)) {
        if (b < uses.size()) ++uses[b];
      }
    }
    uint64_t total = 0;
    for (const format::Content* c : distinct) total += c->stored_size();
    reporter.SetTotals(distinct.size(), total);
    restore::BlockPool pool(*reader, std::move(uses), uint64_t{256} << 20);
    std::vector<Status> content_verdict(distinct.size());
    tbb::parallel_for(
        tbb::blocked_range<size_t>(0, order.size()),
        [&](const tbb::blocked_range<size_t>& r) {
          for (size_t n = r.begin(); n != r.end(); ++n) {
            const format::Content& c = *distinct[order[n]];
            if (!reporter.Poll()) {
              content_verdict[order[n]] = reader->ReadContentDataFrom(
                  c, [](std::string_view) { return Status::OK(); },
                  [&](uint64_t b) { return pool.Acquire(b); });
            }
            for (uint64_t b : blocks_of(c)) pool.Release(b);
            reporter.Add(c.stored_size(), 1);
          }
        });
    for (size_t k = 0; k < distinct.size(); ++k) {
      for (size_t i : users_of[k]) verdict[i] = content_verdict[k];
    }
    report.blocks_opened = pool.blocks_opened();

    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].type != format::EntryType::kFile) continue;
      ++report.files;
      if (verdict[i].ok()) {
        ++report.files_intact;
      } else {
        ++report.files_damaged;
        report.damaged.push_back({entries[i].path, verdict[i]});
      }
      if (o.mode == VerifyMode::kAll ||
          (o.mode == VerifyMode::kFailures && !verdict[i].ok())) {
        reporter.Notify([&](RestoreObserver& ob) {
          ob.OnVerified(entries[i].path, verdict[i]);
        });
      }
    }
  });
  if (reporter.cancelled()) return Status::Cancelled("verify cancelled");
  report.store_bytes_read = reader->bytes_read();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  reporter.Phase("Done");
  return report;
}

}  // namespace migstore
