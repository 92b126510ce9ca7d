#include "engine/src/capture/compressed_types.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace migstore::capture {
namespace {

// Sorted, lower case. Images, audio, video, archives, and document formats
// that are zip files inside (Office Open XML, OpenDocument, EPUB...).
constexpr std::array<std::string_view, 56> kExtensions = {
    "7z",   "aac",  "apk",  "avi",   "avif", "bz2",  "cab", "crx",
    "deb",  "docm", "docx", "dotx",  "epub", "flac", "flv", "gif",
    "gz",   "heic", "heif", "jar",   "jpeg", "jpg",  "jxl", "lz",
    "lz4",  "lzma", "m4a",  "m4v",   "mkv",  "mov",  "mp3", "mp4",
    "mpeg", "mpg",  "msi",  "nupkg", "odp",  "ods",  "odt", "ogg",
    "opus", "png",  "pptx", "rar",   "rpm",  "tgz",  "txz", "webm",
    "webp", "whl",  "wma",  "wmv",   "xlsx", "xz",   "zip", "zst",
};

}  // namespace

bool LooksCompressed(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view name =
      slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || name.size() - dot - 1 > 5)
    return false;
  std::string ext(name.substr(dot + 1));
  for (char& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::binary_search(kExtensions.begin(), kExtensions.end(),
                            std::string_view(ext));
}

}  // namespace migstore::capture
