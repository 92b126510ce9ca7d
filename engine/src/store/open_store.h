// Opening a store for reading whichever kind it is: a container (a local
// file or an object, backends.h), or a hard-link store directory (its marker
// checked, its catalog opened below it without following symlinks, and the
// catalog's store id matched with the marker's). Restore, extract, verify and
// list all start here, so the reader's key policy (migstore/key.h, KeyPolicy)
// is enforced here too.
//
// Thread safety: OpenStoreForReading is a function; the result's reader is
// as thread-safe as format::ContainerReader, its linked files as
// hardlink::LinkedFiles (Open from any thread).

#ifndef MIGSTORE_ENGINE_SRC_STORE_OPEN_STORE_H_
#define MIGSTORE_ENGINE_SRC_STORE_OPEN_STORE_H_

#include <memory>
#include <string>

#include "engine/src/hardlink/linked_file.h"
#include "format/container_reader.h"
#include "migstore/key.h"
#include "migstore/result.h"

namespace migstore::store {

// A store open for reading, whichever its kind: the reader holds the
// catalog (and a container's contents); a hard-link store's file contents
// are its linked files instead.
struct OpenedStore {
  std::unique_ptr<format::ContainerReader> reader;
  // Hard-link stores only: STORE/files, where the file entries' contents
  // are (at their catalog paths); null for a container.
  std::unique_ptr<hardlink::LinkedFiles> linked;
  bool hardlink() const { return linked != nullptr; }
};

// `path` names a container (a local file, or "s3://bucket/key") or a
// hard-link store. A directory that is not a
// hard-link store is NotAStore; a hard-link store whose catalog does not
// belong to it (another store id, or not an external-content catalog) is
// Corruption. `policy` is enforced here, for every run that reads a store:
// with a key, a store that is not encrypted (a hard-link store never is) is
// Refused unless policy.allow_unencrypted; a password store whose Argon2id
// cost is over the policy's is Refused before any key derivation.
Result<OpenedStore> OpenStoreForReading(const std::string& path,
                                        const format::KeySource& key,
                                        const KeyPolicy& policy);

// A container whose bytes `source` reads (given_store.h): as above, for a
// source made elsewhere.
Result<OpenedStore> OpenContainerForReading(
    std::unique_ptr<format::StoreSource> source, const format::KeySource& key,
    const KeyPolicy& policy);

}  // namespace migstore::store

#endif  // MIGSTORE_ENGINE_SRC_STORE_OPEN_STORE_H_
