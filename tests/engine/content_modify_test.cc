// USMT's <contentModify> helpers on registry values (docs/rules.md,
// "Restore-time rules"), as USMT's element library describes them.

#include "engine/src/registry/content_modify.h"

#include <gtest/gtest.h>

#include "tests/util/hive_fixture.h"

namespace migstore::registry {
namespace {

using testing::RegDword;
using testing::RegSz;

RestoreDirective Call(std::string function, std::vector<std::string> args) {
  RestoreDirective d;
  d.function = std::move(function);
  d.args = std::move(args);
  d.script = "MigXmlHelper." + d.function + "(...)";
  d.file = "t.xml";
  d.line = 1;
  return d;
}

Hive::ValueData Sz(const std::string& s) { return {"v", 1, RegSz(s)}; }
Hive::ValueData Dword(uint32_t n) { return {"v", 4, RegDword(n)}; }
Hive::ValueData Multi(const std::string& utf16) { return {"v", 7, utf16}; }

// "a\0b\0\0" in UTF-16LE.
std::string Utf16List(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    for (char c : s) out += std::string{c, '\0'};
    out.append(2, '\0');
  }
  out.append(2, '\0');
  return out;
}

Hive::ValueData Apply(const RestoreDirective& d, const Hive::ValueData& v,
                      const Hive::ValueData* existing = nullptr) {
  auto r = ModifyContent(d, v, existing);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Hive::ValueData{};
}

TEST(ContentModify, SetValueByTableAsUsmtWritesIt) {
  // Source and destination tables matched by place, spaces ignored.
  auto d = Call("SetValueByTable", {"1, 2, 3", "10, 20", "99"});
  EXPECT_EQ(Apply(d, Dword(2)).data, RegDword(20));
  // In the source table but without a destination item: the default.
  EXPECT_EQ(Apply(d, Dword(3)).data, RegDword(99));
  // Not in the table: the default.
  EXPECT_EQ(Apply(d, Dword(7)).data, RegDword(99));
  // No destination table (NULL) and no default: unchanged.
  auto no_dest = Call("SetValueByTable", {"a,b", "NULL", "NULL"});
  EXPECT_EQ(Apply(no_dest, Sz("a")).data, RegSz("a"));
  auto strings = Call("SetValueByTable", {"Red,Blue", "Rot,Blau"});
  EXPECT_EQ(Apply(strings, Sz("blue")).data, RegSz("Blau"));
  EXPECT_EQ(Apply(strings, Sz("green")).data, RegSz("green"));
  EXPECT_FALSE(
      ModifyContent(Call("SetValueByTable", {}), Sz("x"), nullptr).ok());
}

TEST(ContentModify, ConversionsAndDefaults) {
  EXPECT_EQ(Apply(Call("ConvertToDWORD", {}), Sz("0x1F")).data, RegDword(31));
  EXPECT_EQ(Apply(Call("ConvertToDWORD", {}), Sz("-1")).data,
            RegDword(0xFFFFFFFFu));
  // Not a number: the default, or 0 without one (USMT).
  EXPECT_EQ(Apply(Call("ConvertToDWORD", {"7"}), Sz("x")).data, RegDword(7));
  EXPECT_EQ(Apply(Call("ConvertToDWORD", {"NULL"}), Sz("x")).data, RegDword(0));
  Hive::ValueData s = Apply(Call("ConvertToString", {}), Dword(42));
  EXPECT_EQ(s.type, 1u);
  EXPECT_EQ(s.data, RegSz("42"));
  EXPECT_EQ(Apply(Call("ConvertToBinary", {}), Sz("a")).type, 3u);
  EXPECT_EQ(Apply(Call("OffsetValue", {"-2"}), Dword(5)).data, RegDword(3));
  EXPECT_FALSE(
      ModifyContent(Call("OffsetValue", {"1"}), Sz("5"), nullptr).ok());
  EXPECT_FALSE(
      ModifyContent(Call("KeepExisting", {"Security"}), Sz("x"), nullptr).ok());
}

TEST(ContentModify, MergesKeepEachStringOnce) {
  auto d = Call("MergeMultiSzContent", {"Add", "d", "Remove", "c"});
  // The target's list (its duplicate dropped), the source's new strings,
  // then the instructions; a last string without its NUL still counts.
  Hive::ValueData target = Multi(Utf16List({"c", "a", "a"}));
  const std::string source("a\0\0\0b\0", 6);  // "b" has no NUL
  Hive::ValueData merged = Apply(d, Multi(source), &target);
  EXPECT_EQ(merged.data, Utf16List({"a", "b", "d"}));
  auto delimited = Call("MergeDelimitedContent", {";", "Add", "C:\\bin"});
  Hive::ValueData path = Sz("C:\\tools; C:\\Windows");
  Hive::ValueData old = Sz("C:\\Windows;C:\\old");
  EXPECT_EQ(Apply(delimited, path, &old).data,
            RegSz("C:\\Windows;C:\\old;C:\\tools;C:\\bin"));
}

}  // namespace
}  // namespace migstore::registry
