// Whether a mounted filesystem is local: what ScanState /localonly
// (capture --local-only) keeps to. A network filesystem (NFS, SMB/CIFS,
// AFS, Ceph, 9P, ...) is told by its statfs magic; a removable one by the
// kernel's "removable" flag of its block device. As with USMT, an external
// disk that reports itself as fixed counts as local.
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_FS_LOCALITY_H_
#define MIGSTORE_ENGINE_SRC_FS_LOCALITY_H_

#include <cstdint>

namespace migstore::fs {

enum class Locality : uint8_t { kLocal, kNetwork, kRemovable };

// The filesystem magic (statfs f_type) of a network filesystem, or not.
bool IsNetworkFilesystem(uint64_t magic);

// The locality of the filesystem holding the open directory `fd`. kLocal
// when it cannot be told.
Locality LocalityOf(int fd);

// "network", "removable" or "local".
const char* LocalityName(Locality l);

}  // namespace migstore::fs

#endif  // MIGSTORE_ENGINE_SRC_FS_LOCALITY_H_
