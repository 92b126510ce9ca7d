// Claims: every destination a restore plan gives out, in memory up to a
// budget and in sorted runs on a scratch file beyond it, so that a plan of
// ten million files does not hold ten million paths (issue 21;
// docs/design.md, "Bounded memory").
//
// The newest claims are a ClaimSet. When it holds more than the budget its
// claims are sorted and written as a run of 16 KiB pieces on a SpillFile,
// and the set starts again empty; the run keeps in memory only the first
// path of each piece, its last path and a Bloom filter of its paths (12
// bits a path). A lookup asks the set, then the runs newest first: a run
// whose path range does not hold the path, or whose filter says it cannot
// be there, costs no read. Claims only ever grow or change (a folder made
// to hold entries becomes a directory entry's), and a change goes into the
// set, which is asked first, so the newest claim of a path always answers.
//
// A plan claims in catalog order, so the runs hold ranges of paths one
// after the other and most lookups of paths never claimed end at the range
// check; what the next entries ask about is their folders, and those are
// kept in the set when it is written out (the folders above the last path
// claimed; not written again while their claims stay as they were, so the
// next run's range starts after them). Answers are exact: a hit compares
// the whole path. A run holds at least 32 claims beyond the folders kept,
// whatever the budget.
//
// The scratch file is made at the first run. An error writing or reading
// it is kept (status()): from then on nothing more is written out, lookups
// answer from the set alone, and the plan must be abandoned.
//
// Thread safety: none; one thread at a time (the planner's). Find is not
// const: it keeps the last piece it read.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_CLAIMS_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_CLAIMS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/src/restore/claim_set.h"
#include "format/sorted_runs.h"
#include "format/spill_file.h"
#include "migstore/result.h"

namespace migstore::restore {

class Claims {
 public:
  // `memory`: the bytes the set may hold before it is written out (0: no
  // limit). `spill_dirs`: where the scratch file may be made, in order.
  explicit Claims(size_t memory, std::vector<std::string> spill_dirs =
                                     format::DefaultSpillDirs());
  ~Claims();
  Claims(const Claims&) = delete;
  Claims& operator=(const Claims&) = delete;

  // The newest claim at `path`, if any.
  std::optional<Claim> Find(std::string_view path);
  // Sets the claim at `path`, inserting or replacing.
  void Set(std::string_view path, Claim claim);
  // Inserts when `path` has no claim; returns whether it inserted.
  bool Add(std::string_view path, Claim claim);

  // OK, or the first error of the scratch file.
  const Status& status() const { return status_; }
  // Runs written so far, for tests.
  size_t runs() const { return runs_.size(); }
  // Pieces read back so far, for tests: lookups the ranges and filters
  // could not answer.
  size_t pieces_read() const { return pieces_read_; }
  // Tests only: the scratch file (null before the first run), to damage it.
  const format::SpillFile* spill_for_testing() const { return spill_.get(); }
  // Bytes held in memory: the set and what each run keeps, for tests and
  // the memory docs.
  size_t memory_bytes() const;

 private:
  struct Run {
    format::SortedRun pieces;
    std::vector<std::string> first;  // each piece's first path
    std::string last;
    std::vector<uint64_t> bloom;  // 512-bit blocks, 8 words each
  };

  // Writes the set out as a run when it is over the budget.
  void MaybeSpill();
  Status Spill();
  // The claim at `path` in run `r`; nullopt if it has none.
  Result<std::optional<Claim>> FindIn(size_t r, std::string_view path,
                                      uint64_t hash);

  size_t memory_;
  std::vector<std::string> spill_dirs_;
  ClaimSet set_;
  std::string last_;  // the last path Set: its folders stay in the set
  // The folders kept in the set at the last run, as they were written.
  std::vector<std::pair<std::string, Claim>> kept_;
  std::string max_last_;  // the last path of every run
  std::unique_ptr<format::SpillFile> spill_;
  std::vector<Run> runs_;
  size_t runs_bytes_ = 0;
  Status status_;
  // The piece last read: (run, piece) and its records in path order.
  size_t cached_run_ = SIZE_MAX;
  size_t cached_piece_ = 0;
  size_t pieces_read_ = 0;
  std::vector<std::string> cached_paths_;
  std::vector<Claim> cached_claims_;
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_CLAIMS_H_
