#include "format/memory_store.h"

#include <algorithm>
#include <map>

#include "format/hash.h"

namespace migstore::format {
namespace {

// The bytes a content stores: the whole file, or only its data ranges.
std::string StoredBytes(const MemoryFile& f) {
  if (!f.sparse_ranges) return f.data;
  std::string out;
  for (const DataRange& r : *f.sparse_ranges) {
    out.append(f.data, static_cast<size_t>(r.offset),
               static_cast<size_t>(r.length));
  }
  return out;
}

}  // namespace

MemoryFile MakeFile(uint32_t profile, std::string path, std::string data) {
  MemoryFile f;
  f.entry.profile = profile;
  f.entry.path = std::move(path);
  f.entry.type = EntryType::kFile;
  f.entry.mode = 0640;
  f.entry.uid = 1000;
  f.entry.gid = 1000;
  f.entry.mtime_ns = 1700000000123456789LL;
  f.entry.size = data.size();
  f.data = std::move(data);
  return f;
}

MemoryFile MakeDir(uint32_t profile, std::string path) {
  MemoryFile f = MakeFile(profile, std::move(path), "");
  f.entry.type = EntryType::kDirectory;
  f.entry.mode = 0750;
  return f;
}

MemoryFile MakeSymlink(uint32_t profile, std::string path, std::string target) {
  MemoryFile f = MakeFile(profile, std::move(path), "");
  f.entry.type = EntryType::kSymlink;
  f.entry.mode = 0777;
  f.entry.size = target.size();
  f.entry.set_symlink_target(std::move(target));
  return f;
}

MemoryFile MakeFifo(uint32_t profile, std::string path) {
  MemoryFile f = MakeFile(profile, std::move(path), "");
  f.entry.type = EntryType::kFifo;
  f.entry.mode = 0600;
  return f;
}

namespace {

Status WriteTo(ContainerWriter* w, const MemoryStore& store,
               const MemoryWriteOptions& options) {
  for (const auto& [k, v] : store.properties)
    MIGSTORE_RETURN_IF_ERROR(w->SetProperty(k, v));
  for (const Profile& p : store.profiles)
    MIGSTORE_RETURN_IF_ERROR(w->AddProfile(p).status());
  for (const auto& [id, name] : store.owner_names)
    MIGSTORE_RETURN_IF_ERROR(w->SetOwnerName(id, name));
  for (const auto& [id, name] : store.group_names)
    MIGSTORE_RETURN_IF_ERROR(w->SetGroupName(id, name));

  BlockPacker packer =
      BlockPacker::Serial(w, options.block_size, options.data_seal);
  // Candidates for dedup grouped by (size, hash); confirmed byte for byte.
  std::map<std::pair<uint64_t, Hash128>,
           std::vector<std::pair<const MemoryFile*, uint64_t>>>
      seen;
  for (const MemoryFile& f : store.files) {
    Entry e = f.entry;
    e.content.reset();
    if (e.type == EntryType::kFile && f.data.size() != e.size) {
      return Status::InvalidArgument("memory file size differs from its data",
                                     e.path);
    }
    if (e.type == EntryType::kFile && e.size > 0) {
      std::string stored = StoredBytes(f);
      Hash128 hash = HashBytes(stored);
      auto& group = seen[{e.size, hash}];
      for (const auto& [other, id] : group) {
        if (other->sparse_ranges == f.sparse_ranges && other->data == f.data)
          e.content = id;
      }
      if (!e.content) {
        Content c;
        c.size = e.size;
        c.hash = hash;
        if (f.sparse_ranges) {
          c.sparse = true;
          c.ranges = *f.sparse_ranges;
        }
        MIGSTORE_RETURN_IF_ERROR(packer.Add(stored, &c.chunks));
        MIGSTORE_ASSIGN_OR_RETURN(uint64_t id, w->AddContent(c));
        group.emplace_back(&f, id);
        e.content = id;
      }
    }
    MIGSTORE_RETURN_IF_ERROR(w->AddEntry(e));
  }
  MIGSTORE_RETURN_IF_ERROR(packer.Flush());
  return w->Finish();
}

}  // namespace

Status WriteMemoryStore(const std::string& path, const KeySource& key,
                        const MemoryStore& store,
                        const MemoryWriteOptions& options) {
  MIGSTORE_ASSIGN_OR_RETURN(std::unique_ptr<ContainerWriter> w,
                            ContainerWriter::Create(path, key, options.writer));
  return WriteTo(w.get(), store, options);
}

Status WriteMemoryStore(std::unique_ptr<StoreSink> sink, const KeySource& key,
                        const MemoryStore& store,
                        const MemoryWriteOptions& options) {
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<ContainerWriter> w,
      ContainerWriter::Create(std::move(sink), key, options.writer));
  return WriteTo(w.get(), store, options);
}

Result<MemoryStore> ReadMemoryStore(const ContainerReader& reader) {
  MemoryStore out;
  const StoreIndex& x = reader.index();
  out.properties = x.properties;
  out.profiles = x.profiles;
  out.owner_names = x.owner_names;
  out.group_names = x.group_names;
  // Contents are numbered in capture order, which mostly follows path order:
  // keep the last content segment decoded rather than decode one per file.
  std::vector<Content> segment;
  size_t segment_index = SIZE_MAX;
  BlockCache blocks;
  for (size_t i = 0; i < x.catalog_segments.size(); ++i) {
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<Entry> entries,
                              reader.ReadCatalogSegment(i));
    for (Entry& e : entries) {
      MemoryFile f;
      if (e.content) {
        const size_t wanted = ContentSegmentOf(x, *e.content);
        if (wanted != segment_index) {
          segment_index = SIZE_MAX;
          MIGSTORE_ASSIGN_OR_RETURN(segment, reader.ReadContentSegment(wanted));
          segment_index = wanted;
        }
        const Content& c =
            segment[*e.content - x.content_segments[wanted].first_id];
        if (c.size != e.size) {
          return Status::Corruption(
              e.path, "its content record's size differs from the entry's");
        }
        MIGSTORE_ASSIGN_OR_RETURN(f.data, reader.ReadFileBytes(c, &blocks));
        if (c.sparse) f.sparse_ranges = c.ranges;
      }
      f.entry = std::move(e);
      out.files.push_back(std::move(f));
    }
  }
  return out;
}

void NormalizeMemoryStore(MemoryStore* store) {
  for (MemoryFile& f : store->files) f.entry.content.reset();
  std::sort(store->files.begin(), store->files.end(),
            [](const MemoryFile& a, const MemoryFile& b) {
              return EntryKeyLess(a.entry.profile, a.entry.path,
                                  b.entry.profile, b.entry.path);
            });
}

}  // namespace migstore::format
