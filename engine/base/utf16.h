// UTF-16 and UTF-8, both ways: USMT's XML files may come as UTF-16 (with a
// byte-order mark), registry strings are UTF-16LE, and .reg files are
// written as regedit writes them, in UTF-16LE.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_BASE_UTF16_H_
#define MIGSTORE_ENGINE_BASE_UTF16_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace migstore::internal {

inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// UTF-16 bytes (no byte-order mark) to UTF-8; unpaired surrogates become
// U+FFFD. With `stop_at_nul`, the text ends at the first NUL (a registry
// string's terminator).
inline std::string Utf16ToUtf8(std::string_view bytes, bool little_endian,
                               bool stop_at_nul = false) {
  std::string out;
  auto unit = [&](size_t i) -> uint32_t {
    auto b0 = static_cast<unsigned char>(bytes[i]);
    auto b1 = static_cast<unsigned char>(bytes[i + 1]);
    return little_endian ? (b0 | b1 << 8) : (b0 << 8 | b1);
  };
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    uint32_t u = unit(i);
    if (u == 0 && stop_at_nul) break;
    if (u >= 0xD800 && u < 0xDC00 && i + 3 < bytes.size()) {
      uint32_t lo = unit(i + 2);
      if (lo >= 0xDC00 && lo < 0xE000) {
        AppendUtf8(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00), &out);
        i += 2;
        continue;
      }
    }
    AppendUtf8(u >= 0xD800 && u < 0xE000 ? 0xFFFD : u, &out);
  }
  return out;
}

// UTF-8 to UTF-16LE, appended to *out; a byte that does not start a whole
// UTF-8 sequence becomes U+FFFD.
inline void AppendUtf16Le(std::string_view utf8, std::string* out) {
  auto unit = [&](uint32_t u) {
    out->push_back(static_cast<char>(u & 0xFF));
    out->push_back(static_cast<char>(u >> 8));
  };
  auto cont = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(utf8[i]) & 0x3F);
  };
  for (size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    uint32_t cp = 0xFFFD;
    size_t n = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 6 && i + 1 < utf8.size()) {
      cp = ((c & 0x1Fu) << 6) | cont(i + 1);
      n = 2;
    } else if ((c >> 4) == 14 && i + 2 < utf8.size()) {
      cp = ((c & 0x0Fu) << 12) | (cont(i + 1) << 6) | cont(i + 2);
      n = 3;
    } else if ((c >> 3) == 30 && i + 3 < utf8.size()) {
      cp = ((c & 0x07u) << 18) | (cont(i + 1) << 12) | (cont(i + 2) << 6) |
           cont(i + 3);
      n = 4;
    }
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 | (cp >> 10));
      unit(0xDC00 | (cp & 0x3FF));
    } else {
      unit(cp);
    }
  }
}

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_BASE_UTF16_H_
