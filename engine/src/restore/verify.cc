// Verify: the catalog first (every catalog and content segment), then each
// distinct content once, in parallel and in block order through a
// BlockPool, so every data block is opened once; then the verdicts, file by
// file, in catalog order.

#include "migstore/verify.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>

#include <algorithm>
#include <chrono>

#include "engine/base/parallel.h"
#include "engine/src/fs/open_beneath.h"
#include "engine/src/hardlink/linked_file.h"
#include "engine/src/report/reporter.h"
#include "engine/src/restore/block_pool.h"
#include "engine/src/restore/store_catalog.h"
#include "engine/src/store/key_rep.h"
#include "engine/src/store/open_store.h"
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

namespace {

// A hard-link store's file: its name in files/ must still hold the inode
// captured, unchanged (hardlink::LinkedFiles::Open, the check a restore
// makes too). A link broken by an application that saves by rename, or a file
// written through either name, fails there: the store no longer holds what
// was captured.
//
// And where the captured root is still there (`root_fd` >= 0), the
// original must still be that inode, or gone (wiped for the refresh): an
// original of another inode on the store's filesystem means the link was
// broken (the application saved by writing a new file and renaming it over
// the old), and the store holds an older version than the machine.
Status CheckLinkedFile(const hardlink::LinkedFiles& files, int root_fd,
                       const format::Entry& e) {
  struct stat st;
  MIGSTORE_ASSIGN_OR_RETURN(UniqueFd fd, files.Open(e, O_PATH, &st));
  if (root_fd >= 0) {
    auto original = fs::OpenBeneath(root_fd, e.path, O_PATH | O_NOFOLLOW);
    struct stat ost;
    if (original.ok() && ::fstat(original->get(), &ost) == 0 &&
        ost.st_dev == st.st_dev && ost.st_ino != st.st_ino) {
      return Status::Corruption(
          "its link was broken: the original was replaced since the capture "
          "(an application that saves by rename?), and the store holds the "
          "captured version");
    }
  }
  return Status::OK();
}

// The per-file verdicts into the report and to the observer.
void Conclude(const VerifyOptions& o, const std::vector<format::Entry>& entries,
              const std::vector<Status>& verdict,
              report::Reporter<RestoreObserver>* reporter,
              VerifyReport* report) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].type != format::EntryType::kFile) continue;
    ++report->files;
    if (verdict[i].ok()) {
      ++report->files_intact;
    } else {
      ++report->files_damaged;
      report->damaged.push_back({entries[i].path, verdict[i]});
    }
    if (o.mode == VerifyMode::kAll ||
        (o.mode == VerifyMode::kFailures && !verdict[i].ok())) {
      reporter->Notify([&](RestoreObserver& ob) {
        ob.OnVerified(entries[i].path, verdict[i]);
      });
    }
  }
}

using ContentSegments = std::vector<Result<std::vector<format::Content>>>;

// One verify of an open store: Run() checks the catalog, then the files'
// link groups and contents (a container's data blocks, or a hard-link
// store's files), and concludes file by file. Runs in the verify's arena.
class Verifier {
 public:
  Verifier(const VerifyOptions& o, const store::OpenedStore& store,
           report::Reporter<RestoreObserver>* reporter, VerifyReport* report)
      : o_(o),
        store_(store),
        reader_(*store.reader),
        x_(reader_.index()),
        reporter_(reporter),
        report_(report) {}

  void Run() {
    const restore::Catalog catalog = restore::LoadCatalog(reader_);
    const ContentSegments segments = CheckCatalog(catalog);
    if (o_.mode == VerifyMode::kCatalog) {
      LinkGroupsAsCatalogDamage(catalog);
      return;
    }
    // Each file's link group, then its content, checked against its entry.
    const std::vector<format::Entry>& entries = catalog.entries;
    std::vector<Status> verdict(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].type == format::EntryType::kFile)
        verdict[i] = catalog.LinkGroupError(entries[i]);
    }
    if (store_.hardlink()) {
      CheckLinkedFiles(entries, &verdict);
    } else {
      CheckContents(entries, segments, &verdict);
    }
    Conclude(o_, entries, verdict, reporter_, report_);
  }

 private:
  // Every catalog segment (read by LoadCatalog) and content segment; the
  // damaged ones go to the report. Returns the content segments read.
  ContentSegments CheckCatalog(const restore::Catalog& catalog) {
    for (const restore::LostSegment& lost : catalog.lost) {
      report_->catalog_intact = false;
      report_->entries_lost += lost.entries;
      report_->catalog_damage.push_back(
          "catalog segment " + std::to_string(lost.segment) + " (" +
          std::to_string(lost.entries) + " entries from " + lost.first_path +
          "): " + lost.status.ToString());
    }
    ContentSegments segments(x_.content_segments.size(),
                             Status::Corruption("not read"));
    parallel::ParallelFor(size_t{0}, segments.size(), [&](size_t i) {
      segments[i] = reader_.ReadContentSegment(i);
    });
    for (size_t i = 0; i < segments.size(); ++i) {
      if (segments[i].ok()) continue;
      report_->catalog_intact = false;
      report_->catalog_damage.push_back(
          "content segment " + std::to_string(i) + " (" +
          std::to_string(x_.content_segments[i].record_count) +
          " file contents): " + segments[i].status().ToString());
    }
    return segments;
  }

  // Without the files' verdicts (--mode catalog), a link group's damage is
  // the catalog's.
  void LinkGroupsAsCatalogDamage(const restore::Catalog& catalog) {
    std::vector<uint64_t> groups;
    for (const auto& [group, status] : catalog.bad_link_groups)
      groups.push_back(group);
    std::sort(groups.begin(), groups.end());
    for (uint64_t g : groups) {
      report_->catalog_intact = false;
      report_->catalog_damage.push_back(
          catalog.bad_link_groups.at(g).ToString());
    }
  }

  // A hard-link store: each file's link checked (CheckLinkedFile).
  void CheckLinkedFiles(const std::vector<format::Entry>& entries,
                        std::vector<Status>* verdict) {
    UniqueFd root;
    // (Only an absolute root names the same place from here.)
    if (auto r = reader_.property("root"); r && r->starts_with("/")) {
      root.reset(
          ::open(std::string(*r).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    }
    const int root_fd = root.valid() ? root.get() : -1;
    reporter_->SetTotals(entries.size(), 0);
    parallel::ParallelFor(size_t{0}, entries.size(), [&](size_t i) {
      if (entries[i].type != format::EntryType::kFile || reporter_->Poll())
        return;
      if ((*verdict)[i].ok())
        (*verdict)[i] = CheckLinkedFile(*store_.linked, root_fd, entries[i]);
      reporter_->Add(0, 1);
    });
  }

  // A container: each file's content record checked against its entry,
  // then each distinct content read once, in the order of its first block,
  // through a BlockPool so every data block is opened once.
  void CheckContents(const std::vector<format::Entry>& entries,
                     const ContentSegments& segments,
                     std::vector<Status>* verdict) {
    std::vector<std::vector<size_t>> users_of;  // by distinct content
    std::vector<const format::Content*> distinct;
    std::unordered_map<uint64_t, size_t> slot_of;  // content id -> distinct
    for (size_t i = 0; i < entries.size(); ++i) {
      const format::Entry& e = entries[i];
      if (e.type != format::EntryType::kFile || !e.content ||
          !(*verdict)[i].ok())
        continue;
      uint64_t id = *e.content;
      size_t seg = format::ContentSegmentOf(x_, id);
      if (!segments[seg].ok()) {
        (*verdict)[i] = segments[seg].status();
        continue;
      }
      const format::Content& c = (*segments[seg])[static_cast<size_t>(
          id - x_.content_segments[seg].first_id)];
      if (Status s = format::ContainerReader::CheckContentFor(e, c); !s.ok()) {
        (*verdict)[i] = s;
        continue;
      }
      auto [it, fresh] = slot_of.emplace(id, distinct.size());
      if (fresh) {
        distinct.push_back(&c);
        users_of.emplace_back();
      }
      users_of[it->second].push_back(i);
    }
    const std::vector<Status> content_verdict = ReadContents(distinct);
    for (size_t k = 0; k < distinct.size(); ++k) {
      for (size_t i : users_of[k]) (*verdict)[i] = content_verdict[k];
    }
  }

  // Each content's data read and checked, in parallel and in block order;
  // a verdict per content.
  std::vector<Status> ReadContents(
      const std::vector<const format::Content*>& distinct) {
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
    std::vector<uint32_t> uses(reader_.block_count(), 0);
    for (const format::Content* c : distinct) {
      for (uint64_t b : blocks_of(*c)) {
        if (b < uses.size()) ++uses[b];
      }
    }
    uint64_t total = 0;
    for (const format::Content* c : distinct) total += c->stored_size();
    reporter_->SetTotals(distinct.size(), total);
    restore::BlockPool pool(reader_, std::move(uses), uint64_t{256} << 20);
    std::vector<Status> content_verdict(distinct.size());
    parallel::ParallelFor(
        tbb::blocked_range<size_t>(0, order.size()),
        [&](const tbb::blocked_range<size_t>& r) {
          for (size_t n = r.begin(); n != r.end(); ++n) {
            const format::Content& c = *distinct[order[n]];
            if (!reporter_->Poll()) {
              content_verdict[order[n]] = reader_.ReadContentDataFrom(
                  c, [](std::string_view) { return Status::OK(); },
                  [&](uint64_t b) { return pool.Acquire(b); });
            }
            for (uint64_t b : blocks_of(c)) pool.Release(b);
            reporter_->Add(c.stored_size(), 1);
          }
        });
    report_->blocks_opened = pool.blocks_opened();
    return content_verdict;
  }

  const VerifyOptions& o_;
  const store::OpenedStore& store_;
  const format::ContainerReader& reader_;
  const format::StoreIndex& x_;
  report::Reporter<RestoreObserver>* reporter_;
  VerifyReport* report_;
};

}  // namespace

Result<VerifyReport> Verify(const VerifyOptions& o, RestoreObserver* observer) {
  const auto start = Clock::now();
  if (o.store_path.empty()) return Status::InvalidArgument("no store given");
  if (o.threads < 0 || o.threads > 1024)
    return Status::InvalidArgument("--threads out of range");
  report::Reporter<RestoreObserver> reporter(observer, start);
  reporter.Phase("Verifying");
  MIGSTORE_ASSIGN_OR_RETURN(
      store::OpenedStore store,
      store::OpenStoreForReading(o.store_path, internal::SourceOf(o.key),
                                 o.key_policy));
  VerifyReport report;
  report.entries = store.reader->index().entry_count;
  const int threads =
      o.threads > 0 ? o.threads : std::max(1, tbb::info::default_concurrency());
  parallel::Arena arena(threads);
  Verifier verifier(o, store, &reporter, &report);
  arena.Execute([&] { verifier.Run(); });
  if (reporter.cancelled()) return Status::Cancelled("verify cancelled");
  report.store_bytes_read = store.reader->bytes_read();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  reporter.Phase("Done");
  return report;
}

}  // namespace migstore
