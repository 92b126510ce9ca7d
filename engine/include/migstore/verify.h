// Verify: what UsmtUtils /verify does. Reads a store end to end and says,
// file by file, whether its data is intact, without writing anything.
//
// The catalog (every catalog and content segment) is checked first; then,
// unless the mode is kCatalog, every file's data: each data block is opened
// once (its authentication tag or checksum checked, then decompressed) and
// each file's content hash compared. A damaged data block costs the files
// whose data lives in it; a damaged catalog segment costs the entries it
// held, which cannot even be named (they count against the CATALOG line).
// A hard-link group whose members disagree (docs/format.md, "link_group")
// costs every member: each is named damaged (in kCatalog mode, the group
// is a line of catalog damage).
//
// Thread safety: Verify may run concurrently with itself. It calls its
// observer from one thread at a time.

#ifndef MIGSTORE_VERIFY_H_
#define MIGSTORE_VERIFY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/restore.h"

namespace migstore {

enum class VerifyMode : uint8_t {
  kSummary,   // counts only (UsmtUtils /verify:summary, the default)
  kAll,       // every file: observer OnVerified for each
  kFailures,  // the damaged files only (UsmtUtils failureonly)
  kCatalog,   // the catalog only; no file data is read
};

// "summary", "all", "failures", "catalog"; the inverse below also accepts
// UsmtUtils' "failureonly".
const char* VerifyModeName(VerifyMode mode);
Result<VerifyMode> ParseVerifyMode(std::string_view text);

struct VerifyOptions {
  std::string store_path;
  Key key;
  KeyPolicy key_policy;  // as RestoreOptions::key_policy
  VerifyMode mode = VerifyMode::kSummary;
  int threads = 0;  // 0: one per core
  // The catalog is checked a window of whole segments of about this many
  // entries at a time, as a restore reads it (RestoreOptions::
  // window_entries). Tests lower it; 0 is InvalidArgument.
  size_t window_entries = 65536;
};

struct VerifyReport {
  uint64_t entries = 0;  // in the catalog's index
  uint64_t files = 0;    // file entries checked (with data)
  uint64_t files_intact = 0;
  uint64_t files_damaged = 0;  // the names are in `damaged`
  bool catalog_intact = true;
  // What is wrong with the catalog: one line per damaged segment.
  std::vector<std::string> catalog_damage;
  uint64_t entries_lost = 0;  // entries in damaged catalog segments
  std::vector<FileIssue> damaged;
  uint64_t blocks_opened = 0;
  uint64_t store_bytes_read = 0;
  double seconds = 0;

  bool intact() const { return catalog_intact && files_damaged == 0; }
};

// Verifies. Damage found is in the report, not an error: the call fails only
// when the store cannot be opened at all (NotFound, NotAStore,
// UnsupportedVersion, WrongKey, Refused by key_policy, Corruption of the
// header, index or trailer) or is cancelled. Callers map !intact() to exit 42.
Result<VerifyReport> Verify(const VerifyOptions& options,
                            RestoreObserver* observer = nullptr);

}  // namespace migstore

#endif  // MIGSTORE_VERIFY_H_
