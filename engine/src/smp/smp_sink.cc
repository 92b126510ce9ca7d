#include "engine/src/smp/smp_sink.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace migstore::smp {
namespace {

EVP_MD_CTX* Sha(void* p) { return static_cast<EVP_MD_CTX*>(p); }

std::string Hex(const unsigned char* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

// A non-negative integer field of a JSON object.
bool Count(const nlohmann::json& j, const char* field, uint64_t* out) {
  if (!j.is_object()) return false;
  auto it = j.find(field);
  if (it == j.end()) return false;
  if (it->is_number_unsigned()) {
    *out = it->get<uint64_t>();
    return true;
  }
  if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(it->get<int64_t>());
    return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<SmpSink>> SmpSink::Create(
    std::shared_ptr<SmpHttp> http, const std::string& store_id,
    std::string name, const SmpSinkOptions& options) {
  if (!IsStoreId(store_id)) {
    return Status::InvalidArgument("not a store id (32 hex digits)", store_id);
  }
  if (options.chunk_size == 0 || options.max_queued_chunks < 1 ||
      options.max_resumes_without_progress < 0) {
    return Status::InvalidArgument(
        "an SMP upload needs chunks of at least one byte and a queue of at "
        "least one");
  }
  return std::unique_ptr<SmpSink>(
      new SmpSink(std::move(http), store_id, std::move(name), options));
}

SmpSink::SmpSink(std::shared_ptr<SmpHttp> http, std::string store_id,
                 std::string name, const SmpSinkOptions& options)
    : http_(std::move(http)),
      store_id_(std::move(store_id)),
      name_(std::move(name)),
      options_(options) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    std::abort();  // out of memory: as std::bad_alloc would
  }
  sha_ = ctx;
}

SmpSink::~SmpSink() {
  Abandon();
  EVP_MD_CTX_free(Sha(sha_));
}

std::string SmpSink::UploadPath() const {
  return "/v1/stores/" + store_id_ + "/upload";
}

Status SmpSink::Fail(Status s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok() && !s.ok()) error_ = s;
  cv_.notify_all();
  return s;
}

Status SmpSink::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

Status SmpSink::Append(std::string_view data) {
  if (done_) return Status::InvalidArgument("append after Commit or Abandon");
  MIGSTORE_RETURN_IF_ERROR(error());
  while (!data.empty()) {
    if (filling_ == nullptr) {
      filling_ = std::make_unique<Chunk>();
      filling_->start = size_.load();
      // Not make_unique<char[]>: that would zero the chunk first.
      filling_->data.reset(new char[options_.chunk_size]);
      const uint64_t now =
          buffered_.fetch_add(options_.chunk_size) + options_.chunk_size;
      if (now > peak_buffered_.load()) peak_buffered_.store(now);
    }
    const size_t n = std::min(data.size(), options_.chunk_size - filling_->len);
    std::memcpy(filling_->data.get() + filling_->len, data.data(), n);
    filling_->len += n;
    size_ += n;
    data.remove_prefix(n);
    if (filling_->len == options_.chunk_size)
      MIGSTORE_RETURN_IF_ERROR(Submit());
  }
  return Status::OK();
}

Status SmpSink::Submit() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] {
    return !error_.ok() ||
           queue_.size() < static_cast<size_t>(options_.max_queued_chunks);
  });
  if (!error_.ok()) return error_;
  queue_.push_back(std::move(filling_));
  if (!uploader_.joinable()) uploader_ = std::thread([this] { Uploader(); });
  cv_.notify_all();
  return Status::OK();
}

void SmpSink::Uploader() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    if (!error_.ok()) {
      // After an error the queued chunks are dropped: the upload is lost.
      buffered_ -= options_.chunk_size * queue_.size();
      queue_.clear();
      cv_.notify_all();
      continue;
    }
    Chunk* chunk = queue_.front().get();
    lock.unlock();
    Status s = Upload(chunk);
    lock.lock();
    if (!s.ok() && error_.ok()) error_ = std::move(s);
    queue_.pop_front();
    buffered_ -= options_.chunk_size;
    cv_.notify_all();
  }
}

Result<uint64_t> SmpSink::AskReceived() {
  MIGSTORE_ASSIGN_OR_RETURN(nlohmann::json j, http_->Call("GET", UploadPath()));
  uint64_t received = 0;
  if (!Count(j, "received", &received)) {
    return Status::IOError("GET " + http_->server() + UploadPath(),
                           "the server's answer does not say how many bytes "
                           "it received");
  }
  return received;
}

Status SmpSink::Upload(Chunk* chunk) {
  // Hashed here rather than in Append: the pack pipeline's thread goes on
  // packing meanwhile. Chunks come here in order, each once.
  if (!chunk->hashed) {
    if (EVP_DigestUpdate(Sha(sha_), chunk->data.get(), chunk->len) != 1)
      std::abort();  // SHA-256 of bytes in memory cannot fail
    chunk->hashed = true;
  }
  const uint64_t end = chunk->start + chunk->len;
  uint64_t from = chunk->start;
  int without_progress = 0;
  // A failure to reach the server not yet followed by an answer: the next
  // answer, whichever request gets it, is a resume.
  bool interrupted = false;
  Status last;
  for (;;) {
    if (cancel_.load()) return Status::Cancelled("the upload was abandoned");
    if (from == end) {
      acknowledged_.store(end);
      return Status::OK();
    }
    UploadAnswer a = http_->PutRange(
        UploadPath(), from,
        std::string_view(chunk->data.get() + (from - chunk->start),
                         static_cast<size_t>(end - from)),
        &cancel_);
    if (interrupted && ((a.http >= 200 && a.http < 300) || a.http == 416)) {
      // The server came back before it was asked where it stood.
      interrupted = false;
      resumes_.fetch_add(1, std::memory_order_relaxed);
    }
    uint64_t received = 0;
    if (a.http >= 200 && a.http < 300) {
      server_started_over_ = true;
      if (a.received == end) {
        acknowledged_.store(end);
        return Status::OK();
      }
      // Accepted, but the server counts otherwise: go on from its count.
      received = a.received;
      last = Status::IOError("PUT " + http_->server() + UploadPath(),
                             "the server holds " + std::to_string(received) +
                                 " bytes after a PUT that ends at " +
                                 std::to_string(end));
    } else if (a.http == 416) {
      received = a.received;
      last = a.error;
    } else if (a.retryable) {
      last = a.error;
      if (without_progress >= options_.max_resumes_without_progress)
        return last;
      ++without_progress;
      interrupted = true;
      if (!http_->WaitBeforeRetry(without_progress, &cancel_))
        return Status::Cancelled("the upload was abandoned");
      Result<uint64_t> asked = AskReceived();
      if (!asked.ok()) {
        // Still unreachable (the server is restarting): another round.
        if (asked.status().IsUnavailable()) {
          last = asked.status();
          continue;
        }
        return asked.status();
      }
      received = *asked;
      interrupted = false;
      resumes_.fetch_add(1, std::memory_order_relaxed);
    } else {
      return a.error;
    }

    if (!server_started_over_) {
      // The count may be of a previous run's partial, not of this stream:
      // start over (always allowed). Only the first chunk gets here.
      received = 0;
    }
    if (received < chunk->start) {
      return Status::Unavailable(
          name_, "the server now holds " + std::to_string(received) +
                     " bytes of the upload but had acknowledged " +
                     std::to_string(chunk->start) +
                     ", which are no longer at hand: the upload cannot "
                     "resume (run the capture again; it starts over)");
    }
    if (received > end) {
      return Status::IOError(name_, "the server says it holds " +
                                        std::to_string(received) +
                                        " bytes of the upload, but only " +
                                        std::to_string(end) + " were sent");
    }
    if (received > from) {
      without_progress = 0;
    } else if (a.retryable) {
      // Counted above.
    } else if (without_progress++ >= options_.max_resumes_without_progress) {
      return last;
    }
    from = received;
  }
}

void SmpSink::StopUploader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (uploader_.joinable()) uploader_.join();
}

Status SmpSink::Commit() {
  if (done_) return Status::InvalidArgument("Commit after Commit or Abandon");
  MIGSTORE_RETURN_IF_ERROR(error());
  Status s;
  if (filling_ != nullptr && filling_->len > 0) s = Submit();
  // Waits until every chunk is acknowledged or the upload failed.
  StopUploader();
  if (s.ok()) s = error();
  if (s.ok()) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(Sha(sha_), digest, &len) != 1) std::abort();
    const std::string sha256 = Hex(digest, len);
    const uint64_t size = size_.load();
    const std::string path = "/v1/stores/" + store_id_ + "/commit";
    int attempts = 0;
    Result<nlohmann::json> answer = http_->Call(
        "POST", path, {{"size", size}, {"sha256", sha256}}, &attempts);
    if (!answer.ok() && attempts > 1 &&
        (answer.status().IsRefused() || answer.status().IsAlreadyExists())) {
      // A commit sent again may have been carried out the first time, its
      // answer lost on the way back: the store is then captured already,
      // with this size and hash.
      Result<nlohmann::json> now = http_->Call("GET", UploadPath());
      uint64_t got = 0;
      if (now.ok() && now->contains("store") && (*now)["store"].is_object()) {
        const nlohmann::json& st = (*now)["store"];
        if (st.value("state", nlohmann::json()) == "captured" &&
            Count(st, "size", &got) && got == size &&
            st.value("sha256", nlohmann::json()) == sha256) {
          answer = nlohmann::json{{"store", st}};
        }
      }
    }
    if (answer.ok()) {
      auto st = answer->find("store");
      if (st != answer->end()) committed_store_ = *st;
    } else {
      s = answer.status();
    }
  }
  if (!s.ok()) {
    (void)Fail(s);
    Abandon();
    return s;
  }
  done_ = true;
  filling_.reset();
  buffered_.store(0);
  return Status::OK();
}

void SmpSink::Abandon() {
  if (done_) return;
  done_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Chunks not yet sent are not sent.
    if (error_.ok()) error_ = Status::Cancelled("the upload was abandoned");
  }
  cancel_.store(true);
  StopUploader();
  filling_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
  buffered_.store(0);
}

}  // namespace migstore::smp
