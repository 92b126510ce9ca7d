// Whether a filesystem's ctime is a change time an incremental capture can
// trust (docs/design.md, "Incremental capture"): one the kernel sets on
// every write, rename, chmod, chown or attribute change, from its own
// clock, and that no program can set back. Linux's own filesystems keep
// one; FAT and exFAT have no change time (the kernel reports another time
// in its place), NTFS's ChangeTime can be set by Windows programs, and a
// network filesystem's attributes may be cached. Judged by statfs magic,
// by an allow-list: an unknown filesystem is not trusted.
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_FS_CHANGE_TIME_H_
#define MIGSTORE_ENGINE_SRC_FS_CHANGE_TIME_H_

#include <string>

namespace migstore::fs {

struct ChangeTimeTrust {
  bool trusted = false;
  std::string filesystem;  // "ext4", "vfat", ..., or the magic in hex
};

// The trust of the filesystem holding `fd` (any open file, O_PATH too).
// Not trusted when it cannot be told.
ChangeTimeTrust ChangeTimeTrustOf(int fd);

}  // namespace migstore::fs

#endif  // MIGSTORE_ENGINE_SRC_FS_CHANGE_TIME_H_
