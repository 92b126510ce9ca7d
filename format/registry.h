// Registry records (docs/format.md "Registry segment"): the settings a
// capture took from a Windows root's offline registry hives, one record per
// key or value, kept in the container's registry segments.
//
// A record names its key by its full path from the root key, backslash
// separated, as USMT's patterns write it: "HKCU\Software\Foo" for a user's
// hive (`profile` says whose), "HKLM\SOFTWARE\Foo" and
// "HKLM\SYSTEM\CurrentControlSet\..." for the machine's (profile 0). A
// record without a value stands for the key itself, so that an empty key
// a rule takes is created at restore. Names are UTF-8; a value's data is
// the raw bytes the hive holds (REG_SZ is UTF-16LE there).
//
// The codec treats its input as untrusted: counts, lengths and order are
// checked and any inconsistency is Corruption.
//
// Thread safety: plain values and pure functions.

#ifndef MIGSTORE_FORMAT_REGISTRY_H_
#define MIGSTORE_FORMAT_REGISTRY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "format/catalog.h"
#include "migstore/result.h"

namespace migstore::format {

// Registry value types (winnt.h's REG_*), the ones .reg files name.
inline constexpr uint32_t kRegNone = 0;
inline constexpr uint32_t kRegSz = 1;
inline constexpr uint32_t kRegExpandSz = 2;
inline constexpr uint32_t kRegBinary = 3;
inline constexpr uint32_t kRegDword = 4;
inline constexpr uint32_t kRegMultiSz = 7;
inline constexpr uint32_t kRegQword = 11;

struct RegistryRecord {
  uint32_t profile = kNoProfile;  // the user of an HKCU key; 0 for HKLM
  std::string key;                // "HKCU\Software\Foo"
  bool has_value = false;         // false: the key itself
  std::string name;               // the value's name; "" is the default value
  uint32_t type = 0;              // REG_* (any 32-bit number the hive holds)
  std::string data;               // raw bytes

  friend bool operator==(const RegistryRecord&,
                         const RegistryRecord&) = default;
};

// The order records are stored in: profile, key bytes, the key before its
// values, value name bytes.
bool RegistryRecordLess(const RegistryRecord& a, const RegistryRecord& b);

// Checks one record against docs/format.md's limits: key and name lengths,
// no empty key component, data size, no NUL in names.
Status ValidateRegistryRecord(const RegistryRecord& r);

// A registry segment: a count, then the records, which must be sorted
// strictly by RegistryRecordLess.
std::string EncodeRegistrySegment(const std::vector<RegistryRecord>& records);
Result<std::vector<RegistryRecord>> DecodeRegistrySegment(
    std::string_view plain);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_REGISTRY_H_
