#include "engine/src/capture/owner_names.h"

#include <charconv>

#include "format/file_io.h"

namespace migstore::capture {

std::map<uint32_t, std::string> ParseIdFile(std::string_view text) {
  std::map<uint32_t, std::string> out;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view()
                                         : text.substr(eol + 1);
    if (line.empty() || line[0] == '#') continue;
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    size_t c3 = c2 == std::string_view::npos ? c2 : line.find(':', c2 + 1);
    if (c1 == 0 || c3 == std::string_view::npos) continue;
    std::string_view id_text = line.substr(c2 + 1, c3 - c2 - 1);
    uint32_t id = 0;
    auto [end, ec] =
        std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size()) continue;
    out.try_emplace(id, std::string(line.substr(0, c1)));
  }
  return out;
}

OwnerNames ReadOwnerNames(const std::string& root) {
  OwnerNames names;
  std::string base = root == "/" ? std::string() : root;
  if (auto t = format::ReadSmallFile(base + "/etc/passwd", 16 << 20); t.ok()) {
    names.users = ParseIdFile(*t);
  }
  if (auto t = format::ReadSmallFile(base + "/etc/group", 16 << 20); t.ok()) {
    names.groups = ParseIdFile(*t);
  }
  return names;
}

}  // namespace migstore::capture
