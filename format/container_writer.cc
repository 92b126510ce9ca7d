#include "format/container_writer.h"

#include <algorithm>
#include <cassert>

#include "format/catalog_codec.h"
#include "format/coding.h"
#include "format/header.h"
#include "format/limits.h"

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
  content_sizes_.push_back(c.size);
  return content_sizes_.size() - 1;
}

void ContainerWriter::ReserveEntries(size_t entries, size_t path_bytes) {
  entries_.reserve(entries_.size() + entries);
  paths_.reserve(paths_.size() + path_bytes);
  // An entry's body is its metadata in varints, 20 to 50 bytes. Generous:
  // a large reservation is mapped, not touched, so what is not used costs
  // address space only.
  bodies_.reserve(bodies_.size() + entries * 64);
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
    if (*e.content >= content_sizes_.size()) {
      return Fail(
          Status::InvalidArgument("entry names a content that was not added"));
    }
    if (content_sizes_[*e.content] != e.size) {
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
  return Status::OK();
}

Status ContainerWriter::WriteContentSegments() {
  uint64_t first = 0;
  for (const PendingSegment& seg : content_segments_) {
    std::string plain;
    PutVarint(&plain, seg.count);
    plain.append(seg.records);
    MIGSTORE_ASSIGN_OR_RETURN(
        uint64_t n,
        AppendBlock(BlockType::kContentSegment, plain, options_.metadata_seal));
    index_.content_segments.push_back({n, seg.count, first});
    first += seg.count;
  }
  index_.content_count = content_sizes_.size();
  return Status::OK();
}

Status ContainerWriter::WriteCatalogSegments() {
  std::sort(entries_.begin(), entries_.end(),
            [this](const PendingEntry& a, const PendingEntry& b) {
              return EntryKeyLess(a.profile, PathOf(a), b.profile, PathOf(b));
            });
  std::string plain, records;
  size_t count = 0, path_bytes = 0, xattrs = 0;
  std::string_view prev;
  CatalogSegmentInfo info;
  auto flush = [&]() -> Status {
    if (count == 0) return Status::OK();
    plain.clear();
    PutVarint(&plain, count);
    plain.append(records);
    MIGSTORE_ASSIGN_OR_RETURN(
        uint64_t n,
        AppendBlock(BlockType::kCatalogSegment, plain, options_.metadata_seal));
    info.block = n;
    info.entry_count = static_cast<uint32_t>(count);
    index_.catalog_segments.push_back(std::move(info));
    info = CatalogSegmentInfo();
    records.clear();
    count = 0;
    path_bytes = 0;
    xattrs = 0;
    prev = {};
    return Status::OK();
  };
  for (size_t i = 0; i < entries_.size(); ++i) {
    const PendingEntry& e = entries_[i];
    std::string_view path = PathOf(e);
    if (i > 0 && e.profile == entries_[i - 1].profile &&
        path == PathOf(entries_[i - 1])) {
      return Fail(Status::InvalidArgument("two entries for the same path",
                                          std::string(path)));
    }
    if (count == 0) {
      info.first_profile = e.profile;
      info.first_path = std::string(path);
    }
    EncodeEntryPath(path, prev, &records);
    records.append(bodies_, e.body_offset, e.body_len);
    prev = path;
    ++count;
    path_bytes += path.size();
    xattrs += e.xattr_count;
    // Cut well inside what a reader accepts of one segment (format/limits.h):
    // an entry adds at most 4095 path bytes, 1024 xattrs and 1 MiB.
    if (count >= options_.catalog_segment_entries ||
        records.size() >= options_.catalog_segment_bytes ||
        path_bytes >= limits::kMaxPathBytesPerSegment / 2 ||
        xattrs + limits::kMaxXattrsPerEntry >= limits::kMaxXattrsPerSegment) {
      MIGSTORE_RETURN_IF_ERROR(flush());
    }
  }
  MIGSTORE_RETURN_IF_ERROR(flush());
  index_.entry_count = entries_.size();
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
