// SmpSink: a store streamed to a state migration point as it is written
// (docs/smp.md, "Uploads"), the StoreSink of an SMP capture.
//
// Appended bytes fill chunks (8 MiB); each full chunk goes to one uploader
// thread, which PUTs it to /v1/stores/ID/upload with its Content-Range
// while the pack pipeline fills the next. At most `max_queued_chunks`
// chunks wait for or are in upload, besides the one filling, and Append
// waits when they are all taken: memory stays bounded and a slow network
// slows the writer down instead. A chunk is freed once the server has
// acknowledged its bytes; the uploader also keeps the running SHA-256 of
// the whole stream, which Commit sends.
//
// When a PUT fails with a connection error or 5xx (the server restarted, a
// proxy dropped the connection), the uploader waits, asks GET
// /v1/stores/ID/upload how many bytes arrived and resumes from there; a 416
// (the range did not start at the server's end) carries that count and is
// handled alike. A count below the oldest byte still held (the server lost
// bytes it had acknowledged) cannot be resumed: Unavailable. Until the
// server has acknowledged a first PUT, its count may be a previous run's
// partial, so a resume then starts over from byte 0, which the protocol
// always accepts.
//
// Commit uploads the rest, then POSTs /v1/stores/ID/commit with the size
// and hash; the server publishes the store only if both match (422,
// Corruption, otherwise). Abandon stops the upload: the server keeps the
// store in "capturing", and a capture run again starts it over. Errors are
// sticky: after the first failure every call returns it.
//
// Thread safety: Append, Commit and Abandon by one thread at a time (the
// StoreSink contract); size() and the counters from any thread.

#ifndef MIGSTORE_ENGINE_SRC_SMP_SMP_SINK_H_
#define MIGSTORE_ENGINE_SRC_SMP_SMP_SINK_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "engine/src/smp/smp_http.h"
#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::smp {

struct SmpSinkOptions {
  size_t chunk_size = size_t{8} << 20;
  // Chunks handed to the uploader and not yet acknowledged, the one in
  // flight included; the chunk being filled comes on top.
  int max_queued_chunks = 2;
  // Resumes in a row that move no byte forward before the upload fails.
  int max_resumes_without_progress = 6;
};

class SmpSink final : public format::StoreSink {
 public:
  // `store_id`: checked (IsStoreId). `name`: the store's name for messages.
  static Result<std::unique_ptr<SmpSink>> Create(
      std::shared_ptr<SmpHttp> http, const std::string& store_id,
      std::string name, const SmpSinkOptions& options = {});
  ~SmpSink() override;
  SmpSink(const SmpSink&) = delete;
  SmpSink& operator=(const SmpSink&) = delete;

  Status Append(std::string_view data) override;
  uint64_t size() const override { return size_.load(); }
  Status Commit() override;
  void Abandon() override;
  const std::string& name() const override { return name_; }

  // The store as the commit's answer describes it (null before).
  const nlohmann::json& committed_store() const { return committed_store_; }
  // Bytes the server has acknowledged so far.
  uint64_t acknowledged() const { return acknowledged_.load(); }
  // Times the upload went on after the server could not be reached (it
  // asked where the server stood, or the server answered a retried PUT).
  uint64_t resumes() const { return resumes_.load(); }
  // The most bytes of chunks held at once (the filling one included).
  uint64_t peak_buffered_bytes() const { return peak_buffered_.load(); }

 private:
  struct Chunk {
    uint64_t start = 0;  // the stream offset of its first byte
    std::unique_ptr<char[]> data;
    size_t len = 0;
    bool hashed = false;  // its bytes are in the running SHA-256
  };

  SmpSink(std::shared_ptr<SmpHttp> http, std::string store_id, std::string name,
          const SmpSinkOptions& options);

  // Hands the filling chunk to the uploader; waits while the queue is full.
  Status Submit();
  void Uploader();
  // Sends the front chunk until the server holds all of it. Called by the
  // uploader without the lock.
  Status Upload(Chunk* chunk);
  // The server's count of received bytes, for a resume.
  Result<uint64_t> AskReceived();
  void StopUploader();
  Status Fail(Status s);
  Status error() const;
  std::string UploadPath() const;

  std::shared_ptr<SmpHttp> http_;
  std::string store_id_;
  std::string name_;
  SmpSinkOptions options_;
  void* sha_ = nullptr;  // EVP_MD_CTX, used by the uploader only
  std::unique_ptr<Chunk> filling_;
  std::atomic<uint64_t> size_{0};
  bool done_ = false;
  nlohmann::json committed_store_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Chunks not yet acknowledged, oldest first; the front one is the one the
  // uploader sends. Guarded by mu_.
  std::deque<std::unique_ptr<Chunk>> queue_;
  bool stopping_ = false;  // guarded by mu_
  Status error_;           // guarded by mu_
  std::thread uploader_;
  std::atomic<bool> cancel_{false};
  // Whether the server has acknowledged a PUT of this upload: from then on
  // its count is of this stream's bytes. Uploader thread only.
  bool server_started_over_ = false;
  std::atomic<uint64_t> acknowledged_{0};
  std::atomic<uint64_t> resumes_{0};
  std::atomic<uint64_t> buffered_{0};
  std::atomic<uint64_t> peak_buffered_{0};
};

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_SMP_SINK_H_
