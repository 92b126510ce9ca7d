// Deleting a hard-link store (UsmtUtils /rd): `migstore delete`.
//
// Only a directory a hard-link capture made is removed: it must carry the
// store marker, and hold nothing but the marker, the catalog and files/
// with directories and regular files on the store's own filesystem below
// it. A symlink anywhere in it (wherever it points), a device, a fifo, a
// socket, a mount or a stray name means nothing at all is removed
// (NotAStore). The removal walks the store by handles (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, unlinkat relative to each
// directory), so nothing outside it is ever touched: removing a link takes
// one name from its file, and the originals keep their data with a link
// count one lower. The store's own directories get their write permission
// back first (a capture leaves them read-only).
//
// Thread safety: functions; do not run two on the same store.

#ifndef MIGSTORE_DELETE_STORE_H_
#define MIGSTORE_DELETE_STORE_H_

#include <cstdint>
#include <string>

#include "migstore/result.h"

namespace migstore {

struct HardLinkStoreInfo {
  std::string store_id;      // 32 hex digits, as the marker names it
  uint64_t files = 0;        // links and copies below files/
  uint64_t directories = 0;  // below files/, files/ included
};

// What DeleteHardLinkStore would remove, checked the same way (for a
// confirmation question). NotFound, NotAStore.
Result<HardLinkStoreInfo> InspectHardLinkStore(const std::string& path);

// Removes the store. NotFound, NotAStore (nothing removed), IOError.
Result<HardLinkStoreInfo> DeleteHardLinkStore(const std::string& path);

}  // namespace migstore

#endif  // MIGSTORE_DELETE_STORE_H_
