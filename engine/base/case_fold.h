// ASCII case folding, the one notion of "case-insensitive" migstore uses for
// Windows-layout names: 'A'-'Z' fold to 'a'-'z'; every other byte, UTF-8
// included, compares exactly. (NTFS folds with its own upcase table; names
// that differ only in non-ASCII case are rare enough not to pay for it.)
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_BASE_CASE_FOLD_H_
#define MIGSTORE_ENGINE_BASE_CASE_FOLD_H_

#include <string>
#include <string_view>

namespace migstore::internal {

inline char FoldAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string FoldedCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = FoldAscii(c);
  return out;
}

inline bool EqualsFolded(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (FoldAscii(a[i]) != FoldAscii(b[i])) return false;
  }
  return true;
}

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_BASE_CASE_FOLD_H_
