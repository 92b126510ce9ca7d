// StoreIndex: the contents of the index block, the top level of a store
// (docs/format.md "Index block"). It is small: store properties, the profile
// table, owner and group names, one short record per block, and one record
// per catalog and content segment. A reader loads it at open and reaches any
// entry, content record or data block from it with one block read each.
//
// Thread safety: a plain value; pure functions.

#ifndef MIGSTORE_FORMAT_STORE_INDEX_H_
#define MIGSTORE_FORMAT_STORE_INDEX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/catalog.h"
#include "migstore/result.h"

namespace migstore::format {

// One block before the index block. Blocks lie back to back after the
// header, so offsets follow from the lengths.
struct BlockInfo {
  uint8_t type = 0;
  uint32_t frame_len = 0;
  friend bool operator==(const BlockInfo&, const BlockInfo&) = default;
};

struct CatalogSegmentInfo {
  uint64_t block = 0;
  uint32_t entry_count = 0;
  // Key of the segment's first entry, for binary search.
  uint32_t first_profile = 0;
  std::string first_path;
  friend bool operator==(const CatalogSegmentInfo&,
                         const CatalogSegmentInfo&) = default;
};

struct ContentSegmentInfo {
  uint64_t block = 0;
  uint32_t record_count = 0;
  uint64_t first_id = 0;  // not stored: the sum of the counts before it
  friend bool operator==(const ContentSegmentInfo&,
                         const ContentSegmentInfo&) = default;
};

using NameTable =
    std::vector<std::pair<uint32_t, std::string>>;  // ascending ids
using Properties =
    std::vector<std::pair<std::string, std::string>>;  // ascending keys

struct StoreIndex {
  Properties properties;
  std::vector<Profile> profiles;
  NameTable owner_names;
  NameTable group_names;
  std::vector<BlockInfo> blocks;
  uint64_t content_count = 0;
  std::vector<ContentSegmentInfo> content_segments;
  uint64_t entry_count = 0;
  std::vector<CatalogSegmentInfo> catalog_segments;

  friend bool operator==(const StoreIndex&, const StoreIndex&) = default;
};

std::string EncodeStoreIndex(const StoreIndex& index);

// Decodes and cross-checks an index: segment counts add up, segments point at
// blocks of their type, keys ascend, names are unique, and the block table's
// frame lengths add up to exactly `block_bytes` (the span between the header
// and the index block), which also bounds how many blocks it may list.
// Corruption when not; UnsupportedVersion when it lists a block of a type
// this version must not skip.
Result<StoreIndex> DecodeStoreIndex(std::string_view plain,
                                    uint64_t block_bytes);

// The content segment holding content `id`. REQUIRES: id < x.content_count
size_t ContentSegmentOf(const StoreIndex& x, uint64_t id);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_STORE_INDEX_H_
