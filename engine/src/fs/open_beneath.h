// Opening a path below a directory without ever following a symlink, in any
// component: openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel
// has it (Linux 5.6+), else a walk component by component with O_NOFOLLOW.
// A capture uses it so a directory swapped for a symlink mid-walk cannot
// lead it outside the root; a restore, so a crafted store or a planted link
// cannot make it write outside the target.
//
// Thread safety: functions only; safe from any thread.

#ifndef MIGSTORE_ENGINE_SRC_FS_OPEN_BENEATH_H_
#define MIGSTORE_ENGINE_SRC_FS_OPEN_BENEATH_H_

#include <string_view>

#include "engine/base/unique_fd.h"
#include "migstore/result.h"

namespace migstore::fs {

// Opens `relative` ('/'-separated, no leading '/', no "." or ".."
// components; "" means `dir_fd` itself) below dir_fd with `flags` (O_CLOEXEC
// and O_NOFOLLOW are added). A symlink anywhere on the way is ELOOP, which
// becomes an IOError naming the path; a path that tries to climb out is
// InvalidArgument.
Result<UniqueFd> OpenBeneath(int dir_fd, std::string_view relative, int flags,
                             unsigned mode = 0);

// The errno OpenBeneath failed with (0 when it did not), for callers that
// treat ENOENT or EACCES differently.
int LastOpenErrno();

}  // namespace migstore::fs

#endif  // MIGSTORE_ENGINE_SRC_FS_OPEN_BENEATH_H_
