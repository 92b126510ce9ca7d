// AtomicFile: a file that appears under its final name whole or not at all.
//
// Create() makes a temporary file beside the final path, named
// ".<name>.migtmp-<random>", mode 0600, and holds an exclusive flock on it
// while it is written. Commit() fsyncs it, renames it over (or, without
// overwrite, next to) the final name, and fsyncs the directory. Abandon(), or
// destruction without Commit(), removes the temporary file.
//
// A process killed mid-write leaves its temporary file behind; the next
// Create() for the same final path removes every such file whose lock is no
// longer held, so stale temporaries do not pile up and a live writer's file
// is never touched.
//
// A large file written once and not read back soon (a store) can bypass
// the page cache: PreferDirectWrites() stages appends in an aligned buffer
// and writes it with O_DIRECT where the filesystem is a local one that
// reports its direct-I/O alignment (docs/design.md "Direct writes"). What
// is staged is written by Commit(); an error shows in Append or Commit.
//
// AtomicFile is the local file's StoreSink (store_io.h).
//
// Thread safety: one thread at a time.

#ifndef MIGSTORE_FORMAT_ATOMIC_FILE_H_
#define MIGSTORE_FORMAT_ATOMIC_FILE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/file_io.h"
#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::format {

class AtomicFile final : public StoreSink {
 public:
  // Fails with AlreadyExists when final_path exists and !overwrite, before
  // anything is written.
  static Result<AtomicFile> Create(const std::string& final_path,
                                   bool overwrite);

  AtomicFile(AtomicFile&& o) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile() override { Abandon(); }

  // Call before the first Append. Keeps ordinary writes where direct ones
  // are not possible or not worth it (network and memory filesystems).
  void PreferDirectWrites();
  // True while appends go through O_DIRECT.
  bool direct() const { return stage_ != nullptr; }

  Status Append(std::string_view data) override;
  uint64_t size() const override { return size_; }

  // REQUIRES: not yet committed or abandoned.
  // An error before the rename leaves nothing under the final name. The one
  // error after it (the directory fsync failing) leaves the complete file in
  // place and says so.
  Status Commit() override;
  // Removes the temporary file. Safe to call more than once.
  void Abandon() override;

  const std::string& name() const override { return final_path_; }
  std::vector<std::string> local_paths() const override {
    return {final_path_, temp_path_};
  }
  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFile(UniqueFd fd, std::string final_path, std::string temp_path,
             bool overwrite)
      : fd_(std::move(fd)),
        final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)),
        overwrite_(overwrite) {}

  struct FreeAligned {
    void operator()(char* p) const;
  };
  // Writes the stage's first `n` bytes (a multiple of the alignment) with
  // O_DIRECT, or, if the filesystem refuses, switches to ordinary writes
  // (StopDirect) for the rest of what is staged. The caller says what is
  // left staged after a success.
  Status WriteStaged(size_t n);
  // Turns O_DIRECT off and writes the staged bytes from `from` on the
  // ordinary way.
  Status StopDirect(size_t from);
  // Errors are sticky: after a failed write the file's end is unknown, and
  // writing on could duplicate or skip bytes.
  Status Fail(Status s);

  UniqueFd fd_;
  std::unique_ptr<char, FreeAligned> stage_;  // null: ordinary writes
  size_t staged_ = 0;
  Status error_;
  std::string final_path_;
  std::string temp_path_;
  bool overwrite_ = false;
  bool done_ = false;
  uint64_t size_ = 0;
};

// A store's local file as a sink: an AtomicFile that prefers direct writes
// when `direct` (a container, written once and not read back soon).
Result<std::unique_ptr<StoreSink>> CreateFileSink(const std::string& path,
                                                  bool overwrite, bool direct);

// Removes stale temporary files left for final_path by dead writers.
// Returns how many were removed. Exposed for tests and for `verify`.
int RemoveStaleTemporaries(const std::string& final_path);

// True when `name` (a bare file name) is an AtomicFile temporary.
bool IsTemporaryName(std::string_view name);

// Tests only: make temporaries by name (open O_EXCL, then lock), as on a
// filesystem without O_TMPFILE, even where it has it; `false` goes back.
void UseNamedTemporariesForTesting(bool on);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_ATOMIC_FILE_H_
