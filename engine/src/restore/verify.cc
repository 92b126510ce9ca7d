// Verify: the catalog scanned a window at a time, every content segment
// checked, every content read once, a content segment at a time and in
// block order through a BlockPool, so every data block is opened once;
// then the verdicts, file by file, in catalog order, a window at a time
// (docs/design.md, "Verify in passes").

#include "migstore/verify.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

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

// The distinct blocks a content's chunks lie in, ascending.
std::vector<uint64_t> BlocksOf(const format::Content& c) {
  std::vector<uint64_t> out;
  for (const format::Chunk& ch : c.chunks) out.push_back(ch.block);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// One verify of an open store: Run() checks the catalog, then the files'
// link groups and contents (a container's data blocks, or a hard-link
// store's files), and concludes file by file. Runs in the verify's arena.
//
// It holds a window of the catalog at a time (VerifyOptions::
// window_entries; docs/design.md, "Bounded memory"), in passes: the
// catalog scanned (lost segments, damaged link groups), every content
// segment read (its damage, the blocks its contents use), every content
// read a content segment at a time, then the files concluded window by
// window. What spans the passes is small: a count a block, the contents
// that failed. (Every content is read, not only those of files found
// intact: in a store whose catalog is whole they are the same contents,
// and telling them apart would take a table of every content, the memory
// this saves. Only files are told: a content no file read names is read
// for nothing.)
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
    const std::vector<restore::CatalogWindow> windows =
        restore::CatalogWindows(x_, o_.window_entries);
    const bool container = !store_.hardlink();
    catalog_ = restore::ScanCatalog(reader_, windows, nullptr);
    ReportLost(0);
    CheckContentSegments();
    if (o_.mode == VerifyMode::kCatalog) {
      LinkGroupsAsCatalogDamage();
      return;
    }
    if (container) ReadContents();
    const bool one = windows.size() == 1;
    for (const restore::CatalogWindow& w : windows) {
      if (reporter_->Poll()) return;
      std::vector<format::Entry> read;
      if (!one) {
        // A segment that read in the scan and fails now is damage too.
        const size_t lost = catalog_.lost.size();
        read = restore::ReadWindow(reader_, w, &catalog_.lost);
        ReportLost(lost);
      }
      const std::vector<format::Entry>& entries = one ? catalog_.entries : read;
      std::vector<Status> verdict(entries.size());
      for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].type == format::EntryType::kFile)
          verdict[i] = catalog_.LinkGroupError(entries[i]);
      }
      if (container) {
        ConcludeContents(entries, &verdict);
      } else {
        CheckLinkedFiles(entries, &verdict);
      }
      Conclude(o_, entries, verdict, reporter_, report_);
    }
  }

 private:
  // The catalog segments lost from lost_[from] on, into the report.
  void ReportLost(size_t from) {
    for (size_t k = from; k < catalog_.lost.size(); ++k) {
      const restore::LostSegment& lost = catalog_.lost[k];
      report_->catalog_intact = false;
      report_->entries_lost += lost.entries;
      report_->catalog_damage.push_back(
          "catalog segment " + std::to_string(lost.segment) + " (" +
          std::to_string(lost.entries) + " entries from " + lost.first_path +
          "): " + lost.status.ToString());
    }
  }

  // Every content segment read (in parallel, one at a time a thread); the
  // damaged ones go to the report. Of the others, the blocks of each
  // content are counted, for the pool and the progress line.
  void CheckContentSegments() {
    segment_status_.assign(x_.content_segments.size(), Status::OK());
    uses_.assign(reader_.block_count(), 0);
    std::mutex mu;
    parallel::ParallelFor(size_t{0}, segment_status_.size(), [&](size_t i) {
      Result<std::vector<format::Content>> seg = reader_.ReadContentSegment(i);
      if (!seg.ok()) {
        segment_status_[i] = seg.status();
        return;
      }
      std::vector<uint64_t> blocks;
      uint64_t contents = 0, bytes = 0;
      for (const format::Content& c : *seg) {
        ++contents;
        bytes += c.stored_size();
        for (uint64_t b : BlocksOf(c)) blocks.push_back(b);
      }
      std::lock_guard<std::mutex> hold(mu);
      for (uint64_t b : blocks) {
        if (b < uses_.size()) ++uses_[b];
      }
      contents_ += contents;
      bytes_ += bytes;
    });
    for (size_t i = 0; i < segment_status_.size(); ++i) {
      if (!segment_status_[i].ok()) ReportContentSegment(i);
    }
  }

  // Content segment i's damage, into the report.
  void ReportContentSegment(size_t i) {
    report_->catalog_intact = false;
    report_->catalog_damage.push_back(
        "content segment " + std::to_string(i) + " (" +
        std::to_string(x_.content_segments[i].record_count) +
        " file contents): " + segment_status_[i].ToString());
  }

  // Without the files' verdicts (--mode catalog), a link group's damage is
  // the catalog's.
  void LinkGroupsAsCatalogDamage() {
    std::vector<uint64_t> groups;
    for (const auto& [group, status] : catalog_.bad_link_groups)
      groups.push_back(group);
    std::sort(groups.begin(), groups.end());
    for (uint64_t g : groups) {
      report_->catalog_intact = false;
      report_->catalog_damage.push_back(
          catalog_.bad_link_groups.at(g).ToString());
    }
  }

  // A hard-link store: each file's link checked (CheckLinkedFile).
  void CheckLinkedFiles(const std::vector<format::Entry>& entries,
                        std::vector<Status>* verdict) {
    if (!root_checked_) {
      root_checked_ = true;
      // (Only an absolute root names the same place from here.)
      if (auto r = reader_.property("root"); r && r->starts_with("/")) {
        root_.reset(
            ::open(std::string(*r).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      }
      reporter_->SetTotals(x_.entry_count, 0);
    }
    const int root_fd = root_.valid() ? root_.get() : -1;
    parallel::ParallelFor(size_t{0}, entries.size(), [&](size_t i) {
      if (entries[i].type != format::EntryType::kFile || reporter_->Poll())
        return;
      if ((*verdict)[i].ok())
        (*verdict)[i] = CheckLinkedFile(*store_.linked, root_fd, entries[i]);
      reporter_->Add(0, 1);
    });
  }

  // Each content read once, a content segment at a time, in the order of
  // its first block within the segment (contents are stored in id order,
  // so this is the blocks' order too), through one BlockPool so every
  // data block is opened once. Only the failures are kept.
  void ReadContents() {
    reporter_->SetTotals(contents_, bytes_);
    restore::BlockPool pool(reader_, std::move(uses_), uint64_t{256} << 20);
    std::mutex mu;
    for (size_t i = 0; i < segment_status_.size(); ++i) {
      if (!segment_status_[i].ok() || reporter_->cancelled()) continue;
      Result<std::vector<format::Content>> seg = reader_.ReadContentSegment(i);
      if (!seg.ok()) {
        // It read a moment ago: damage too, and its files' now. (Its
        // blocks' uses stay counted: the pool drops them past its size.)
        segment_status_[i] = seg.status();
        ReportContentSegment(i);
        continue;
      }
      const std::vector<format::Content>& contents = *seg;
      std::vector<uint32_t> order(contents.size());
      for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
      auto first = [&](uint32_t k) {
        const format::Content& c = contents[k];
        return c.chunks.empty() ? std::pair<uint64_t, uint64_t>{UINT64_MAX, 0}
                                : std::pair<uint64_t, uint64_t>{
                                      c.chunks[0].block, c.chunks[0].offset};
      };
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return first(a) < first(b);
      });
      const uint64_t first_id = x_.content_segments[i].first_id;
      parallel::ParallelFor(
          tbb::blocked_range<size_t>(0, order.size()),
          [&](const tbb::blocked_range<size_t>& r) {
            for (size_t n = r.begin(); n != r.end(); ++n) {
              const format::Content& c = contents[order[n]];
              if (!reporter_->Poll()) {
                Status s = reader_.ReadContentDataFrom(
                    c, [](std::string_view) { return Status::OK(); },
                    [&](uint64_t b) { return pool.Acquire(b); });
                if (!s.ok()) {
                  std::lock_guard<std::mutex> hold(mu);
                  content_failures_.emplace(first_id + order[n], std::move(s));
                }
              }
              for (uint64_t b : BlocksOf(c)) pool.Release(b);
              reporter_->Add(c.stored_size(), 1);
            }
          });
    }
    report_->blocks_opened = pool.blocks_opened();
  }

  // A container's files: each one's content record checked against its
  // entry, then the verdict of reading that content.
  void ConcludeContents(const std::vector<format::Entry>& entries,
                        std::vector<Status>* verdict) {
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < entries.size(); ++i) {
      const format::Entry& e = entries[i];
      // (A segment known to be damaged is not read again.)
      if (e.type == format::EntryType::kFile && e.content &&
          (*verdict)[i].ok() &&
          segment_status_[format::ContentSegmentOf(x_, *e.content)].ok())
        ids.push_back(*e.content);
    }
    const restore::ContentTable contents =
        restore::ContentTable::Load(reader_, std::move(ids));
    for (size_t i = 0; i < entries.size(); ++i) {
      const format::Entry& e = entries[i];
      if (e.type != format::EntryType::kFile || !e.content ||
          !(*verdict)[i].ok())
        continue;
      const size_t seg = format::ContentSegmentOf(x_, *e.content);
      if (seg < segment_status_.size() && !segment_status_[seg].ok()) {
        (*verdict)[i] = segment_status_[seg];
        continue;
      }
      if (Result<const format::Content*> c = contents.For(e); !c.ok()) {
        (*verdict)[i] = c.status();
        continue;
      }
      if (auto it = content_failures_.find(*e.content);
          it != content_failures_.end())
        (*verdict)[i] = it->second;
    }
  }

  const VerifyOptions& o_;
  const store::OpenedStore& store_;
  const format::ContainerReader& reader_;
  const format::StoreIndex& x_;
  report::Reporter<RestoreObserver>* reporter_;
  VerifyReport* report_;
  restore::Catalog catalog_;            // its entries only when one window
  std::vector<Status> segment_status_;  // by content segment
  std::vector<uint32_t> uses_;          // by block: contents in it
  uint64_t contents_ = 0, bytes_ = 0;   // in intact segments
  std::unordered_map<uint64_t, Status> content_failures_;  // by id
  UniqueFd root_;  // a hard-link store's captured root, where still there
  bool root_checked_ = false;
};

}  // namespace

Result<VerifyReport> Verify(const VerifyOptions& o, RestoreObserver* observer) {
  const auto start = Clock::now();
  if (o.store_path.empty()) return Status::InvalidArgument("no store given");
  if (o.threads < 0 || o.threads > 1024)
    return Status::InvalidArgument("--threads out of range");
  if (o.window_entries == 0)
    return Status::InvalidArgument("window_entries must be at least 1");
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
