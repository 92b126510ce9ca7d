// Checks a store against the tree it was captured from: every entry in the
// store exists under the root with the same type, mode, owner, mtime, size,
// symlink target and xattrs, and every file's bytes (streamed, holes as
// zeros) equal the source's.

#ifndef MIGSTORE_TESTS_UTIL_STORE_CHECK_H_
#define MIGSTORE_TESTS_UTIL_STORE_CHECK_H_

#include <set>
#include <string>

#include "format/container_reader.h"

namespace migstore::testing {

struct StoreCheck {
  std::string first_mismatch;   // empty when everything matched
  std::set<std::string> paths;  // every path in the store
  uint64_t files = 0;
  uint64_t sparse_contents = 0;
};

StoreCheck CheckStoreAgainstTree(const format::ContainerReader& reader,
                                 const std::string& root);

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_STORE_CHECK_H_
