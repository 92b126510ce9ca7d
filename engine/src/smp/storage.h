// Where the state migration point keeps store bytes (docs/smp.md,
// "Storage"): storage folders, each with the SMP's two limits (a minimum of
// free space kept, a maximum number of clients). A store `ID` in folder F is
// `F/ID.mig` once committed; while it is uploaded its bytes go to
// `F/ID.mig.part`, written at the offsets the client sends (an interrupted
// upload resumes where the partial ends), and Publish checks the partial's
// length and SHA-256 before it fsyncs and renames it into place. Nothing is
// ever written outside the folders.
//
// Store ids are made by the service (hex), never taken from a request
// unchecked: every function here refuses an id that is not 32 hex digits.
//
// Thread safety: the functions may run from any number of threads; two
// writes to one store's partial at once are the service's to prevent (it
// serializes them per store).

#ifndef MIGSTORE_ENGINE_SRC_SMP_STORAGE_H_
#define MIGSTORE_ENGINE_SRC_SMP_STORAGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/unique_fd.h"
#include "migstore/result.h"

namespace migstore::smp {

struct StorageLocation {
  std::string path;  // an existing folder
  int64_t max_clients = 100;
  int64_t min_free_bytes = 0;
};

// A committed store open for reading.
struct StoreBytes {
  UniqueFd fd;
  uint64_t size = 0;
};

class Storage {
 public:
  // Checks that each folder exists and is writable (a temporary file is
  // made and removed), and removes nothing.
  static Result<Storage> Open(std::vector<StorageLocation> locations);

  const std::vector<StorageLocation>& locations() const { return locations_; }
  // Free bytes in `location`'s filesystem for an unprivileged writer.
  Result<uint64_t> FreeBytes(const std::string& location) const;

  // Writes `data` at `offset` of the store's partial, made if missing.
  // offset 0 starts over (truncates). InvalidArgument unless offset is 0
  // or the partial's current size. Returns the partial's new size.
  Result<uint64_t> WritePartial(const std::string& location,
                                std::string_view id, uint64_t offset,
                                std::string_view data) const;
  // The partial's size (0 when there is none).
  Result<uint64_t> PartialSize(const std::string& location,
                               std::string_view id) const;
  // Checks the partial: `size` bytes whose SHA-256 is `sha256` (hex);
  // Corruption naming what differs otherwise (the partial is kept, so the
  // client may resend). Then fsync, rename to ID.mig, fsync the folder.
  Status Publish(const std::string& location, std::string_view id,
                 uint64_t size, std::string_view sha256) const;
  Result<StoreBytes> OpenCommitted(const std::string& location,
                                   std::string_view id) const;
  // Removes the store's files, committed and partial; nothing there is OK.
  Status Remove(const std::string& location, std::string_view id) const;

  // Whether `id` has the form the service makes (32 lowercase hex digits).
  // (A member: the client's smp::IsStoreId, smp_http.h, also takes capitals.)
  static bool IsStoreId(std::string_view id);

 private:
  explicit Storage(std::vector<StorageLocation> locations)
      : locations_(std::move(locations)) {}

  std::vector<StorageLocation> locations_;
};

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_STORAGE_H_
