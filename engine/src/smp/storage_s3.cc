// An object-store storage location (storage.h): store ID is the object
// PREFIX/ID.mig, and its upload an S3 multipart upload of that key, one
// part per client chunk (docs/smp.md, "Storage").
//
// The upload's state (its id, its parts and the bytes they hold) is the
// object store's: this node keeps a copy per store so that a chunk costs
// one request (its UploadPart), and asks the object store again whenever
// the copy may be behind it: after a restart (no copy), when a chunk does
// not start where the copy ends (another node took chunks of this upload,
// or the copy is stale), and when a part fails (the upload may be gone).
// What a client is told it may resume from (PartialSize) and what Publish
// completes always come from the object store itself.

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>

#include "engine/src/smp/location_store.h"
#include "engine/src/store/s3_client.h"
#include "engine/src/store/s3_config.h"
#include "engine/src/store/s3_store.h"
#include "engine/src/store/s3_upload.h"

namespace migstore::smp {
namespace {

using store::S3Client;

// Read back at commit in pieces of the client's chunk size: few requests,
// bounded memory.
constexpr size_t kReadBackBlock = size_t{8} << 20;

std::string RandomHex() {
  std::random_device random;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char word[9];
    std::snprintf(word, sizeof word, "%08x", random());
    out += word;
  }
  return out;
}

class ObjectStore final : public LocationStore {
 public:
  ObjectStore(ObjectLocationName where, std::shared_ptr<S3Client> client)
      : where_(std::move(where)), client_(std::move(client)) {}

  Status Check() override;
  Result<uint64_t> FreeBytes() override;
  Result<uint64_t> WritePartial(std::string_view id, uint64_t offset,
                                std::string_view data) override;
  Result<uint64_t> PartialSize(std::string_view id) override;
  Status Publish(std::string_view id, uint64_t size,
                 std::string_view sha256) override;
  Result<std::unique_ptr<format::StoreSource>> OpenCommitted(
      std::string_view id, uint64_t committed_size) override;
  Status Remove(std::string_view id) override;

 private:
  // A store's unfinished upload: its parts 1..n, in order.
  struct Upload {
    std::string id;
    std::vector<S3Client::ListedPart> parts;
    uint64_t received = 0;
  };

  store::S3Location Where(std::string_view id) const {
    return {where_.bucket, where_.KeyOf(id)};
  }
  // The ids of the unfinished uploads of the store's key.
  Result<std::vector<std::string>> UploadIds(std::string_view id);
  // The store's upload as the object store holds it; nullopt when none.
  Result<std::optional<Upload>> Find(std::string_view id);
  Status AbortAll(std::string_view id);
  // Checks the object under the store's key against what the client sent;
  // deletes it when it is not that.
  Status Verify(std::string_view id, uint64_t size, std::string_view sha256);

  std::optional<Upload> Cached(std::string_view id);
  void Keep(std::string_view id, Upload up);
  void Forget(std::string_view id);

  const ObjectLocationName where_;
  const std::shared_ptr<S3Client> client_;
  std::mutex mu_;
  std::map<std::string, Upload, std::less<>> uploads_;  // guarded by mu_
};

std::optional<ObjectStore::Upload> ObjectStore::Cached(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = uploads_.find(id);
  if (it == uploads_.end()) return std::nullopt;
  return it->second;
}

void ObjectStore::Keep(std::string_view id, Upload up) {
  std::lock_guard<std::mutex> lock(mu_);
  uploads_[std::string(id)] = std::move(up);
}

void ObjectStore::Forget(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = uploads_.find(id);
  if (it != uploads_.end()) uploads_.erase(it);
}

Status ObjectStore::Check() {
  // A probe object of its own name (two nodes starting at once do not
  // remove each other's), written and removed: the credentials must allow
  // both. Then the listing of unfinished uploads, which resuming after a
  // restart needs (some S3 look-alikes lack it).
  const store::S3Location probe{where_.bucket,
                                where_.KeyOf(".migstore-probe-" + RandomHex())};
  Status s = client_->Put(probe, "", /*if_absent=*/false)
                 .WithContext("writing a probe object");
  if (s.ok()) s = client_->Delete(probe).WithContext("deleting it");
  if (s.ok()) {
    s = client_->ListMultipartUploads(where_.bucket, probe.key)
            .status()
            .WithContext("listing unfinished uploads");
  }
  if (s.ok()) return Status::OK();
  return Status::Unavailable("storage location " + where_.name,
                             "cannot be used: " + std::string(s.message()));
}

Result<uint64_t> ObjectStore::FreeBytes() {
  return Status::InvalidArgument("storage location " + where_.name,
                                 "an object store has no free space to "
                                 "measure");
}

Result<std::vector<std::string>> ObjectStore::UploadIds(std::string_view id) {
  const std::string key = where_.KeyOf(id);
  MIGSTORE_ASSIGN_OR_RETURN(auto listed,
                            client_->ListMultipartUploads(where_.bucket, key));
  std::vector<std::string> out;
  for (auto& [k, upload_id] : listed) {
    if (k == key) out.push_back(std::move(upload_id));
  }
  return out;
}

Result<std::optional<ObjectStore::Upload>> ObjectStore::Find(
    std::string_view id) {
  const store::S3Location at = Where(id);
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<std::string> ids, UploadIds(id));
  std::optional<Upload> best;
  for (const std::string& upload_id : ids) {
    Result<std::vector<S3Client::ListedPart>> parts =
        client_->ListParts(at, upload_id);
    if (!parts.ok() && parts.status().IsNotFound()) continue;  // gone since
    MIGSTORE_RETURN_IF_ERROR(parts.status());
    Upload up;
    up.id = upload_id;
    std::sort(parts->begin(), parts->end(),
              [](const auto& a, const auto& b) { return a.number < b.number; });
    // Parts are taken one after another from 1, so those are the bytes
    // received; anything past a gap was never acknowledged in sequence.
    for (S3Client::ListedPart& p : *parts) {
      if (p.number != static_cast<int>(up.parts.size()) + 1) break;
      up.received += p.size;
      up.parts.push_back(std::move(p));
    }
    // A start-over aborts the old upload before it makes the new one, so
    // there is one; should two start-overs have raced (two nodes), the
    // upload the client went on with is the one that went furthest.
    if (!best || up.received >= best->received) best = std::move(up);
  }
  return best;
}

Status ObjectStore::AbortAll(std::string_view id) {
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<std::string> ids, UploadIds(id));
  for (const std::string& upload_id : ids) {
    MIGSTORE_RETURN_IF_ERROR(
        client_->AbortMultipartUpload(Where(id), upload_id));
  }
  return Status::OK();
}

Result<uint64_t> ObjectStore::WritePartial(std::string_view id, uint64_t offset,
                                           std::string_view data) {
  const store::S3Location at = Where(id);
  Upload up;
  if (offset == 0) {
    // Starting over: no part of an earlier run may end up in this one.
    Forget(id);
    MIGSTORE_RETURN_IF_ERROR(AbortAll(id));
    MIGSTORE_ASSIGN_OR_RETURN(up.id, client_->CreateMultipartUpload(at));
  } else {
    std::optional<Upload> known = Cached(id);
    if (!known || known->received != offset) {
      MIGSTORE_ASSIGN_OR_RETURN(known, Find(id));
    }
    const uint64_t received = known ? known->received : 0;
    if (!known || received != offset) return NotAtTheEnd(id, offset, received);
    up = std::move(*known);
  }
  if (!data.empty()) {
    if (up.parts.size() >= static_cast<size_t>(store::S3Upload::kMaxParts)) {
      Keep(id, std::move(up));
      return Status::Refused(
          "store " + std::string(id),
          "an object-store upload holds at most 10000 parts (80 GB in the "
          "client's 8 MiB chunks) and this one is full: keep stores this "
          "large in a storage folder");
    }
    const int number = static_cast<int>(up.parts.size()) + 1;
    Result<std::string> etag = client_->UploadPart(at, up.id, number, data);
    if (!etag.ok()) {
      // The upload may be gone (aborted by a start-over elsewhere): the
      // next chunk asks the object store.
      Forget(id);
      return etag.status();
    }
    up.parts.push_back({number, std::move(etag).value(), data.size()});
    up.received += data.size();
  }
  const uint64_t received = up.received;
  Keep(id, std::move(up));
  return received;
}

Result<uint64_t> ObjectStore::PartialSize(std::string_view id) {
  MIGSTORE_ASSIGN_OR_RETURN(std::optional<Upload> up, Find(id));
  if (!up) {
    Forget(id);
    return uint64_t{0};
  }
  const uint64_t received = up->received;
  Keep(id, std::move(*up));
  return received;
}

Status ObjectStore::Publish(std::string_view id, uint64_t size,
                            std::string_view sha256) {
  const store::S3Location at = Where(id);
  MIGSTORE_ASSIGN_OR_RETURN(std::optional<Upload> up, Find(id));
  Forget(id);
  if (!up) {
    // A commit sent again after a crash that came between completing the
    // upload and recording it finds the object instead: it is checked as
    // if it had just been completed.
    MIGSTORE_ASSIGN_OR_RETURN(std::optional<uint64_t> there, client_->Stat(at));
    if (!there) return NothingUploaded(id);
    return Verify(id, size, sha256);
  }
  if (up->received != size) return SizeDiffers(id, up->received, size);
  for (size_t i = 0; i + 1 < up->parts.size(); ++i) {
    if (up->parts[i].size >= store::S3Upload::kMinPartSize) continue;
    return Status::InvalidArgument(
        "upload of store " + std::string(id),
        "part " + std::to_string(up->parts[i].number) + " is " +
            std::to_string(up->parts[i].size) +
            " bytes: an object store takes every chunk but the last only "
            "from 5 MiB (5242880 bytes); upload in larger chunks");
  }
  if (up->parts.empty()) {
    // An empty store: S3 completes no upload of no parts.
    MIGSTORE_RETURN_IF_ERROR(client_->Put(at, "", /*if_absent=*/false));
    MIGSTORE_RETURN_IF_ERROR(client_->AbortMultipartUpload(at, up->id));
  } else {
    std::vector<S3Client::Part> parts;
    parts.reserve(up->parts.size());
    for (const S3Client::ListedPart& p : up->parts)
      parts.push_back({p.number, p.etag});
    MIGSTORE_RETURN_IF_ERROR(client_->CompleteMultipartUpload(
        at, up->id, parts, size, /*if_absent=*/false));
  }
  return Verify(id, size, sha256);
}

Status ObjectStore::Verify(std::string_view id, uint64_t size,
                           std::string_view sha256) {
  // Read back rather than trusted: what gets served is what the object
  // store holds, and this checks that it is the client's bytes, whatever
  // happened to the parts on the way or in the object store.
  const store::S3Location at = Where(id);
  Status checked = [&]() -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(uint64_t have, client_->Head(at));
    if (have != size) return SizeDiffers(id, have, size);
    return CheckSha256(
        size,
        [&](uint64_t offset, size_t n, char* out) {
          return client_->GetRange(at, offset, n, out);
        },
        sha256, "upload of store " + std::string(id), kReadBackBlock);
  }();
  // Bytes that are not the client's are not kept: the client starts over.
  if (checked.IsCorruption()) MIGSTORE_RETURN_IF_ERROR(client_->Delete(at));
  return checked;
}

Result<std::unique_ptr<format::StoreSource>> ObjectStore::OpenCommitted(
    std::string_view id, uint64_t committed_size) {
  // Each read of the HTTP route is one GET of its bytes: the source lives
  // for one request, so a window would fetch bytes nobody asked for.
  store::S3SourceOptions exact;
  exact.windows = 0;
  return std::unique_ptr<format::StoreSource>(store::S3Source::OpenKnownSize(
      client_, Where(id), committed_size, exact));
}

Status ObjectStore::Remove(std::string_view id) {
  Forget(id);
  MIGSTORE_RETURN_IF_ERROR(AbortAll(id));
  return client_->Delete(Where(id));
}

}  // namespace

Result<std::unique_ptr<LocationStore>> NewObjectStore(
    const StorageLocation& location) {
  MIGSTORE_ASSIGN_OR_RETURN(ObjectLocationName where,
                            ParseObjectLocation(location.path));
  if (location.min_free_bytes > 0) {
    return Status::InvalidArgument(
        "storage location " + location.path,
        "min-free is a folder's limit: an object store has no free space to "
        "keep (give max-clients only)");
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      store::S3Config config,
      store::S3Config::FromEnvironment({where.bucket, where.prefix}));
  auto client = std::make_shared<S3Client>(std::move(config));
  return std::unique_ptr<LocationStore>(
      std::make_unique<ObjectStore>(std::move(where), std::move(client)));
}

}  // namespace migstore::smp
