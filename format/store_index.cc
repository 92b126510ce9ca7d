#include "format/store_index.h"

#include <algorithm>

#include "format/catalog_codec.h"
#include "format/coding.h"
#include "format/layout.h"
#include "format/limits.h"

namespace migstore::format {
namespace {

Status Bad(std::string_view what) { return Status::Corruption("index block", what); }

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
  PutVarint(&out, x.contents_per_segment);
  PutVarint(&out, x.content_segments.size());
  for (uint64_t b : x.content_segments) PutVarint(&out, b);
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

Result<StoreIndex> DecodeStoreIndex(std::string_view plain) {
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
  for (uint64_t i = 0; i < nprof && d.ok(); ++i) {
    Profile p;
    if (!DecodeProfile(&d, &p)) return Bad("malformed profile");
    x.profiles.push_back(std::move(p));
  }
  if (!GetNames(&d, &x.owner_names) || !GetNames(&d, &x.group_names)) {
    return Bad("malformed owner or group names");
  }

  uint64_t nb = d.VarintAtMost(limits::kMaxBlocks);
  for (uint64_t i = 0; i < nb && d.ok(); ++i) {
    BlockInfo b;
    b.type = d.U8();
    b.frame_len = static_cast<uint32_t>(
        d.VarintAtMost(kFrameHeaderSize + limits::kMaxPayload));
    if (!d.ok()) break;
    if (b.frame_len < kFrameHeaderSize + kChecksumSize) return Bad("impossible frame length");
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
  x.contents_per_segment =
      static_cast<uint32_t>(d.VarintAtMost(limits::kMaxContentsPerSegment));
  uint64_t ncs = d.VarintAtMost(x.blocks.size());
  if (!d.ok()) return Bad("truncated before the content table");
  if (x.contents_per_segment == 0 && x.content_count > 0) {
    return Bad("contents without a segment size");
  }
  uint64_t want_segments =
      x.content_count == 0
          ? 0
          : (x.content_count - 1) / x.contents_per_segment + 1;
  if (ncs != want_segments) return Bad("content segment count does not match");
  for (uint64_t i = 0; i < ncs && d.ok(); ++i) {
    uint64_t b = d.Varint();
    if (d.ok() && !block_is(b, BlockType::kContentSegment)) {
      return Bad("a content segment that is not a content block");
    }
    x.content_segments.push_back(b);
  }

  x.entry_count = d.Varint();
  uint64_t ncat = d.VarintAtMost(x.blocks.size());
  uint64_t total = 0;
  for (uint64_t i = 0; i < ncat && d.ok(); ++i) {
    CatalogSegmentInfo s;
    s.block = d.Varint();
    s.entry_count = static_cast<uint32_t>(d.VarintAtMost(limits::kMaxEntriesPerSegment));
    s.first_profile = static_cast<uint32_t>(d.VarintAtMost(x.profiles.size()));
    s.first_path = d.Bytes(limits::kMaxPathBytes);
    if (!d.ok()) break;
    if (!block_is(s.block, BlockType::kCatalogSegment)) {
      return Bad("a catalog segment that is not a catalog block");
    }
    if (s.entry_count == 0 || s.first_path.empty()) return Bad("an empty catalog segment");
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
  if (!d.empty()) return Bad("trailing bytes");
  return x;
}

}  // namespace migstore::format
