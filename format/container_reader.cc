#include "format/container_reader.h"

#include <algorithm>

#include "format/catalog_codec.h"
#include "format/hash.h"
#include "format/layout.h"
#include "format/limits.h"

namespace migstore::format {
namespace {

template <typename Table>
const std::string* LookUp(const Table& table, uint32_t id) {
  auto it = std::lower_bound(
      table.begin(), table.end(), id,
      [](const auto& row, uint32_t v) { return row.first < v; });
  return it != table.end() && it->first == id ? &it->second : nullptr;
}

}  // namespace

const std::string* BlockCache::Find(uint64_t n) {
  for (Slot& s : slots_) {
    if (s.block == n) {
      s.used = ++clock_;
      return &s.plain;
    }
  }
  return nullptr;
}

const std::string* BlockCache::Put(uint64_t n, std::string plain) {
  Slot* slot = nullptr;
  if (slots_.size() < std::max<size_t>(capacity_, 1)) {
    slot = &slots_.emplace_back();
  } else {
    slot = &*std::min_element(
        slots_.begin(), slots_.end(),
        [](const Slot& a, const Slot& b) { return a.used < b.used; });
  }
  slot->block = n;
  slot->used = ++clock_;
  slot->plain = std::move(plain);
  return &slot->plain;
}

Result<std::unique_ptr<ContainerReader>> ContainerReader::Open(
    const std::string& path, const KeySource& key, const KdfParams& most_kdf) {
  MIGSTORE_ASSIGN_OR_RETURN(RandomAccessFile file,
                            RandomAccessFile::Open(path));
  return Open(std::make_unique<RandomAccessFile>(std::move(file)), key,
              most_kdf);
}

Result<std::unique_ptr<ContainerReader>> ContainerReader::Open(
    std::unique_ptr<StoreSource> source, const KeySource& key,
    const KdfParams& most_kdf) {
  const std::string path = source->name();
  const uint64_t size = source->size();
  std::string head(static_cast<size_t>(std::min<uint64_t>(size, kHeaderSize)),
                   '\0');
  if (!head.empty())
    MIGSTORE_RETURN_IF_ERROR(source->ReadAt(0, head.size(), head.data()));
  auto header = DecodeHeader(head);
  if (!header.ok()) return header.status().WithContext(path);
  if (size < kMinStoreSize) {
    return Status::Corruption(
        path, "the store is truncated: too short to hold a trailer");
  }
  auto data_key = OpenDataKey(*header, key, most_kdf);
  if (!data_key.ok()) {
    return data_key.status().IsRefused() ? data_key.status().WithContext(path)
                                         : data_key.status();
  }
  BlockCodec codec(header->store_id, std::move(data_key).value(),
                   CipherOf(*header));
  std::unique_ptr<ContainerReader> reader(
      new ContainerReader(std::move(source), *header, std::move(codec)));
  Status s = reader->LoadIndex();
  if (!s.ok()) return s.WithContext(path);
  return reader;
}

Status ContainerReader::LoadIndex() {
  const uint64_t size = source_->size();
  std::string tail(kTrailerSize, '\0');
  MIGSTORE_RETURN_IF_ERROR(
      source_->ReadAt(size - kTrailerSize, kTrailerSize, tail.data()));
  MIGSTORE_ASSIGN_OR_RETURN(Trailer t, DecodeTrailer(tail));
  if (t.store_id != header_.store_id) {
    return Status::Corruption("the trailer belongs to another store");
  }
  // Subtractions only: size >= kMinStoreSize, so nothing here can wrap.
  if (t.index_offset < kHeaderSize || t.index_frame_len < kFrameHeaderSize ||
      t.index_frame_len > kFrameHeaderSize + limits::kMaxPayload ||
      t.index_frame_len > size - kTrailerSize ||
      t.index_offset != size - kTrailerSize - t.index_frame_len ||
      t.index_block_number > limits::kMaxBlocks) {
    return Status::Corruption("the trailer does not locate an index block");
  }
  std::string frame(t.index_frame_len, '\0');
  MIGSTORE_RETURN_IF_ERROR(
      source_->ReadAt(t.index_offset, frame.size(), frame.data()));
  std::string plain;
  FrameHeader fh;
  MIGSTORE_RETURN_IF_ERROR(
      codec_.Open(t.index_block_number, frame, &plain, &fh));
  if (fh.type != static_cast<uint8_t>(BlockType::kIndex)) {
    return Status::Corruption(
        "the trailer points at a block that is not the index");
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      index_, DecodeStoreIndex(plain, t.index_offset - kHeaderSize));
  if (index_.blocks.size() != t.index_block_number) {
    return Status::Corruption(
        "the index and trailer disagree on the block count");
  }
  if (content_location() == ContentLocation::kExternal) {
    if (index_.content_count != 0) {
      return Status::Corruption(
          "content records in a store whose contents live outside it");
    }
    for (const BlockInfo& b : index_.blocks) {
      if (b.type == static_cast<uint8_t>(BlockType::kData)) {
        return Status::Corruption(
            "a data block in a store whose contents live outside it");
      }
    }
  }
  // The index checked that the lengths add up to the index's position.
  offsets_.reserve(index_.blocks.size());
  uint64_t offset = kHeaderSize;
  for (const BlockInfo& b : index_.blocks) {
    offsets_.push_back(offset);
    offset += b.frame_len;
  }
  return Status::OK();
}

Status ContainerReader::ReadBlock(uint64_t n, std::string* plain) const {
  if (n >= index_.blocks.size()) {
    return Status::Corruption("reference to block " + std::to_string(n) +
                              ", past the last block");
  }
  const BlockInfo& info = index_.blocks[n];
  std::string frame(info.frame_len, '\0');
  MIGSTORE_RETURN_IF_ERROR(
      source_->ReadAt(offsets_[n], frame.size(), frame.data()));
  FrameHeader fh;
  MIGSTORE_RETURN_IF_ERROR(codec_.Open(n, frame, plain, &fh));
  if (fh.type != info.type) {
    plain->clear();
    return Status::Corruption("block " + std::to_string(n),
                              "its type differs from the index's");
  }
  return Status::OK();
}

Status ContainerReader::ReadDataBlock(uint64_t n, std::string* plain) const {
  return ReadTypedBlock(n, BlockType::kData, plain);
}

Status ContainerReader::ReadDataBlockEncoded(uint64_t n, std::string* encoded,
                                             FrameHeader* header) const {
  MIGSTORE_RETURN_IF_ERROR(CheckIndexType(n, BlockType::kData));
  std::string frame(index_.blocks[n].frame_len, '\0');
  MIGSTORE_RETURN_IF_ERROR(
      source_->ReadAt(offsets_[n], frame.size(), frame.data()));
  MIGSTORE_RETURN_IF_ERROR(codec_.OpenEncoded(n, frame, encoded, header));
  if (header->type != static_cast<uint8_t>(BlockType::kData)) {
    encoded->clear();
    return Status::Corruption("block " + std::to_string(n),
                              "its type differs from the index's");
  }
  return Status::OK();
}

Status ContainerReader::CheckIndexType(uint64_t n, BlockType type) const {
  if (n >= index_.blocks.size() ||
      index_.blocks[n].type != static_cast<uint8_t>(type)) {
    return Status::Corruption("reference to block " + std::to_string(n) +
                              ", which is missing or of the wrong type");
  }
  return Status::OK();
}

Status ContainerReader::ReadTypedBlock(uint64_t n, BlockType type,
                                       std::string* plain) const {
  MIGSTORE_RETURN_IF_ERROR(CheckIndexType(n, type));
  return ReadBlock(n, plain);
}

std::optional<std::string_view> ContainerReader::property(
    std::string_view key) const {
  auto it = std::lower_bound(
      index_.properties.begin(), index_.properties.end(), key,
      [](const auto& row, std::string_view k) { return row.first < k; });
  if (it == index_.properties.end() || it->first != key) return std::nullopt;
  return std::string_view(it->second);
}

const std::string* ContainerReader::owner_name(uint32_t uid) const {
  return LookUp(index_.owner_names, uid);
}

const std::string* ContainerReader::group_name(uint32_t gid) const {
  return LookUp(index_.group_names, gid);
}

bool ContainerReader::has_registry() const {
  for (const BlockInfo& b : index_.blocks) {
    if (b.type == static_cast<uint8_t>(BlockType::kRegistrySegment))
      return true;
  }
  return false;
}

Result<std::vector<RegistryRecord>> ContainerReader::ReadRegistry() const {
  std::vector<RegistryRecord> all;
  uint64_t total = 0;
  for (uint64_t n = 0; n < index_.blocks.size(); ++n) {
    if (index_.blocks[n].type !=
        static_cast<uint8_t>(BlockType::kRegistrySegment)) {
      continue;
    }
    std::string plain;
    MIGSTORE_RETURN_IF_ERROR(
        ReadTypedBlock(n, BlockType::kRegistrySegment, &plain));
    total += plain.size();
    if (total > limits::kMaxRegistryTotal) {
      return Status::Corruption("registry segments",
                                "more settings than a store may hold");
    }
    auto records = DecodeRegistrySegment(plain);
    if (!records.ok())
      return records.status().WithContext("block " + std::to_string(n));
    for (RegistryRecord& r : *records) {
      if (r.profile > index_.profiles.size() ||
          (!all.empty() && !RegistryRecordLess(all.back(), r))) {
        return Status::Corruption(
            "registry segment in block " + std::to_string(n),
            "a record names no profile of the store, or is out of order");
      }
      all.push_back(std::move(r));
    }
  }
  return all;
}

Result<std::vector<Entry>> ContainerReader::ReadCatalogSegment(size_t i) const {
  if (i >= index_.catalog_segments.size()) {
    return Status::InvalidArgument("no catalog segment " + std::to_string(i));
  }
  const CatalogSegmentInfo& info = index_.catalog_segments[i];
  std::string plain;
  MIGSTORE_RETURN_IF_ERROR(
      ReadTypedBlock(info.block, BlockType::kCatalogSegment, &plain));
  auto entries = DecodeCatalogSegment(plain, content_location());
  if (!entries.ok())
    return entries.status().WithContext("block " + std::to_string(info.block));
  auto bad = [&](std::string_view what) {
    return Status::Corruption(
        "catalog segment in block " + std::to_string(info.block), what);
  };
  if (entries->size() != info.entry_count)
    return bad("entry count differs from the index");
  const Entry& first = entries->front();
  if (first.profile != info.first_profile || first.path != info.first_path) {
    return bad("first entry differs from the index");
  }
  if (i + 1 < index_.catalog_segments.size()) {
    const CatalogSegmentInfo& next = index_.catalog_segments[i + 1];
    const Entry& last = entries->back();
    if (!EntryKeyLess(last.profile, last.path, next.first_profile,
                      next.first_path)) {
      return bad("entries overlap the next segment");
    }
  }
  for (const Entry& e : *entries) {
    if (e.profile > index_.profiles.size())
      return bad("entry names a missing profile");
    if (e.content && *e.content >= index_.content_count) {
      return bad("entry names a missing content");
    }
  }
  return entries;
}

Result<std::optional<Entry>> ContainerReader::FindEntry(
    uint32_t profile, std::string_view path) const {
  const auto& segs = index_.catalog_segments;
  // The last segment whose first key is not after (profile, path).
  auto it =
      std::upper_bound(segs.begin(), segs.end(), std::make_pair(profile, path),
                       [](const auto& key, const CatalogSegmentInfo& s) {
                         return EntryKeyLess(key.first, key.second,
                                             s.first_profile, s.first_path);
                       });
  if (it == segs.begin()) return std::optional<Entry>();
  MIGSTORE_ASSIGN_OR_RETURN(
      std::vector<Entry> entries,
      ReadCatalogSegment(static_cast<size_t>(it - segs.begin() - 1)));
  auto e = std::lower_bound(
      entries.begin(), entries.end(), std::make_pair(profile, path),
      [](const Entry& x, const auto& key) {
        return EntryKeyLess(x.profile, x.path, key.first, key.second);
      });
  if (e == entries.end() || e->profile != profile || e->path != path) {
    return std::optional<Entry>();
  }
  return std::optional<Entry>(std::move(*e));
}

Result<std::vector<Content>> ContainerReader::ReadContentSegment(
    size_t i) const {
  if (i >= index_.content_segments.size()) {
    return Status::InvalidArgument("no content segment " + std::to_string(i));
  }
  uint64_t block = index_.content_segments[i].block;
  std::string plain;
  MIGSTORE_RETURN_IF_ERROR(
      ReadTypedBlock(block, BlockType::kContentSegment, &plain));
  auto contents = DecodeContentSegment(plain);
  if (!contents.ok())
    return contents.status().WithContext("block " + std::to_string(block));
  if (contents->size() != index_.content_segments[i].record_count) {
    return Status::Corruption(
        "content segment in block " + std::to_string(block),
        "record count differs from the index");
  }
  return contents;
}

Result<Content> ContainerReader::ReadContent(uint64_t id) const {
  if (id >= index_.content_count) {
    return Status::Corruption("reference to content " + std::to_string(id) +
                              ", past the last content");
  }
  const size_t segment = ContentSegmentOf(index_, id);
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<Content> contents,
                            ReadContentSegment(segment));
  return std::move(contents[static_cast<size_t>(
      id - index_.content_segments[segment].first_id)]);
}

Status ContainerReader::CheckContentFor(const Entry& e, const Content& c) {
  if (e.type != EntryType::kFile || !e.content) {
    return Status::InvalidArgument(e.path, "has no content");
  }
  if (c.size != e.size) {
    return Status::Corruption(
        e.path, "its content record's size differs from the entry's");
  }
  return Status::OK();
}

Status ContainerReader::CheckLinkGroupMember(const Entry& first,
                                             const Entry& member) {
  const char* differs = nullptr;
  if (member.content != first.content) {
    differs = "content record";
  } else if (member.size != first.size) {
    differs = "size";
  } else if (member.mtime_ns != first.mtime_ns) {
    differs = "modification time";
  } else if (member.mode != first.mode) {
    differs = "mode";
  } else if (member.uid != first.uid || member.gid != first.gid) {
    differs = "owner";
  } else if (member.inode != first.inode) {
    differs = "inode";
  }
  if (differs == nullptr) return Status::OK();
  return Status::Corruption(
      "hard-link group " + std::to_string(member.link_group),
      std::string("the ") + differs + " of " + member.path +
          " differs from that of " + first.path +
          ", which the store says is the same file");
}

Result<Content> ContainerReader::ReadContentFor(const Entry& e) const {
  if (e.type != EntryType::kFile || !e.content) {
    return Status::InvalidArgument(e.path, "has no content");
  }
  MIGSTORE_ASSIGN_OR_RETURN(Content c, ReadContent(*e.content));
  MIGSTORE_RETURN_IF_ERROR(CheckContentFor(e, c));
  return c;
}

Status ContainerReader::ReadContentData(
    const Content& content, const std::function<Status(std::string_view)>& sink,
    BlockCache* cache) const {
  BlockCache local(1);
  if (cache == nullptr) cache = &local;
  return StreamContent(content, sink,
                       [&](uint64_t block) -> Result<const std::string*> {
                         const std::string* plain = cache->Find(block);
                         if (plain != nullptr) return plain;
                         std::string fresh;
                         MIGSTORE_RETURN_IF_ERROR(
                             ReadTypedBlock(block, BlockType::kData, &fresh));
                         return cache->Put(block, std::move(fresh));
                       });
}

Status ContainerReader::ReadContentDataFrom(
    const Content& content, const std::function<Status(std::string_view)>& sink,
    const DataBlockFetch& fetch) const {
  // Holds the block the current chunk lies in while the sink runs.
  std::shared_ptr<const std::string> held;
  return StreamContent(
      content, sink, [&](uint64_t block) -> Result<const std::string*> {
        MIGSTORE_ASSIGN_OR_RETURN(held, fetch(block));
        if (held == nullptr) {
          return Status::Corruption("block " + std::to_string(block),
                                    "not available");
        }
        return held.get();
      });
}

Status ContainerReader::StreamContent(
    const Content& content, const std::function<Status(std::string_view)>& sink,
    const std::function<Result<const std::string*>(uint64_t)>& block) {
  ContentHasher hasher;
  for (const Chunk& ch : content.chunks) {
    MIGSTORE_ASSIGN_OR_RETURN(const std::string* plain, block(ch.block));
    if (uint64_t{ch.offset} + ch.length > plain->size()) {
      return Status::Corruption(
          "a content chunk reaches past the end of block " +
          std::to_string(ch.block));
    }
    std::string_view piece =
        std::string_view(*plain).substr(ch.offset, ch.length);
    hasher.Update(piece);
    MIGSTORE_RETURN_IF_ERROR(sink(piece));
  }
  if (hasher.Digest() != content.hash) {
    return Status::Corruption(
        "content hash mismatch: the data read is not what was stored");
  }
  return Status::OK();
}

Result<std::string> ContainerReader::ReadFileBytes(const Content& content,
                                                   BlockCache* cache) const {
  if (content.size > kMaxFileBytesInMemory) {
    return Status::InvalidArgument(
        "file too large to read into memory; stream it");
  }
  std::string out;
  if (!content.sparse) {
    // Grows with the bytes actually read, never from the record's claim.
    MIGSTORE_RETURN_IF_ERROR(ReadContentData(
        content,
        [&](std::string_view piece) {
          out.append(piece);
          return Status::OK();
        },
        cache));
    return out;
  }
  out.assign(static_cast<size_t>(content.size), '\0');
  size_t range = 0;
  uint64_t done_in_range = 0;
  MIGSTORE_RETURN_IF_ERROR(ReadContentData(
      content,
      [&](std::string_view piece) {
        while (!piece.empty()) {
          const DataRange& r = content.ranges[range];
          uint64_t n =
              std::min<uint64_t>(piece.size(), r.length - done_in_range);
          out.replace(static_cast<size_t>(r.offset + done_in_range),
                      static_cast<size_t>(n),
                      piece.substr(0, static_cast<size_t>(n)));
          piece.remove_prefix(static_cast<size_t>(n));
          done_in_range += n;
          if (done_in_range == r.length) {
            ++range;
            done_in_range = 0;
          }
        }
        return Status::OK();
      },
      cache));
  return out;
}

}  // namespace migstore::format
