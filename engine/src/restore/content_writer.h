// Writing one file's content into its temporary file during a restore.
//
// RangeWriter puts the content's stored bytes, as ReadContentDataFrom
// streams them in order, at their places in the file: the whole file for
// dense content, only the data ranges for sparse content (holes are never
// written, so they stay holes).
//
// ReadAhead lets several workers restore one large file: while the file's
// own worker streams it in order (hashing every byte), idle workers decode
// the blocks ahead through the BlockPool and, for dense content, write this
// file's pieces of them at their offsets; the in-order pass then skips the
// pieces already there. Bytes reach the temporary file before the hash is
// known, as with the in-order pass; nothing is renamed until it is.
//
// Thread safety: a RangeWriter is used by one thread. A ReadAhead is driven
// by one thread (Asked, Written, Wait) and runs its own tasks; it must be
// used inside tbb::this_task_arena::isolate so that a worker waiting for
// them runs nothing else.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_CONTENT_WRITER_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_CONTENT_WRITER_H_

#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/parallel.h"
#include "engine/src/restore/block_pool.h"
#include "format/catalog.h"
#include "migstore/status.h"

namespace migstore::restore {

// The data blocks `c` reads, each once, in the order its chunks meet them.
std::vector<uint64_t> BlocksOf(const format::Content& c);

class RangeWriter {
 public:
  // `what` names the file in errors.
  RangeWriter(int fd, const format::Content& c, const std::string& what)
      : fd_(fd), c_(c), what_(what) {}

  // The next stored bytes. Corruption when there are more than the file
  // holds.
  Status Write(std::string_view piece);
  // Dense content only: the next `n` stored bytes are already in the file.
  void Skip(uint64_t n);

  uint64_t written() const { return stored_; }  // stored bytes so far
  uint64_t end() const { return end_; }  // one past the last byte written

 private:
  Status PwriteAll(std::string_view data, uint64_t at);

  int fd_;
  const format::Content& c_;
  const std::string& what_;
  uint64_t stored_ = 0;
  size_t range_ = 0;
  uint64_t in_range_ = 0;
  uint64_t end_ = 0;
};

class ReadAhead {
 public:
  // `window`: how many blocks ahead of the in-order pass to start.
  ReadAhead(BlockPool* pool, const format::Content& c, int fd, size_t window);
  ~ReadAhead() { parallel::Wait(group_); }

  // Worth it: the content spans more than two blocks.
  bool enabled() const { return blocks_.size() > 2; }
  // The in-order pass asks for `block`: start on the next ones.
  void Asked(uint64_t block);
  // Whether the `length` stored bytes at stored offset `at` are one chunk a
  // worker ahead has already written.
  bool Written(uint64_t at, uint64_t length) const;
  void Wait() { parallel::Wait(group_); }

 private:
  void Run(uint64_t block);

  BlockPool* pool_;
  const format::Content& c_;
  const int fd_;
  const size_t window_;
  const std::vector<uint64_t> blocks_;  // in the order chunks meet them
  std::vector<uint64_t> starts_;        // each chunk's stored offset (dense)
  std::unique_ptr<std::atomic<bool>[]> done_;  // per chunk (dense)
  size_t at_ = 0;
  size_t next_ = 1;
  tbb::task_group group_;
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_CONTENT_WRITER_H_
