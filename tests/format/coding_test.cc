#include "format/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace migstore::format {
namespace {

TEST(Coding, FixedWidthIsLittleEndian) {
  std::string s;
  PutFixed16(&s, 0x0102);
  PutFixed32(&s, 0x03040506);
  PutFixed64(&s, 0x0708090a0b0c0d0eULL);
  EXPECT_EQ(
      s, std::string("\x02\x01\x06\x05\x04\x03\x0e\x0d\x0c\x0b\x0a\x09\x08\x07",
                     14));
  Decoder d(s);
  EXPECT_EQ(d.U16(), 0x0102);
  EXPECT_EQ(d.U32(), 0x03040506u);
  EXPECT_EQ(d.U64(), 0x0708090a0b0c0d0eULL);
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.empty());
}

TEST(Coding, VarintsRoundTripAtEveryWidth) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 300, 16383, 16384};
  for (int bits = 14; bits < 64; bits += 7) {
    values.push_back((uint64_t{1} << bits) - 1);
    values.push_back(uint64_t{1} << bits);
  }
  values.push_back(std::numeric_limits<uint64_t>::max());
  std::string s;
  for (uint64_t v : values) PutVarint(&s, v);
  Decoder d(s);
  for (uint64_t v : values) EXPECT_EQ(d.Varint(), v);
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.empty());
  std::string max;
  PutVarint(&max, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(max.size(), 10u);
}

TEST(Coding, SignedVarintsUseZigZag) {
  for (int64_t v :
       {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{63},
        std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max(), int64_t{-1700000000123456789}}) {
    std::string s;
    PutSignedVarint(&s, v);
    Decoder d(s);
    EXPECT_EQ(d.SignedVarint(), v);
    EXPECT_TRUE(d.empty());
  }
  std::string small;
  PutSignedVarint(&small, -1);
  EXPECT_EQ(small.size(), 1u);
}

TEST(Coding, MalformedInputFailsAndStaysFailed) {
  Decoder truncated(std::string_view("\x80\x80", 2));
  truncated.Varint();
  EXPECT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.U8(), 0);
  EXPECT_FALSE(truncated.ok());

  // Eleven continuation bytes: longer than any 64-bit value.
  std::string too_long(10, '\xff');
  too_long.push_back('\x01');
  Decoder d(too_long);
  d.Varint();
  EXPECT_FALSE(d.ok());

  // A tenth byte that would overflow 64 bits.
  std::string overflow(9, '\xff');
  overflow.push_back('\x02');
  Decoder o(overflow);
  o.Varint();
  EXPECT_FALSE(o.ok());
}

TEST(Coding, BytesAreBoundedByTheirLimitAndTheInput) {
  std::string s;
  PutBytes(&s, "hello");
  {
    Decoder d(s);
    EXPECT_EQ(d.Bytes(5), "hello");
    EXPECT_TRUE(d.ok());
  }
  {
    Decoder d(s);
    d.Bytes(4);
    EXPECT_FALSE(d.ok());
  }
  {
    Decoder d(std::string_view(s).substr(0, 4));
    d.Bytes(100);
    EXPECT_FALSE(d.ok());
  }
  Decoder v(s);
  EXPECT_EQ(v.VarintAtMost(4), 0u);
  EXPECT_FALSE(v.ok());
}

}  // namespace
}  // namespace migstore::format
