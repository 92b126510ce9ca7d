// Removing a hard-link store, and nothing else (UsmtUtils /rd): what
// `migstore delete`, a capture's --overwrite and a capture that failed
// half-way all use.
//
// A directory is removed only when it is a store as a capture makes it: it
// carries the marker, its top level holds nothing but the marker, the
// catalog (and the catalog writer's temporaries) and files/, and below
// files/ there are only directories and regular files on the store's own
// filesystem. Anything else — a symlink (wherever it points), a device, a
// fifo, a socket, another filesystem mounted inside, a stray name at the
// top — means it is not (only) a store, and nothing at all is removed.
//
// The removal itself never leaves the store, whatever changes under it:
// every directory is opened below the store with RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS, every name is removed with unlinkat relative to its
// directory's handle (which removes a symlink, never what it points to),
// and each directory's write permission is restored (0700) before its
// names are removed. A hard link removed takes one name away from its
// file: the file itself, with its other names, stays. The marker goes last,
// so an interrupted removal leaves a store that can be removed again.
//
// Thread safety: functions; do not run two on the same store.

#ifndef MIGSTORE_ENGINE_SRC_HARDLINK_REMOVE_STORE_H_
#define MIGSTORE_ENGINE_SRC_HARDLINK_REMOVE_STORE_H_

#include <cstdint>
#include <string>

#include "format/header.h"
#include "migstore/result.h"

namespace migstore::hardlink {

struct StoreTree {
  format::StoreId id{};
  uint64_t files = 0;        // regular files below files/ (links, copies)
  uint64_t directories = 0;  // below files/, files/ itself included
};

// Checks that `name` in `parent_fd` is a hard-link store as described above
// and counts it. NotAStore (naming what is wrong) when it is not.
Result<StoreTree> InspectStoreAt(int parent_fd, const std::string& name,
                                 const std::string& what);

// Inspects, then removes the store `name` in `parent_fd`. `what` names it in
// messages.
Result<StoreTree> RemoveStoreAt(int parent_fd, const std::string& name,
                                const std::string& what);

// The same for a path: its last component must not be a symlink itself.
Result<StoreTree> InspectStore(const std::string& path);
Result<StoreTree> RemoveStore(const std::string& path);

}  // namespace migstore::hardlink

#endif  // MIGSTORE_ENGINE_SRC_HARDLINK_REMOVE_STORE_H_
