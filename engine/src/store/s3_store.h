// A container in an S3 object: the object store's StoreSink and StoreSource
// (format/store_io.h; docs/design.md, "Store backends").
//
// S3Sink streams the container as a multipart upload in bounded memory and
// publishes the object only at Commit (S3Upload). S3Source reads it by
// ranged GETs: a read of a block or more is one GET of exactly its bytes;
// smaller reads (the header, the trailer, the index, small catalog and
// content segments) are served from a few aligned windows of the object
// kept in memory, so opening a store costs a request or two rather than one
// per structure. Reads from several threads run in parallel, each on its
// own connection (S3Client's pool).
//
// Thread safety: S3Sink by one thread at a time; S3Source's methods from any
// number of threads at once.

#ifndef MIGSTORE_ENGINE_SRC_STORE_S3_STORE_H_
#define MIGSTORE_ENGINE_SRC_STORE_S3_STORE_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "engine/src/store/s3_client.h"
#include "engine/src/store/s3_upload.h"
#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::store {

class S3Sink final : public format::StoreSink {
 public:
  // Fails before anything is sent when the bucket cannot be reached, the
  // credentials are refused, or (without overwrite) the object exists.
  static Result<std::unique_ptr<S3Sink>> Create(
      std::shared_ptr<S3Client> client, S3Location where,
      const S3UploadOptions& options);
  ~S3Sink() override { Abandon(); }

  Status Append(std::string_view data) override {
    return upload_->Append(data);
  }
  uint64_t size() const override { return upload_->size(); }
  Status Commit() override { return upload_->Commit(); }
  void Abandon() override { upload_->Abandon(); }
  const std::string& name() const override { return name_; }

  // The memory the upload holds now and at most (S3Upload).
  uint64_t peak_buffered_bytes() const {
    return upload_->peak_buffered_bytes();
  }

 private:
  S3Sink(std::shared_ptr<S3Client> client, std::unique_ptr<S3Upload> upload)
      : client_(std::move(client)),
        upload_(std::move(upload)),
        name_(upload_->where().Name()) {}

  std::shared_ptr<S3Client> client_;  // outlives upload_, declared first
  std::unique_ptr<S3Upload> upload_;
  std::string name_;
};

struct S3SourceOptions {
  // Reads shorter than half a window are served from windows of this size,
  // aligned on multiples of it; longer ones are fetched as they are.
  size_t window = size_t{1} << 20;
  // Windows kept, least recently used dropped first. 0: none, every read is
  // one GET of exactly its bytes (for a source that serves one read and
  // goes, where a window would fetch bytes nobody asked for).
  size_t windows = 8;
};

class S3Source final : public format::StoreSource {
 public:
  // NotFound when there is no such object (or bucket); Unavailable when the
  // endpoint cannot be reached or refuses the credentials.
  static Result<std::unique_ptr<S3Source>> Open(
      std::shared_ptr<S3Client> client, S3Location where,
      const S3SourceOptions& options = {});
  // The same for an object whose size the caller knows (a store whose size
  // a database recorded when it was checked): no request is made.
  static std::unique_ptr<S3Source> OpenKnownSize(
      std::shared_ptr<S3Client> client, S3Location where, uint64_t size,
      const S3SourceOptions& options = {});

  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t n, char* out) const override;
  const std::string& name() const override { return name_; }
  // Bytes fetched from the object store (windows count whole).
  uint64_t bytes_read() const override { return bytes_read_.load(); }
  // Each read is a round trip: a restore keeps this many GETs in flight.
  int parallel_reads() const override { return 8; }
  // GET requests made, and reads served from a window already in memory.
  uint64_t gets() const { return gets_.load(); }
  uint64_t window_hits() const { return window_hits_.load(); }

 private:
  using Window = std::shared_ptr<const std::string>;

  S3Source(std::shared_ptr<S3Client> client, S3Location where, uint64_t size,
           const S3SourceOptions& options)
      : client_(std::move(client)),
        where_(std::move(where)),
        name_(where_.Name()),
        size_(size),
        options_(options) {}

  Status Fetch(uint64_t offset, size_t n, char* out) const;
  // Window number w (bytes [w * window, ...)), from memory or fetched.
  Result<Window> WindowAt(uint64_t w) const;

  std::shared_ptr<S3Client> client_;
  S3Location where_;
  std::string name_;
  uint64_t size_;
  S3SourceOptions options_;

  mutable std::mutex mu_;
  // Most recently used first; guarded by mu_.
  mutable std::list<std::pair<uint64_t, Window>> windows_;
  mutable std::atomic<uint64_t> bytes_read_{0};
  mutable std::atomic<uint64_t> gets_{0};
  mutable std::atomic<uint64_t> window_hits_{0};
};

}  // namespace migstore::store

#endif  // MIGSTORE_ENGINE_SRC_STORE_S3_STORE_H_
