#include "engine/src/fs/locality.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace migstore::fs {
namespace {

// The kernel's "removable" flag of block device `dev`, from sysfs: the
// device's own, or for a partition its disk's.
bool Removable(dev_t dev) {
  const std::string base = "/sys/dev/block/" + std::to_string(major(dev)) +
                           ":" + std::to_string(minor(dev));
  for (const char* rel : {"/removable", "/../removable"}) {
    std::ifstream in(base + rel);
    int flag = 0;
    if (in >> flag) return flag == 1;
  }
  return false;
}

}  // namespace

bool IsNetworkFilesystem(uint64_t magic) {
  switch (magic) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x5346414F:  // AFS (OpenAFS)
    case 0x6B414653:  // kAFS
    case 0x73757245:  // Coda
    case 0x564C:      // NCP
    case 0x01021997:  // 9P (v9fs)
    case 0x00C36400:  // Ceph
    case 0x47504653:  // GPFS
    case 0x0BD00BD0:  // Lustre
    case 0x013111A8:  // IBRIX
    case 0x65735543:  // FUSE control (never data)
      return true;
    default:
      return false;
  }
}

Locality LocalityOf(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) == 0 &&
      IsNetworkFilesystem(static_cast<uint64_t>(fs.f_type) & 0xFFFFFFFFu)) {
    return Locality::kNetwork;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && major(st.st_dev) != 0 && Removable(st.st_dev))
    return Locality::kRemovable;
  return Locality::kLocal;
}

const char* LocalityName(Locality l) {
  switch (l) {
    case Locality::kNetwork:
      return "network";
    case Locality::kRemovable:
      return "removable";
    case Locality::kLocal:
      break;
  }
  return "local";
}

}  // namespace migstore::fs
