// The free-space check of capture and restore --min-free (USMT's code 29:
// less free space than needed, before anything is written).
//
// Thread safety: a pure function over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_FS_FREE_SPACE_H_
#define MIGSTORE_ENGINE_SRC_FS_FREE_SPACE_H_

#include <cstdint>
#include <string>

#include "migstore/status.h"

namespace migstore::fs {

// NoSpace unless the filesystem that holds `path` (or, when `path` does not
// exist yet, its nearest existing parent) has at least `min_bytes` free for
// an unprivileged writer. OK when min_bytes is 0. `what` names the path in
// messages ("the store", "the target").
Status CheckFreeSpace(const std::string& path, uint64_t min_bytes,
                      const std::string& what);

}  // namespace migstore::fs

#endif  // MIGSTORE_ENGINE_SRC_FS_FREE_SPACE_H_
