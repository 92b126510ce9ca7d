// Stores kept in memory: a StoreSink and a StoreSource (store_io.h) over a
// MemoryBucket, with faults that can be injected at chosen bytes. Tests use
// them to write and read containers without a filesystem, and to show what
// the writer and reader do when the place a store lives misbehaves: an
// error at byte N, a short read, a crash before the store is published.
//
// Thread safety: a MemoryBucket may be used from any number of threads at
// once; a MemorySink by one thread at a time; a MemorySource's methods from
// any number of threads at once.

#ifndef MIGSTORE_FORMAT_MEMORY_IO_H_
#define MIGSTORE_FORMAT_MEMORY_IO_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::format {

// Named stores, each published whole by a MemorySink's Commit.
class MemoryBucket {
 public:
  // The store's bytes, or null when none is published under `name`.
  std::shared_ptr<const std::string> Get(const std::string& name) const;
  // Publishes `bytes` under `name`. Without overwrite, AlreadyExists when
  // one is there.
  Status Put(const std::string& name, std::string bytes, bool overwrite);
  // Replaces the byte at `offset` of a published store (damage, for tests).
  Status Corrupt(const std::string& name, uint64_t offset, char value);
  size_t count() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const std::string>> stores_;
};

// What a MemorySink or MemorySource does wrong, and where.
struct IoFaults {
  // Writing: the Append that reaches this byte writes up to it and fails
  // with IOError. Reading: a read that touches this byte fails with
  // IOError.
  std::optional<uint64_t> error_at;
  // Reading: a read that touches this byte is delivered only up to it, as
  // a transfer cut short would be (the reader sees Corruption).
  std::optional<uint64_t> short_at;
  // Writing: Commit fails before publishing, as a crash would.
  bool fail_commit = false;
};

class MemorySink final : public StoreSink {
 public:
  MemorySink(MemoryBucket* bucket, std::string name, bool overwrite,
             IoFaults faults = {})
      : bucket_(bucket),
        name_(std::move(name)),
        overwrite_(overwrite),
        faults_(faults) {}
  ~MemorySink() override { Abandon(); }

  Status Append(std::string_view data) override;
  uint64_t size() const override { return bytes_.size(); }
  Status Commit() override;
  void Abandon() override;
  const std::string& name() const override { return name_; }

 private:
  MemoryBucket* bucket_;
  std::string name_;
  bool overwrite_;
  IoFaults faults_;
  std::string bytes_;
  Status error_;
  bool done_ = false;
};

class MemorySource final : public StoreSource {
 public:
  // NotFound when the bucket holds no store by that name.
  static Result<std::unique_ptr<MemorySource>> Open(const MemoryBucket& bucket,
                                                    const std::string& name,
                                                    IoFaults faults = {});

  uint64_t size() const override { return bytes_->size(); }
  Status ReadAt(uint64_t offset, size_t n, char* out) const override;
  const std::string& name() const override { return name_; }
  uint64_t bytes_read() const override { return bytes_read_.load(); }
  // ReadAt calls so far.
  uint64_t reads() const { return reads_.load(); }

 private:
  MemorySource(std::shared_ptr<const std::string> bytes, std::string name,
               IoFaults faults)
      : bytes_(std::move(bytes)), name_(std::move(name)), faults_(faults) {}

  std::shared_ptr<const std::string> bytes_;
  std::string name_;
  IoFaults faults_;
  mutable std::atomic<uint64_t> bytes_read_{0};
  mutable std::atomic<uint64_t> reads_{0};
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_MEMORY_IO_H_
