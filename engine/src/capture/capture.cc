#include "migstore/capture.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oneapi/tbb/enumerable_thread_specific.h>

#include <bit>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/base/parallel.h"
#include "engine/base/unique_fd.h"
#include "engine/src/capture/base_store.h"
#include "engine/src/capture/capture_common.h"
#include "engine/src/capture/catalog_entry.h"
#include "engine/src/capture/hardlink_capture.h"
#include "engine/src/capture/plan.h"
#include "engine/src/capture/walk.h"
#include "engine/src/fs/free_space.h"
#include "engine/src/store/backends.h"
#include "engine/src/store/given_store.h"
#include "engine/src/store/key_rep.h"
#include "format/block_codec.h"
#include "format/container_writer.h"
#include "format/limits.h"
#include "format/spill_file.h"

namespace migstore {
namespace {

using capture::CapturePlan;
using capture::FileJob;
using capture::WalkedEntries;
using capture::WalkedEntry;
using Clock = std::chrono::steady_clock;

constexpr int kRetryRounds = 3;

using capture::CaptureReporter;
using capture::Selection;
using capture::Threads;
using capture::ValidateCommon;
using capture::WalkOptionsFor;
using Reporter = CaptureReporter;

std::set<std::pair<uint64_t, uint64_t>> StoreInodes(
    const format::StoreSink& sink) {
  std::set<std::pair<uint64_t, uint64_t>> out;
  for (const std::string& p : sink.local_paths()) {
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) out.insert({st.st_dev, st.st_ino});
  }
  return out;
}

// A container capture once its store is open: the walk, the store's
// tables, then the entries a window at a time (docs/design.md, "Bounded
// memory"): those that hold no data, then the files through the pack
// pipeline in rounds (a file that changed while it was read is read again
// in the next round). An incremental capture first matches the whole walk
// against its base and copies what it takes over; each window then records
// its files taken over and packs the rest. Run() runs in the capture's
// arena.
class ContainerCapture {
 public:
  ContainerCapture(const CaptureOptions& o, const Selection& sel,
                   Reporter* reporter, CaptureReport* report,
                   format::ContainerWriter* w,
                   std::unique_ptr<capture::BaseStore> base)
      : o_(o),
        sel_(sel),
        reporter_(reporter),
        report_(report),
        w_(w),
        base_(std::move(base)) {}

  Status Run() {
    reporter_->Phase("Scanning");
    capture::WalkOptions wopt = WalkOptionsFor(o_, sel_, reporter_);
    wopt.exclude = StoreInodes(w_->sink());
    tbb::enumerable_thread_specific<Tally> tallies;
    WalkInRuns(&wopt, &tallies);
    MIGSTORE_ASSIGN_OR_RETURN(
        walked_, capture::WalkSelection(o_, sel_, wopt, reporter_, report_));

    w_->ReserveEntries(walked_.entries.count() + walked_.apart.size(),
                       walked_.entries.path_bytes());
    MIGSTORE_RETURN_IF_ERROR(capture::WriteStoreTables(
        o_, sel_, report_->layout, walked_.owners, w_, &profile_number_));
    MIGSTORE_RETURN_IF_ERROR(capture::CaptureSettings(o_, sel_, profile_number_,
                                                      w_, reporter_, report_));
    root_fd_ =
        UniqueFd(::open(o_.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd_.valid())
      return Status::FromErrno("cannot open the root " + o_.root, errno);
    if (base_ != nullptr) MIGSTORE_RETURN_IF_ERROR(TakeOverFromBase());
    MIGSTORE_RETURN_IF_ERROR(RunInWindows(tallies));
    if (reporter_->cancelled()) return Status::Cancelled("capture cancelled");
    report_->base_files = base_stats_.files;
    report_->base_bytes = base_stats_.bytes;
    report_->base_files_read_again = base_stats_.files_read_again;
    if (pipeline_ == nullptr) return Status::OK();
    MIGSTORE_RETURN_IF_ERROR(pipeline_->Flush());
    const capture::PipelineStats& ps = pipeline_->stats();
    report_->duplicate_files = ps.duplicate_files;
    report_->duplicate_bytes = ps.duplicate_bytes;
    report_->stored_bytes = ps.stored_bytes;
    report_->sparse_files = ps.sparse_files;
    return Status::OK();
  }

 private:
  // What the walk counts of the files it puts in the stream, per thread,
  // for the progress line's totals.
  struct Tally {
    uint64_t files = 0;
    uint64_t data_bytes = 0;
  };

  // Sets the walk up for windows: its threads hold about a window between
  // them and sort the rest through a scratch file, files that must be seen
  // together are set apart, and the small files' sizes are counted as they
  // are found. Without a scratch file (none can be made) the walk holds
  // everything, as it did before.
  void WalkInRuns(capture::WalkOptions* wopt,
                  tbb::enumerable_thread_specific<Tally>* tallies) {
    walk_spill_ = capture::SortWalkThroughScratch(o_, w_->SpillDirs(), wopt);
    const size_t block_size = o_.block_size;
    capture::SmallSizes* sizes = &sizes_;
    wopt->set_apart = [tallies, sizes, block_size](const WalkedEntry& e) {
      const bool large = capture::IsLarge(e, block_size);
      if (!large) sizes->Add(e.size);
      if (e.nlink > 1 || large) return true;
      Tally& t = tallies->local();
      ++t.files;
      t.data_bytes += capture::DataBytes(e);
      return false;
    };
  }

  // Windows of o_.window_entries walked entries, taken from the walk's
  // stream, then one of the files the walk set apart, that must be seen
  // together: hard links (a group is one job) and large files (checked
  // against the others of their size before the pipeline).
  Status RunInWindows(const tbb::enumerable_thread_specific<Tally>& tallies) {
    uint64_t files = 0, data_bytes = 0;
    for (const Tally& t : tallies) {
      files += t.files;
      data_bytes += t.data_bytes;
    }
    WalkedEntries& together = walked_.apart;
    // Planned once the sizes of the whole tree are known; its totals count
    // each inode of a hard-link group once.
    CapturePlan last = capture::PlanCapture(together, o_.block_size, &sizes_);
    reporter_->SetTotals(files + last.files, data_bytes + last.data_bytes);
    while (!walked_.entries.empty()) {
      WalkedEntries window;
      MIGSTORE_RETURN_IF_ERROR(
          walked_.entries.Take(o_.window_entries, &window));
      MIGSTORE_RETURN_IF_ERROR(CaptureWindow(
          &window, capture::PlanCapture(window, o_.block_size, &sizes_),
          false));
      if (reporter_->cancelled()) return Status::OK();
      // The window's entries were many small blocks, freed in the middle of
      // the heap, where glibc keeps them; what the capture allocates next
      // (the writer's runs, the registry's table) is large and mapped
      // apart. Handing the free pages back is what lets the peak fall.
      ::malloc_trim(0);
    }
    // The walk's merge and scratch file are done with: their buffers must
    // not sit beside the writer's own merge at Finish.
    walked_.entries = capture::WalkedStream();
    walk_spill_.reset();
    return CaptureWindow(&together, std::move(last), true);
  }

  // A window of the walk's stream, or (`apart`) the files it set apart.
  Status CaptureWindow(WalkedEntries* window, CapturePlan plan, bool apart) {
    window_ = window;
    MIGSTORE_RETURN_IF_ERROR(AddEntriesWithoutData(plan));
    report_->hardlinked_files += plan.hardlinked_files;
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<capture::TakenOver> taken,
        taken_over_.Take(*window, apart, &plan.jobs, &base_stats_));
    for (const capture::TakenOver& t : taken) {
      const WalkedEntry& e = (*window)[t.entry];
      ++report_->files;
      report_->bytes += e.size;
      reporter_->Add(capture::DataBytes(e), 1);
      MIGSTORE_RETURN_IF_ERROR(AddEntry(t.entry, t.content, 0));
    }
    Status s = PackFiles(std::move(plan.jobs));
    window_ = nullptr;
    return s;
  }

  Status AddEntry(size_t index, std::optional<uint64_t> content,
                  uint64_t link_group) {
    const WalkedEntry& we = (*window_)[index];
    const uint32_t profile =
        we.profile >= 0 ? profile_number_[static_cast<size_t>(we.profile)]
                        : format::kNoProfile;
    format::Entry e = capture::ToCatalogEntry(we, profile);
    e.content = content;
    e.link_group = link_group;
    MIGSTORE_RETURN_IF_ERROR(w_->AddEntry(e));
    reporter_->Notify([&](CaptureObserver& ob) { ob.OnEntryStored(we.path); });
    return Status::OK();
  }

  // Directories, symlinks and fifos: recorded as they are.
  Status AddEntriesWithoutData(const CapturePlan& plan) {
    for (size_t i : plan.others) {
      const format::EntryType type = (*window_)[i].type;
      report_->directories += type == format::EntryType::kDirectory;
      report_->symlinks += type == format::EntryType::kSymlink;
      report_->fifos += type == format::EntryType::kFifo;
      MIGSTORE_RETURN_IF_ERROR(AddEntry(i, std::nullopt, 0));
    }
    return Status::OK();
  }

  // An incremental capture: the files of the walk the base holds unchanged
  // are found, the base's blocks that hold them copied and their contents
  // recorded; the windows take the files over. The base is closed after it.
  Status TakeOverFromBase() {
    reporter_->Phase("Reusing");
    base_path_ = base_->path();
    capture::TakeOverOptions topt;
    topt.root_fd = root_fd_.get();
    topt.settle_ns = o_.base_settle_ns;
    topt.spill_dirs = w_->SpillDirs();
    topt.run_entries = o_.window_entries;
    topt.cancelled = [this] { return reporter_->cancelled(); };
    capture::TakeOverStats& stats = base_stats_;
    auto taken_or =
        base_->TakeOver(walked_.entries, walked_.apart, w_, topt, &stats);
    const uint64_t lost = base_->lost_entries();
    base_.reset();
    MIGSTORE_ASSIGN_OR_RETURN(taken_over_, std::move(taken_or));
    if (!stats.unmatched.empty()) {
      Note("the files could not be matched to the base store (" +
           stats.unmatched + "); every file is read again");
    }
    if (lost > 0) {
      Note(std::to_string(lost) +
           " entries of the base store could not be read; their files are "
           "read again");
    }
    if (stats.unreadable_blocks > 0) {
      Note(std::to_string(stats.unreadable_blocks) +
           " blocks of the base store could not be read; their files are "
           "read again");
    }
    if (stats.unreadable_segments > 0) {
      Note(std::to_string(stats.unreadable_segments) +
           " content segments of the base store could not be read; their "
           "files are read again");
    }
    for (const auto& [fs, files] : stats.untrusted_filesystems) {
      Note(std::to_string(files) + " files on a " + fs +
           " filesystem are read again: its change times cannot tell an "
           "unchanged file (docs/design.md, \"Incremental capture\")");
    }
    return Status::OK();
  }

  void Note(std::string what) {
    FileNote n{base_path_, std::move(what)};
    reporter_->Note(n);
    report_->notes.push_back(std::move(n));
  }

  Status FileError(const std::string& path, const Status& error) {
    return capture::FileError(o_, sel_, reporter_, report_, path, error);
  }

  // The pipeline, made at the first window's files; its open block and the
  // small files' duplicates carry over to the next windows.
  capture::PackPipeline* Pipeline() {
    if (pipeline_ != nullptr) return pipeline_.get();
    capture::PipelineOptions popt;
    popt.root_fd = root_fd_.get();
    popt.block_size = o_.block_size;
    popt.level = o_.level;
    popt.compress = o_.compress;
    popt.continue_on_error = o_.continue_on_error;
    popt.max_items =
        std::clamp<size_t>(2 * static_cast<size_t>(Threads(o_)), 4, 24);
    popt.dedup_slots = std::bit_floor(o_.dedup_memory / 24);
    capture::PipelineSink sink;
    sink.add_entry = [this](size_t index, std::optional<uint64_t> content,
                            uint64_t group) {
      ++report_->files;
      report_->bytes += (*window_)[index].size;
      return AddEntry(index, content, group);
    };
    sink.file_error = [this](const std::string& path, const Status& error) {
      return FileError(path, error);
    };
    sink.progress = [this](uint64_t bytes, uint64_t files) {
      reporter_->Add(bytes, files);
    };
    sink.cancelled = [this] { return reporter_->cancelled(); };
    pipeline_ = std::make_unique<capture::PackPipeline>(w_, popt, sink);
    reporter_->Phase("Saving");
    return pipeline_.get();
  }

  // The current window's files, in rounds.
  Status PackFiles(std::vector<FileJob> jobs) {
    if (jobs.empty()) return Status::OK();
    capture::PackPipeline* pipeline = Pipeline();
    for (int round = 0; !jobs.empty(); ++round) {
      std::vector<FileIssue> unreadable;
      capture::PrepareLargeJobs(root_fd_.get(), *window_, &jobs, &unreadable,
                                reporter_->cancel_flag());
      for (const FileIssue& u : unreadable)
        MIGSTORE_RETURN_IF_ERROR(FileError(u.path, u.status));
      if (round == kRetryRounds) {
        for (const FileJob& j : jobs) {
          MIGSTORE_RETURN_IF_ERROR(FileError(
              (*window_)[j.entry].path,
              Status::IOError("kept changing while it was captured")));
        }
        break;
      }
      std::vector<FileJob> retry;
      MIGSTORE_RETURN_IF_ERROR(pipeline->Run(window_, &jobs, &retry));
      jobs = std::move(retry);
    }
    return Status::OK();
  }

  const CaptureOptions& o_;
  const Selection& sel_;
  Reporter* reporter_;
  CaptureReport* report_;
  format::ContainerWriter* w_;
  std::unique_ptr<capture::BaseStore> base_;  // null: not incremental
  std::string base_path_;
  capture::TakenOverFiles taken_over_;  // what the base's match found
  capture::TakeOverStats base_stats_;
  // The sizes of every small file of the tree, counted by the walk.
  capture::SmallSizes sizes_{o_.block_size};
  std::unique_ptr<format::SpillFile> walk_spill_;  // read by walked_
  capture::WalkResult walked_;
  WalkedEntries* window_ = nullptr;       // the entries being captured
  std::vector<uint32_t> profile_number_;  // WriteStoreTables's
  UniqueFd root_fd_;
  std::unique_ptr<capture::PackPipeline> pipeline_;
};

Status CheckKeyChoice(const CaptureOptions& o) {
  if (o.encrypt && !o.key.encrypted()) {
    return Status::InvalidArgument(
        "the store is encrypted by default: give a key file or a password "
        "(--key-file, "
        "--password-file, MIGSTORE_PASSWORD, --password-stdin), or say "
        "--no-encrypt");
  }
  if (!o.encrypt && o.key.encrypted()) {
    return Status::InvalidArgument(
        "a key was given together with --no-encrypt");
  }
  return Status::OK();
}

// A container capture; `sink` is made by `make_sink` once the options and
// the selection are known to be good, so a bad option creates no store.
Result<CaptureReport> CaptureContainer(
    const CaptureOptions& o, CaptureObserver* observer, Clock::time_point start,
    const std::function<Result<std::unique_ptr<format::StoreSink>>()>&
        make_sink) {
  MIGSTORE_RETURN_IF_ERROR(CheckKeyChoice(o));
  Reporter reporter(observer, start);
  reporter.Phase("Initializing");
  MIGSTORE_ASSIGN_OR_RETURN(Selection sel, capture::Select(o));
  reporter.Notify([&](CaptureObserver& ob) { ob.OnUsers(sel.users); });
  CaptureReport report = capture::NewReport(o, sel);

  format::WriterOptions wo;
  wo.catalog_segment_entries = o.catalog_segment_entries;
  if (o.kdf_opslimit != 0) wo.kdf.opslimit = o.kdf_opslimit;
  if (o.kdf_memlimit != 0) wo.kdf.memlimit = o.kdf_memlimit;
  wo.cipher = capture::BlockCipherOf(o);
  format::KeySource key =
      o.encrypt ? internal::SourceOf(o.key) : format::KeySource::None();
  // The base first: a base that cannot be read creates no store.
  std::unique_ptr<capture::BaseStore> base;
  if (!o.base_store.empty()) {
    reporter.Phase("Reading the base store");
    parallel::Arena arena(Threads(o));
    MIGSTORE_RETURN_IF_ERROR(arena.Execute([&]() -> Status {
      MIGSTORE_ASSIGN_OR_RETURN(base,
                                capture::BaseStore::Open(o.base_store, key));
      return Status::OK();
    }));
  }
  MIGSTORE_ASSIGN_OR_RETURN(std::unique_ptr<format::StoreSink> sink,
                            make_sink());
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<format::ContainerWriter> w,
      format::ContainerWriter::Create(std::move(sink), key, wo));

  // The rules' processing steps: pre-scan once the store could be made,
  // the others once it is finished or abandoned (capture_common.h).
  Status status = capture::Process(o, sel, "pre-scan", &reporter, &report);
  if (status.ok()) {
    ContainerCapture run(o, sel, &reporter, &report, w.get(), std::move(base));
    parallel::Arena arena(Threads(o));
    status = arena.Execute([&] { return run.Run(); });
  }
  if (status.ok() && reporter.cancelled())
    status = Status::Cancelled("capture cancelled");
  if (status.ok()) status = w->Finish();
  if (!status.ok()) {
    w->Abandon();
    capture::AfterCapture(o, sel, false, &reporter, &report);
    return status;
  }
  report.store_size = w->bytes_written();
  capture::AfterCapture(o, sel, true, &reporter, &report);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  reporter.Phase("Done");
  return report;
}

}  // namespace

Result<CaptureReport> Capture(const CaptureOptions& o,
                              CaptureObserver* observer) {
  const auto start = Clock::now();
  MIGSTORE_RETURN_IF_ERROR(ValidateCommon(o));
  if (o.store_path.empty())
    return Status::InvalidArgument("no store path given");
  if (o.min_free_bytes > 0) {
    if (o.store_path.rfind("s3://", 0) == 0) {
      return Status::InvalidArgument(
          "--min-free checks a filesystem; an s3:// store has none");
    }
    MIGSTORE_RETURN_IF_ERROR(
        fs::CheckFreeSpace(o.store_path, o.min_free_bytes, "the store"));
  }
  if (o.hardlink) {
    if (!o.base_store.empty()) {
      return Status::InvalidArgument(
          "--base builds a container on a previous one; a hard-link store "
          "links unchanged files already");
    }
    MIGSTORE_RETURN_IF_ERROR(
        store::CheckLocalStoreName(o.store_path, "a hard-link store"));
    return capture::CaptureHardLinkStore(o, observer, start);
  }
  return CaptureContainer(o, observer, start, [&] {
    store::SinkOptions so;
    so.overwrite = o.overwrite;
    return store::CreateStoreSink(o.store_path, so);
  });
}

Result<CaptureReport> internal::CaptureToSink(
    const CaptureOptions& o, std::unique_ptr<format::StoreSink> sink,
    CaptureObserver* observer) {
  const auto start = Clock::now();
  MIGSTORE_RETURN_IF_ERROR(ValidateCommon(o));
  if (o.hardlink) {
    return Status::InvalidArgument("a hard-link store cannot be written to " +
                                   sink->name());
  }
  return CaptureContainer(o, observer, start,
                          [&]() -> Result<std::unique_ptr<format::StoreSink>> {
                            return std::move(sink);
                          });
}

namespace {

// Files to sample for the estimate's compression ratio, chosen evenly from
// a stream of candidates whose number is not known in advance: every
// stride-th is kept, and when 1,024 are held every other one goes and the
// stride doubles. Between 512 and 1,024 stay, spread evenly over all.
class SampleChooser {
 public:
  void Offer(const WalkedEntry& e) {
    if (seen_++ % stride_ != 0) return;
    kept_.push_back(e);
    if (kept_.size() < 1024) return;
    WalkedEntries half;
    for (size_t i = 0; i < kept_.size(); i += 2)
      half.push_back(std::move(kept_[i]));
    kept_.swap(half);
    stride_ *= 2;
  }
  const WalkedEntries& kept() const { return kept_; }

 private:
  WalkedEntries kept_;
  uint64_t seen_ = 0;
  uint64_t stride_ = 1;
};

// The estimate's compression sample: the first 64 KiB of up to 512 of the
// `candidates`, spread evenly over them.
std::string Sample(const std::string& root, const WalkedEntries& candidates) {
  auto root_fd =
      UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  const size_t samples = std::min<size_t>(candidates.size(), 512);
  std::string sample;
  for (size_t k = 0; k < samples && root_fd.valid(); ++k) {
    const WalkedEntry& e = candidates[k * candidates.size() / samples];
    auto file = capture::SourceFile::Open(root_fd.get(), e);
    if (!file.ok()) continue;
    std::string buf(static_cast<size_t>(std::min<uint64_t>(e.size, 64 * 1024)),
                    '\0');
    if (file->ReadAt(0, buf.size(), buf.data()).ok()) sample += buf;
  }
  return sample;
}

// What a capture's blocks would make of `sample`: packed size / size; 1 for
// an empty sample. Compressed types are not sampled: they count at 1.
double SampleRatio(const CaptureOptions& o, const std::string& sample) {
  if (sample.empty()) return 1;
  format::StoreId id{};
  format::BlockCodec codec(id, format::SecretBytes());
  format::SealOptions seal;
  seal.level = o.level;
  seal.compress = o.compress;
  uint64_t packed = 0;
  for (size_t at = 0; at < sample.size(); at += o.block_size) {
    std::string_view block = std::string_view(sample).substr(at, o.block_size);
    packed += codec.Seal(0, format::BlockType::kData, block, seal).size() -
              format::kFrameHeaderSize - format::kChecksumSize;
  }
  return static_cast<double>(packed) / static_cast<double>(sample.size());
}

}  // namespace

Result<EstimateReport> Estimate(const CaptureOptions& o,
                                CaptureObserver* observer) {
  const auto start = Clock::now();
  MIGSTORE_RETURN_IF_ERROR(ValidateCommon(o));
  Reporter reporter(observer, start);
  reporter.Phase("Estimating");
  MIGSTORE_ASSIGN_OR_RETURN(Selection sel, capture::Select(o));
  reporter.Notify([&](CaptureObserver& ob) { ob.OnUsers(sel.users); });
  EstimateReport report;
  report.users = sel.users;
  report.rule_diagnostics = sel.diagnostics;

  parallel::Arena arena(Threads(o));
  const Status walked_ok = arena.Execute([&]() -> Status {
    // The walk through sorted runs, as a capture's (RunInWindows): the
    // tree a window at a time, files with hard links last (each inode is
    // counted once).
    capture::WalkOptions wopt = WalkOptionsFor(o, sel, &reporter);
    const std::unique_ptr<format::SpillFile> spill =
        capture::SortWalkThroughScratch(o, format::DefaultSpillDirs(), &wopt);
    wopt.set_apart = [](const WalkedEntry& e) { return e.nlink > 1; };
    MIGSTORE_ASSIGN_OR_RETURN(capture::WalkResult walked, capture::Walk(wopt));
    for (const capture::WalkNote& n : walked.notes)
      report.notes.push_back({n.path, n.what});
    for (const capture::WalkError& e : walked.errors)
      report.errors.push_back({e.path, e.status});

    // Sizes are not asked: the estimate finds no duplicates.
    const capture::SmallSizes no_sizes(0);
    uint64_t compressible = 0, raw = 0;
    SampleChooser chooser;
    auto count = [&](const WalkedEntries& entries) {
      CapturePlan plan = capture::PlanCapture(entries, o.block_size, &no_sizes);
      for (size_t i : plan.others) {
        const WalkedEntry& e = entries[i];
        report.directories += e.type == format::EntryType::kDirectory;
        report.symlinks += e.type == format::EntryType::kSymlink;
        report.fifos += e.type == format::EntryType::kFifo;
      }
      report.files += plan.files;
      report.bytes += plan.bytes;
      for (const FileJob& j : plan.jobs) {
        uint64_t data = capture::DataBytes(entries[j.entry]);
        report.data_bytes += data;
        (j.raw ? raw : compressible) += data;
        if (!j.raw && data > 0) chooser.Offer(entries[j.entry]);
      }
    };
    const uint64_t entries = walked.entries.count() + walked.apart.size();
    while (!walked.entries.empty() && !reporter.cancelled()) {
      WalkedEntries window;
      MIGSTORE_RETURN_IF_ERROR(walked.entries.Take(o.window_entries, &window));
      count(window);
    }
    count(walked.apart);
    const std::string sample = Sample(o.root, chooser.kept());
    const double ratio = SampleRatio(o, sample);
    report.sampled_bytes = sample.size();
    report.compression_ratio = ratio;
    // Blocks cost their frames (and 40 bytes of AEAD when encrypted); the
    // catalog about 64 bytes an entry after compression.
    const uint64_t data =
        static_cast<uint64_t>(static_cast<double>(compressible) * ratio) + raw;
    const uint64_t blocks = data / o.block_size + 1;
    report.estimated_store_size =
        format::kHeaderSize + format::kTrailerSize + data +
        blocks * (format::kFrameHeaderSize + 40) + entries * 64;
    return Status::OK();
  });
  MIGSTORE_RETURN_IF_ERROR(walked_ok);
  if (reporter.cancelled()) return Status::Cancelled("estimate cancelled");
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace migstore
