// SpillFile: scratch space on disk for what a writer would otherwise hold
// in memory until it finishes — the sorted catalog runs and the content
// segments of a capture of millions of files (docs/design.md, "Bounded
// memory").
//
// The file has no name: O_TMPFILE where the filesystem has it, else a file
// made and unlinked at once, so nothing of it outlives the process however
// it ends, and a walk of the directory never sees it. Every piece is
// sealed as a block of its own (zstd, then XChaCha20-Poly1305) under a key
// and id made for this file alone and kept in secure memory: pieces hold
// the paths of a store that may be encrypted, and damage to them (a
// failing disk, a full one) is found when they are read back, as
// Corruption or IOError, never as wrong entries.
//
// Thread safety: one thread at a time.

#ifndef MIGSTORE_FORMAT_SPILL_FILE_H_
#define MIGSTORE_FORMAT_SPILL_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/unique_fd.h"
#include "format/block_codec.h"
#include "migstore/result.h"

namespace migstore::format {

class SpillFile {
 public:
  // Where a piece was written.
  struct Piece {
    uint64_t number = 0;  // binds the seal: pieces cannot trade places
    uint64_t offset = 0;
    uint32_t length = 0;  // of the sealed frame
  };

  // Makes one in the first of `dirs` where one can be made; IOError naming
  // them all when none can. Empty names are passed over.
  static Result<std::unique_ptr<SpillFile>> Create(
      const std::vector<std::string>& dirs);

  // Seals and appends `plain`.
  // REQUIRES: plain.size() <= limits::kMaxIndexPlain
  Result<Piece> Write(std::string_view plain);
  // Reads a piece back into *plain (overwritten).
  Status Read(const Piece& piece, std::string* plain) const;

  // Bytes written so far.
  uint64_t size() const { return size_; }
  // The directory it was made in.
  const std::string& dir() const { return dir_; }
  // Tests only: the descriptor, to damage the bytes on disk.
  int fd_for_testing() const { return fd_.get(); }

 private:
  SpillFile(UniqueFd fd, std::string dir);

  UniqueFd fd_;
  std::string dir_;
  BlockCodec codec_;
  uint64_t size_ = 0;
  uint64_t pieces_ = 0;
  std::string frame_;               // reused between writes
  mutable std::string read_frame_;  // and between reads
};

// Where a scratch file goes when nothing better is known: $TMPDIR, /tmp.
std::vector<std::string> DefaultSpillDirs();

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_SPILL_FILE_H_
