#include "engine/src/hardlink/open_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "engine/src/hardlink/store_layout.h"

namespace migstore::hardlink {

Result<OpenedStore> OpenStoreForReading(const std::string& path,
                                        const format::KeySource& key) {
  OpenedStore out;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    // A container (or nothing: the reader says which).
    MIGSTORE_ASSIGN_OR_RETURN(out.reader,
                              format::ContainerReader::Open(path, key));
    if (out.reader->content_location() !=
        format::ContentLocation::kInContainer) {
      return Status::NotAStore(
          path,
          "is the catalog of a hard-link store: give the store's "
          "directory instead");
    }
    return out;
  }
  format::UniqueFd dir(
      ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Status::FromErrno("cannot open " + path, errno);
  MIGSTORE_ASSIGN_OR_RETURN(format::StoreId id, ReadMarker(dir.get(), path));
  const std::string catalog = path + "/" + kCatalogName;
  format::UniqueFd fd(
      ::openat(dir.get(), kCatalogName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return Status::NotAStore(path,
                               "is a hard-link store without its catalog");
    }
    return Status::FromErrno("cannot open " + catalog, errno);
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      format::RandomAccessFile file,
      format::RandomAccessFile::FromFd(std::move(fd), catalog));
  MIGSTORE_ASSIGN_OR_RETURN(
      out.reader, format::ContainerReader::Open(std::move(file), key));
  if (out.reader->content_location() != format::ContentLocation::kExternal) {
    return Status::Corruption(catalog,
                              "is not the catalog of a hard-link store");
  }
  if (out.reader->header().store_id != id) {
    return Status::Corruption(catalog,
                              "belongs to another store than its marker names");
  }
  out.files.reset(::openat(dir.get(), kFilesName,
                           O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!out.files.valid()) {
    return Status::FromErrno("cannot open " + path + "/" + kFilesName, errno);
  }
  return out;
}

}  // namespace migstore::hardlink
