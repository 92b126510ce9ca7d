// SecretBytes: a buffer for key material and passwords. It lives in memory
// from sodium_malloc (guard pages, mlock()ed where the system allows, so it
// is not swapped out) and is zeroed by sodium_free when destroyed. Move-only,
// so no stray copy outlives it.
//
// Also the process-wide libsodium initialisation and random helpers.
//
// Thread safety: a SecretBytes is used by one thread at a time, or shared
// read-only. InitSodium() and the random functions are safe from any thread.

#ifndef MIGSTORE_FORMAT_SECRET_H_
#define MIGSTORE_FORMAT_SECRET_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace migstore::format {

class SecretBytes {
 public:
  SecretBytes() = default;
  // n zero bytes. Aborts if secure memory cannot be had, as std::bad_alloc
  // would; there is no safe way to continue without it.
  explicit SecretBytes(size_t n);
  static SecretBytes Copy(std::string_view bytes);
  static SecretBytes Random(size_t n);

  SecretBytes(SecretBytes&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  unsigned char* data() { return data_; }
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }
  // Constant-time comparison.
  bool Equals(const SecretBytes& other) const;

 private:
  unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

// Initialises libsodium once; aborts if it cannot (no entropy source).
void InitSodium();
// n random bytes from the system CSPRNG.
void RandomFill(void* out, size_t n);
// 2n lowercase hex characters of randomness.
std::string RandomHex(size_t n);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_SECRET_H_
