// Byte coding shared by every structure of the container: little-endian
// fixed-width integers, LEB128 varints, zigzag signed varints and
// length-prefixed byte strings (docs/format.md, "Conventions").
//
// Encoders append to a std::string. Decoder reads from untrusted bytes: every
// read is bounds-checked and a failed read leaves the decoder failed, so a
// caller may decode a whole structure and check ok() once at the end.
//
// Thread safety: free functions are pure; a Decoder is used by one thread.

#ifndef MIGSTORE_FORMAT_CODING_H_
#define MIGSTORE_FORMAT_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace migstore::format {

inline void PutFixed16(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  dst->append(b, 2);
}
inline void PutFixed32(std::string* dst, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  dst->append(b, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  dst->append(b, 8);
}

inline void EncodeFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline uint16_t DecodeFixed16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}
inline uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}

// Unsigned LEB128: seven bits a byte, low groups first, high bit = more.
void PutVarint(std::string* dst, uint64_t v);
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
inline void PutSignedVarint(std::string* dst, int64_t v) {
  PutVarint(dst, ZigZag(v));
}
// varint length, then the bytes.
inline void PutBytes(std::string* dst, std::string_view bytes) {
  PutVarint(dst, bytes.size());
  dst->append(bytes);
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  uint64_t Varint();
  // A varint that must not exceed `max`; larger fails the decoder.
  uint64_t VarintAtMost(uint64_t max);
  int64_t SignedVarint() { return UnZigZag(Varint()); }
  // A length-prefixed byte string of at most `max_len` bytes. The view
  // points into the decoder's input.
  std::string_view Bytes(size_t max_len);
  // Exactly n raw bytes.
  std::string_view Raw(size_t n);
  // Marks the decoder failed, e.g. when a decoded value is out of range.
  void Fail() {
    ok_ = false;
    in_ = {};
  }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_CODING_H_
