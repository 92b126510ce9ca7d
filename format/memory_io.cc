#include "format/memory_io.h"

#include <cstring>

namespace migstore::format {

std::shared_ptr<const std::string> MemoryBucket::Get(
    const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stores_.find(name);
  return it == stores_.end() ? nullptr : it->second;
}

Status MemoryBucket::Put(const std::string& name, std::string bytes,
                         bool overwrite) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = stores_[name];
  if (slot != nullptr && !overwrite)
    return Status::AlreadyExists(name, "a store is there already");
  slot = std::make_shared<const std::string>(std::move(bytes));
  return Status::OK();
}

Status MemoryBucket::Corrupt(const std::string& name, uint64_t offset,
                             char value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stores_.find(name);
  if (it == stores_.end()) return Status::NotFound("no such store", name);
  if (offset >= it->second->size())
    return Status::InvalidArgument(name, "offset past the store's end");
  // Readers that hold the old bytes keep them; new readers see the damage.
  auto damaged = std::make_shared<std::string>(*it->second);
  (*damaged)[static_cast<size_t>(offset)] = value;
  it->second = std::move(damaged);
  return Status::OK();
}

size_t MemoryBucket::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stores_.size();
}

Status MemorySink::Append(std::string_view data) {
  if (!error_.ok()) return error_;
  if (done_) return Status::InvalidArgument(name_, "append after the end");
  if (faults_.error_at && bytes_.size() + data.size() > *faults_.error_at) {
    bytes_.append(data.substr(0, *faults_.error_at - bytes_.size()));
    error_ = Status::IOError(name_, "injected write error at byte " +
                                        std::to_string(*faults_.error_at));
    return error_;
  }
  bytes_.append(data);
  return Status::OK();
}

Status MemorySink::Commit() {
  if (!error_.ok()) return error_;
  if (done_) return Status::InvalidArgument(name_, "committed twice");
  if (faults_.fail_commit) {
    error_ = Status::IOError(name_, "injected failure before publishing");
    return error_;
  }
  done_ = true;
  return bucket_->Put(name_, std::move(bytes_), overwrite_);
}

void MemorySink::Abandon() {
  done_ = true;
  bytes_.clear();
}

Result<std::unique_ptr<MemorySource>> MemorySource::Open(
    const MemoryBucket& bucket, const std::string& name, IoFaults faults) {
  std::shared_ptr<const std::string> bytes = bucket.Get(name);
  if (bytes == nullptr) return Status::NotFound("no such store", name);
  return std::unique_ptr<MemorySource>(
      new MemorySource(std::move(bytes), name, faults));
}

Status MemorySource::ReadAt(uint64_t offset, size_t n, char* out) const {
  reads_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t end = offset + n;
  if (end < offset || end > bytes_->size())
    return Status::Corruption(name_, "read past the store's end");
  if (faults_.error_at && offset <= *faults_.error_at &&
      *faults_.error_at < end) {
    return Status::IOError(name_, "injected read error at byte " +
                                      std::to_string(*faults_.error_at));
  }
  if (faults_.short_at && offset <= *faults_.short_at &&
      *faults_.short_at < end) {
    return Status::Corruption(
        name_, "the store delivered fewer bytes than asked for (up to byte " +
                   std::to_string(*faults_.short_at) + ")");
  }
  if (n != 0) std::memcpy(out, bytes_->data() + offset, n);
  bytes_read_.fetch_add(n, std::memory_order_relaxed);
  return Status::OK();
}

}  // namespace migstore::format
