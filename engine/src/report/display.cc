// DisplayBytes and DisplayText (migstore/display.h): the "Names" escaping of
// docs/cli.md.

#include "migstore/display.h"

namespace migstore {

namespace {

std::string Escaped(std::string_view b, bool double_backslash) {
  std::string out;
  out.reserve(b.size());
  auto hex = [&](unsigned char c) {
    static const char* const kDigits = "0123456789abcdef";
    out += "\\x";
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  };
  size_t i = 0;
  while (i < b.size()) {
    auto c = static_cast<unsigned char>(b[i]);
    if (c == '\\' && double_backslash) {
      out += "\\\\";
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      hex(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, continuations
    // 10xxxxxx, no overlong forms, no surrogates, at most U+10FFFF.
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool ok = len > 0 && c <= 0xf4 && i + len <= b.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(b[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len >= 3) {
      auto c1 = static_cast<unsigned char>(b[i + 1]);
      if (c == 0xe0 && c1 < 0xa0) ok = false;   // overlong
      if (c == 0xed && c1 >= 0xa0) ok = false;  // surrogate
      if (c == 0xf0 && c1 < 0x90) ok = false;   // overlong
      if (c == 0xf4 && c1 >= 0x90) ok = false;  // beyond U+10FFFF
    }
    if (!ok) {
      hex(c);
      ++i;
      continue;
    }
    out.append(b.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace

std::string DisplayBytes(std::string_view b) { return Escaped(b, true); }

std::string DisplayText(std::string_view b) { return Escaped(b, false); }

}  // namespace migstore
