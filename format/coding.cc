#include "format/coding.h"

namespace migstore::format {

void PutVarint(std::string* dst, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, static_cast<size_t>(n));
}

uint8_t Decoder::U8() {
  if (in_.empty()) {
    Fail();
    return 0;
  }
  auto v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return v;
}

uint16_t Decoder::U16() {
  if (in_.size() < 2) {
    Fail();
    return 0;
  }
  uint16_t v = DecodeFixed16(in_.data());
  in_.remove_prefix(2);
  return v;
}

uint32_t Decoder::U32() {
  if (in_.size() < 4) {
    Fail();
    return 0;
  }
  uint32_t v = DecodeFixed32(in_.data());
  in_.remove_prefix(4);
  return v;
}

uint64_t Decoder::U64() {
  if (in_.size() < 8) {
    Fail();
    return 0;
  }
  uint64_t v = DecodeFixed64(in_.data());
  in_.remove_prefix(8);
  return v;
}

uint64_t Decoder::Varint() {
  uint64_t v = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (in_.empty()) break;
    auto byte = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    // The tenth byte may carry only the top bit of a 64-bit value.
    if (shift == 63 && byte > 1) break;
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  Fail();
  return 0;
}

uint64_t Decoder::VarintAtMost(uint64_t max) {
  uint64_t v = Varint();
  if (v > max) {
    Fail();
    return 0;
  }
  return v;
}

std::string_view Decoder::Bytes(size_t max_len) {
  uint64_t n = VarintAtMost(max_len);
  return Raw(static_cast<size_t>(n));
}

std::string_view Decoder::Raw(size_t n) {
  if (!ok_ || in_.size() < n) {
    Fail();
    return {};
  }
  std::string_view v = in_.substr(0, n);
  in_.remove_prefix(n);
  return v;
}

}  // namespace migstore::format
