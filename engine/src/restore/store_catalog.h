// The parts of a store a restore, extract or verify works from: every entry
// of the catalog, and the content records of the files it will read. Read
// through format::ContainerReader, segment by segment, so damage costs only
// what lives in the damaged segment: a catalog segment that cannot be read
// loses its entries (reported with the key range they had), a content
// segment its records (the files that use them fail).
//
// Thread safety: the readers run their own tasks (call them from inside
// the run's task arena); the results are plain values.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_STORE_CATALOG_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_STORE_CATALOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format/catalog.h"
#include "format/container_reader.h"
#include "migstore/result.h"

namespace migstore::restore {

// A catalog segment that could not be read.
struct LostSegment {
  size_t segment = 0;
  uint32_t entries = 0;    // as the index counts them
  std::string first_path;  // the first of them, from the index
  Status status;
};

struct Catalog {
  // Catalog order. Held by ScanCatalog when the catalog is a single window
  // (read once for every pass); empty otherwise.
  std::vector<format::Entry> entries;
  std::vector<LostSegment> lost;
  // Hard-link groups whose members disagree
  // (ContainerReader::CheckLinkGroupMember), by group number, with the
  // first disagreement found. Every member of such a group is damaged:
  // which of its names tells the truth cannot be known, and restoring one
  // member's content under another's name is what must never happen.
  std::unordered_map<uint64_t, Status> bad_link_groups;

  // The damage of entry `e`'s link group, or OK.
  Status LinkGroupError(const format::Entry& e) const;
};

// A window of the catalog: whole segments [first, end), holding about a
// window's worth of entries (as the index counts them). A restore plans
// and applies a window at a time, so that what it holds does not grow
// with the store (docs/design.md, "Bounded memory").
struct CatalogWindow {
  size_t first = 0;
  size_t end = 0;
  uint64_t entries = 0;
};

// The catalog cut into windows of at most `window_entries` entries each,
// never splitting a segment (a segment larger than that is a window of
// its own). An empty catalog is one empty window.
// REQUIRES: window_entries > 0
std::vector<CatalogWindow> CatalogWindows(const format::StoreIndex& index,
                                          size_t window_entries);

// The entries of `window`'s segments (read in parallel), in catalog order.
// Segments already in *lost are not read (a later pass reads what the
// first read, no more); one that cannot be read is appended to it.
std::vector<format::Entry> ReadWindow(const format::ContainerReader& reader,
                                      const CatalogWindow& window,
                                      std::vector<LostSegment>* lost);

// The pass before planning: every window read once, its lost segments and
// damaged link groups found (decisions that look ahead: a group's first
// members are refused because of a later one), `visit` shown each window's
// entries (`visit` may be null). The entries are kept only when there is
// a single window.
Catalog ScanCatalog(
    const format::ContainerReader& reader,
    const std::vector<CatalogWindow>& windows,
    const std::function<void(const std::vector<format::Entry>&)>& visit);

// Content records by number, for the ids asked for. Each content segment
// holding one of them is read once; a record of a segment that cannot be
// read is absent and its number maps to that segment's error.
class ContentTable {
 public:
  // `ids` need not be sorted or unique.
  static ContentTable Load(const format::ContainerReader& reader,
                           std::vector<uint64_t> ids);

  // The record for file entry `e`, checked against it (its size must be
  // the entry's: ContainerReader::CheckContentFor).
  Result<const format::Content*> For(const format::Entry& e) const;

 private:
  std::vector<std::pair<uint64_t, format::Content>> contents_;  // by id
  std::unordered_map<uint64_t, Status> errors_;                 // by id
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_STORE_CATALOG_H_
