// What this build of migstore is: its version, the container format version
// it writes, and the versions of the libraries it runs on.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_BUILD_INFO_H_
#define MIGSTORE_BUILD_INFO_H_

#include <string>

namespace migstore {

// "0.1.0"
const char* Version();
// The container format version this build writes (and the newest it reads).
int FormatVersion();
// "zstd 1.5.4, libsodium 1.0.18, xxHash 0.8.1, oneTBB 2021.8.0, pugixml 1.13"
std::string LibraryVersions();

}  // namespace migstore

#endif  // MIGSTORE_BUILD_INFO_H_
