// Capture: what USMT's ScanState does. Finds the profiles under a root,
// selects users, applies the rules, walks the files in parallel, and packs
// them — deduplicated, compressed, encrypted — into one store file.
//
//   CaptureOptions o;
//   o.root = "/mnt/old-disk";
//   o.store_path = "/srv/stores/pc42.mig";
//   o.key = *Key::FromKeyFile("/secure/pc42.key");
//   auto report = Capture(o, &my_observer);
//
// The store appears at store_path only when the capture succeeded (it is
// written under a temporary name and renamed); after a failure or a stop
// nothing is left behind. The source is only read: files are opened read-
// only, without updating their access times where permitted.
//
// With `hardlink`, the store is instead a hard-link store (USMT's
// /hardlink): a directory holding a hard link to every captured file and an
// unencrypted catalog of everything a link does not carry (directories,
// symlinks, fifos, owners by name, the profile table; docs/format.md
// "Hard-link store"). No file data is read or copied, except for files
// that cannot be linked (another filesystem): those are copied into the
// store with a note, or are errors under HardLinkFallback::kError. The
// store's directories are made read-only at the end. It too appears only
// when complete: it is built under a temporary name beside store_path.
//
// Errors with single files (unreadable, changed while read) follow
// `continue_on_error`: off, the capture stops at the first and returns
// Stopped (exit 61) with no store; on, each is reported to the observer and
// in the report, the file is left out, and the capture completes (exit 3).
//
// Thread safety: Capture may run concurrently with itself on different
// stores. It calls its observer from one thread at a time (never
// concurrently), but not always the caller's thread.

#ifndef MIGSTORE_CAPTURE_H_
#define MIGSTORE_CAPTURE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "migstore/file_issue.h"
#include "migstore/key.h"
#include "migstore/profiles.h"
#include "migstore/progress.h"
#include "migstore/result.h"
#include "migstore/user_selection.h"

namespace migstore {

// What a hard-link capture does with a file it cannot link into the store
// (it lies on another filesystem, or has as many links as its filesystem
// allows).
enum class HardLinkFallback : uint8_t {
  kCopy,   // copy it into the store, with a note (USMT's master store)
  kError,  // an error for the per-file policy
};

// What seals the blocks of an encrypted store (docs/format.md "Block
// frame"; docs/security.md has the nonce argument for both).
enum class Cipher : uint8_t {
  kXChaCha20Poly1305,  // the default: every migstore build reads it
  // Required feature bit 2: builds from before it refuse the store
  // (UnsupportedVersion) instead of reading it.
  kAes256Gcm,
};
// "xchacha20-poly1305" or "aes-256-gcm", as --cipher spells them.
const char* CipherName(Cipher cipher);
// The cipher a name of CipherName's names; anything else is
// InvalidArgument.
Result<Cipher> ParseCipher(std::string_view name);

// What to capture and how. A default-constructed value plus store_path and
// key (or encrypt = false) is a complete capture of "/" with the built-in
// rules. The C API's migstore_capture_options (migstore.h) maps onto it.
struct CaptureOptions {
  // The machine's root: "/" or a mounted old disk (an offline capture).
  std::string root = "/";
  std::optional<Layout> layout;  // unset: detected from the root
  // Native rules files or USMT migration XML (rules.h); none: the built-in
  // rules for the layout.
  std::vector<std::string> rules_files;
  std::string config_file;  // USMT Config.xml; "" for none
  UserSelection users;      // which profiles are taken (user_selection.h)

  // The store file to write; it appears only when the capture succeeds.
  std::string store_path;
  // Refuse to start (NoSpace, exit 29) when the store's filesystem has less
  // free space than this; 0: no check. Not for s3:// stores.
  uint64_t min_free_bytes = 0;
  // Encrypted with `key` unless encrypt is false. An encrypted capture
  // without a key is InvalidArgument: encryption is only ever turned off
  // by saying so.
  Key key;
  bool encrypt = true;
  // What seals the blocks; unset: XChaCha20-Poly1305. Set without a key
  // (--no-encrypt, a hard-link store, or no key given) it is
  // InvalidArgument: only an encrypted store has a cipher.
  std::optional<Cipher> cipher;
  bool overwrite = false;  // replace an existing store (else AlreadyExists)
  // An incremental capture: a previous container store of this root (a
  // local file or s3://, opened with `key`), whose unchanged files (same
  // path, size, modification and change times) are taken over without
  // being read (docs/design.md, "Incremental capture"). The new store
  // stands alone: the base may be deleted afterwards. May name store_path
  // itself, with overwrite. Not for hard-link stores.
  std::string base_store;
  // With base_store: a file whose mtime or ctime is less than this before
  // the base's capture began is read again, not taken over. A minute
  // covers a write through a shared mapping, which moves the mtime only on
  // the first write after each writeback (dirty pages are written back
  // within about 35 s), as well as coarse clocks. Tests and benchmarks
  // that make their trees just before lower it.
  int64_t base_settle_ns = int64_t{60} * 1'000'000'000;
  // A container capture plans and packs its files this many walked
  // entries at a time, letting each window's entries go once they are
  // stored, so its memory does not hold every entry to the end
  // (docs/design.md, "Bounded memory"); its walk holds about as many
  // between its threads and sorts the rest through a scratch file, and an
  // incremental capture sorts the base's files as many at a time. Files
  // with hard links and large files are kept for a last window of their
  // own (their groups and duplicates span the tree). Tests lower it; 0 is
  // InvalidArgument.
  size_t window_entries = 65536;
  // Entries per catalog segment, the unit a restore reads and windows by
  // (format::WriterOptions::catalog_segment_entries). Tests lower it to
  // make stores of many segments from few files; 0 or above
  // format::limits::kMaxEntriesPerSegment is InvalidArgument.
  size_t catalog_segment_entries = 4096;
  // Memory for the table that finds small files stored twice (24 bytes a
  // distinct file, in two generations): past about 3/8 of what it holds,
  // the oldest are forgotten, and a copy of a file forgotten is stored
  // again (docs/design.md, "Bounded memory"). The default remembers at
  // least 393,216 files. At least 48 KiB, else InvalidArgument.
  size_t dedup_memory = size_t{24} << 20;
  // A hard-link store at store_path (a directory) instead of a container.
  // It cannot be encrypted: a key is InvalidArgument, and `encrypt`,
  // `level`, `compress` and `block_size` do not apply. With `overwrite`,
  // only an existing hard-link store is replaced, never anything else.
  bool hardlink = false;
  HardLinkFallback hardlink_fallback = HardLinkFallback::kCopy;

  bool continue_on_error = false;
  bool cross_mounts = false;  // cross mount points below profile homes
  // Enter no mount point whose filesystem is on the network or removable
  // (ScanState /localonly); each one left out is a note.
  bool local_only = false;
  // Run the command lines of the rules' <externalProcess> steps (pre-scan,
  // scan-success, post-scan; docs/rules.md, "Processing"). Off, each is a
  // note: a rules file must not run commands on its own.
  bool allow_processing = false;
  int threads = 0;  // 0: one per core
  int level = 3;    // zstd level
  bool compress = true;
  size_t block_size = size_t{4} << 20;
  // Argon2id cost for password stores: 0 means the default (3 passes,
  // 256 MiB). Lower only for tests.
  uint64_t kdf_opslimit = 0;
  uint64_t kdf_memlimit = 0;
};

using CaptureProgress = Progress;

struct CaptureUser;

// What a capture tells its caller while it runs. Override what you need;
// every method has a default that does nothing. Called from one thread at a
// time, not always the caller's; a method must return quickly (workers may
// wait for it).
class CaptureObserver {
 public:
  virtual ~CaptureObserver() = default;
  // The profiles found and whether each is selected, once, before the walk.
  virtual void OnUsers(const std::vector<CaptureUser>& /*users*/) {}
  // Often (a few times a second at most, and at each phase change).
  virtual void OnProgress(const CaptureProgress& /*progress*/) {}
  // A file that could not be captured: skipped (continue_on_error) or the
  // one the capture stopped at.
  virtual void OnFileError(const FileIssue& /*issue*/) {}
  // Something left out on purpose.
  virtual void OnNote(const FileNote& /*note*/) {}
  // Each entry as it is put in the store (for --list-files).
  virtual void OnEntryStored(const std::string& /*path*/) {}
  // Polled; true stops the capture (Cancelled, exit 2) with no store.
  virtual bool ShouldCancel() { return false; }
};

struct CaptureUser {
  std::string name;
  std::string home;
  bool selected = false;
  std::string reason;
};

struct CaptureReport {
  std::string store_path;
  std::string root;
  std::string layout;  // "linux" or "windows"
  std::vector<CaptureUser> users;
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t fifos = 0;
  uint64_t bytes = 0;            // logical bytes of the files captured
  uint64_t duplicate_files = 0;  // stored once, found again
  uint64_t duplicate_bytes = 0;
  uint64_t hardlinked_files = 0;  // files that share an inode with another
  uint64_t sparse_files = 0;
  uint64_t stored_bytes = 0;  // distinct file bytes put in the store
  uint64_t store_size = 0;    // bytes of the store file
  // Incremental captures (CaptureOptions::base_store): files taken over
  // from the base without being read, and their logical bytes (counted in
  // files and bytes too); files the base held unchanged but that were read
  // again because their blocks were mostly dead or damaged.
  uint64_t base_files = 0;
  uint64_t base_bytes = 0;
  uint64_t base_files_read_again = 0;
  // Settings taken from the root's offline registry hives (Windows roots
  // with registry rules): keys, and values.
  uint64_t registry_keys = 0;
  uint64_t registry_values = 0;
  // Hard-link stores: files linked, and files copied because they could not
  // be (their bytes are stored_bytes); store_size is the catalog's size
  // plus the bytes copied.
  bool hardlink = false;
  uint64_t linked_files = 0;
  uint64_t copied_files = 0;
  std::vector<FileIssue> errors;  // files left out (continue_on_error)
  std::vector<FileNote> notes;
  std::vector<std::string> rule_diagnostics;
  double seconds = 0;
};

// Captures. Errors: InvalidArgument (options, rules), AlreadyExists (store
// exists, no overwrite; with overwrite, a hard-link capture over something
// that is not a hard-link store), KeyUnreadable, IOError (root, store),
// Stopped
// (first file error without continue_on_error), Cancelled.
Result<CaptureReport> Capture(const CaptureOptions& options,
                              CaptureObserver* observer = nullptr);

// USMT's /p: the same selection, nothing written.
struct EstimateReport {
  std::vector<CaptureUser> users;
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t fifos = 0;
  uint64_t bytes = 0;            // logical bytes of the files
  uint64_t data_bytes = 0;       // without holes, hard links counted once
  uint64_t sampled_bytes = 0;    // bytes compressed to estimate the ratio
  double compression_ratio = 1;  // stored / sampled, from the sample
  uint64_t estimated_store_size = 0;
  std::vector<FileIssue> errors;
  std::vector<FileNote> notes;
  std::vector<std::string> rule_diagnostics;
  double seconds = 0;
};

Result<EstimateReport> Estimate(const CaptureOptions& options,
                                CaptureObserver* observer = nullptr);

}  // namespace migstore

#endif  // MIGSTORE_CAPTURE_H_
