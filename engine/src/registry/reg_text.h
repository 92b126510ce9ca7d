// Registry values as text: the names and data `list` shows, and the lines
// of a .reg file ("Windows Registry Editor Version 5.00", what regedit
// imports) that `extract --reg` writes.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_REGISTRY_REG_TEXT_H_
#define MIGSTORE_ENGINE_SRC_REGISTRY_REG_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "format/registry.h"

namespace migstore::registry {

// "REG_SZ", "REG_DWORD", ...; "REG_0x1234" for a number without a name.
std::string RegTypeName(uint32_t type);

// UTF-16LE bytes (up to the first NUL) as UTF-8; unpaired surrogates
// become U+FFFD.
std::string Utf16ToUtf8(std::string_view utf16le);

// The data as a person reads it: strings decoded (REG_MULTI_SZ joined with
// " | "), DWORD and QWORD in decimal, anything else in hex (the first 64
// bytes, then "...").
std::string RegDataText(uint32_t type, std::string_view data);

// A .reg file (UTF-16LE with a byte-order mark, CR LF lines, as regedit
// writes them) holding `records` under their keys, each `HKCU` key under
// HKEY_CURRENT_USER and `HKLM` under HKEY_LOCAL_MACHINE.
std::string RegFile(const std::vector<format::RegistryRecord>& records);

}  // namespace migstore::registry

#endif  // MIGSTORE_ENGINE_SRC_REGISTRY_REG_TEXT_H_
