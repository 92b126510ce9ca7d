// The layout of a hard-link store (docs/format.md "Hard-link store"): the
// names inside its directory, and its marker file, which says what the
// directory is and which catalog belongs to it.
//
//   STORE/migstore-hardlink-store   the marker: "migstore-hardlink-store 1\n"
//                                   "store-id <32 hex>\n"
//   STORE/catalog                   the catalog: a container with external
//                                   content (unencrypted, no data blocks)
//   STORE/files/<path>              a hard link to (or a copy of) the file
//                                   the catalog's entry <path> describes
//
// Thread safety: constants and pure functions; ReadMarker only reads.

#ifndef MIGSTORE_ENGINE_SRC_HARDLINK_STORE_LAYOUT_H_
#define MIGSTORE_ENGINE_SRC_HARDLINK_STORE_LAYOUT_H_

#include <string>
#include <string_view>

#include "format/header.h"
#include "migstore/result.h"

namespace migstore::hardlink {

inline constexpr char kMarkerName[] = "migstore-hardlink-store";
inline constexpr char kCatalogName[] = "catalog";
inline constexpr char kFilesName[] = "files";
inline constexpr int kLayoutVersion = 1;
inline constexpr size_t kMaxMarkerBytes = 4096;

// `id` as 32 lowercase hex digits.
std::string StoreIdHex(const format::StoreId& id);

// The marker's bytes for a store whose catalog has `id`.
std::string EncodeMarker(const format::StoreId& id);
// The store id a marker names. NotAStore when the bytes are not a marker;
// UnsupportedVersion when a newer migstore wrote it.
Result<format::StoreId> DecodeMarker(std::string_view bytes);

// Reads the marker of the store whose directory is `dir_fd`, never through
// a symlink. NotAStore when it has none (`what` names the directory).
Result<format::StoreId> ReadMarker(int dir_fd, const std::string& what);

// Whether `name` (in a store's directory) is a temporary the catalog's
// writer makes before renaming it to kCatalogName.
bool IsCatalogTemporary(std::string_view name);

}  // namespace migstore::hardlink

#endif  // MIGSTORE_ENGINE_SRC_HARDLINK_STORE_LAYOUT_H_
