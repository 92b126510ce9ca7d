#include "engine/src/restore/safe_path.h"

#include <climits>

#include "format/secret.h"

namespace migstore::restore {
namespace {

constexpr std::string_view kTempMarker = ".migtmp-";
constexpr size_t kTempHexDigits = 16;
constexpr size_t kNameMax = 255;

}  // namespace

std::string UnsafePathReason(std::string_view p) {
  if (p.empty()) return "empty path";
  if (p.size() > PATH_MAX - 1) return "path longer than PATH_MAX";
  if (p.find('\0') != std::string_view::npos) return "NUL byte in the path";
  if (p.front() == '/') return "absolute path";
  size_t start = 0;
  for (;;) {
    size_t end = p.find('/', start);
    std::string_view part =
        p.substr(start, end == std::string_view::npos ? p.npos : end - start);
    if (part.empty()) return "empty component in the path";
    if (part == ".") return "\".\" component in the path";
    if (part == "..") return "\"..\" component in the path";
    if (part.size() > kNameMax) return "a name longer than NAME_MAX";
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return {};
}

std::string NumberedName(std::string_view name, uint64_t n,
                         std::string_view pattern) {
  // The extension is what follows the last '.', unless that '.' starts the
  // name (".bashrc" has none).
  size_t dot = name.rfind('.');
  std::string_view base = name, ext;
  if (dot != std::string_view::npos && dot > 0) {
    base = name.substr(0, dot);
    ext = name.substr(dot + 1);
  }
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.substr(i, 3) == "<F>") {
      out.append(base);
      i += 3;
    } else if (pattern.substr(i, 3) == "<N>") {
      out += std::to_string(n);
      i += 3;
    } else if (pattern.substr(i, 3) == "<E>") {
      if (ext.empty()) {
        if (!out.empty() && out.back() == '.') out.pop_back();
      } else {
        out.append(ext);
      }
      i += 3;
    } else {
      out.push_back(pattern[i]);
      ++i;
    }
  }
  return out;
}

bool ValidRenamePattern(std::string_view pattern) {
  return pattern.find("<F>") != std::string_view::npos &&
         pattern.find("<N>") != std::string_view::npos &&
         pattern.find("<E>") != std::string_view::npos &&
         pattern.find('/') == std::string_view::npos;
}

std::string TempName(std::string_view name) {
  const size_t room = kNameMax - 1 - kTempMarker.size() - kTempHexDigits;
  std::string out = ".";
  out.append(name.substr(0, room));
  out.append(kTempMarker);
  out.append(format::RandomHex(kTempHexDigits / 2));
  return out;
}

bool IsRestoreTemporary(std::string_view name) {
  if (name.size() < 1 + kTempMarker.size() + kTempHexDigits ||
      name.front() != '.') {
    return false;
  }
  std::string_view tail = name.substr(name.size() - kTempHexDigits);
  for (char c : tail) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return name.substr(name.size() - kTempHexDigits - kTempMarker.size(),
                     kTempMarker.size()) == kTempMarker;
}

}  // namespace migstore::restore
