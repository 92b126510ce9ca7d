#include "tests/util/hive_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/src/registry/hive.h"
#include "engine/src/registry/hive_files.h"

namespace migstore::testing {
namespace {

void Put32(std::string* s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}
void Put16(std::string* s, size_t at, uint16_t v) {
  (*s)[at] = static_cast<char>(v);
  (*s)[at + 1] = static_cast<char>(v >> 8);
}
uint32_t Get32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + i]))
         << (8 * i);
  return v;
}

}  // namespace

std::string EmptyHiveBytes() {
  std::string h(0x2000, '\0');
  // Base block (the regf header).
  std::memcpy(&h[0], "regf", 4);
  Put32(&h, 0x04, 1);       // sequence 1
  Put32(&h, 0x08, 1);       // sequence 2: equal, the hive is clean
  Put32(&h, 0x14, 1);       // major version
  Put32(&h, 0x18, 3);       // minor version
  Put32(&h, 0x20, 1);       // file format: direct memory load
  Put32(&h, 0x24, 0x20);    // root cell, from the first hbin
  Put32(&h, 0x28, 0x1000);  // hbins' size
  Put32(&h, 0x2C, 1);       // clustering factor
  uint32_t sum = 0;
  for (size_t i = 0; i < 0x1FC; i += 4) sum ^= Get32(h, i);
  Put32(&h, 0x1FC, sum);
  // The hbin.
  const size_t hbin = 0x1000;
  std::memcpy(&h[hbin], "hbin", 4);
  Put32(&h, hbin + 0x04, 0);
  Put32(&h, hbin + 0x08, 0x1000);
  // Root key cell at 0x20: 0x50 bytes of record, the name "ROOT".
  const size_t nk = hbin + 0x20;
  const uint32_t nk_size = 0x58, sk_off = 0x20 + nk_size;
  Put32(&h, nk, static_cast<uint32_t>(-static_cast<int32_t>(nk_size)));
  std::memcpy(&h[nk + 4], "nk", 2);
  Put16(&h, nk + 0x06, 0x2C);        // root, no delete, ASCII name
  Put32(&h, nk + 0x14, 0xFFFFFFFF);  // parent: none
  Put32(&h, nk + 0x20, 0xFFFFFFFF);  // subkey list: none
  Put32(&h, nk + 0x24, 0xFFFFFFFF);
  Put32(&h, nk + 0x2C, 0xFFFFFFFF);  // value list: none
  Put32(&h, nk + 0x30, sk_off);      // security cell
  Put32(&h, nk + 0x34, 0xFFFFFFFF);  // class name: none
  Put16(&h, nk + 0x4C, 4);
  std::memcpy(&h[nk + 0x50], "ROOT", 4);
  // Security cell: a self-relative descriptor with a NULL DACL (open to
  // all), enough for a test hive.
  const size_t sk = hbin + sk_off;
  const uint32_t sk_size = 0x30;
  Put32(&h, sk, static_cast<uint32_t>(-static_cast<int32_t>(sk_size)));
  std::memcpy(&h[sk + 4], "sk", 2);
  Put32(&h, sk + 0x08, sk_off);  // next: itself
  Put32(&h, sk + 0x0C, sk_off);  // previous: itself
  Put32(&h, sk + 0x10, 1);       // references
  Put32(&h, sk + 0x14, 20);      // descriptor length
  h[sk + 0x18] = 1;              // revision
  Put16(&h, sk + 0x1A, 0x8004);  // self-relative, DACL present (NULL)
  // The rest of the hbin: one free cell.
  const size_t free_cell = hbin + sk_off + sk_size;
  Put32(&h, free_cell, static_cast<uint32_t>(0x2000 - free_cell));
  return h;
}

void PutHiveValues(const std::string& path,
                   const std::vector<HiveValue>& values) {
  if (!std::filesystem::exists(path)) {
    std::filesystem::create_directories(
        std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << EmptyHiveBytes();
  }
  auto hive = registry::Hive::Open(path, true);
  ASSERT_TRUE(hive.ok()) << hive.status().ToString();
  // Each key's values in one call, as restore sets them: one by one, hivex
  // would grow the hive with the square of their number.
  std::vector<std::pair<std::string, std::vector<registry::Hive::ValueData>>>
      keys;
  for (const HiveValue& v : values) {
    auto it = std::find_if(keys.begin(), keys.end(),
                           [&](const auto& k) { return k.first == v.key; });
    if (it == keys.end()) {
      keys.push_back({v.key, {}});
      it = keys.end() - 1;
    }
    if (!v.key_only) it->second.push_back({v.name, v.type, v.data});
  }
  for (const auto& [key, key_values] : keys) {
    registry::Hive::Node node = hive->root();
    for (const std::string& part : registry::KeyNames(key)) {
      auto child = hive->AddChild(node, part);
      ASSERT_TRUE(child.ok()) << child.status().ToString();
      node = *child;
    }
    Status set = hive->SetValues(node, key_values);
    ASSERT_TRUE(set.ok()) << set.ToString();
  }
  Status s = hive->CommitTo(path);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

std::string RegSz(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  out.append(2, '\0');
  return out;
}

std::string RegDword(uint32_t v) {
  std::string out(4, '\0');
  Put32(&out, 0, v);
  return out;
}

namespace {
registry::Hive::Node FindKey(const registry::Hive& hive,
                             const std::string& key) {
  registry::Hive::Node node = hive.root();
  for (const std::string& part : registry::KeyNames(key)) {
    auto child = hive.Child(node, part);
    if (!child.ok() || *child == 0) return 0;
    node = *child;
  }
  return node;
}
}  // namespace

bool GetHiveValue(const std::string& path, const std::string& key,
                  const std::string& name, uint32_t* type, std::string* data) {
  auto hive = registry::Hive::Open(path, false);
  if (!hive.ok()) return false;
  registry::Hive::Node node = FindKey(*hive, key);
  if (node == 0) return false;
  registry::Hive::ValueData v;
  auto found = hive->Find(node, name, &v);
  if (!found.ok() || !*found) return false;
  *type = v.type;
  *data = v.data;
  return true;
}

bool HiveHasKey(const std::string& path, const std::string& key) {
  auto hive = registry::Hive::Open(path, false);
  return hive.ok() && FindKey(*hive, key) != 0;
}

}  // namespace migstore::testing
