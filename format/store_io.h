// The store I/O seam: where a container's bytes go when it is written and
// where they come from when it is read (docs/design.md, "Store backends").
// The container writer and reader see only these two interfaces, in the
// manner of leveldb's Env and restic's backend, so a store can live in a
// local file (AtomicFile, RandomAccessFile), in memory (memory_io.h, for
// tests and fault injection) or in an object store (engine/src/store).
//
// A StoreSink is written front to back and published whole or not at all:
// nothing is found under the store's name until Commit() succeeds, and
// Abandon() (or destruction without Commit) leaves nothing behind. Errors
// are sticky: after a failed Append the sink's end is unknown, so every
// later call fails too.
//
// A StoreSource is read by position: ReadAt returns exactly the bytes asked
// for, or an error. A read that would end past the store's end, or a
// backend that delivers fewer bytes than asked, is Corruption (the caller
// asked for bytes the container's structure promised); a backend that
// cannot be read is IOError or Unavailable.
//
// Thread safety: a StoreSink is used by one thread at a time. A
// StoreSource's methods may be called from any number of threads at once.

#ifndef MIGSTORE_FORMAT_STORE_IO_H_
#define MIGSTORE_FORMAT_STORE_IO_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/status.h"

namespace migstore::format {

class StoreSink {
 public:
  virtual ~StoreSink() = default;

  virtual Status Append(std::string_view data) = 0;
  // Bytes appended so far.
  virtual uint64_t size() const = 0;
  // Publishes everything appended under the store's name.
  // REQUIRES: not yet committed or abandoned.
  virtual Status Commit() = 0;
  // Removes what was written. Safe to call more than once, and after
  // Commit (it does nothing then).
  virtual void Abandon() = 0;

  // The store's name, for messages: a path, an s3:// name.
  virtual const std::string& name() const = 0;
  // Local files the sink writes (the final path and its temporary), so a
  // capture whose store lies inside what it captures does not take its own
  // store; empty for a sink that writes no local file.
  virtual std::vector<std::string> local_paths() const { return {}; }
};

class StoreSource {
 public:
  virtual ~StoreSource() = default;

  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at offset into out.
  virtual Status ReadAt(uint64_t offset, size_t n, char* out) const = 0;

  virtual const std::string& name() const = 0;
  // Bytes read through ReadAt so far, by every thread: lets tests prove
  // random access, and reports say what a run read.
  virtual uint64_t bytes_read() const = 0;
  // How many reads a reader should keep in flight to hide this source's
  // latency: 0 when one per core is enough (a local file); a remote source
  // answers more, since its reads mostly wait.
  virtual int parallel_reads() const { return 0; }
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_STORE_IO_H_
