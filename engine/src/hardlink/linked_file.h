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
// LinkedFiles is the files/ folder of a hard-link store opened for reading:
// what a restore or verify of such a store reads contents from, as it reads
// a container's from its blocks (store/open_store.h opens both kinds).
//
// Thread safety: Open() may run from many threads at once.

#ifndef MIGSTORE_ENGINE_SRC_HARDLINK_LINKED_FILE_H_
#define MIGSTORE_ENGINE_SRC_HARDLINK_LINKED_FILE_H_

#include <sys/stat.h>

#include <string>

#include "engine/base/unique_fd.h"
#include "format/catalog.h"
#include "migstore/result.h"

namespace migstore::hardlink {

class LinkedFiles {
 public:
  // The files/ folder below the hard-link store directory `store_dir`
  // (opened without following a symlink); `store_path` names it in errors.
  static Result<LinkedFiles> Open(int store_dir, const std::string& store_path);

  // Opens file entry `e`'s file with `flags` (never following a symlink),
  // fills *st, and checks it is the file captured: Corruption saying what
  // changed otherwise (gone, not a regular file, replaced, written).
  Result<UniqueFd> Open(const format::Entry& e, int flags,
                        struct stat* st) const;

 private:
  explicit LinkedFiles(UniqueFd files) : files_(std::move(files)) {}

  UniqueFd files_;  // O_PATH
};

}  // namespace migstore::hardlink

#endif  // MIGSTORE_ENGINE_SRC_HARDLINK_LINKED_FILE_H_
