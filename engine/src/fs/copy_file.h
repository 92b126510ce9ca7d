// Copying one regular file's bytes and extended attributes between two open
// descriptors, for the places where a hard link cannot be made: a hard-link
// capture copying a file from another filesystem into its store, and a
// restore or extract from a hard-link store copying out of it.
//
// Holes stay holes: the source's data ranges (SEEK_DATA / SEEK_HOLE) are
// copied and the rest is left unwritten, then the size is set. The bytes
// move with copy_file_range where the kernel can (reflinks on filesystems
// that have them), else with read and write.
//
// Thread safety: functions; safe from any thread on distinct descriptors.

#ifndef MIGSTORE_ENGINE_SRC_FS_COPY_FILE_H_
#define MIGSTORE_ENGINE_SRC_FS_COPY_FILE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "migstore/result.h"

namespace migstore::fs {

// Copies the first `size` bytes of `src` to the same offsets of `dst` (an
// empty file), then sets dst's size to `size`. `what` names the file in
// errors. *copied: the data bytes copied (holes not counted).
Status CopyFileData(int src, int dst, uint64_t size, const std::string& what,
                    uint64_t* copied);

// Copies every extended attribute of `src` to `dst` (ACLs included) but
// `leave_out` (when not null). An attribute the target refuses (not
// supported, not permitted) is passed to `refused` with its name and errno,
// and the copy goes on.
Status CopyXattrs(
    int src, int dst, const std::string& what,
    const std::function<void(const std::string& name, int err)>& refused,
    const char* leave_out = nullptr);

}  // namespace migstore::fs

#endif  // MIGSTORE_ENGINE_SRC_FS_COPY_FILE_H_
