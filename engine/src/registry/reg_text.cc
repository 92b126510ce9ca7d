#include "engine/src/registry/reg_text.h"

#include <cstdio>

#include "engine/base/case_fold.h"
#include "engine/base/utf16.h"

namespace migstore::registry {
namespace {

uint64_t LittleEndian(std::string_view data, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && i < data.size(); ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(data[i])) << (8 * i);
  return v;
}

std::string Hex(std::string_view data, size_t max) {
  std::string out;
  char b[4];
  for (size_t i = 0; i < data.size() && i < max; ++i) {
    std::snprintf(b, sizeof(b), "%02x", static_cast<unsigned char>(data[i]));
    if (i > 0) out.push_back(' ');
    out += b;
  }
  if (data.size() > max) out += " ...";
  return out;
}

// A .reg string: '\' and '"' escaped.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// "hex(N):01,02,..." wrapped at about 80 columns with " \" as regedit does.
std::string HexList(uint32_t type, std::string_view data, size_t name_len) {
  char prefix[24] = "hex:";
  if (type != format::kRegBinary)
    std::snprintf(prefix, sizeof(prefix), "hex(%x):", type);
  std::string out = prefix;
  size_t column = name_len + 1 + out.size();
  char b[4];
  for (size_t i = 0; i < data.size(); ++i) {
    std::snprintf(b, sizeof(b), "%02x", static_cast<unsigned char>(data[i]));
    out += b;
    column += 2;
    if (i + 1 < data.size()) {
      out.push_back(',');
      ++column;
      if (column > 76) {
        out += "\\\r\n  ";
        column = 2;
      }
    }
  }
  return out;
}

// Whether REG_SZ data is exactly its text and one terminating NUL, so that
// a quoted string in a .reg file gives back the same bytes; else it is
// written as hex(1).
bool RoundTrips(std::string_view data) {
  if (data.size() < 2 || data.size() % 2 != 0) return false;
  std::string again;
  internal::AppendUtf16Le(internal::Utf16ToUtf8(data, true, true), &again);
  again.append(2, '\0');
  return again == data;
}

std::string RootName(std::string_view key) {
  if (key.size() >= 4 && internal::EqualsFolded(key.substr(0, 4), "HKCU"))
    return "HKEY_CURRENT_USER" + std::string(key.substr(4));
  if (key.size() >= 4 && internal::EqualsFolded(key.substr(0, 4), "HKLM"))
    return "HKEY_LOCAL_MACHINE" + std::string(key.substr(4));
  return std::string(key);
}

}  // namespace

std::string RegTypeName(uint32_t type) {
  switch (type) {
    case 0:
      return "REG_NONE";
    case 1:
      return "REG_SZ";
    case 2:
      return "REG_EXPAND_SZ";
    case 3:
      return "REG_BINARY";
    case 4:
      return "REG_DWORD";
    case 5:
      return "REG_DWORD_BIG_ENDIAN";
    case 6:
      return "REG_LINK";
    case 7:
      return "REG_MULTI_SZ";
    case 8:
      return "REG_RESOURCE_LIST";
    case 9:
      return "REG_FULL_RESOURCE_DESCRIPTOR";
    case 10:
      return "REG_RESOURCE_REQUIREMENTS_LIST";
    case 11:
      return "REG_QWORD";
  }
  char b[24];
  std::snprintf(b, sizeof(b), "REG_0x%x", type);
  return b;
}

std::string Utf16ToUtf8(std::string_view utf16le) {
  return internal::Utf16ToUtf8(utf16le, true, true);
}

std::string RegDataText(uint32_t type, std::string_view data) {
  switch (type) {
    case format::kRegSz:
    case format::kRegExpandSz:
      if (data.size() % 2 == 0) return Utf16ToUtf8(data);
      break;
    case format::kRegMultiSz: {
      if (data.size() % 2 != 0) break;
      std::string out;
      size_t i = 0;
      while (i + 1 < data.size()) {
        std::string one = Utf16ToUtf8(data.substr(i));
        if (one.empty()) break;
        if (!out.empty()) out += " | ";
        out += one;
        // Step past this string and its NUL, in code units.
        size_t units = 0;
        while (i + 2 * units + 1 < data.size() &&
               LittleEndian(data.substr(i + 2 * units), 2) != 0) {
          ++units;
        }
        i += 2 * (units + 1);
      }
      return out;
    }
    case format::kRegDword:
      if (data.size() == 4) return std::to_string(LittleEndian(data, 4));
      break;
    case format::kRegQword:
      if (data.size() == 8) return std::to_string(LittleEndian(data, 8));
      break;
    default:
      break;
  }
  return Hex(data, 64);
}

std::string RegFile(const std::vector<format::RegistryRecord>& records) {
  std::string text = "Windows Registry Editor Version 5.00\r\n";
  std::string key;
  for (const format::RegistryRecord& r : records) {
    if (r.key != key || !r.has_value) {
      if (r.key != key) {
        key = r.key;
        text += "\r\n[" + RootName(key) + "]\r\n";
      }
      if (!r.has_value) continue;
    }
    std::string name = r.name.empty() ? "@" : Quoted(r.name);
    std::string value;
    if (r.type == format::kRegSz && RoundTrips(r.data)) {
      value = Quoted(Utf16ToUtf8(r.data));
    } else if (r.type == format::kRegDword && r.data.size() == 4) {
      char b[16];
      std::snprintf(b, sizeof(b), "dword:%08llx",
                    static_cast<unsigned long long>(LittleEndian(r.data, 4)));
      value = b;
    } else {
      value = HexList(r.type, r.data, name.size());
    }
    text += name + "=" + value + "\r\n";
  }
  text += "\r\n";
  std::string out = "\xff\xfe";  // byte-order mark
  internal::AppendUtf16Le(text, &out);
  return out;
}

}  // namespace migstore::registry
