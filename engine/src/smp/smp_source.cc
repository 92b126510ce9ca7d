#include "engine/src/smp/smp_source.h"

namespace migstore::smp {

Result<std::unique_ptr<SmpSource>> SmpSource::Open(
    std::shared_ptr<SmpHttp> http, const std::string& store_id,
    std::string name) {
  if (!IsStoreId(store_id)) {
    return Status::InvalidArgument("not a store id (32 hex digits)", store_id);
  }
  std::string path = "/v1/stores/" + store_id + "/data";
  MIGSTORE_ASSIGN_OR_RETURN(uint64_t size, http->Head(path));
  return std::unique_ptr<SmpSource>(
      new SmpSource(std::move(http), std::move(path), std::move(name), size));
}

Status SmpSource::ReadAt(uint64_t offset, size_t n, char* out) const {
  if (offset > size_ || n > size_ - offset) {
    return Status::Corruption(name_,
                              "the store ends before the data it promises");
  }
  if (n == 0) return Status::OK();
  gets_.fetch_add(1, std::memory_order_relaxed);
  MIGSTORE_RETURN_IF_ERROR(http_->GetRange(path_, offset, n, out));
  bytes_read_.fetch_add(n, std::memory_order_relaxed);
  return Status::OK();
}

}  // namespace migstore::smp
