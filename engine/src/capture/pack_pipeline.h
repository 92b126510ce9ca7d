// The packing pipeline of a capture (docs/design.md, "Capture pipeline"):
//
//   input (serial)    next batch of small files, or next piece of a large one
//   read (parallel)   read and hash; find duplicates by a keyed MAC
//   pack (serial)     deduplicate, lay bytes into data blocks, record
//                     contents and entries in the writer
//   seal (parallel)   compress and encrypt the blocks that filled
//   append (serial)   write the frames in block order
//
// The number of items in flight is fixed, so memory is bounded by the
// pipeline (items × a few blocks), never by the data.
//
// Thread safety: one Run() at a time; it runs TBB tasks on the caller's
// arena and calls the observer from one thread at a time.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_PACK_PIPELINE_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_PACK_PIPELINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tbb/concurrent_queue.h>

#include "engine/src/capture/source_file.h"
#include "engine/src/capture/walk.h"
#include "format/block_packer.h"
#include "format/container_writer.h"
#include "migstore/capture.h"

namespace migstore::capture {

// One regular file whose bytes go into the store (the first of its hard-link
// group, and not a known duplicate).
struct FileJob {
  // What only large files and hard-link groups need, kept out of line: a
  // million tiny files carry one null pointer each instead of 150 bytes of
  // empty fields (docs/performance.md, "Scaling").
  struct Detail {
    // Large files: the status and data ranges taken when planned, and when.
    Snapshot snapshot;
    int64_t planned_ns = 0;
    std::optional<std::vector<format::DataRange>> ranges;
    // Entries that are hard links to this file (besides itself).
    std::vector<size_t> links;
    uint64_t link_group = 0;  // non-zero when links is not empty
    // Large files found identical to this one before the pipeline, and the
    // hash they share: if this file reads differently now, they are
    // captured on their own in a retry round instead.
    std::vector<size_t> duplicates;  // indices into the walked entries
    std::optional<format::Hash128> expected_hash;
  };

  FileJob() = default;
  FileJob(const FileJob& other)
      : entry(other.entry),
        raw(other.raw),
        large(other.large),
        maybe_duplicate(other.maybe_duplicate),
        detail_(other.detail_ ? std::make_unique<Detail>(*other.detail_)
                              : nullptr) {}
  FileJob& operator=(const FileJob& other) {
    FileJob copy(other);
    return *this = std::move(copy);
  }
  FileJob(FileJob&&) = default;
  FileJob& operator=(FileJob&&) = default;

  // The detail; all defaults when none was set.
  const Detail& d() const {
    static const Detail kNone;
    return detail_ ? *detail_ : kNone;
  }
  Detail& mutable_d() {
    if (!detail_) detail_ = std::make_unique<Detail>();
    return *detail_;
  }

  size_t entry = 0;    // index into the walked entries
  bool raw = false;    // already compressed: store without zstd
  bool large = false;  // read in pieces rather than whole
  // Another small file has the same size: it may be a duplicate, so its
  // keyed MAC is taken and registered (unique sizes skip that).
  bool maybe_duplicate = false;

 private:
  std::unique_ptr<Detail> detail_;
};

struct PipelineOptions {
  int root_fd = -1;
  size_t block_size = size_t{4} << 20;
  int level = 3;
  bool compress = true;
  bool continue_on_error = false;
  size_t max_items = 8;  // items in flight
  // Slots of 24 bytes the small files' duplicate table may hold, a power of
  // two (CaptureOptions::dedup_memory).
  size_t dedup_slots = size_t{1} << 20;
};

// What the pipeline tells the capture, in order, from one thread at a time.
struct PipelineSink {
  // An entry to record: the walked entry, its content and link group.
  std::function<Status(size_t entry, std::optional<uint64_t> content,
                       uint64_t link_group)>
      add_entry;
  // A file that failed; returns OK to go on (and skip it), or the status to
  // stop with.
  std::function<Status(const std::string& path, const Status& error)>
      file_error;
  // Progress: bytes of file data read and files done, since the last call.
  std::function<void(uint64_t bytes, uint64_t files)> progress;
  std::function<bool()> cancelled;
};

struct PipelineStats {
  uint64_t duplicate_files = 0;
  uint64_t duplicate_bytes = 0;
  uint64_t stored_bytes = 0;
  uint64_t sparse_files = 0;
};

class PackPipeline {
 public:
  PackPipeline(format::ContainerWriter* writer, const PipelineOptions& options,
               PipelineSink sink);
  ~PackPipeline();

  // Runs the jobs, whose `entry` index into `entries`, through the
  // pipeline. Jobs whose files changed while being read in pieces are
  // appended to *retry (to run again as a new round). Returns the first
  // status that stopped it (Stopped, Cancelled, or an error of the store
  // itself); OK otherwise. A capture runs it once per window of entries
  // and round: the open block and the small files' duplicates carry over
  // from one run to the next.
  Status Run(WalkedEntries* entries, std::vector<FileJob>* jobs,
             std::vector<FileJob>* retry);

  // Seals and appends the last, partly filled block. Call once, at the end.
  Status Flush();

  const PipelineStats& stats() const { return stats_; }

 private:
  struct Item;
  struct SmallFile;
  struct LargeState;
  class Registry;

  Item* NextItem(std::vector<FileJob>& jobs);
  void Read(const std::vector<FileJob>& jobs, Item* item);
  void ReadSmall(const FileJob& job, size_t job_index, SmallFile* out);
  void ReadPiece(const FileJob& job, Item* item);
  Status Pack(std::vector<FileJob>& jobs, Item* item,
              std::vector<FileJob>* retry);
  Status PackSmall(const FileJob& job, SmallFile* file, Item* item,
                   std::vector<FileJob>* retry);
  Status PackPiece(const FileJob& job, Item* item, std::vector<FileJob>* retry);
  Status StoreBytes(std::string_view bytes, bool raw,
                    std::vector<format::Chunk>* chunks, Item* item);
  Status RecordFile(const FileJob& job, std::optional<uint64_t> content);
  void Seal(Item* item);
  Status Append(Item* item);

  format::ContainerWriter* writer_;
  WalkedEntries* entries_ = nullptr;  // the current run's
  PipelineOptions options_;
  PipelineSink sink_;
  PipelineStats stats_;

  // Stop requests: set by the serial stages, read by the input stage.
  std::atomic<bool> stop_{false};
  Status stop_status_;

  // Pack-stage state (serial).
  format::BlockPacker packer_;
  bool packer_raw_ = false;  // the open block's class
  Item* emit_to_ = nullptr;  // the item whose stage emits blocks now
  std::vector<int64_t> content_of_job_;  // by job index: content, or -1
  std::unique_ptr<LargeState> large_;
  std::unique_ptr<Registry> registry_;
  // Frames already appended, handed back to Seal: their memory is reused,
  // so a block costs no allocation or zero-fill (docs/performance.md). At
  // most as many as were ever in flight at once.
  tbb::concurrent_queue<std::string> spare_frames_;
  // Block contents already sealed, handed back to the packer the same way.
  tbb::concurrent_queue<std::string> spare_plains_;

  // Input-stage cursor.
  size_t next_job_ = 0;
  uint64_t next_piece_offset_ = 0;
};

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_PACK_PIPELINE_H_
