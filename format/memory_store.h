// MemoryStore: a whole store described in memory, and the two functions that
// write one to a container and read one back. The self-check, the tests, the
// golden-store generator and the fuzzers build stores this way; a capture
// uses the streaming writer and its pipeline instead.
//
// Writing deduplicates: files with byte-identical contents (and the same
// holes) share one Content, confirmed by comparing bytes, not only hashes.
//
// Thread safety: plain values; the functions share no state.

#ifndef MIGSTORE_FORMAT_MEMORY_STORE_H_
#define MIGSTORE_FORMAT_MEMORY_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "format/block_packer.h"
#include "format/catalog.h"
#include "format/container_reader.h"
#include "format/container_writer.h"
#include "format/store_index.h"
#include "format/store_io.h"

namespace migstore::format {

struct MemoryFile {
  // Its `content` is ignored when writing and set when reading; its `size`
  // must equal data.size() for files.
  Entry entry;
  // A file's logical bytes, holes as zeros.
  std::string data;
  // Set for a sparse file: the ranges that hold data.
  std::optional<std::vector<DataRange>> sparse_ranges;

  friend bool operator==(const MemoryFile&, const MemoryFile&) = default;
};

struct MemoryStore {
  Properties properties;  // ascending, unique keys
  std::vector<Profile> profiles;
  NameTable owner_names;
  NameTable group_names;
  std::vector<MemoryFile> files;  // in catalog order after ReadMemoryStore

  friend bool operator==(const MemoryStore&, const MemoryStore&) = default;
};

// Builders for a MemoryStore's entries: files 0640, directories 0750,
// symlinks 0777, fifos 0600, owner and group 1000, a fixed mtime.
MemoryFile MakeFile(uint32_t profile, std::string path, std::string data);
MemoryFile MakeDir(uint32_t profile, std::string path);
MemoryFile MakeSymlink(uint32_t profile, std::string path, std::string target);
MemoryFile MakeFifo(uint32_t profile, std::string path);

struct MemoryWriteOptions {
  WriterOptions writer;
  SealOptions data_seal;
  size_t block_size = BlockPacker::kDefaultBlockSize;
};

Status WriteMemoryStore(const std::string& path, const KeySource& key,
                        const MemoryStore& store,
                        const MemoryWriteOptions& options);
// The same, to any sink (store_io.h).
Status WriteMemoryStore(std::unique_ptr<StoreSink> sink, const KeySource& key,
                        const MemoryStore& store,
                        const MemoryWriteOptions& options);

// Reads every entry and every file's bytes. Fails on the first damage met.
Result<MemoryStore> ReadMemoryStore(const ContainerReader& reader);

// Sorts files into catalog order and clears their content numbers, so a
// store can be compared with what ReadMemoryStore returns.
void NormalizeMemoryStore(MemoryStore* store);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_MEMORY_STORE_H_
