// Building blocks for MemoryStores in tests, the fixed store behind the
// golden files, and a text rendering of a store that tests compare.

#ifndef MIGSTORE_TESTS_UTIL_STORE_SAMPLES_H_
#define MIGSTORE_TESTS_UTIL_STORE_SAMPLES_H_

#include <string>

#include "format/memory_store.h"

namespace migstore::testing {

using format::MakeDir;
using format::MakeFifo;
using format::MakeFile;
using format::MakeSymlink;
format::Profile MakeProfile(std::string name, std::string home, uint32_t uid);

// A store with one of everything the format carries: two profiles, owner
// names, non-UTF-8 and newline names, a 4095-byte path, xattrs, a symlink, a
// fifo, an empty file, a sparse file, a file spanning blocks (with
// block_size 4096), compressible and incompressible data, and a duplicate.
// Returned in catalog order.
format::MemoryStore RichStore();

// The small fixed store of tests/golden/valid (a few KB once written).
format::MemoryStore GoldenStore();

// Every field of every entry, one line each, with names escaped and file
// bytes as their XXH3-128: what golden tests compare.
std::string DescribeStore(const format::MemoryStore& store);

// Fast Argon2id parameters and small blocks, for quick tests.
format::MemoryWriteOptions QuickOptions();

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_STORE_SAMPLES_H_
