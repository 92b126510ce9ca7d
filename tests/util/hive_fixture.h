// Registry hives for tests: an empty hive made from nothing (hivex can
// change a hive but not create one), and values put into hive files with
// the engine's Hive, so tests build offline Windows roots with real hives.

#ifndef MIGSTORE_TESTS_UTIL_HIVE_FIXTURE_H_
#define MIGSTORE_TESTS_UTIL_HIVE_FIXTURE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace migstore::testing {

// An 8 KiB hive holding only its root key (regf header, one hbin, the root
// nk cell with an open security descriptor).
std::string EmptyHiveBytes();

struct HiveValue {
  std::string key;   // "Software\\Foo" below the hive's root; "" the root
  std::string name;  // value name; "" the default value
  uint32_t type = 1;
  std::string data;
  bool key_only = false;  // create the key, set no value
};

// Creates `path` as an empty hive when it does not exist, then adds the
// keys and values (ASSERTs on failure).
void PutHiveValues(const std::string& path,
                   const std::vector<HiveValue>& values);

// The REG_SZ bytes of an ASCII string: UTF-16LE with its terminating NUL.
std::string RegSz(std::string_view ascii);
std::string RegDword(uint32_t v);

// The value `name` of `key` in the hive at `path`: true and its type and
// data when present.
bool GetHiveValue(const std::string& path, const std::string& key,
                  const std::string& name, uint32_t* type, std::string* data);
bool HiveHasKey(const std::string& path, const std::string& key);

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_HIVE_FIXTURE_H_
