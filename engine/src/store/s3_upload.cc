#include "engine/src/store/s3_upload.h"

#include <algorithm>
#include <cstring>

namespace migstore::store {

Result<std::unique_ptr<S3Upload>> S3Upload::Create(
    S3Client* client, S3Location where, const S3UploadOptions& options) {
  if (options.part_size < kMinPartSize || options.max_buffered_parts < 2) {
    return Status::InvalidArgument(
        "S3 parts must be at least 5 MiB, and two buffers are needed");
  }
  // Before any byte is sent: a missing bucket, wrong credentials or an
  // existing object are found now, not after the capture's whole upload.
  MIGSTORE_ASSIGN_OR_RETURN(std::optional<uint64_t> existing,
                            client->Stat(where));
  if (existing && !options.overwrite) {
    return Status::AlreadyExists(
        where.Name(), "already exists (use --overwrite to replace it)");
  }
  return std::unique_ptr<S3Upload>(
      new S3Upload(client, std::move(where), options));
}

S3Upload::~S3Upload() { Abandon(); }

std::string S3Upload::upload_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return upload_id_;
}

Status S3Upload::Fail(Status s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok() && !s.ok()) error_ = s;
  return s;
}

Status S3Upload::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

Status S3Upload::NextBuffer() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] {
    return !error_.ok() || !free_.empty() ||
           allocated_ < options_.max_buffered_parts;
  });
  if (!error_.ok()) return error_;
  if (!free_.empty()) {
    filling_ = std::move(free_.back());
    free_.pop_back();
  } else {
    filling_ = std::make_unique<Buffer>();
    // Not make_unique<char[]>: that would zero the part first.
    filling_->data.reset(new char[options_.part_size]);
    ++allocated_;
    const uint64_t now =
        buffered_bytes_.fetch_add(options_.part_size) + options_.part_size;
    if (now > peak_buffered_bytes_.load()) peak_buffered_bytes_.store(now);
  }
  filling_->len = 0;
  return Status::OK();
}

Status S3Upload::Submit() {
  if (parts_submitted_ >= kMaxParts) {
    return Fail(Status::IOError(
        where_.Name(), "the store is larger than S3's 10,000 parts of " +
                           std::to_string(options_.part_size >> 20) + " MiB"));
  }
  if (parts_submitted_ == 0) {
    auto id = client_->CreateMultipartUpload(where_);
    if (!id.ok()) return Fail(id.status());
    {
      std::lock_guard<std::mutex> lock(mu_);
      upload_id_ = std::move(id).value();
    }
    for (int i = 1; i < options_.max_buffered_parts; ++i)
      workers_.emplace_back([this] { Worker(); });
  }
  filling_->number = ++parts_submitted_;
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(filling_));
  cv_.notify_all();
  return Status::OK();
}

void S3Upload::Worker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    std::unique_ptr<Buffer> buf = std::move(queue_.front());
    queue_.pop_front();
    if (error_.ok()) {
      const std::string id = upload_id_;
      ++uploading_;
      lock.unlock();
      auto etag = client_->UploadPart(
          where_, id, buf->number, std::string_view(buf->data.get(), buf->len));
      lock.lock();
      --uploading_;
      if (etag.ok()) {
        parts_.push_back({buf->number, std::move(etag).value()});
      } else if (error_.ok()) {
        error_ = etag.status();
      }
    }
    // After an error the queued parts are dropped: the upload is lost.
    free_.push_back(std::move(buf));
    cv_.notify_all();
  }
}

void S3Upload::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

Status S3Upload::Append(std::string_view data) {
  if (done_) return Status::InvalidArgument("append after Commit or Abandon");
  MIGSTORE_RETURN_IF_ERROR(error());
  while (!data.empty()) {
    // A full part goes out only once more bytes follow it: an object of
    // exactly one part is then one PUT.
    if (filling_ != nullptr && filling_->len == options_.part_size)
      MIGSTORE_RETURN_IF_ERROR(Submit());
    if (filling_ == nullptr) MIGSTORE_RETURN_IF_ERROR(NextBuffer());
    const size_t n = std::min(data.size(), options_.part_size - filling_->len);
    std::memcpy(filling_->data.get() + filling_->len, data.data(), n);
    filling_->len += n;
    size_ += n;
    data.remove_prefix(n);
  }
  return Status::OK();
}

Status S3Upload::Commit() {
  if (done_) return Status::InvalidArgument("Commit after Commit or Abandon");
  MIGSTORE_RETURN_IF_ERROR(error());
  Status s;
  if (parts_submitted_ == 0) {
    std::string_view body;
    if (filling_ != nullptr) body = {filling_->data.get(), filling_->len};
    s = client_->Put(where_, body, !options_.overwrite);
  } else {
    if (filling_ != nullptr && filling_->len > 0) s = Submit();
    StopWorkers();
    if (s.ok()) s = error();
    if (s.ok()) {
      std::vector<S3Client::Part> parts;
      {
        std::lock_guard<std::mutex> lock(mu_);
        parts = parts_;
      }
      std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
        return a.number < b.number;
      });
      if (static_cast<int>(parts.size()) != parts_submitted_) {
        s = Status::IOError(where_.Name(), "a part was not uploaded");
      } else {
        s = client_->CompleteMultipartUpload(where_, upload_id(), parts,
                                             size_.load(), !options_.overwrite);
      }
    }
  }
  if (!s.ok()) {
    (void)Fail(s);
    Abandon();
    return s;
  }
  done_ = true;
  filling_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  free_.clear();
  buffered_bytes_.store(0);
  return Status::OK();
}

void S3Upload::Abandon() {
  if (done_) return;
  done_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Parts not yet sent are not sent.
    if (error_.ok()) error_ = Status::Cancelled("the upload was abandoned");
  }
  StopWorkers();
  const std::string id = upload_id();
  // Best effort: an upload that cannot be aborted now is left for the
  // bucket's lifecycle rule (docs/design.md, "Store backends").
  if (!id.empty()) (void)client_->AbortMultipartUpload(where_, id);
  filling_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  free_.clear();
  queue_.clear();
  buffered_bytes_.store(0);
}

}  // namespace migstore::store
