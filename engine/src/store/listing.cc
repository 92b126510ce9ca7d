#include "migstore/listing.h"

#include "engine/src/registry/reg_text.h"
#include "engine/src/store/key_rep.h"
#include "engine/src/store/open_store.h"
#include "format/container_reader.h"
#include "format/layout.h"

namespace migstore {
namespace {

const char* LayoutName(format::Layout l) {
  switch (l) {
    case format::Layout::kLinux:
      return "linux";
    case format::Layout::kWindows:
      return "windows";
    case format::Layout::kUnknown:
      break;
  }
  return "";
}

const char* TypeName(format::EntryType t) {
  switch (t) {
    case format::EntryType::kFile:
      return "file";
    case format::EntryType::kDirectory:
      return "dir";
    case format::EntryType::kSymlink:
      return "symlink";
    case format::EntryType::kFifo:
      return "fifo";
  }
  return "unknown";
}

}  // namespace

Status ListStore(const std::string& store_path, const Key& key,
                 StoreSummary* summary,
                 const std::function<Status(const StoreEntry&)>& on_entry) {
  return ListStore(store_path, key, KeyPolicy(), summary, on_entry);
}

Status ListStore(const std::string& store_path, const Key& key,
                 const KeyPolicy& policy, StoreSummary* summary,
                 const std::function<Status(const StoreEntry&)>& on_entry) {
  return ListStore(store_path, key, policy, summary, on_entry, nullptr);
}

Status ListStore(const std::string& store_path, const Key& key,
                 const KeyPolicy& policy, StoreSummary* summary,
                 const std::function<Status(const StoreEntry&)>& on_entry,
                 const std::function<Status(const StoreSetting&)>& on_setting) {
  MIGSTORE_ASSIGN_OR_RETURN(
      store::OpenedStore store,
      store::OpenStoreForReading(store_path, internal::SourceOf(key), policy));
  const auto& reader = store.reader;
  const format::StoreIndex& x = reader->index();
  *summary = StoreSummary();
  summary->format_version = reader->header().version;
  summary->kind = store.hardlink() ? "hardlink" : "container";
  summary->encryption =
      reader->header().key_mode == format::KeyMode::kNone       ? "none"
      : reader->header().key_mode == format::KeyMode::kPassword ? "password"
                                                                : "key file";
  summary->cipher =
      reader->encrypted() ? format::CipherName(reader->cipher()) : "none";
  summary->file_size = reader->file_size();
  summary->entries = x.entry_count;
  summary->contents = x.content_count;
  summary->properties = x.properties;
  for (const format::Profile& p : x.profiles) {
    summary->users.push_back({p.name, p.home, LayoutName(p.layout), p.uid,
                              p.gid, p.sid, p.last_use_ns, p.folders});
  }
  for (size_t i = 0; i < x.catalog_segments.size(); ++i) {
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<format::Entry> entries,
                              reader->ReadCatalogSegment(i));
    for (format::Entry& e : entries) {
      StoreEntry out;
      if (e.profile != format::kNoProfile)
        out.user = x.profiles[e.profile - 1].name;
      out.path = std::move(e.path);
      out.type = TypeName(e.type);
      out.size = e.size;
      out.mode = e.mode;
      out.uid = e.uid;
      out.gid = e.gid;
      if (const std::string* n = reader->owner_name(e.uid)) out.owner = *n;
      if (const std::string* n = reader->group_name(e.gid)) out.group = *n;
      out.mtime_ns = e.mtime_ns;
      out.symlink_target = e.symlink_target();
      out.link_group = e.link_group;
      out.xattrs = e.xattrs().size();
      MIGSTORE_RETURN_IF_ERROR(on_entry(out));
    }
  }
  if (!on_setting || !reader->has_registry()) return Status::OK();
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<format::RegistryRecord> records,
                            reader->ReadRegistry());
  for (const format::RegistryRecord& r : records) {
    StoreSetting out;
    if (r.profile != format::kNoProfile)
      out.user = x.profiles[r.profile - 1].name;
    out.key = r.key;
    out.is_value = r.has_value;
    if (r.has_value) {
      out.name = r.name;
      out.type = registry::RegTypeName(r.type);
      out.size = r.data.size();
      out.text = registry::RegDataText(r.type, r.data);
    }
    MIGSTORE_RETURN_IF_ERROR(on_setting(out));
  }
  return Status::OK();
}

}  // namespace migstore
