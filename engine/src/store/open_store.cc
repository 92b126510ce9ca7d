#include "engine/src/store/open_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "engine/src/hardlink/store_layout.h"
#include "engine/src/store/backends.h"
#include "engine/src/store/key_rep.h"

namespace migstore::store {
namespace {

using hardlink::kCatalogName;
using hardlink::ReadMarker;

// A key was given, so the caller expects the store to be authenticated by
// it; an unencrypted store is authenticated by nothing (its checksums can be
// recomputed by whoever wrote it).
Status CheckEncrypted(const std::string& path, const format::KeySource& key,
                      const KeyPolicy& policy, bool hardlink,
                      const format::ContainerReader& reader) {
  if (key.mode() == format::KeyMode::kNone || reader.encrypted() ||
      policy.allow_unencrypted) {
    return Status::OK();
  }
  return Status::Refused(
      path, std::string(hardlink ? "is a hard-link store, which is never "
                                   "encrypted"
                                 : "is not encrypted") +
                ", but a key was given: nothing in it is authenticated by "
                "the key, and whoever could replace it could have written "
                "it. If an unencrypted store is what you expect, say so "
                "with --allow-unencrypted (or give no key)");
}

}  // namespace

Result<OpenedStore> OpenContainerForReading(
    std::unique_ptr<format::StoreSource> source, const format::KeySource& key,
    const KeyPolicy& policy) {
  const std::string path = source->name();
  OpenedStore out;
  MIGSTORE_ASSIGN_OR_RETURN(
      out.reader, format::ContainerReader::Open(std::move(source), key,
                                                internal::MostKdfOf(policy)));
  if (out.reader->content_location() != format::ContentLocation::kInContainer) {
    return Status::NotAStore(
        path,
        "is the catalog of a hard-link store: give the store's "
        "directory instead");
  }
  MIGSTORE_RETURN_IF_ERROR(
      CheckEncrypted(path, key, policy, /*hardlink=*/false, *out.reader));
  return out;
}

Result<OpenedStore> OpenStoreForReading(const std::string& path,
                                        const format::KeySource& key,
                                        const KeyPolicy& policy) {
  const format::KdfParams most_kdf = internal::MostKdfOf(policy);
  OpenedStore out;
  struct stat st;
  if (IsObjectStoreName(path) || ::stat(path.c_str(), &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    // A container (or nothing: the source or the reader says which).
    MIGSTORE_ASSIGN_OR_RETURN(std::unique_ptr<format::StoreSource> source,
                              OpenStoreSource(path));
    return OpenContainerForReading(std::move(source), key, policy);
  }
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Status::FromErrno("cannot open " + path, errno);
  MIGSTORE_ASSIGN_OR_RETURN(format::StoreId id, ReadMarker(dir.get(), path));
  const std::string catalog = path + "/" + kCatalogName;
  UniqueFd fd(
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
      out.reader,
      format::ContainerReader::Open(
          std::make_unique<format::RandomAccessFile>(std::move(file)), key,
          most_kdf));
  if (out.reader->content_location() != format::ContentLocation::kExternal) {
    return Status::Corruption(catalog,
                              "is not the catalog of a hard-link store");
  }
  if (out.reader->header().store_id != id) {
    return Status::Corruption(catalog,
                              "belongs to another store than its marker names");
  }
  MIGSTORE_RETURN_IF_ERROR(
      CheckEncrypted(path, key, policy, /*hardlink=*/true, *out.reader));
  MIGSTORE_ASSIGN_OR_RETURN(hardlink::LinkedFiles linked,
                            hardlink::LinkedFiles::Open(dir.get(), path));
  out.linked = std::make_unique<hardlink::LinkedFiles>(std::move(linked));
  return out;
}

}  // namespace migstore::store
