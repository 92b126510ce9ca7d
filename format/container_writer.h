// ContainerWriter: writes one container file (docs/format.md) as a stream:
// header, blocks in number order, then at Finish() the catalog and content
// segments, the index block and the trailer.
//
// Its memory does not grow with the entries: past WriterOptions'
// catalog_memory, the entries waiting to be sorted go to a scratch file
// (SpillFile) as a sorted run, merged at Finish(); past content_memory, so
// do the finished content segments (docs/design.md, "Bounded memory").
//
// The bytes go to a StoreSink (store_io.h): a local file by default, written
// under a temporary name that appears under its real name only once it is
// complete (fsync, rename, directory fsync), or any other sink, which
// publishes as its Commit() says. Abandon(), or destroying the writer
// unfinished, abandons the sink. Nothing half-written is ever found under
// the real name. (Should the final directory fsync of a local file fail,
// Finish() reports it although the complete store is in place: see
// AtomicFile::Commit.)
//
// Errors are sticky: after the first failure every call returns it, and the
// writer must then be abandoned. Either Finish() or Abandon() ends its life.
//
// Blocks are numbered when reserved and must be appended in that order.
// Sealing (compress + encrypt) needs no writer state: a capture reserves
// numbers serially, seals frames in parallel through codec(), and appends
// them back in order:
//
//   uint64_t n = writer->ReserveBlock();            // serial
//   std::string f = writer->codec().Seal(n, ...);   // any thread
//   writer->AppendFrame(n, f);                      // serial, in order of n
//
// Thread safety: codec() and status() may be used from any thread.
// AppendFrame may run on one thread while another reserves blocks and adds
// contents and entries (a capture appends sealed blocks while it packs the
// next ones; both see one sticky error). Every other method must be called
// by one thread at a time.

#ifndef MIGSTORE_FORMAT_CONTAINER_WRITER_H_
#define MIGSTORE_FORMAT_CONTAINER_WRITER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "format/atomic_file.h"
#include "format/block_codec.h"
#include "format/catalog.h"
#include "format/keys.h"
#include "format/registry.h"
#include "format/sorted_runs.h"
#include "format/spill_file.h"
#include "format/store_index.h"
#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::format {

struct WriterOptions {
  // Replace an existing file at the path (on Finish, atomically).
  bool overwrite = false;
  // kExternal: the catalog of a store whose file contents live elsewhere
  // (a hard-link store): required feature bit 1 is set, the store must be
  // unencrypted, and it holds no data blocks and no content records.
  ContentLocation content_location = ContentLocation::kInContainer;
  // The store id to write; random when unset (a hard-link store's marker
  // names its catalog's id, so its capture chooses it first).
  std::optional<StoreId> store_id;
  // Argon2id cost, for password stores.
  KdfParams kdf = KdfParams::Default();
  // What seals the blocks of an encrypted store. kAes256Gcm sets required
  // feature bit 2, so versions before it refuse the store
  // (UnsupportedVersion); with no key it is InvalidArgument.
  BlockCipher cipher = BlockCipher::kXChaCha20Poly1305;
  // How catalog, content and index blocks are sealed.
  SealOptions metadata_seal;
  // A catalog segment closes at whichever comes first.
  size_t catalog_segment_entries = 4096;
  size_t catalog_segment_bytes = 256 * 1024;
  // So does a content segment.
  uint32_t contents_per_segment = 4096;
  size_t content_segment_bytes = 1 << 20;
  // Memory for entries waiting to be sorted, and for content records
  // waiting to be written, before they go to the scratch file.
  size_t catalog_memory = size_t{16} << 20;
  size_t content_memory = size_t{8} << 20;
  // Where the scratch file is made, tried first; then the local store's own
  // directory (it has room for the store), $TMPDIR, /tmp.
  std::string spill_dir;
};

class ContainerWriter {
 public:
  // A local file at `path` (options.overwrite says whether one there may be
  // replaced).
  static Result<std::unique_ptr<ContainerWriter>> Create(
      const std::string& path, const KeySource& key,
      const WriterOptions& options);
  // Any sink; options.overwrite is the sink's business then.
  static Result<std::unique_ptr<ContainerWriter>> Create(
      std::unique_ptr<StoreSink> sink, const KeySource& key,
      const WriterOptions& options);
  ~ContainerWriter();
  ContainerWriter(const ContainerWriter&) = delete;
  ContainerWriter& operator=(const ContainerWriter&) = delete;

  const BlockCodec& codec() const { return codec_; }
  const StoreId& store_id() const { return codec_.store_id(); }
  Status status() const;

  // Hands out the next block number.
  uint64_t ReserveBlock() { return next_reserved_.fetch_add(1); }
  // Appends the sealed frame of block `number`.
  // REQUIRES: every block reserved before `number` is already appended.
  Status AppendFrame(uint64_t number, std::string_view frame);
  // Reserves, seals and appends in one step (serial callers).
  Result<uint64_t> AppendBlock(BlockType type, std::string_view plain,
                               const SealOptions& options);

  // Store-level metadata, kept in the index block. Keys are unique; setting a
  // key again replaces its value. Each checks docs/format.md's limits.
  Status SetProperty(const std::string& key, std::string value);
  // Returns the profile's number for Entry::profile (1, 2, ...).
  Result<uint32_t> AddProfile(Profile profile);
  Status SetOwnerName(uint32_t uid, std::string name);
  Status SetGroupName(uint32_t gid, std::string name);

  // Whether a content record fits the format (its encoding must fit in a
  // block): a sparse file with millions of data ranges does not, and a
  // caller should store it dense instead.
  static bool ContentFits(const Content& content);
  // Records a content and returns its number for Entry::content. The chunks
  // must point into blocks already appended or reserved. (InvalidArgument
  // in a store with external content.)
  Result<uint64_t> AddContent(const Content& content);
  // Records an entry. Any order; Finish() sorts them. Its profile and
  // content must already be added, and the content's size must match.
  Status AddEntry(const Entry& entry);
  // Adds registry records (docs/format.md "Registry segment"), written at
  // Finish() in key order. Each is checked as it comes; a key or value given
  // twice fails Finish().
  Status AddRegistryRecords(std::vector<RegistryRecord> records);
  // Room for `entries` more entries whose paths total `path_bytes`, made at
  // once: a capture that knows its count spares the catalog's tables the
  // doubling (and the copy beside the old table) of growing one by one. No
  // more than catalog_memory is reserved.
  void ReserveEntries(size_t entries, size_t path_bytes);

  // Writes the catalog, the index and the trailer, then commits the file.
  // InvalidArgument when two entries share a (profile, path).
  Status Finish();
  // Removes the temporary file. Safe after Finish() (it does nothing then).
  void Abandon();

  uint64_t entry_count() const { return entry_count_; }
  uint64_t content_count() const { return content_size_marks_.size(); }
  // Bytes written to the sink so far.
  uint64_t bytes_written() const { return sink_->size(); }
  // Bytes written to the scratch file so far (0: none was needed).
  uint64_t spilled_bytes() const { return spill_ ? spill_->size() : 0; }
  // Where the store is being written.
  const StoreSink& sink() const { return *sink_; }
  // Where a scratch file for this capture is made, in the order tried
  // (WriterOptions::spill_dir): for whatever else spills beside the writer.
  std::vector<std::string> SpillDirs() const;

 private:
  // An entry waiting to be sorted: its key and its encoded body.
  struct PendingEntry {
    uint32_t profile;
    uint32_t path_len;
    uint64_t path_offset;  // in paths_
    uint64_t body_offset;  // in bodies_
    uint32_t body_len;
    uint32_t xattr_count;
  };

  // Catalog segments being cut from entries given in catalog order.
  struct SegmentBuilder;

  ContainerWriter(std::unique_ptr<StoreSink> sink, BlockCodec codec,
                  const WriterOptions& options)
      : sink_(std::move(sink)), codec_(std::move(codec)), options_(options) {}

  Status Fail(Status s);
  Status WriteContentSegments();
  Status WriteCatalogSegments();
  Status AddSorted(SegmentBuilder* b, uint32_t profile, std::string_view path,
                   std::string_view body, uint32_t xattr_count);
  Status FlushSegment(SegmentBuilder* b);
  Status MergeCatalogRuns(SegmentBuilder* b);
  // The scratch file, made when first needed.
  Status NeedSpill();
  // Sorts the entries held into catalog order.
  void SortHeld();
  // Sorts the entries held and writes them to the scratch file as a run.
  Status SpillCatalogRun();
  // Writes the finished content segments held to the scratch file.
  Status SpillContentSegments();
  size_t HeldCatalogBytes() const {
    return paths_.size() + bodies_.size() +
           entries_.size() * sizeof(PendingEntry);
  }
  Status WriteRegistrySegments();
  Status WriteIndexAndTrailer();
  std::string_view PathOf(const PendingEntry& e) const {
    return std::string_view(paths_).substr(e.path_offset, e.path_len);
  }

  std::unique_ptr<StoreSink> sink_;
  BlockCodec codec_;
  WriterOptions options_;
  bool failed() const { return failed_.load(std::memory_order_acquire); }

  // The sticky error: set once by Fail(), read by both of the threads a
  // capture calls in with (see Thread safety).
  mutable std::mutex status_mu_;
  Status status_;  // guarded by status_mu_
  std::atomic<bool> failed_{false};
  bool finished_ = false;

  std::atomic<uint64_t> next_reserved_{0};
  StoreIndex index_;  // blocks, profiles and segment tables fill in as we go
  std::map<std::string, std::string> properties_;
  std::map<uint32_t, std::string> owners_;
  std::map<uint32_t, std::string> groups_;
  std::vector<RegistryRecord> registry_;

  // Content records, encoded, by segment, until Finish() writes them.
  struct PendingSegment {
    std::string records;  // empty once spilled
    std::optional<SpillFile::Piece> spilled;
    uint32_t count = 0;
    size_t pieces = 0;  // ranges and chunks
  };
  // A 16-bit mark of each content's size, to check the entries that name
  // it: 2 bytes a content (a capture of ten million files makes millions;
  // the sizes themselves were 8, then 4). An entry naming the wrong content
  // is refused unless the two sizes share a mark, 1 in 65,536; a reader
  // checks the sizes exactly (ContainerReader::CheckContentFor). A deque:
  // it grows without a copy of itself.
  static uint16_t SizeMark(uint64_t size);
  std::deque<uint16_t> content_size_marks_;
  std::vector<PendingSegment> content_segments_;
  size_t content_bytes_held_ = 0;        // records not yet spilled
  size_t content_segments_spilled_ = 0;  // the first ones

  std::unique_ptr<SpillFile> spill_;  // null until needed
  // Sorted runs of entries in the scratch file, each in pieces.
  std::vector<SortedRun> catalog_runs_;
  uint64_t entry_count_ = 0;
  size_t folders_ = 0;

  // Entries held until they are sorted: keys, paths and encoded bodies.
  std::string paths_;
  std::string bodies_;
  std::vector<PendingEntry> entries_;
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_CONTAINER_WRITER_H_
