#include "engine/src/store/s3_store.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace migstore::store {

Result<std::unique_ptr<S3Sink>> S3Sink::Create(std::shared_ptr<S3Client> client,
                                               S3Location where,
                                               const S3UploadOptions& options) {
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<S3Upload> upload,
      S3Upload::Create(client.get(), std::move(where), options));
  return std::unique_ptr<S3Sink>(
      new S3Sink(std::move(client), std::move(upload)));
}

Result<std::unique_ptr<S3Source>> S3Source::Open(
    std::shared_ptr<S3Client> client, S3Location where,
    const S3SourceOptions& options) {
  MIGSTORE_ASSIGN_OR_RETURN(uint64_t size, client->Head(where));
  return OpenKnownSize(std::move(client), std::move(where), size, options);
}

std::unique_ptr<S3Source> S3Source::OpenKnownSize(
    std::shared_ptr<S3Client> client, S3Location where, uint64_t size,
    const S3SourceOptions& options) {
  assert(options.window > 0 && "a source's windows hold at least a byte");
  return std::unique_ptr<S3Source>(
      new S3Source(std::move(client), std::move(where), size, options));
}

Status S3Source::Fetch(uint64_t offset, size_t n, char* out) const {
  gets_.fetch_add(1, std::memory_order_relaxed);
  MIGSTORE_RETURN_IF_ERROR(client_->GetRange(where_, offset, n, out));
  bytes_read_.fetch_add(n, std::memory_order_relaxed);
  return Status::OK();
}

Result<S3Source::Window> S3Source::WindowAt(uint64_t w) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = windows_.begin(); it != windows_.end(); ++it) {
      if (it->first != w) continue;
      windows_.splice(windows_.begin(), windows_, it);
      window_hits_.fetch_add(1, std::memory_order_relaxed);
      return windows_.front().second;
    }
  }
  // Fetched without the lock, so other threads' reads go on meanwhile; two
  // threads missing the same window both fetch it, and one copy is kept.
  const uint64_t start = w * options_.window;
  const size_t len =
      static_cast<size_t>(std::min<uint64_t>(options_.window, size_ - start));
  auto bytes = std::make_shared<std::string>(len, '\0');
  MIGSTORE_RETURN_IF_ERROR(Fetch(start, len, bytes->data()));
  Window window = std::move(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [number, kept] : windows_) {
    if (number == w) return kept;
  }
  windows_.emplace_front(w, window);
  if (windows_.size() > options_.windows) windows_.pop_back();
  return window;
}

Status S3Source::ReadAt(uint64_t offset, size_t n, char* out) const {
  if (offset > size_ || n > size_ - offset) {
    return Status::Corruption(name_,
                              "the object ends before the data it "
                              "promises");
  }
  if (n == 0) return Status::OK();
  if (n >= options_.window / 2 || options_.windows == 0)
    return Fetch(offset, n, out);
  // A short read spans one window, or two when it crosses a boundary.
  while (n > 0) {
    const uint64_t w = offset / options_.window;
    MIGSTORE_ASSIGN_OR_RETURN(Window window, WindowAt(w));
    const size_t at = static_cast<size_t>(offset - w * options_.window);
    const size_t take = std::min(n, window->size() - at);
    std::memcpy(out, window->data() + at, take);
    out += take;
    offset += take;
    n -= take;
  }
  return Status::OK();
}

}  // namespace migstore::store
