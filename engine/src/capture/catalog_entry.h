// WalkedEntry -> format::Entry: what the catalog records of a walked entry.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_CATALOG_ENTRY_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_CATALOG_ENTRY_H_

#include "engine/src/capture/walk.h"
#include "format/catalog.h"

namespace migstore::capture {

// `profile` is the store's profile number (0: none). Content and link group
// are the caller's to set.
inline format::Entry ToCatalogEntry(const WalkedEntry& w, uint32_t profile) {
  format::Entry e;
  e.profile = profile;
  e.path = w.path;
  e.type = w.type;
  e.mode = w.mode;
  e.uid = w.uid;
  e.gid = w.gid;
  e.mtime_ns = w.mtime_ns;
  e.atime_ns = w.atime_ns;
  e.ctime_ns = w.ctime_ns;
  e.btime_ns = w.btime();
  e.size = w.type == format::EntryType::kFile      ? w.size
           : w.type == format::EntryType::kSymlink ? w.symlink_target().size()
                                                   : 0;
  e.extra = w.extra;  // the same symlink target and xattrs, null or not
  return e;
}

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_CATALOG_ENTRY_H_
