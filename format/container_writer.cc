#include "format/container_writer.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>

#include "format/catalog_codec.h"
#include "format/coding.h"
#include "format/header.h"
#include "format/limits.h"
#include "format/sorted_runs.h"

namespace migstore::format {

Result<std::unique_ptr<ContainerWriter>> ContainerWriter::Create(
    const std::string& path, const KeySource& key,
    const WriterOptions& options) {
  // A container is written once and read back later, if ever, by another
  // run: copying gigabytes of it into the page cache on the way was a third
  // of a capture's CPU (docs/performance.md "Direct writes").
  MIGSTORE_ASSIGN_OR_RETURN(std::unique_ptr<StoreSink> sink,
                            CreateFileSink(path, options.overwrite,
                                           options.content_location ==
                                               ContentLocation::kInContainer));
  return Create(std::move(sink), key, options);
}

Result<std::unique_ptr<ContainerWriter>> ContainerWriter::Create(
    std::unique_ptr<StoreSink> sink, const KeySource& key,
    const WriterOptions& options) {
  assert(sink != nullptr && sink->size() == 0 &&
         "the writer must be given an empty sink");
  if (options.contents_per_segment == 0 ||
      options.contents_per_segment > limits::kMaxContentsPerSegment ||
      options.content_segment_bytes == 0 ||
      options.catalog_segment_entries == 0 ||
      options.catalog_segment_entries > limits::kMaxEntriesPerSegment) {
    return Status::InvalidArgument("catalog segment sizes out of range");
  }
  Header header;
  if (options.store_id) {
    header.store_id = *options.store_id;
  } else {
    RandomFill(header.store_id.data(), header.store_id.size());
  }
  if (options.cipher == BlockCipher::kAes256Gcm) {
    if (key.mode() == KeyMode::kNone) {
      return Status::InvalidArgument(
          "a cipher was chosen for a store that is not encrypted");
    }
    // Before the keys are set up: the wrap authenticates the feature bits.
    header.required_features |= kFeatureAes256Gcm;
  }
  MIGSTORE_ASSIGN_OR_RETURN(SecretBytes data_key,
                            SetUpKeys(key, options.kdf, &header));
  if (options.content_location == ContentLocation::kExternal) {
    if (header.key_mode != KeyMode::kNone) {
      return Status::InvalidArgument(
          "a store whose contents live outside it cannot be encrypted");
    }
    header.required_features |= kFeatureExternalContent;
  }
  MIGSTORE_RETURN_IF_ERROR(sink->Append(EncodeHeader(header)));
  BlockCodec codec(header.store_id, std::move(data_key), options.cipher);
  return std::unique_ptr<ContainerWriter>(
      new ContainerWriter(std::move(sink), std::move(codec), options));
}

ContainerWriter::~ContainerWriter() { Abandon(); }

Status ContainerWriter::Fail(Status s) {
  std::lock_guard<std::mutex> lock(status_mu_);
  if (status_.ok() && !s.ok()) {
    status_ = std::move(s);
    failed_.store(true, std::memory_order_release);
  }
  return status_;
}

Status ContainerWriter::status() const {
  std::lock_guard<std::mutex> lock(status_mu_);
  return status_;
}

Status ContainerWriter::AppendFrame(uint64_t number, std::string_view frame) {
  if (failed()) return status();
  if (finished_) return Fail(Status::InvalidArgument("append after Finish"));
  if (number != index_.blocks.size() || number >= next_reserved_) {
    return Fail(Status::InvalidArgument("block " + std::to_string(number) +
                                        " appended out of order"));
  }
  // The header check binds the number: this catches a frame sealed for
  // another position before it reaches the file.
  auto header = codec_.ParseHeader(number, frame);
  if (!header.ok()) return Fail(header.status().WithContext("sealed frame"));
  if (frame.size() != kFrameHeaderSize + header->payload_len) {
    return Fail(
        Status::InvalidArgument("frame length does not match its header"));
  }
  if (index_.blocks.size() >= limits::kMaxBlocks) {
    return Fail(Status::InvalidArgument("too many blocks for one store"));
  }
  if (header->type == static_cast<uint8_t>(BlockType::kData) &&
      options_.content_location == ContentLocation::kExternal) {
    return Fail(Status::InvalidArgument(
        "a data block in a store whose contents live outside it"));
  }
  MIGSTORE_RETURN_IF_ERROR(Fail(sink_->Append(frame)));
  index_.blocks.push_back({header->type, static_cast<uint32_t>(frame.size())});
  return Status::OK();
}

Result<uint64_t> ContainerWriter::AppendBlock(BlockType type,
                                              std::string_view plain,
                                              const SealOptions& options) {
  if (failed()) return status();
  size_t max = type == BlockType::kIndex ? limits::kMaxIndexPlain
                                         : limits::kMaxBlockPlain;
  if (plain.size() > max)
    return Fail(Status::InvalidArgument("block too large"));
  uint64_t n = ReserveBlock();
  MIGSTORE_RETURN_IF_ERROR(
      AppendFrame(n, codec_.Seal(n, type, plain, options)));
  return n;
}

Status ContainerWriter::SetProperty(const std::string& key, std::string value) {
  if (failed()) return status();
  if (key.size() > limits::kMaxNameBytes ||
      value.size() > limits::kMaxPropertyValue ||
      (properties_.count(key) == 0 &&
       properties_.size() >= limits::kMaxProperties)) {
    return Fail(Status::InvalidArgument("store property out of range", key));
  }
  properties_[key] = std::move(value);
  return Status::OK();
}

Result<uint32_t> ContainerWriter::AddProfile(Profile profile) {
  if (failed()) return status();
  if (index_.profiles.size() >= limits::kMaxProfiles) {
    return Fail(Status::InvalidArgument("too many profiles"));
  }
  if (profile.name.size() > limits::kMaxNameBytes ||
      profile.sid.size() > limits::kMaxNameBytes ||
      profile.home.size() > limits::kMaxPathBytes ||
      profile.folders.size() > limits::kMaxFoldersPerProfile ||
      folders_ + profile.folders.size() > limits::kMaxFoldersInIndex ||
      profile.layout > Layout::kWindows) {
    return Fail(Status::InvalidArgument("profile fields out of range"));
  }
  folders_ += profile.folders.size();
  for (const auto& [key, path] : profile.folders) {
    if (key.size() > limits::kMaxNameBytes ||
        path.size() > limits::kMaxPathBytes) {
      return Fail(Status::InvalidArgument("known folder out of range"));
    }
  }
  index_.profiles.push_back(std::move(profile));
  return static_cast<uint32_t>(index_.profiles.size());
}

namespace {

Status SetName(std::map<uint32_t, std::string>* table, uint32_t id,
               std::string name) {
  if (name.size() > limits::kMaxNameBytes ||
      (table->count(id) == 0 && table->size() >= limits::kMaxOwnerNames)) {
    return Status::InvalidArgument("owner or group name out of range", name);
  }
  (*table)[id] = std::move(name);
  return Status::OK();
}

size_t PiecesOf(const Content& c) { return c.ranges.size() + c.chunks.size(); }

}  // namespace

Status ContainerWriter::SetOwnerName(uint32_t uid, std::string name) {
  if (failed()) return status();
  return Fail(SetName(&owners_, uid, std::move(name)));
}

Status ContainerWriter::SetGroupName(uint32_t gid, std::string name) {
  if (failed()) return status();
  return Fail(SetName(&groups_, gid, std::move(name)));
}

bool ContainerWriter::ContentFits(const Content& c) {
  if (c.ranges.size() > limits::kMaxRangesPerContent ||
      c.chunks.size() > limits::kMaxChunksPerContent ||
      PiecesOf(c) > limits::kMaxPiecesPerContentSegment) {
    return false;
  }
  std::string encoded;
  EncodeContent(c, &encoded);
  // Room for the segment's count varint.
  return encoded.size() + 10 <= limits::kMaxBlockPlain;
}

Result<uint64_t> ContainerWriter::AddContent(const Content& c) {
  if (failed()) return status();
  if (options_.content_location == ContentLocation::kExternal) {
    return Fail(Status::InvalidArgument(
        "a content record in a store whose contents live outside it"));
  }
  uint64_t want = c.size;
  if (c.sparse) {
    want = 0;
    uint64_t end = 0;
    for (size_t i = 0; i < c.ranges.size(); ++i) {
      const DataRange& r = c.ranges[i];
      if (r.length == 0 || r.offset < end || (i > 0 && r.offset == end) ||
          r.offset > c.size || r.length > c.size - r.offset) {
        return Fail(Status::InvalidArgument(
            "sparse ranges are not ascending and disjoint"));
      }
      end = r.offset + r.length;
      want += r.length;
    }
  } else if (!c.ranges.empty()) {
    return Fail(Status::InvalidArgument("data ranges on a dense content"));
  }
  if (c.stored_size() != want) {
    return Fail(
        Status::InvalidArgument("content chunks do not add up to its size"));
  }
  for (const Chunk& ch : c.chunks) {
    if (ch.length == 0 || ch.block >= next_reserved_ ||
        uint64_t{ch.offset} + ch.length > limits::kMaxBlockPlain) {
      return Fail(
          Status::InvalidArgument("a chunk outside the reserved blocks"));
    }
  }
  if (c.size > limits::kMaxFileSize || !ContentFits(c)) {
    return Fail(Status::InvalidArgument(
        "content out of range: too many pieces to store"));
  }
  std::string encoded;
  EncodeContent(c, &encoded);
  if (content_segments_.empty()) content_segments_.emplace_back();
  PendingSegment* seg = &content_segments_.back();
  if (seg->count > 0 &&
      (seg->count >= options_.contents_per_segment ||
       seg->records.size() + encoded.size() > options_.content_segment_bytes ||
       seg->records.size() + encoded.size() + 10 > limits::kMaxBlockPlain ||
       seg->pieces + PiecesOf(c) > limits::kMaxPiecesPerContentSegment)) {
    seg = &content_segments_.emplace_back();
  }
  seg->records.append(encoded);
  seg->count++;
  seg->pieces += PiecesOf(c);
  content_bytes_held_ += encoded.size();
  const uint64_t id = content_size_marks_.size();
  content_size_marks_.push_back(SizeMark(c.size));
  if (content_bytes_held_ > options_.content_memory)
    MIGSTORE_RETURN_IF_ERROR(Fail(SpillContentSegments()));
  return id;
}

uint16_t ContainerWriter::SizeMark(uint64_t size) {
  // Fibonacci hashing: every bit of the size moves the top 16.
  return static_cast<uint16_t>((size * 0x9E3779B97F4A7C15ull) >> 48);
}

void ContainerWriter::ReserveEntries(size_t entries, size_t path_bytes) {
  // An entry's body is its metadata in varints, 20 to 50 bytes. Generous:
  // a large reservation is mapped, not touched, so what is not used costs
  // address space only.
  constexpr size_t kBodyBytes = 64;
  const double want =
      static_cast<double>(entries) * (sizeof(PendingEntry) + kBodyBytes) +
      static_cast<double>(path_bytes);
  // What does not fit in catalog_memory goes to the scratch file in runs:
  // room for one run, not for them all.
  const double share =
      want <= static_cast<double>(options_.catalog_memory)
          ? 1.0
          : static_cast<double>(options_.catalog_memory) / want;
  const size_t n = static_cast<size_t>(static_cast<double>(entries) * share);
  entries_.reserve(entries_.size() + n);
  paths_.reserve(paths_.size() +
                 static_cast<size_t>(static_cast<double>(path_bytes) * share));
  bodies_.reserve(bodies_.size() + n * kBodyBytes);
}

Status ContainerWriter::AddEntry(const Entry& e) {
  if (failed()) return status();
  Status s = ValidateEntry(e, options_.content_location);
  if (!s.ok()) return Fail(Status::InvalidArgument(s.message()));
  if (e.profile > index_.profiles.size()) {
    return Fail(
        Status::InvalidArgument("entry names a profile that was not added"));
  }
  if (e.content) {
    if (*e.content >= content_size_marks_.size()) {
      return Fail(
          Status::InvalidArgument("entry names a content that was not added"));
    }
    if (content_size_marks_[*e.content] != SizeMark(e.size)) {
      return Fail(
          Status::InvalidArgument("entry size differs from its content's"));
    }
  }
  PendingEntry p;
  p.profile = e.profile;
  p.path_len = static_cast<uint32_t>(e.path.size());
  p.path_offset = paths_.size();
  p.body_offset = bodies_.size();
  paths_.append(e.path);
  EncodeEntryBody(e, &bodies_);
  p.body_len = static_cast<uint32_t>(bodies_.size() - p.body_offset);
  p.xattr_count = static_cast<uint32_t>(e.xattrs().size());
  entries_.push_back(p);
  ++entry_count_;
  if (HeldCatalogBytes() >= options_.catalog_memory)
    MIGSTORE_RETURN_IF_ERROR(Fail(SpillCatalogRun()));
  return Status::OK();
}

std::vector<std::string> ContainerWriter::SpillDirs() const {
  std::vector<std::string> dirs = {options_.spill_dir};
  for (const std::string& p : sink_->local_paths()) {
    const size_t slash = p.rfind('/');
    dirs.push_back(slash == std::string::npos ? "."
                   : slash == 0               ? "/"
                                              : p.substr(0, slash));
  }
  for (std::string& d : DefaultSpillDirs()) dirs.push_back(std::move(d));
  return dirs;
}

Status ContainerWriter::NeedSpill() {
  if (spill_ != nullptr) return Status::OK();
  MIGSTORE_ASSIGN_OR_RETURN(spill_, SpillFile::Create(SpillDirs()));
  return Status::OK();
}

namespace {

// A catalog entry's key in a sorted run: the profile big-endian, then the
// path, so that keys sort as bytes in catalog order (EntryKeyLess).
void PutRunKey(uint32_t profile, std::string_view path, std::string* key) {
  key->clear();
  for (int shift = 24; shift >= 0; shift -= 8)
    key->push_back(static_cast<char>(profile >> shift));
  key->append(path);
}

// Its value: the xattr count, then the entry's encoded body.
void PutRunValue(uint32_t xattr_count, std::string_view body,
                 std::string* value) {
  value->clear();
  PutVarint(value, xattr_count);
  value->append(body);
}

}  // namespace

void ContainerWriter::SortHeld() {
  std::sort(entries_.begin(), entries_.end(),
            [this](const PendingEntry& a, const PendingEntry& b) {
              return EntryKeyLess(a.profile, PathOf(a), b.profile, PathOf(b));
            });
}

Status ContainerWriter::SpillCatalogRun() {
  if (entries_.empty()) return Status::OK();
  MIGSTORE_RETURN_IF_ERROR(Fail(NeedSpill()));
  SortHeld();
  RunWriter run(spill_.get());
  std::string key, value;
  for (const PendingEntry& e : entries_) {
    PutRunKey(e.profile, PathOf(e), &key);
    PutRunValue(e.xattr_count,
                std::string_view(bodies_).substr(e.body_offset, e.body_len),
                &value);
    MIGSTORE_RETURN_IF_ERROR(Fail(run.Add(key, value)));
  }
  Result<SortedRun> done = run.Finish();
  MIGSTORE_RETURN_IF_ERROR(Fail(done.status()));
  catalog_runs_.push_back(std::move(*done));
  entries_.clear();
  paths_.clear();
  bodies_.clear();
  return Status::OK();
}

Status ContainerWriter::SpillContentSegments() {
  // The last segment is still filling.
  if (content_segments_.size() < 2) return Status::OK();
  MIGSTORE_RETURN_IF_ERROR(Fail(NeedSpill()));
  for (; content_segments_spilled_ + 1 < content_segments_.size();
       ++content_segments_spilled_) {
    PendingSegment& seg = content_segments_[content_segments_spilled_];
    MIGSTORE_ASSIGN_OR_RETURN(SpillFile::Piece p, spill_->Write(seg.records));
    seg.spilled = p;
    content_bytes_held_ -= seg.records.size();
    std::string().swap(seg.records);
  }
  return Status::OK();
}

Status ContainerWriter::WriteContentSegments() {
  uint64_t first = 0;
  std::string plain, spilled;
  for (const PendingSegment& seg : content_segments_) {
    plain.clear();
    PutVarint(&plain, seg.count);
    if (seg.spilled) {
      MIGSTORE_RETURN_IF_ERROR(Fail(spill_->Read(*seg.spilled, &spilled)));
      plain.append(spilled);
    } else {
      plain.append(seg.records);
    }
    MIGSTORE_ASSIGN_OR_RETURN(
        uint64_t n,
        AppendBlock(BlockType::kContentSegment, plain, options_.metadata_seal));
    index_.content_segments.push_back({n, seg.count, first});
    first += seg.count;
  }
  index_.content_count = content_size_marks_.size();
  return Status::OK();
}

struct ContainerWriter::SegmentBuilder {
  std::string records;
  std::string prev_path;  // the last entry added, of any segment
  uint32_t prev_profile = 0;
  bool any = false;
  // The open segment's.
  size_t count = 0, path_bytes = 0, xattrs = 0;
  CatalogSegmentInfo info;
};

Status ContainerWriter::FlushSegment(SegmentBuilder* b) {
  if (b->count == 0) return Status::OK();
  std::string plain;
  PutVarint(&plain, b->count);
  plain.append(b->records);
  MIGSTORE_ASSIGN_OR_RETURN(
      uint64_t n,
      AppendBlock(BlockType::kCatalogSegment, plain, options_.metadata_seal));
  b->info.block = n;
  b->info.entry_count = static_cast<uint32_t>(b->count);
  index_.catalog_segments.push_back(std::move(b->info));
  b->info = CatalogSegmentInfo();
  b->records.clear();
  b->count = 0;
  b->path_bytes = 0;
  b->xattrs = 0;
  return Status::OK();
}

Status ContainerWriter::AddSorted(SegmentBuilder* b, uint32_t profile,
                                  std::string_view path, std::string_view body,
                                  uint32_t xattr_count) {
  if (b->any && profile == b->prev_profile && path == b->prev_path) {
    return Fail(Status::InvalidArgument("two entries for the same path",
                                        std::string(path)));
  }
  if (b->count == 0) {
    b->info.first_profile = profile;
    b->info.first_path = std::string(path);
  }
  // Paths are prefix-compressed within a segment: the first has no
  // predecessor.
  EncodeEntryPath(path, b->count == 0 ? std::string_view() : b->prev_path,
                  &b->records);
  b->records.append(body);
  b->prev_path.assign(path);
  b->prev_profile = profile;
  b->any = true;
  ++b->count;
  b->path_bytes += path.size();
  b->xattrs += xattr_count;
  // Cut well inside what a reader accepts of one segment (format/limits.h):
  // an entry adds at most 4095 path bytes, 1024 xattrs and 1 MiB.
  if (b->count >= options_.catalog_segment_entries ||
      b->records.size() >= options_.catalog_segment_bytes ||
      b->path_bytes >= limits::kMaxPathBytesPerSegment / 2 ||
      b->xattrs + limits::kMaxXattrsPerEntry >= limits::kMaxXattrsPerSegment) {
    return FlushSegment(b);
  }
  return Status::OK();
}

Status ContainerWriter::MergeCatalogRuns(SegmentBuilder* b) {
  RunMerge merge(spill_.get(), &catalog_runs_);
  for (;;) {
    bool done = false;
    MIGSTORE_RETURN_IF_ERROR(Fail(merge.Next(&done)));
    if (done) return Status::OK();
    const std::string_view key = merge.key();
    Decoder value(merge.value());
    const uint32_t xattr_count =
        static_cast<uint32_t>(value.VarintAtMost(UINT32_MAX));
    if (key.size() < 4 || !value.ok()) {
      return Fail(Status::Corruption(
          "a sorted run of the capture's scratch file does not decode"));
    }
    const uint32_t profile = (uint32_t{static_cast<uint8_t>(key[0])} << 24) |
                             (uint32_t{static_cast<uint8_t>(key[1])} << 16) |
                             (uint32_t{static_cast<uint8_t>(key[2])} << 8) |
                             uint32_t{static_cast<uint8_t>(key[3])};
    MIGSTORE_RETURN_IF_ERROR(AddSorted(
        b, profile, key.substr(4), value.Raw(value.remaining()), xattr_count));
  }
}

Status ContainerWriter::WriteCatalogSegments() {
  SegmentBuilder b;
  if (!catalog_runs_.empty()) {
    // Some went to the scratch file: so do the rest, and the runs merge.
    MIGSTORE_RETURN_IF_ERROR(Fail(SpillCatalogRun()));
    MIGSTORE_RETURN_IF_ERROR(MergeCatalogRuns(&b));
  } else {
    SortHeld();
    for (const PendingEntry& e : entries_) {
      MIGSTORE_RETURN_IF_ERROR(
          AddSorted(&b, e.profile, PathOf(e),
                    std::string_view(bodies_).substr(e.body_offset, e.body_len),
                    e.xattr_count));
    }
  }
  MIGSTORE_RETURN_IF_ERROR(FlushSegment(&b));
  index_.entry_count = entry_count_;
  return Status::OK();
}

Status ContainerWriter::AddRegistryRecords(
    std::vector<RegistryRecord> records) {
  if (failed()) return status();
  for (RegistryRecord& r : records) {
    MIGSTORE_RETURN_IF_ERROR(Fail(ValidateRegistryRecord(r)));
    if (r.profile > index_.profiles.size()) {
      return Fail(Status::InvalidArgument("registry record " + r.key,
                                          "names a profile the store lacks"));
    }
    registry_.push_back(std::move(r));
  }
  return Status::OK();
}

Status ContainerWriter::WriteRegistrySegments() {
  std::sort(registry_.begin(), registry_.end(), RegistryRecordLess);
  // Segments well inside a block: a record is at most ~1.1 MiB.
  constexpr size_t kSegmentBytes = 4 * limits::kMiB;
  std::vector<RegistryRecord> segment;
  size_t bytes = 0;
  auto flush = [&]() -> Status {
    if (segment.empty()) return Status::OK();
    std::string plain = EncodeRegistrySegment(segment);
    MIGSTORE_RETURN_IF_ERROR(
        AppendBlock(BlockType::kRegistrySegment, plain, options_.metadata_seal)
            .status());
    segment.clear();
    bytes = 0;
    return Status::OK();
  };
  for (size_t i = 1; i < registry_.size(); ++i) {
    if (!RegistryRecordLess(registry_[i - 1], registry_[i])) {
      return Fail(Status::InvalidArgument(
          "the same registry key or value given twice", registry_[i].key));
    }
  }
  for (size_t i = 0; i < registry_.size(); ++i) {
    bytes += registry_[i].key.size() + registry_[i].name.size() +
             registry_[i].data.size() + 16;
    segment.push_back(std::move(registry_[i]));
    if (bytes >= kSegmentBytes ||
        segment.size() >= limits::kMaxRegistryRecordsPerSegment) {
      MIGSTORE_RETURN_IF_ERROR(flush());
    }
  }
  MIGSTORE_RETURN_IF_ERROR(flush());
  registry_.clear();
  return Status::OK();
}

Status ContainerWriter::WriteIndexAndTrailer() {
  index_.properties.assign(properties_.begin(), properties_.end());
  index_.owner_names.assign(owners_.begin(), owners_.end());
  index_.group_names.assign(groups_.begin(), groups_.end());
  std::string plain = EncodeStoreIndex(index_);
  if (plain.size() > limits::kMaxIndexPlain) {
    return Fail(Status::InvalidArgument("the index block exceeds its limit"));
  }
  Trailer t;
  t.index_offset = sink_->size();
  t.index_block_number = index_.blocks.size();
  t.store_id = store_id();
  uint64_t n = ReserveBlock();
  std::string frame =
      codec_.Seal(n, BlockType::kIndex, plain, options_.metadata_seal);
  t.index_frame_len = static_cast<uint32_t>(frame.size());
  MIGSTORE_RETURN_IF_ERROR(Fail(sink_->Append(frame)));
  return Fail(sink_->Append(EncodeTrailer(t)));
}

Status ContainerWriter::Finish() {
  if (failed()) return status();
  if (finished_) return Fail(Status::InvalidArgument("Finish called twice"));
  if (next_reserved_ != index_.blocks.size()) {
    return Fail(
        Status::InvalidArgument("blocks were reserved but never appended"));
  }
  MIGSTORE_RETURN_IF_ERROR(WriteContentSegments());
  MIGSTORE_RETURN_IF_ERROR(WriteCatalogSegments());
  MIGSTORE_RETURN_IF_ERROR(WriteRegistrySegments());
  MIGSTORE_RETURN_IF_ERROR(WriteIndexAndTrailer());
  MIGSTORE_RETURN_IF_ERROR(Fail(sink_->Commit()));
  finished_ = true;
  return Status::OK();
}

void ContainerWriter::Abandon() {
  if (!finished_) sink_->Abandon();
}

}  // namespace migstore::format
