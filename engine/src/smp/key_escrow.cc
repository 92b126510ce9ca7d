#include "engine/src/smp/key_escrow.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>

#include "format/file_io.h"
#include "format/keys.h"

namespace migstore::smp {
namespace {

constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

std::string ToHex(const unsigned char* p, size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

}  // namespace

Result<KeyEscrow> KeyEscrow::OpenOrCreate(const std::string& path) {
  format::InitSodium();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return Status::FromErrno("cannot look at " + path, errno);
    Status made = format::WriteNewKeyFile(path, /*overwrite=*/false);
    // Another node sharing the folder may have made it first.
    if (!made.ok() && !made.IsAlreadyExists()) return made;
    if (::stat(path.c_str(), &st) != 0)
      return Status::FromErrno("cannot look at " + path, errno);
  }
  if ((st.st_mode & 077) != 0) {
    return Status::Refused(
        path,
        "the server key may be read by others; it unlocks every store "
        "(chmod 600 it)");
  }
  MIGSTORE_ASSIGN_OR_RETURN(std::string text,
                            format::ReadSmallFile(path, 4096));
  MIGSTORE_ASSIGN_OR_RETURN(format::SecretBytes key,
                            format::ParseKeyFile(text));
  sodium_memzero(text.data(), text.size());
  return KeyEscrow(std::move(key));
}

format::SecretBytes KeyEscrow::NewStoreKey() {
  return format::SecretBytes::Random(format::kKeySize);
}

std::string KeyEscrow::Wrap(std::string_view store_id,
                            const format::SecretBytes& key) const {
  std::string out(kNonce + key.size() + kTag, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(p, kNonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      p + kNonce, &len, key.data(), key.size(),
      reinterpret_cast<const unsigned char*>(store_id.data()), store_id.size(),
      nullptr, p, key_.data());
  return ToHex(p, out.size());
}

Result<format::SecretBytes> KeyEscrow::Unwrap(std::string_view store_id,
                                              std::string_view wrapped) const {
  std::string bin(wrapped.size() / 2, '\0');
  size_t len = 0;
  if (wrapped.size() != 2 * (kNonce + format::kKeySize + kTag) ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(),
                     wrapped.data(), wrapped.size(), nullptr, &len,
                     nullptr) != 0 ||
      len != bin.size()) {
    return Status::Corruption("store " + std::string(store_id),
                              "its escrowed key is malformed");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bin.data());
  format::SecretBytes key(format::kKeySize);
  unsigned long long got = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          key.data(), &got, nullptr, p + kNonce, bin.size() - kNonce,
          reinterpret_cast<const unsigned char*>(store_id.data()),
          store_id.size(), p, key_.data()) != 0 ||
      got != format::kKeySize) {
    return Status::Corruption(
        "store " + std::string(store_id),
        "its escrowed key does not open with this server's key (another "
        "server.key, or the database row was altered)");
  }
  return key;
}

}  // namespace migstore::smp
