// Where a store's bytes live, chosen by the store's name, in this one place
// (docs/design.md, "Store backends"): "s3://bucket/key" names an object in
// an S3-compatible object store, reached with the credentials and endpoint
// in the environment (s3_config.h); any other name is a local path. The
// commands hand what these return to the container writer and reader
// (format/store_io.h), which never know which backend they talk to.
//
// A hard-link store is a directory of the local filesystem by nature; its
// opening is open_store.h's business, and an object-store name for one is
// refused (CheckLocalStoreName).
//
// Thread safety: functions; what they return is as thread-safe as
// format/store_io.h says.

#ifndef MIGSTORE_ENGINE_SRC_STORE_BACKENDS_H_
#define MIGSTORE_ENGINE_SRC_STORE_BACKENDS_H_

#include <memory>
#include <string>
#include <string_view>

#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::store {

// True when `name` names an object-store store ("s3://...").
bool IsObjectStoreName(std::string_view name);

struct SinkOptions {
  // Replace a store already under the name (when the new one is complete).
  bool overwrite = false;
  // A local file: write past the page cache where the filesystem allows
  // (AtomicFile::PreferDirectWrites).
  bool direct_writes = true;
};

// Where a new store is written. Errors found before any byte is written:
// AlreadyExists (a store is there and !overwrite), InvalidArgument (a
// malformed s3:// name or environment), Unavailable (the object store
// cannot be reached or refuses the credentials), NotFound (no such bucket),
// IOError.
Result<std::unique_ptr<format::StoreSink>> CreateStoreSink(
    const std::string& name, const SinkOptions& options);

// Where an existing store is read from: NotFound when there is none,
// NotAStore for a local directory or other non-file, and as for
// CreateStoreSink otherwise.
Result<std::unique_ptr<format::StoreSource>> OpenStoreSource(
    const std::string& name);

// InvalidArgument when `name` is an object-store name: for what only a
// local path can be (`what`: "a hard-link store", say).
Status CheckLocalStoreName(const std::string& name, std::string_view what);

}  // namespace migstore::store

#endif  // MIGSTORE_ENGINE_SRC_STORE_BACKENDS_H_
