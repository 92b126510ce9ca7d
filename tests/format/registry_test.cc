// Registry segments (docs/format.md "Registry segment"): the codec's round
// trip and its checks of untrusted bytes, and the container writer and
// reader carrying records across segments.

#include <gtest/gtest.h>

#include "format/container_reader.h"
#include "format/container_writer.h"
#include "format/registry.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

using testing::TempDir;

RegistryRecord Key(uint32_t profile, std::string key) {
  RegistryRecord r;
  r.profile = profile;
  r.key = std::move(key);
  return r;
}

RegistryRecord Value(uint32_t profile, std::string key, std::string name,
                     uint32_t type, std::string data) {
  RegistryRecord r = Key(profile, std::move(key));
  r.has_value = true;
  r.name = std::move(name);
  r.type = type;
  r.data = std::move(data);
  return r;
}

std::vector<RegistryRecord> Sample() {
  return {Key(0, "HKLM\\SOFTWARE\\Vendor"),
          Value(0, "HKLM\\SOFTWARE\\Vendor", "", kRegSz,
                std::string("d\0e\0f\0\0\0", 8)),
          Value(1, "HKCU\\Control Panel\\Desktop", "Wallpaper", kRegSz,
                std::string("w\0\0\0", 4)),
          Value(1, "HKCU\\Software\\App", "C:\\odd\\name", kRegDword,
                std::string("\x01\x00\x00\x00", 4)),
          Value(1, "HKCU\\Software\\App", "big", 0x12345678u,
                std::string(70000, 'x'))};
}

TEST(RegistryCodec, RoundTrips) {
  std::vector<RegistryRecord> records = Sample();
  auto back = DecodeRegistrySegment(EncodeRegistrySegment(records));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, records);
}

TEST(RegistryCodec, RejectsDamage) {
  std::vector<RegistryRecord> records = Sample();
  std::string plain = EncodeRegistrySegment(records);
  // Every truncation is Corruption, never a crash or a short success.
  for (size_t n = 0; n < plain.size(); n += 7) {
    auto r = DecodeRegistrySegment(plain.substr(0, n));
    EXPECT_TRUE(r.status().IsCorruption()) << n;
  }
  EXPECT_TRUE(DecodeRegistrySegment(plain + "x").status().IsCorruption());
  std::swap(records[0], records[1]);  // out of order
  EXPECT_TRUE(DecodeRegistrySegment(EncodeRegistrySegment(records))
                  .status()
                  .IsCorruption());
  records = {Key(0, "HKLM\\\\x")};  // empty key name
  EXPECT_TRUE(DecodeRegistrySegment(EncodeRegistrySegment(records))
                  .status()
                  .IsCorruption());
  records = {Value(0, "HKLM\\x", std::string("a\0b", 3), kRegSz, "")};
  EXPECT_TRUE(DecodeRegistrySegment(EncodeRegistrySegment(records))
                  .status()
                  .IsCorruption());
}

TEST(RegistryContainer, CarriesRecordsAcrossSegmentsInKeyOrder) {
  TempDir dir;
  const std::string path = dir / "s.mig";
  std::vector<RegistryRecord> records = Sample();
  // Enough data for two segments of 4 MiB.
  for (int i = 0; i < 12; ++i) {
    records.push_back(Value(1, "HKCU\\Software\\Bulk", "v" + std::to_string(i),
                            kRegBinary, std::string(1 << 20, char('a' + i))));
  }
  {
    WriterOptions o;
    o.kdf = KdfParams::Fast();
    auto w = ContainerWriter::Create(path, KeySource::None(), o);
    ASSERT_TRUE(w.ok());
    Profile alice;
    alice.name = "alice";
    alice.home = "Users/alice";
    alice.layout = Layout::kWindows;
    ASSERT_TRUE((*w)->AddProfile(alice).ok());
    std::vector<RegistryRecord> shuffled(records.rbegin(), records.rend());
    ASSERT_TRUE((*w)->AddRegistryRecords(shuffled).ok());
    ASSERT_TRUE((*w)->Finish().ok());
  }
  std::sort(records.begin(), records.end(), RegistryRecordLess);
  auto r = ContainerReader::Open(path, KeySource::None());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->has_registry());
  auto back = (*r)->ReadRegistry();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, records);
}

TEST(RegistryContainer, WriterRefusesRepeatsAndUnknownProfiles) {
  TempDir dir;
  WriterOptions o;
  o.kdf = KdfParams::Fast();
  auto w = ContainerWriter::Create(dir / "a.mig", KeySource::None(), o);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE((*w)->AddRegistryRecords({Key(1, "HKCU\\x")}).ok());
  (*w)->Abandon();
  auto w2 = ContainerWriter::Create(dir / "b.mig", KeySource::None(), o);
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE(
      (*w2)->AddRegistryRecords({Key(0, "HKLM\\x"), Key(0, "HKLM\\x")}).ok());
  EXPECT_FALSE((*w2)->Finish().ok());
  (*w2)->Abandon();
}

TEST(RegistryContainer, AStoreWithoutRecordsHasNone) {
  TempDir dir;
  WriterOptions o;
  o.kdf = KdfParams::Fast();
  auto w = ContainerWriter::Create(dir / "a.mig", KeySource::None(), o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Finish().ok());
  auto r = ContainerReader::Open(dir / "a.mig", KeySource::None());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->has_registry());
  auto back = (*r)->ReadRegistry();
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

}  // namespace
}  // namespace migstore::format
