#include "migstore/build_info.h"

#include <oneapi/tbb/version.h>
#include <sodium.h>
#include <xxhash.h>
#include <zstd.h>
#include <pugixml.hpp>

#include "format/layout.h"
#include "migstore/version.h"

namespace migstore {

const char* Version() { return MIGSTORE_VERSION_STRING; }

int FormatVersion() { return format::kFormatVersion; }

std::string LibraryVersions() {
  unsigned xxh = XXH_versionNumber();
  std::string out = "zstd ";
  out += ZSTD_versionString();
  out += ", libsodium ";
  out += sodium_version_string();
  out += ", xxHash " + std::to_string(xxh / 10000) + "." +
         std::to_string(xxh / 100 % 100) + "." + std::to_string(xxh % 100);
  out += ", oneTBB ";
  out += TBB_runtime_version();
  out += ", pugixml " + std::to_string(PUGIXML_VERSION / 1000) + "." +
         std::to_string(PUGIXML_VERSION % 1000 / 10);
  return out;
}

}  // namespace migstore
