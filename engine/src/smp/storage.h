// Where the state migration point keeps store bytes (docs/smp.md,
// "Storage"): storage locations of two kinds behind one front.
//
//   - A storage folder, with the SMP's two limits (a minimum of free space
//     kept, a maximum number of clients). A store `ID` is `F/ID.mig` once
//     committed; while it is uploaded its bytes go to `F/ID.mig.part`,
//     written at the offsets the client sends (an interrupted upload
//     resumes where the partial ends), and Publish checks the partial's
//     length and SHA-256 before it fsyncs and renames it into place.
//     Nothing is ever written outside the folders (storage_folder.cc).
//   - An object-store location, `s3://BUCKET/PREFIX`, with a maximum number
//     of clients (an object store has no free space to keep). A store is
//     the object `PREFIX/ID.mig`; its upload is an S3 multipart upload of
//     that key, one part per client chunk, and Publish completes it, reads
//     the object back and checks its length and SHA-256 (storage_s3.cc).
//
// Store ids are made by the service (hex), never taken from a request
// unchecked: every function here refuses an id that is not 32 hex digits.
//
// Thread safety: the functions may run from any number of threads; two
// writes to one store's upload at once, or a write racing its Publish or
// Remove, are the service's to prevent (it serializes them per store).

#ifndef MIGSTORE_ENGINE_SRC_SMP_STORAGE_H_
#define MIGSTORE_ENGINE_SRC_SMP_STORAGE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::smp {

struct StorageLocation {
  // An existing folder (absolute), or "s3://BUCKET/PREFIX".
  std::string path;
  int64_t max_clients = 100;
  int64_t min_free_bytes = 0;  // folders only

  // Whether `path` names an object-store location rather than a folder.
  bool is_object_store() const { return IsObjectStore(path); }
  static bool IsObjectStore(std::string_view path);
};

// An object-store location's name taken apart: "s3://BUCKET/PREFIX" (or
// "s3://BUCKET", no prefix). `name` is the canonical form, without a
// trailing '/', that the database records.
struct ObjectLocationName {
  std::string name;
  std::string bucket;
  std::string prefix;  // "" or without a trailing '/'
  // Where store `id` is kept: "PREFIX/ID.mig".
  std::string KeyOf(std::string_view id) const;
};
// InvalidArgument unless `text` is "s3://BUCKET[/PREFIX]" with a bucket S3
// accepts and a prefix that leaves room for a store's key.
Result<ObjectLocationName> ParseObjectLocation(std::string_view text);

// One kind of storage location (storage_folder.cc, storage_s3.cc): what the
// Storage front calls once it has checked the store id.
class LocationStore;

class Storage {
 public:
  // Checks every location: a folder must exist and be writable (a
  // temporary file is made and removed); an object-store location needs
  // credentials in the environment (AWS_ACCESS_KEY_ID... as the AWS tools
  // read them, store/s3_config.h) that may write and delete under its
  // prefix (a probe object is written and removed). InvalidArgument for a
  // malformed location or a min-free limit on an object store; Unavailable
  // for an object store that cannot be reached or refuses the credentials.
  // Removes nothing.
  static Result<Storage> Open(std::vector<StorageLocation> locations);

  Storage(Storage&&) noexcept;
  Storage& operator=(Storage&&) noexcept;
  ~Storage();

  const std::vector<StorageLocation>& locations() const { return locations_; }
  // Free bytes in a folder's filesystem for an unprivileged writer (not
  // asked of an object-store location: InvalidArgument).
  Result<uint64_t> FreeBytes(const std::string& location) const;

  // Writes `data` at `offset` of the store's upload, started if missing.
  // offset 0 starts over. InvalidArgument unless offset is 0 or the bytes
  // received so far; Refused when an object store's part limit would be
  // passed. Returns the bytes received now.
  Result<uint64_t> WritePartial(const std::string& location,
                                std::string_view id, uint64_t offset,
                                std::string_view data) const;
  // The bytes of the store's upload received so far (0 when there is none).
  Result<uint64_t> PartialSize(const std::string& location,
                               std::string_view id) const;
  // Publishes the upload: `size` bytes whose SHA-256 is `sha256` (hex);
  // Corruption naming what differs otherwise. A folder keeps the partial
  // for the client to resend; an object store keeps its upload when the
  // received length is wrong, and deletes the object when the bytes read
  // back are not the ones the client sent (the client starts over).
  // A commit sent again after a crash (or a commit request that timed out)
  // that came between publishing and the database's record finds no upload
  // but the published store: its length and SHA-256 are checked the same
  // way, OK when they match (a folder keeps its file on a mismatch, an
  // object store deletes its object). InvalidArgument when nothing was
  // uploaded or published, or a part of an object store's upload that is
  // not the last is under S3's 5 MiB minimum.
  Status Publish(const std::string& location, std::string_view id,
                 uint64_t size, std::string_view sha256) const;
  // The committed store open for reading, from any number of threads.
  // `committed_size`: the size the database recorded at commit; a folder's
  // file must have it (Corruption otherwise), an object is taken to have it
  // (its bytes were checked at commit), so opening costs no request.
  // NotFound when a folder's file is missing.
  Result<std::unique_ptr<format::StoreSource>> OpenCommitted(
      const std::string& location, std::string_view id,
      uint64_t committed_size) const;
  // Removes the store's bytes, committed and partial (an object store's
  // object and its unfinished uploads); nothing there is OK.
  Status Remove(const std::string& location, std::string_view id) const;

  // Whether `id` has the form the service makes (32 lowercase hex digits).
  // (A member: the client's smp::IsStoreId, smp_http.h, also takes capitals.)
  static bool IsStoreId(std::string_view id);

 private:
  explicit Storage(std::vector<StorageLocation> locations);

  // The store of `location`: one of those given, or (a store recorded in
  // a location no longer given) one made for the call.
  Result<std::shared_ptr<LocationStore>> For(const std::string& location,
                                             std::string_view id) const;

  std::vector<StorageLocation> locations_;
  // One per location given, by path; an object store's keeps its S3 client
  // and its uploads' state.
  std::map<std::string, std::shared_ptr<LocationStore>> stores_;
};

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_STORAGE_H_
