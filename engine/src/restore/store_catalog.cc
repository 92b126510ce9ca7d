#include "engine/src/restore/store_catalog.h"

#include <algorithm>
#include <utility>

#include "engine/base/parallel.h"

namespace migstore::restore {
namespace {

// Reads `count` segments a batch at a time, in parallel (`read(i)`), and
// hands each result to `use(i, result)` in order before the next batch is
// read: no more than a batch of decoded segments is alive beside what they
// are moved into (all of them at once held a catalog twice while it loaded).
template <typename T, typename Read, typename Use>
void InBatches(size_t count, Read read, Use use) {
  // A window holds 16 segments; verify's whole catalog goes through in
  // batches of this many (64 were ~64 MB of decoded entries in flight).
  constexpr size_t kBatch = 16;
  for (size_t first = 0; first < count; first += kBatch) {
    const size_t n = std::min(kBatch, count - first);
    std::vector<Result<T>> got(n, Status::Corruption("not read"));
    parallel::ParallelFor(size_t{0}, n,
                          [&](size_t k) { got[k] = read(first + k); });
    for (size_t k = 0; k < n; ++k) use(first + k, got[k]);
  }
}

}  // namespace

std::vector<CatalogWindow> CatalogWindows(const format::StoreIndex& index,
                                          size_t window_entries) {
  const auto& segments = index.catalog_segments;
  std::vector<CatalogWindow> windows;
  CatalogWindow w;
  for (size_t i = 0; i < segments.size(); ++i) {
    const uint64_t n = segments[i].entry_count;
    if (w.end > w.first && w.entries + n > window_entries) {
      windows.push_back(w);
      w = CatalogWindow{i, i, 0};
    }
    w.end = i + 1;
    w.entries += n;
  }
  windows.push_back(w);
  return windows;
}

std::vector<format::Entry> ReadWindow(const format::ContainerReader& reader,
                                      const CatalogWindow& window,
                                      std::vector<LostSegment>* lost) {
  const auto& segments = reader.index().catalog_segments;
  std::vector<size_t> read;  // the window's segments to read
  for (size_t i = window.first; i < window.end; ++i) {
    const bool known =
        std::any_of(lost->begin(), lost->end(),
                    [i](const LostSegment& l) { return l.segment == i; });
    if (!known) read.push_back(i);
  }
  std::vector<format::Entry> entries;
  // Room for what the index claims (each segment's decode checks its
  // claim), up to a bound: a store's word is not worth any amount of
  // address space. Beyond it the vector grows as usual.
  constexpr uint64_t kReserveAtMost = uint64_t{1} << 22;
  entries.reserve(
      static_cast<size_t>(std::min(window.entries, kReserveAtMost)));
  InBatches<std::vector<format::Entry>>(
      read.size(), [&](size_t k) { return reader.ReadCatalogSegment(read[k]); },
      [&](size_t k, Result<std::vector<format::Entry>>& got) {
        const size_t i = read[k];
        if (!got.ok()) {
          lost->push_back({i, segments[i].entry_count, segments[i].first_path,
                           got.status()});
          return;
        }
        for (format::Entry& e : *got) entries.push_back(std::move(e));
      });
  return entries;
}

Catalog ScanCatalog(
    const format::ContainerReader& reader,
    const std::vector<CatalogWindow>& windows,
    const std::function<void(const std::vector<format::Entry>&)>& visit) {
  Catalog out;
  // Each group's first member, to check the others against: a group is a
  // handful of names, and few files have any.
  std::unordered_map<uint64_t, format::Entry> first_of;
  for (const CatalogWindow& w : windows) {
    std::vector<format::Entry> entries = ReadWindow(reader, w, &out.lost);
    for (const format::Entry& e : entries) {
      if (e.link_group == 0) continue;
      auto [it, first] = first_of.try_emplace(e.link_group, e);
      if (first || out.bad_link_groups.count(e.link_group)) continue;
      Status s = format::ContainerReader::CheckLinkGroupMember(it->second, e);
      if (!s.ok()) out.bad_link_groups.emplace(e.link_group, std::move(s));
    }
    if (visit) visit(entries);
    if (windows.size() == 1) out.entries = std::move(entries);
  }
  return out;
}

Status Catalog::LinkGroupError(const format::Entry& e) const {
  if (e.link_group == 0 || bad_link_groups.empty()) return Status::OK();
  auto it = bad_link_groups.find(e.link_group);
  return it == bad_link_groups.end() ? Status::OK() : it->second;
}

ContentTable ContentTable::Load(const format::ContainerReader& reader,
                                std::vector<uint64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const format::StoreIndex& x = reader.index();
  // The segments to read, each with the ids wanted from it.
  struct Wanted {
    size_t segment;
    std::vector<uint64_t> ids;
  };
  std::vector<Wanted> wanted;
  ContentTable table;
  for (uint64_t id : ids) {
    if (id >= x.content_count) {
      table.errors_.emplace(
          id, Status::Corruption("reference to content " + std::to_string(id) +
                                 ", past the last content"));
      continue;
    }
    size_t s = format::ContentSegmentOf(x, id);
    if (wanted.empty() || wanted.back().segment != s) wanted.push_back({s, {}});
    wanted.back().ids.push_back(id);
  }
  // Moved into place in id order: the table comes out sorted, with no lock
  // and no node per record.
  size_t found = 0;
  for (const Wanted& want : wanted) found += want.ids.size();
  table.contents_.reserve(found);
  InBatches<std::vector<format::Content>>(
      wanted.size(),
      [&](size_t w) { return reader.ReadContentSegment(wanted[w].segment); },
      [&](size_t w, Result<std::vector<format::Content>>& read) {
        const Wanted& want = wanted[w];
        const uint64_t first_id = x.content_segments[want.segment].first_id;
        for (uint64_t id : want.ids) {
          if (!read.ok()) {
            table.errors_.emplace(id, read.status());
            continue;
          }
          table.contents_.emplace_back(
              id, std::move((*read)[static_cast<size_t>(id - first_id)]));
        }
      });
  return table;
}

Result<const format::Content*> ContentTable::For(const format::Entry& e) const {
  if (!e.content) return Status::InvalidArgument(e.path, "has no content");
  auto it = std::lower_bound(contents_.begin(), contents_.end(), *e.content,
                             [](const std::pair<uint64_t, format::Content>& c,
                                uint64_t id) { return c.first < id; });
  if (it != contents_.end() && it->first == *e.content) {
    MIGSTORE_RETURN_IF_ERROR(
        format::ContainerReader::CheckContentFor(e, it->second));
    return &it->second;
  }
  if (auto err = errors_.find(*e.content); err != errors_.end()) {
    return err->second;
  }
  return Status::InvalidArgument(e.path, "its content was not loaded");
}

}  // namespace migstore::restore
