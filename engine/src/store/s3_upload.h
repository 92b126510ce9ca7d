// S3Upload: streams one object to S3 in bounded memory, and publishes it
// whole or not at all.
//
// Appended bytes fill a part buffer; a full part is handed to a small pool
// of upload threads and the next buffer is filled meanwhile. At most
// `max_buffered_parts` buffers of `part_size` bytes exist at once (five of
// 8 MiB by default: four uploading while the fifth fills, 40 MiB), and
// Append waits when all are taken, so memory does not grow with the object
// and a slow network slows the writer down instead.
//
// Nothing is visible under the key until Commit(): an object that fits in
// one part is written by one PUT, a larger one by a multipart upload that
// only CompleteMultipartUpload publishes. Abandon() (or destruction without
// Commit) aborts the multipart upload, so no parts are left behind to be
// billed. Without `overwrite` an existing object is refused at Create()
// (AlreadyExists), and the final PUT or Complete carries If-None-Match: *
// so one that appears meanwhile is not replaced on servers that honour it.
//
// Errors are sticky, as for AtomicFile: after the first failure every call
// returns it.
//
// Thread safety: Append, Commit and Abandon by one thread at a time; the
// counters may be read from any thread.

#ifndef MIGSTORE_ENGINE_SRC_STORE_S3_UPLOAD_H_
#define MIGSTORE_ENGINE_SRC_STORE_S3_UPLOAD_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/src/store/s3_client.h"
#include "migstore/result.h"

namespace migstore::store {

struct S3UploadOptions {
  // S3 wants every part but the last to be at least 5 MiB, and allows
  // 10,000 parts: 8 MiB parts make objects of up to 78 GiB.
  size_t part_size = size_t{8} << 20;
  // Part buffers in memory at once, the one being filled included.
  int max_buffered_parts = 5;
  bool overwrite = false;
};

class S3Upload {
 public:
  static constexpr size_t kMinPartSize = size_t{5} << 20;
  static constexpr int kMaxParts = 10000;

  static Result<std::unique_ptr<S3Upload>> Create(
      S3Client* client, S3Location where, const S3UploadOptions& options);
  ~S3Upload();
  S3Upload(const S3Upload&) = delete;
  S3Upload& operator=(const S3Upload&) = delete;

  Status Append(std::string_view data);
  // Uploads what is left, waits for every part and publishes the object.
  Status Commit();
  // Stops the upload and removes its parts. Safe to call more than once,
  // and after Commit (it does nothing then).
  void Abandon();

  // Bytes appended so far.
  uint64_t size() const { return size_.load(); }
  const S3Location& where() const { return where_; }
  // Bytes of part buffers allocated now, and the most at any moment: the
  // memory bound the tests check (never over max_buffered_parts *
  // part_size).
  uint64_t buffered_bytes() const { return buffered_bytes_.load(); }
  uint64_t peak_buffered_bytes() const { return peak_buffered_bytes_.load(); }
  // The multipart upload's id, empty while none was started.
  std::string upload_id() const;

 private:
  struct Buffer {
    std::unique_ptr<char[]> data;
    size_t len = 0;
    int number = 0;
  };

  S3Upload(S3Client* client, S3Location where, const S3UploadOptions& options)
      : client_(client), where_(std::move(where)), options_(options) {}

  // A free buffer for the next part: waits while all are in use.
  Status NextBuffer();
  // Hands the filled buffer to the upload threads.
  Status Submit();
  void Worker();
  void StopWorkers();
  Status Fail(Status s);
  Status error() const;

  S3Client* client_;
  S3Location where_;
  S3UploadOptions options_;
  std::unique_ptr<Buffer> filling_;
  std::atomic<uint64_t> size_{0};
  int parts_submitted_ = 0;
  bool done_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string upload_id_;                      // guarded by mu_
  std::deque<std::unique_ptr<Buffer>> queue_;  // guarded by mu_
  std::vector<std::unique_ptr<Buffer>> free_;  // guarded by mu_
  std::vector<S3Client::Part> parts_;          // guarded by mu_
  int allocated_ = 0;                          // guarded by mu_
  int uploading_ = 0;                          // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  Status error_;                               // guarded by mu_
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> buffered_bytes_{0};
  std::atomic<uint64_t> peak_buffered_bytes_{0};
};

}  // namespace migstore::store

#endif  // MIGSTORE_ENGINE_SRC_STORE_S3_UPLOAD_H_
