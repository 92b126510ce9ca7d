#include "format/secret.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace migstore::format {

void InitSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      std::fputs("migstore: libsodium cannot initialise\n", stderr);
      std::abort();
    }
  });
}

void RandomFill(void* out, size_t n) {
  InitSodium();
  randombytes_buf(out, n);
}

std::string RandomHex(size_t n) {
  unsigned char buf[64];
  std::string out;
  while (n > 0) {
    size_t k = n < sizeof(buf) ? n : sizeof(buf);
    RandomFill(buf, k);
    char hex[2 * sizeof(buf) + 1];
    sodium_bin2hex(hex, sizeof(hex), buf, k);
    out.append(hex, 2 * k);
    n -= k;
  }
  return out;
}

SecretBytes::SecretBytes(size_t n) : size_(n) {
  InitSodium();
  if (n == 0) return;
  data_ = static_cast<unsigned char*>(sodium_malloc(n));
  if (data_ == nullptr) {
    std::fputs("migstore: out of secure memory\n", stderr);
    std::abort();
  }
  std::memset(data_, 0, n);
}

SecretBytes SecretBytes::Copy(std::string_view bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

SecretBytes SecretBytes::Random(size_t n) {
  SecretBytes s(n);
  if (n > 0) randombytes_buf(s.data_, n);
  return s;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  if (data_ != nullptr) sodium_free(data_);  // zeroes before freeing
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data_, size_) == 0;
}

}  // namespace migstore::format
