// The two kinds of storage location behind the Storage front (storage.h):
// the interface each implements, their factories, and what they share.
// Storage checks store ids before it calls any of these, so `id` here is
// always 32 lowercase hex digits; each method has the meaning of the
// Storage method of that name.
//
// Thread safety: every method may be called from any number of threads at
// once; calls for one store are serialized by the service.

#ifndef MIGSTORE_ENGINE_SRC_SMP_LOCATION_STORE_H_
#define MIGSTORE_ENGINE_SRC_SMP_LOCATION_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/src/smp/storage.h"
#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::smp {

class LocationStore {
 public:
  virtual ~LocationStore() = default;

  // The start-up check Storage::Open makes.
  virtual Status Check() = 0;
  virtual Result<uint64_t> FreeBytes() = 0;
  virtual Result<uint64_t> WritePartial(std::string_view id, uint64_t offset,
                                        std::string_view data) = 0;
  virtual Result<uint64_t> PartialSize(std::string_view id) = 0;
  virtual Status Publish(std::string_view id, uint64_t size,
                         std::string_view sha256) = 0;
  virtual Result<std::unique_ptr<format::StoreSource>> OpenCommitted(
      std::string_view id, uint64_t committed_size) = 0;
  virtual Status Remove(std::string_view id) = 0;
};

// storage_folder.cc: `location.path` is the folder.
Result<std::unique_ptr<LocationStore>> NewFolderStore(
    const StorageLocation& location);
// storage_s3.cc: `location.path` is "s3://BUCKET[/PREFIX]"; the S3 client's
// settings come from the environment.
Result<std::unique_ptr<LocationStore>> NewObjectStore(
    const StorageLocation& location);

// --- shared by both kinds (storage.cc) ---------------------------------------

// A SHA-256 computed as bytes go by (OpenSSL's), for an upload's hash
// kept as it is written and for the checks below.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  // False when OpenSSL could not make or feed its context: the hash is
  // then unknown, never wrong.
  bool ok() const { return ok_; }
  void Update(std::string_view bytes);
  // Whether the bytes so far have the SHA-256 `sha256` (hex, either case).
  // Ends the stream: Update must not be called after it.
  bool Matches(std::string_view sha256);

 private:
  void* ctx_;  // EVP_MD_CTX
  bool ok_;
};

// Reads exactly n bytes at `offset` into `out`.
using ReadFn = std::function<Status(uint64_t offset, size_t n, char* out)>;

// Checks that the `size` bytes `read` gives, asked for `block` bytes at a
// time, have the SHA-256 `sha256` (hex, either case): Corruption saying the
// bytes are not the client's otherwise. `what` names the upload.
Status CheckSha256(uint64_t size, const ReadFn& read, std::string_view sha256,
                   const std::string& what, size_t block = size_t{1} << 20);

// "store ID: N bytes arrived, the client sent M", as Corruption.
Status SizeDiffers(std::string_view id, uint64_t arrived, uint64_t sent);
// "store ID: bytes sent at OFFSET but N were received: resume from there",
// as InvalidArgument (the HTTP layer answers it 416 with the count).
Status NotAtTheEnd(std::string_view id, uint64_t offset, uint64_t received);
// "store ID: nothing was uploaded", as InvalidArgument.
Status NothingUploaded(std::string_view id);

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_LOCATION_STORE_H_
