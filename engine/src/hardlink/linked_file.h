// Whether a hard-link store's file is still the one its catalog entry
// captured. Verify checks every file so, and a restore checks each one on
// the very descriptor it then links back or copies from: a store file
// replaced or written since the capture is reported as damage, never
// restored under the entry's name.
//
// A hard-link store records no content hash (docs/format.md, "Integrity":
// hashing would mean reading every byte, which is what such a store exists
// to avoid). What is checked is that files/<path> is the inode captured,
// unchanged: the same inode number, size and modification time. A file
// replaced (another inode, whatever its size) or written through one of its
// names (a new modification time) fails; an edit that keeps the size and
// sets the modification time back cannot be seen.
//
// Thread safety: functions; safe from any thread.

#ifndef MIGSTORE_ENGINE_SRC_HARDLINK_LINKED_FILE_H_
#define MIGSTORE_ENGINE_SRC_HARDLINK_LINKED_FILE_H_

#include <sys/stat.h>

#include "format/catalog.h"
#include "format/file_io.h"
#include "migstore/result.h"

namespace migstore::hardlink {

// Opens file entry `e`'s file below the store's files/ (`files_fd`) with
// `flags` (never following a symlink), fills *st, and checks it is the
// file captured: Corruption saying what changed otherwise (gone, not a
// regular file, replaced, written).
Result<format::UniqueFd> OpenLinkedFile(int files_fd, const format::Entry& e,
                                        int flags, struct stat* st);

}  // namespace migstore::hardlink

#endif  // MIGSTORE_ENGINE_SRC_HARDLINK_LINKED_FILE_H_
