// The engine's Hive over hivex: hives made from nothing by the test
// fixture, keys and values written, committed atomically and read back;
// damaged and missing hives give clear statuses.

#include "engine/src/registry/hive.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/util/hive_fixture.h"
#include "tests/util/test_util.h"

namespace migstore::registry {
namespace {

using testing::GetHiveValue;
using testing::HiveValue;
using testing::PutHiveValues;
using testing::RegDword;
using testing::RegSz;
using testing::TempDir;

TEST(Hive, WritesAndReadsBackKeysAndValues) {
  TempDir dir;
  const std::string path = dir / "NTUSER.DAT";
  PutHiveValues(path,
                {{"Control Panel\\Desktop", "Wallpaper", 1, RegSz("C:\\a.bmp")},
                 {"Software\\App", "", 1, RegSz("default")},
                 {"Software\\App", "Count", 4, RegDword(7)},
                 {"Software\\App\\Empty", "", 0, "", true}});
  uint32_t type = 0;
  std::string data;
  ASSERT_TRUE(
      GetHiveValue(path, "Control Panel\\Desktop", "wallpaper", &type, &data));
  EXPECT_EQ(type, 1u);
  EXPECT_EQ(data, RegSz("C:\\a.bmp"));
  ASSERT_TRUE(GetHiveValue(path, "software\\app", "", &type, &data));
  EXPECT_EQ(data, RegSz("default"));
  EXPECT_TRUE(testing::HiveHasKey(path, "Software\\App\\Empty"));
  EXPECT_FALSE(testing::HiveHasKey(path, "Software\\Nope"));

  // A second writer replaces one value and keeps the rest.
  PutHiveValues(path, {{"Software\\App", "Count", 4, RegDword(8)}});
  ASSERT_TRUE(GetHiveValue(path, "Software\\App", "Count", &type, &data));
  EXPECT_EQ(data, RegDword(8));
  ASSERT_TRUE(GetHiveValue(path, "Software\\App", "", &type, &data));

  // Nothing but the hive is left in the directory.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST(Hive, ManyKeysAndLargeValuesSurvive) {
  TempDir dir;
  const std::string path = dir / "SOFTWARE";
  std::vector<HiveValue> values;
  for (int i = 0; i < 300; ++i) {
    values.push_back({"Vendor\\K" + std::to_string(i), "v", 3,
                      std::string(static_cast<size_t>(i) * 97, 'x')});
  }
  values.push_back({"Vendor", "big", 3, std::string(100000, 'y')});
  PutHiveValues(path, values);
  auto hive = Hive::Open(path, false);
  ASSERT_TRUE(hive.ok());
  auto vendor = hive->Child(hive->root(), "VENDOR");
  ASSERT_TRUE(vendor.ok());
  ASSERT_NE(*vendor, 0u);
  auto children = hive->Children(*vendor);
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(children->size(), 300u);
  Hive::ValueData v;
  auto found = hive->Find(*vendor, "big", &v);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(v.data, std::string(100000, 'y'));
}

TEST(Hive, MissingAndDamagedHivesAreReported) {
  TempDir dir;
  auto missing = Hive::Open(dir / "none", false);
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  std::ofstream(dir / "junk", std::ios::binary) << std::string(9000, 'j');
  auto junk = Hive::Open(dir / "junk", false);
  EXPECT_TRUE(junk.status().IsCorruption()) << junk.status().ToString();
  std::string bytes = testing::EmptyHiveBytes();
  bytes[0x30] ^= 1;  // the header checksum no longer fits
  std::ofstream(dir / "bad", std::ios::binary) << bytes;
  auto bad = Hive::Open(dir / "bad", false);
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
}

}  // namespace
}  // namespace migstore::registry
