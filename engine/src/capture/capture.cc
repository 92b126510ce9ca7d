#include "migstore/capture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "engine/base/parallel.h"
#include "engine/src/capture/capture_common.h"
#include "engine/src/capture/catalog_entry.h"
#include "engine/src/capture/hardlink_capture.h"
#include "engine/src/capture/plan.h"
#include "engine/src/capture/walk.h"
#include "engine/src/store/key_rep.h"
#include "format/block_codec.h"
#include "format/container_writer.h"
#include "format/file_io.h"
#include "format/limits.h"

namespace migstore {
namespace {

using capture::CapturePlan;
using capture::FileJob;
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
    const std::string& final_path, const std::string& temp_path) {
  std::set<std::pair<uint64_t, uint64_t>> out;
  for (const std::string& p : {final_path, temp_path}) {
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) out.insert({st.st_dev, st.st_ino});
  }
  return out;
}

}  // namespace

Result<CaptureReport> Capture(const CaptureOptions& o,
                              CaptureObserver* observer) {
  const auto start = Clock::now();
  MIGSTORE_RETURN_IF_ERROR(ValidateCommon(o));
  if (o.store_path.empty())
    return Status::InvalidArgument("no store path given");
  if (o.hardlink) return capture::CaptureHardLinkStore(o, observer, start);
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
  Reporter reporter(observer, start);
  reporter.Phase("Initializing");
  MIGSTORE_ASSIGN_OR_RETURN(Selection sel, capture::Select(o));

  reporter.Notify([&](CaptureObserver& ob) { ob.OnUsers(sel.users); });
  CaptureReport report = capture::NewReport(o, sel);

  format::WriterOptions wo;
  wo.overwrite = o.overwrite;
  if (o.kdf_opslimit != 0) wo.kdf.opslimit = o.kdf_opslimit;
  if (o.kdf_memlimit != 0) wo.kdf.memlimit = o.kdf_memlimit;
  format::KeySource key =
      o.encrypt ? internal::SourceOf(o.key) : format::KeySource::None();
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<format::ContainerWriter> writer,
      format::ContainerWriter::Create(o.store_path, key, wo));
  format::ContainerWriter& w = *writer;

  // Per-file errors: reported; then skipped, or the end of the capture.
  auto file_error = [&](const std::string& path,
                        const Status& error) -> Status {
    return capture::FileError(o, &reporter, &report, path, error);
  };

  parallel::Arena arena(Threads(o));
  Status status;
  arena.Execute([&] {
    reporter.Phase("Scanning");
    capture::WalkOptions wopt = WalkOptionsFor(o, sel, &reporter);
    wopt.exclude = StoreInodes(o.store_path, w.temp_path());
    auto walked = capture::Walk(wopt);
    if (!walked.ok()) {
      status = walked.status();
      return;
    }
    std::vector<WalkedEntry>& entries = walked->entries;
    for (const capture::WalkNote& n : walked->notes) {
      FileNote note{n.path, n.what};
      reporter.Note(note);
      report.notes.push_back(std::move(note));
    }
    for (const capture::WalkError& e : walked->errors) {
      status = file_error(e.path, e.status);
      if (!status.ok()) return;
    }

    size_t path_bytes = 0;
    for (const WalkedEntry& e : entries) path_bytes += e.path.size();
    w.ReserveEntries(entries.size(), path_bytes);

    // The store's tables: profiles, owner names, properties.
    std::vector<uint32_t> profile_number;
    status = capture::WriteStoreTables(o, sel, report.layout, entries, &w,
                                       &profile_number);
    if (!status.ok()) return;

    auto add_entry = [&](size_t index, std::optional<uint64_t> content,
                         uint64_t link_group) -> Status {
      const WalkedEntry& we = entries[index];
      uint32_t profile = we.profile >= 0
                             ? profile_number[static_cast<size_t>(we.profile)]
                             : format::kNoProfile;
      format::Entry e = capture::ToCatalogEntry(we, profile);
      e.content = content;
      e.link_group = link_group;
      MIGSTORE_RETURN_IF_ERROR(w.AddEntry(e));
      reporter.Notify([&](CaptureObserver& ob) { ob.OnEntryStored(we.path); });
      return Status::OK();
    };

    CapturePlan plan = capture::PlanCapture(entries, o.block_size);
    for (size_t i : plan.others) {
      const WalkedEntry& e = entries[i];
      if (e.type == format::EntryType::kDirectory) ++report.directories;
      if (e.type == format::EntryType::kSymlink) ++report.symlinks;
      if (e.type == format::EntryType::kFifo) ++report.fifos;
      status = add_entry(i, std::nullopt, 0);
      if (!status.ok()) return;
    }
    report.hardlinked_files = plan.hardlinked_files;
    reporter.SetTotals(plan.files, plan.data_bytes);

    capture::PipelineOptions popt;
    auto root_fd = format::UniqueFd(
        ::open(o.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd.valid()) {
      status = Status::FromErrno("cannot open the root " + o.root, errno);
      return;
    }
    popt.root_fd = root_fd.get();
    popt.block_size = o.block_size;
    popt.level = o.level;
    popt.compress = o.compress;
    popt.continue_on_error = o.continue_on_error;
    popt.max_items =
        std::clamp<size_t>(2 * static_cast<size_t>(Threads(o)), 4, 24);
    capture::PipelineSink sink;
    sink.add_entry = [&](size_t index, std::optional<uint64_t> content,
                         uint64_t group) {
      ++report.files;
      report.bytes += entries[index].size;
      return add_entry(index, content, group);
    };
    sink.file_error = file_error;
    sink.progress = [&](uint64_t bytes, uint64_t files) {
      reporter.Add(bytes, files);
    };
    sink.cancelled = [&] { return reporter.cancelled(); };
    capture::PackPipeline pipeline(&w, &entries, popt, sink);

    reporter.Phase("Saving");
    std::vector<FileJob> jobs = std::move(plan.jobs);
    for (int round = 0; !jobs.empty(); ++round) {
      std::vector<FileIssue> unreadable;
      capture::PrepareLargeJobs(popt.root_fd, entries, &jobs, &unreadable,
                                reporter.cancel_flag());
      for (const FileIssue& u : unreadable) {
        status = file_error(u.path, u.status);
        if (!status.ok()) return;
      }
      if (round == kRetryRounds) {
        for (const FileJob& j : jobs) {
          status = file_error(
              entries[j.entry].path,
              Status::IOError("kept changing while it was captured"));
          if (!status.ok()) return;
        }
        break;
      }
      std::vector<FileJob> retry;
      status = pipeline.Run(&jobs, &retry);
      if (!status.ok()) return;
      jobs = std::move(retry);
    }
    if (reporter.cancelled()) {
      status = Status::Cancelled("capture cancelled");
      return;
    }
    status = pipeline.Flush();
    const capture::PipelineStats& ps = pipeline.stats();
    report.duplicate_files = ps.duplicate_files;
    report.duplicate_bytes = ps.duplicate_bytes;
    report.stored_bytes = ps.stored_bytes;
    report.sparse_files = ps.sparse_files;
  });
  if (status.ok() && reporter.cancelled())
    status = Status::Cancelled("capture cancelled");
  if (!status.ok()) {
    w.Abandon();
    return status;
  }
  MIGSTORE_RETURN_IF_ERROR(w.Finish());
  report.store_size = w.bytes_written();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  reporter.Phase("Done");
  return report;
}

}  // namespace migstore

namespace migstore {

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
  Status status;
  arena.Execute([&] {
    capture::WalkOptions wopt = WalkOptionsFor(o, sel, &reporter);
    auto walked = capture::Walk(wopt);
    if (!walked.ok()) {
      status = walked.status();
      return;
    }
    for (const capture::WalkNote& n : walked->notes)
      report.notes.push_back({n.path, n.what});
    for (const capture::WalkError& e : walked->errors)
      report.errors.push_back({e.path, e.status});
    const std::vector<WalkedEntry>& entries = walked->entries;
    CapturePlan plan = capture::PlanCapture(entries, o.block_size);
    for (size_t i : plan.others) {
      const WalkedEntry& e = entries[i];
      report.directories += e.type == format::EntryType::kDirectory;
      report.symlinks += e.type == format::EntryType::kSymlink;
      report.fifos += e.type == format::EntryType::kFifo;
    }
    report.files = plan.files;
    report.bytes = plan.bytes;

    // The compression ratio from samples: the first 64 KiB of up to 512
    // files spread evenly over the compressible ones, compressed as a
    // capture would; compressed types count at 1.
    uint64_t compressible = 0, raw = 0;
    std::vector<size_t> candidates;
    for (const FileJob& j : plan.jobs) {
      uint64_t data = capture::DataBytes(entries[j.entry]);
      report.data_bytes += data;
      (j.raw ? raw : compressible) += data;
      if (!j.raw && data > 0) candidates.push_back(j.entry);
    }
    auto root_fd = format::UniqueFd(
        ::open(o.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const size_t samples = std::min<size_t>(candidates.size(), 512);
    std::string sample;
    for (size_t k = 0; k < samples && root_fd.valid(); ++k) {
      const WalkedEntry& e =
          entries[candidates[k * candidates.size() / samples]];
      auto file = capture::SourceFile::Open(root_fd.get(), e);
      if (!file.ok()) continue;
      std::string buf(
          static_cast<size_t>(std::min<uint64_t>(e.size, 64 * 1024)), '\0');
      if (file->ReadAt(0, buf.size(), buf.data()).ok()) sample += buf;
    }
    double ratio = 1;
    if (!sample.empty()) {
      format::StoreId id{};
      format::BlockCodec codec(id, format::SecretBytes());
      format::SealOptions seal;
      seal.level = o.level;
      seal.compress = o.compress;
      uint64_t packed = 0;
      for (size_t at = 0; at < sample.size(); at += o.block_size) {
        std::string_view block =
            std::string_view(sample).substr(at, o.block_size);
        packed += codec.Seal(0, format::BlockType::kData, block, seal).size() -
                  format::kFrameHeaderSize - format::kChecksumSize;
      }
      ratio = static_cast<double>(packed) / static_cast<double>(sample.size());
    }
    report.sampled_bytes = sample.size();
    report.compression_ratio = ratio;
    // Blocks cost their frames (and 40 bytes of AEAD when encrypted); the
    // catalog about 64 bytes an entry after compression.
    const uint64_t data =
        static_cast<uint64_t>(static_cast<double>(compressible) * ratio) + raw;
    const uint64_t blocks = data / o.block_size + 1;
    report.estimated_store_size =
        format::kHeaderSize + format::kTrailerSize + data +
        blocks * (format::kFrameHeaderSize + 40) + entries.size() * 64;
  });
  MIGSTORE_RETURN_IF_ERROR(status);
  if (reporter.cancelled()) return Status::Cancelled("estimate cancelled");
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace migstore
