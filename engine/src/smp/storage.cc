// The Storage front (storage.h): checks store ids, picks the kind of
// location, and holds what both kinds share.

#include "engine/src/smp/storage.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "engine/src/smp/location_store.h"
#include "engine/src/store/s3_config.h"

namespace migstore::smp {
namespace {

// A store's key under its location's prefix: "ID.mig".
constexpr size_t kStoreNameLength = 32 + 4;

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

Status CheckId(std::string_view id) {
  if (Storage::IsStoreId(id)) return Status::OK();
  return Status::InvalidArgument("not a store id: " + std::string(id));
}

Result<std::unique_ptr<LocationStore>> NewLocationStore(
    const StorageLocation& l) {
  return l.is_object_store() ? NewObjectStore(l) : NewFolderStore(l);
}

}  // namespace

bool StorageLocation::IsObjectStore(std::string_view path) {
  return store::IsS3Name(path);
}

std::string ObjectLocationName::KeyOf(std::string_view id) const {
  return (prefix.empty() ? "" : prefix + "/") + std::string(id) + ".mig";
}

Result<ObjectLocationName> ParseObjectLocation(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("storage location " + std::string(text),
                                   why);
  };
  if (!store::IsS3Name(text)) return bad("is not s3://BUCKET/PREFIX");
  ObjectLocationName out;
  const std::string_view rest = text.substr(std::string_view("s3://").size());
  const size_t slash = rest.find('/');
  out.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) {
    out.prefix = std::string(rest.substr(slash + 1));
    while (!out.prefix.empty() && out.prefix.back() == '/')
      out.prefix.pop_back();
  }
  out.name =
      "s3://" + out.bucket + (out.prefix.empty() ? "" : "/" + out.prefix);
  // The longest name a store gets here is checked as a store name is.
  Result<store::S3Location> longest = store::ParseS3Name(
      "s3://" + out.bucket + "/" + out.KeyOf(std::string(32, '0')));
  if (!longest.ok()) {
    if (out.prefix.size() + 1 + kStoreNameLength > 1024)
      return bad("the prefix leaves no room for a store's key (1024 bytes)");
    return bad("the bucket name must be 3 to 63 of a-z, 0-9, '.' and '-'");
  }
  return out;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()), ok_(ctx_ != nullptr) {
  ok_ = ok_ && EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(),
                                 nullptr) == 1;
}

Sha256Stream::~Sha256Stream() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Sha256Stream::Update(std::string_view bytes) {
  ok_ = ok_ && EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(),
                                bytes.size()) == 1;
}

bool Sha256Stream::Matches(std::string_view sha256) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  ok_ = ok_ &&
        EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &len) == 1;
  // Hex digits in either case name the same hash.
  return ok_ && EqualsIgnoringCase(Hex(digest, len), sha256);
}

Status CheckSha256(uint64_t size, const ReadFn& read, std::string_view sha256,
                   const std::string& what, size_t block) {
  Sha256Stream hash;
  std::string buf(static_cast<size_t>(std::min<uint64_t>(block, size)), '\0');
  for (uint64_t at = 0; at < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(block, size - at));
    MIGSTORE_RETURN_IF_ERROR(read(at, n, buf.data()));
    hash.Update(std::string_view(buf.data(), n));
    at += n;
  }
  if (hash.Matches(sha256)) return Status::OK();
  if (!hash.ok())
    return Status::IOError("cannot hash " + what, "OpenSSL failed");
  return Status::Corruption(what,
                            "the bytes that arrived are not the bytes the "
                            "client sent (SHA-256 differs)");
}

Status SizeDiffers(std::string_view id, uint64_t arrived, uint64_t sent) {
  return Status::Corruption("upload of store " + std::string(id),
                            std::to_string(arrived) +
                                " bytes arrived, the client sent " +
                                std::to_string(sent));
}

Status NotAtTheEnd(std::string_view id, uint64_t offset, uint64_t received) {
  return Status::InvalidArgument("upload of store " + std::string(id),
                                 "bytes sent at " + std::to_string(offset) +
                                     " but " + std::to_string(received) +
                                     " were received: resume from there");
}

Status NothingUploaded(std::string_view id) {
  return Status::InvalidArgument("store " + std::string(id),
                                 "nothing was uploaded");
}

bool Storage::IsStoreId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Storage::Storage(std::vector<StorageLocation> locations)
    : locations_(std::move(locations)) {}
Storage::Storage(Storage&&) noexcept = default;
Storage& Storage::operator=(Storage&&) noexcept = default;
Storage::~Storage() = default;

Result<Storage> Storage::Open(std::vector<StorageLocation> locations) {
  if (locations.empty()) {
    return Status::InvalidArgument(
        "no storage location given (--storage DIR or s3://BUCKET/PREFIX)");
  }
  Storage out(std::move(locations));
  for (const StorageLocation& l : out.locations_) {
    MIGSTORE_ASSIGN_OR_RETURN(std::unique_ptr<LocationStore> store,
                              NewLocationStore(l));
    MIGSTORE_RETURN_IF_ERROR(store->Check());
    out.stores_[l.path] = std::move(store);
  }
  return out;
}

Result<std::shared_ptr<LocationStore>> Storage::For(const std::string& location,
                                                    std::string_view id) const {
  MIGSTORE_RETURN_IF_ERROR(CheckId(id));
  auto it = stores_.find(location);
  if (it != stores_.end()) return it->second;
  // A store the database places in a location this start was not given:
  // its bytes are still where they were put.
  StorageLocation given;
  given.path = location;
  MIGSTORE_ASSIGN_OR_RETURN(std::unique_ptr<LocationStore> store,
                            NewLocationStore(given));
  return std::shared_ptr<LocationStore>(std::move(store));
}

Result<uint64_t> Storage::FreeBytes(const std::string& location) const {
  auto it = stores_.find(location);
  if (it == stores_.end()) {
    return Status::InvalidArgument("storage location " + location,
                                   "is not one this server was given");
  }
  return it->second->FreeBytes();
}

Result<uint64_t> Storage::WritePartial(const std::string& location,
                                       std::string_view id, uint64_t offset,
                                       std::string_view data) const {
  MIGSTORE_ASSIGN_OR_RETURN(std::shared_ptr<LocationStore> s,
                            For(location, id));
  return s->WritePartial(id, offset, data);
}

Result<uint64_t> Storage::PartialSize(const std::string& location,
                                      std::string_view id) const {
  MIGSTORE_ASSIGN_OR_RETURN(std::shared_ptr<LocationStore> s,
                            For(location, id));
  return s->PartialSize(id);
}

Status Storage::Publish(const std::string& location, std::string_view id,
                        uint64_t size, std::string_view sha256) const {
  MIGSTORE_ASSIGN_OR_RETURN(std::shared_ptr<LocationStore> s,
                            For(location, id));
  return s->Publish(id, size, sha256);
}

Result<std::unique_ptr<format::StoreSource>> Storage::OpenCommitted(
    const std::string& location, std::string_view id,
    uint64_t committed_size) const {
  MIGSTORE_ASSIGN_OR_RETURN(std::shared_ptr<LocationStore> s,
                            For(location, id));
  return s->OpenCommitted(id, committed_size);
}

Status Storage::Remove(const std::string& location, std::string_view id) const {
  MIGSTORE_ASSIGN_OR_RETURN(std::shared_ptr<LocationStore> s,
                            For(location, id));
  return s->Remove(id);
}

}  // namespace migstore::smp
