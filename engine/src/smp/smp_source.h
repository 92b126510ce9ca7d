// SmpSource: a store read back from a state migration point by ranged GETs
// of /v1/stores/ID/data (docs/smp.md), the StoreSource of an SMP restore.
// Its size comes from a HEAD when it is opened; each ReadAt is one GET of
// exactly its bytes (Corruption when the server has fewer). Reads from
// several threads run in parallel, each on its own connection (SmpHttp's
// pool), and a restore keeps parallel_reads() of them in flight.
//
// Thread safety: every method may be called from any number of threads at
// once.

#ifndef MIGSTORE_ENGINE_SRC_SMP_SMP_SOURCE_H_
#define MIGSTORE_ENGINE_SRC_SMP_SMP_SOURCE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/src/smp/smp_http.h"
#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::smp {

class SmpSource final : public format::StoreSource {
 public:
  // `store_id`: checked (IsStoreId). `name`: the store's name for messages.
  // NotFound or Refused when the server has no such store for the caller.
  static Result<std::unique_ptr<SmpSource>> Open(std::shared_ptr<SmpHttp> http,
                                                 const std::string& store_id,
                                                 std::string name);

  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t n, char* out) const override;
  const std::string& name() const override { return name_; }
  uint64_t bytes_read() const override { return bytes_read_.load(); }
  // Each read is a round trip: a restore keeps this many GETs in flight.
  int parallel_reads() const override { return 8; }
  // GET requests made.
  uint64_t gets() const { return gets_.load(); }

 private:
  SmpSource(std::shared_ptr<SmpHttp> http, std::string path, std::string name,
            uint64_t size)
      : http_(std::move(http)),
        path_(std::move(path)),
        name_(std::move(name)),
        size_(size) {}

  std::shared_ptr<SmpHttp> http_;
  std::string path_;  // "/v1/stores/ID/data"
  std::string name_;
  uint64_t size_;
  mutable std::atomic<uint64_t> bytes_read_{0};
  mutable std::atomic<uint64_t> gets_{0};
};

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_SMP_SOURCE_H_
