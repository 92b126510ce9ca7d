#include "engine/src/hardlink/linked_file.h"

#include <fcntl.h>

#include <cerrno>
#include <string>

#include "engine/base/time_ns.h"
#include "engine/src/fs/open_beneath.h"
#include "engine/src/hardlink/store_layout.h"

namespace migstore::hardlink {

Result<LinkedFiles> LinkedFiles::Open(int store_dir,
                                      const std::string& store_path) {
  UniqueFd files(::openat(store_dir, kFilesName,
                          O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!files.valid()) {
    return Status::FromErrno("cannot open " + store_path + "/" + kFilesName,
                             errno);
  }
  return LinkedFiles(std::move(files));
}

Result<UniqueFd> LinkedFiles::Open(const format::Entry& e, int flags,
                                   struct stat* st) const {
  auto fd = fs::OpenBeneath(files_.get(), e.path, flags | O_NOFOLLOW);
  if (!fd.ok()) {
    return Status::Corruption("its file in the hard-link store is gone",
                              fd.status().ToString());
  }
  if (::fstat(fd->get(), st) != 0) {
    return Status::FromErrno("cannot look at its file in the hard-link store",
                             errno);
  }
  if (!S_ISREG(st->st_mode)) {
    return Status::Corruption(
        "its file in the hard-link store is no longer a regular file");
  }
  if (e.inode && st->st_ino != *e.inode) {
    return Status::Corruption(
        "its file in the hard-link store was replaced since the capture",
        "inode " + std::to_string(st->st_ino) + ", captured " +
            std::to_string(*e.inode) + "; size " + std::to_string(st->st_size) +
            ", captured " + std::to_string(e.size));
  }
  if (static_cast<uint64_t>(st->st_size) != e.size ||
      MtimeNanos(*st) != e.mtime_ns) {
    return Status::Corruption(
        "its file in the hard-link store changed since it was captured "
        "(written through one of its names)",
        "size " + std::to_string(st->st_size) + ", captured " +
            std::to_string(e.size));
  }
  return std::move(fd).value();
}

}  // namespace migstore::hardlink
