#include "engine/src/capture/hardlink_capture.h"

#include <unistd.h>

#include "engine/base/parallel.h"
#include "engine/src/capture/capture_common.h"
#include "engine/src/capture/catalog_entry.h"
#include "engine/src/capture/store_linker.h"
#include "engine/src/hardlink/store_builder.h"
#include "format/container_writer.h"
#include "format/secret.h"

namespace migstore::capture {
namespace {

// The hard-link store's catalog: the store's tables, then every walked
// entry, each file with the inode of its link in the store.
Status WriteCatalog(const CaptureOptions& o, const Selection& sel,
                    const Owners& owners, const WalkedEntries& entries,
                    format::ContainerWriter* writer, CaptureReporter* reporter,
                    CaptureReport* report) {
  std::vector<uint32_t> profile_number;
  MIGSTORE_RETURN_IF_ERROR(WriteStoreTables(o, sel, report->layout, owners,
                                            writer, &profile_number));
  MIGSTORE_RETURN_IF_ERROR(
      CaptureSettings(o, sel, profile_number, writer, reporter, report));
  for (const WalkedEntry& we : entries) {
    const uint32_t profile =
        we.profile >= 0 ? profile_number[static_cast<size_t>(we.profile)]
                        : format::kNoProfile;
    format::Entry e = ToCatalogEntry(we, profile);
    switch (we.type) {
      case format::EntryType::kFile:
        e.inode = we.store_ino;
        ++report->files;
        report->bytes += we.size;
        break;
      case format::EntryType::kDirectory:
        ++report->directories;
        break;
      case format::EntryType::kSymlink:
        ++report->symlinks;
        break;
      case format::EntryType::kFifo:
        ++report->fifos;
        break;
    }
    MIGSTORE_RETURN_IF_ERROR(writer->AddEntry(e));
    reporter->Notify([&](CaptureObserver& ob) { ob.OnEntryStored(we.path); });
  }
  return Status::OK();
}

}  // namespace

Result<CaptureReport> CaptureHardLinkStore(
    const CaptureOptions& o, CaptureObserver* observer,
    std::chrono::steady_clock::time_point start) {
  if (o.key.encrypted()) {
    return Status::InvalidArgument(
        "a hard-link store cannot be encrypted: its files are the originals "
        "themselves (give no key, or capture into a container)");
  }
  CaptureReporter reporter(observer, start);
  reporter.Phase("Initializing");
  MIGSTORE_ASSIGN_OR_RETURN(Selection sel, Select(o));
  reporter.Notify([&](CaptureObserver& ob) { ob.OnUsers(sel.users); });
  CaptureReport report = NewReport(o, sel);
  report.hardlink = true;

  format::StoreId id;
  format::RandomFill(id.data(), id.size());
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<hardlink::StoreBuilder> builder,
      hardlink::StoreBuilder::Create(o.store_path, o.overwrite, id));

  LinkerOptions lo;
  lo.files_fd = builder->files_fd();
  lo.fallback = o.hardlink_fallback;
  lo.set_owner = ::geteuid() == 0;
  lo.progress = [&](uint64_t bytes, uint64_t files) {
    reporter.Add(bytes, files);
  };
  StoreLinker linker(std::move(lo));

  parallel::Arena arena(Threads(o));
  std::unique_ptr<format::ContainerWriter> writer;
  // The rules' processing steps: pre-scan once the store could be made,
  // the others once it is committed or abandoned (capture_common.h).
  Status status = Process(o, sel, "pre-scan", &reporter, &report);
  if (status.ok())
    status = arena.Execute([&]() -> Status {
      reporter.Phase("Linking");
      WalkOptions wopt = WalkOptionsFor(o, sel, &reporter);
      wopt.exclude = builder->Exclusions();
      wopt.file_xattrs = false;  // the link carries them
      wopt.on_file = [&](int dir_fd, const char* name, WalkedEntry* e) {
        return linker.Add(dir_fd, name, e);
      };
      auto walked = WalkSelection(o, sel, wopt, &reporter, &report);
      linker.FlushProgress();
      for (FileNote& n : linker.Notes()) {
        reporter.Note(n);
        report.notes.push_back(std::move(n));
      }
      if (!walked.ok()) return walked.status();
      // A hard-link store's catalog is small beside its links: the walk is
      // held whole (no scratch file, nothing set apart).
      MIGSTORE_ASSIGN_OR_RETURN(WalkedEntries entries,
                                walked->entries.TakeAll());
      if (reporter.cancelled()) return Status::Cancelled("capture cancelled");

      reporter.Phase("Saving");
      format::WriterOptions wo;
      wo.content_location = format::ContentLocation::kExternal;
      wo.catalog_segment_entries = o.catalog_segment_entries;
      wo.store_id = id;
      MIGSTORE_ASSIGN_OR_RETURN(
          writer, format::ContainerWriter::Create(
                      builder->catalog_path(), format::KeySource::None(), wo));
      return WriteCatalog(o, sel, walked->owners, entries, writer.get(),
                          &reporter, &report);
    });
  if (status.ok() && reporter.cancelled())
    status = Status::Cancelled("capture cancelled");
  if (!status.ok()) {
    if (writer) writer->Abandon();
    builder->Abandon();
    AfterCapture(o, sel, false, &reporter, &report);
    return status;
  }
  std::string note;
  status = writer->Finish();
  if (status.ok()) status = builder->Commit(linker.Directories(), &note);
  if (!note.empty()) {  // told even when the commit then failed
    FileNote n{o.store_path, note};
    reporter.Note(n);
    report.notes.push_back(std::move(n));
  }
  if (!status.ok()) {
    AfterCapture(o, sel, false, &reporter, &report);
    return status;
  }
  report.linked_files = linker.linked();
  report.copied_files = linker.copied();
  report.stored_bytes = linker.copied_bytes();
  report.store_size = writer->bytes_written() + linker.copied_bytes();
  AfterCapture(o, sel, true, &reporter, &report);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  reporter.Phase("Done");
  return report;
}

}  // namespace migstore::capture
