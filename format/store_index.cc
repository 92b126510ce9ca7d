#include "format/store_index.h"

#include <algorithm>
#include <cassert>

#include "format/catalog_codec.h"
#include "format/coding.h"
#include "format/layout.h"
#include "format/limits.h"

namespace migstore::format {
namespace {

Status Bad(std::string_view what) {
  return Status::Corruption("index block", what);
}

void PutNames(std::string* out, const NameTable& names) {
  PutVarint(out, names.size());
  for (const auto& [id, name] : names) {
    PutVarint(out, id);
    PutBytes(out, name);
  }
}

bool GetNames(Decoder* d, NameTable* names) {
  uint64_t n = d->VarintAtMost(limits::kMaxOwnerNames);
  for (uint64_t i = 0; i < n && d->ok(); ++i) {
    auto id = static_cast<uint32_t>(d->VarintAtMost(UINT32_MAX));
    std::string name(d->Bytes(limits::kMaxNameBytes));
    if (!names->empty() && names->back().first >= id) d->Fail();
    names->emplace_back(id, std::move(name));
  }
  return d->ok();
}

}  // namespace

std::string EncodeStoreIndex(const StoreIndex& x) {
  std::string out;
  PutVarint(&out, x.properties.size());
  for (const auto& [key, value] : x.properties) {
    PutBytes(&out, key);
    PutBytes(&out, value);
  }
  PutVarint(&out, x.profiles.size());
  for (const Profile& p : x.profiles) EncodeProfile(p, &out);
  PutNames(&out, x.owner_names);
  PutNames(&out, x.group_names);
  PutVarint(&out, x.blocks.size());
  for (const BlockInfo& b : x.blocks) {
    out.push_back(static_cast<char>(b.type));
    PutVarint(&out, b.frame_len);
  }
  PutVarint(&out, x.content_count);
  PutVarint(&out, x.content_segments.size());
  for (const ContentSegmentInfo& c : x.content_segments) {
    PutVarint(&out, c.block);
    PutVarint(&out, c.record_count);
  }
  PutVarint(&out, x.entry_count);
  PutVarint(&out, x.catalog_segments.size());
  for (const CatalogSegmentInfo& s : x.catalog_segments) {
    PutVarint(&out, s.block);
    PutVarint(&out, s.entry_count);
    PutVarint(&out, s.first_profile);
    PutBytes(&out, s.first_path);
  }
  return out;
}

size_t ContentSegmentOf(const StoreIndex& x, uint64_t id) {
  assert(id < x.content_count);
  auto it = std::upper_bound(
      x.content_segments.begin(), x.content_segments.end(), id,
      [](uint64_t v, const ContentSegmentInfo& c) { return v < c.first_id; });
  return static_cast<size_t>(it - x.content_segments.begin()) - 1;
}

Result<StoreIndex> DecodeStoreIndex(std::string_view plain,
                                    uint64_t block_bytes) {
  Decoder d(plain);
  StoreIndex x;

  uint64_t np = d.VarintAtMost(limits::kMaxProperties);
  for (uint64_t i = 0; i < np && d.ok(); ++i) {
    std::string key(d.Bytes(limits::kMaxNameBytes));
    std::string value(d.Bytes(limits::kMaxPropertyValue));
    if (!x.properties.empty() && x.properties.back().first >= key) {
      return Bad("property keys are not unique and ascending");
    }
    x.properties.emplace_back(std::move(key), std::move(value));
  }
  // No reserve() from counts read here: memory grows only with bytes that
  // actually decode, so a crafted count cannot force a large allocation.
  uint64_t nprof = d.VarintAtMost(limits::kMaxProfiles);
  size_t folders = 0;
  for (uint64_t i = 0; i < nprof && d.ok(); ++i) {
    Profile p;
    if (!DecodeProfile(&d, &p)) return Bad("malformed profile");
    folders += p.folders.size();
    if (folders > limits::kMaxFoldersInIndex)
      return Bad("too many known folders");
    x.profiles.push_back(std::move(p));
  }
  if (!GetNames(&d, &x.owner_names) || !GetNames(&d, &x.group_names)) {
    return Bad("malformed owner or group names");
  }

  uint64_t nb = d.VarintAtMost(limits::kMaxBlocks);
  uint64_t span = 0;
  for (uint64_t i = 0; i < nb && d.ok(); ++i) {
    BlockInfo b;
    b.type = d.U8();
    b.frame_len = static_cast<uint32_t>(
        d.VarintAtMost(kFrameHeaderSize + limits::kMaxPayload));
    if (!d.ok()) break;
    if (b.frame_len < kFrameHeaderSize + kChecksumSize)
      return Bad("impossible frame length");
    span += b.frame_len;
    if (span > block_bytes)
      return Bad("block lengths exceed the space before the index");
    if (!IsKnownBlockType(b.type) && !IsSkippableBlockType(b.type)) {
      if (b.type == static_cast<uint8_t>(BlockType::kInvalid)) {
        return Bad("a block of type 0");
      }
      return Status::UnsupportedVersion(
          "the store holds a block of type " + std::to_string(b.type) +
          " that this build must not skip; use a newer migstore");
    }
    if (b.type == static_cast<uint8_t>(BlockType::kIndex)) {
      return Bad("an index block before the index block");
    }
    x.blocks.push_back(b);
  }
  auto block_is = [&](uint64_t n, BlockType t) {
    return n < x.blocks.size() && x.blocks[n].type == static_cast<uint8_t>(t);
  };

  x.content_count = d.Varint();
  uint64_t ncs = d.VarintAtMost(x.blocks.size());
  uint64_t first = 0;
  for (uint64_t i = 0; i < ncs && d.ok(); ++i) {
    ContentSegmentInfo c;
    c.block = d.Varint();
    c.record_count =
        static_cast<uint32_t>(d.VarintAtMost(limits::kMaxContentsPerSegment));
    if (!d.ok()) break;
    if (!block_is(c.block, BlockType::kContentSegment)) {
      return Bad("a content segment that is not a content block");
    }
    if (c.record_count == 0) return Bad("an empty content segment");
    c.first_id = first;
    first += c.record_count;
    x.content_segments.push_back(c);
  }
  if (!d.ok()) return Bad("truncated before the catalog table");
  if (first != x.content_count)
    return Bad("content segment sizes do not add up");

  x.entry_count = d.Varint();
  uint64_t ncat = d.VarintAtMost(x.blocks.size());
  uint64_t total = 0;
  for (uint64_t i = 0; i < ncat && d.ok(); ++i) {
    CatalogSegmentInfo s;
    s.block = d.Varint();
    s.entry_count =
        static_cast<uint32_t>(d.VarintAtMost(limits::kMaxEntriesPerSegment));
    s.first_profile = static_cast<uint32_t>(d.VarintAtMost(x.profiles.size()));
    s.first_path = d.Bytes(limits::kMaxPathBytes);
    if (!d.ok()) break;
    if (!block_is(s.block, BlockType::kCatalogSegment)) {
      return Bad("a catalog segment that is not a catalog block");
    }
    if (s.entry_count == 0 || s.first_path.empty())
      return Bad("an empty catalog segment");
    if (!x.catalog_segments.empty()) {
      const CatalogSegmentInfo& prev = x.catalog_segments.back();
      if (!EntryKeyLess(prev.first_profile, prev.first_path, s.first_profile,
                        s.first_path)) {
        return Bad("catalog segments are not in key order");
      }
    }
    total += s.entry_count;
    x.catalog_segments.push_back(std::move(s));
  }
  if (!d.ok()) return Bad("truncated or malformed");
  if (total != x.entry_count) return Bad("catalog segment sizes do not add up");
  if (span != block_bytes)
    return Bad("block lengths do not add up to the index position");
  if (!d.empty()) return Bad("trailing bytes");
  return x;
}

}  // namespace migstore::format
