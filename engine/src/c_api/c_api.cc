// The C API (migstore.h) over the C++ one: options structs are read by the
// struct_size rule (sized_struct.h), turned into the C++ options, run, and
// the Status that comes back becomes the command's exit code and a message.
// No exception crosses into C: every entry point catches them all.

#include "migstore/migstore.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/src/c_api/sized_struct.h"
#include "migstore/build_info.h"
#include "migstore/capture.h"
#include "migstore/exit_codes.h"
#include "migstore/extract.h"
#include "migstore/key.h"
#include "migstore/listing.h"
#include "migstore/restore.h"
#include "migstore/smp.h"
#include "migstore/verify.h"

struct migstore_cancel {
  std::atomic<bool> raised{false};
};

struct migstore_key {
  migstore::Key key;
};

struct migstore_smp {
  migstore::SmpClient client;
  std::string warning;  // the token file's, as a key's (migstore_smp_warning)
};

namespace migstore::c_api {
namespace {

static_assert(std::atomic<bool>::is_always_lock_free,
              "migstore_cancel_request must be async-signal-safe");

// The C codes are the command's exit codes, number for number.
static_assert(MIGSTORE_OK == static_cast<int>(ExitCode::kSuccess));
static_assert(MIGSTORE_CANCELLED == static_cast<int>(ExitCode::kCancelled));
static_assert(MIGSTORE_DONE_WITH_ERRORS ==
              static_cast<int>(ExitCode::kDoneWithErrors));
static_assert(MIGSTORE_INVALID_ARGUMENTS ==
              static_cast<int>(ExitCode::kInvalidArguments));
static_assert(MIGSTORE_USE_LAC == static_cast<int>(ExitCode::kUseLac));
static_assert(MIGSTORE_INVALID_STORE ==
              static_cast<int>(ExitCode::kInvalidStore));
static_assert(MIGSTORE_KEY_UNREADABLE ==
              static_cast<int>(ExitCode::kKeyUnreadable));
static_assert(MIGSTORE_FAILED_STARTUP ==
              static_cast<int>(ExitCode::kFailedStartup));
static_assert(MIGSTORE_WRONG_KEY == static_cast<int>(ExitCode::kWrongKey));
static_assert(MIGSTORE_CORRUPTED_STORE ==
              static_cast<int>(ExitCode::kCorruptedStore));
static_assert(MIGSTORE_STOPPED_ON_ERROR ==
              static_cast<int>(ExitCode::kStoppedOnError));
static_assert(MIGSTORE_FATAL == static_cast<int>(ExitCode::kFatal));
static_assert(MIGSTORE_INTERNAL == static_cast<int>(ExitCode::kInternal));

// A malloc'd copy for the caller to migstore_free; null when out of memory.
char* CopyOut(std::string_view text) {
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) return nullptr;
  std::memcpy(p, text.data(), text.size());
  p[text.size()] = '\0';
  return p;
}

void SetMessage(char** errmsg, std::string_view text) {
  if (errmsg != nullptr) *errmsg = text.empty() ? nullptr : CopyOut(text);
}

int Finish(char** errmsg, const Status& s) {
  SetMessage(errmsg, s.ok() ? std::string() : s.ToString());
  return static_cast<int>(ExitCodeFor(s));
}

// Runs `body` (which returns a code and sets *errmsg itself) with every
// exception turned into a code: none may unwind into a C caller.
template <typename Body>
int Guarded(char** errmsg, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    SetMessage(errmsg, "I/O error: out of memory");
    return MIGSTORE_FATAL;
  } catch (const std::exception& e) {
    SetMessage(errmsg, std::string("Internal: ") + e.what());
    return MIGSTORE_INTERNAL;
  } catch (...) {
    SetMessage(errmsg, "Internal: an unknown exception");
    return MIGSTORE_INTERNAL;
  }
}

// A run that finished: 0, or 3 with a message when it skipped files.
int Completed(char** errmsg, size_t skipped, const char* what) {
  if (skipped == 0) return Finish(errmsg, Status::OK());
  SetMessage(errmsg, std::to_string(skipped) + " " + what +
                         " skipped; the file-error callback named them");
  return MIGSTORE_DONE_WITH_ERRORS;
}

Result<std::vector<std::string>> Strings(const char* const* v, size_t n,
                                         const char* what) {
  std::vector<std::string> out;
  if (n == 0) return out;
  if (v == nullptr) return Status::InvalidArgument(what, "is NULL");
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (v[i] == nullptr) {
      return Status::InvalidArgument(what, "holds a NULL string");
    }
    out.emplace_back(v[i]);
  }
  return out;
}

Result<std::string> Required(const char* s, const char* what) {
  if (s == nullptr || *s == '\0')
    return Status::InvalidArgument(what, "is required");
  return std::string(s);
}

Key KeyOf(const migstore_key* key) { return key ? key->key : Key(); }

// table[value] for a C enum field whose values are 0, 1, 2...
template <typename E, size_t N>
Result<E> FromTable(int value, const E (&table)[N], const char* field) {
  if (value < 0 || static_cast<size_t>(value) >= N) {
    return Status::InvalidArgument(
        field, std::to_string(value) + " is not one of its enum's values");
  }
  return table[value];
}

Result<int> Threads(int threads) {
  if (threads < 0) return Status::InvalidArgument("threads is negative");
  return threads;
}

// A last_used option ("DAYS", "YYYY-MM-DD"...) with its days counted back
// from now; none for NULL or "".
Result<std::optional<LastUsed>> LastUsedOf(const char* text) {
  if (text == nullptr || *text == '\0') return std::optional<LastUsed>();
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  MIGSTORE_ASSIGN_OR_RETURN(LastUsed last_used, ParseLastUsed(text, now));
  return std::optional<LastUsed>(std::move(last_used));
}

// Zeroes every byte of a string's buffer, not only its size()'s, then
// empties it.
void WipeString(std::string* s) {
  s->resize(s->capacity());  // within the buffer: never reallocates
  sodium_memzero(s->data(), s->size());
  s->clear();
}

// What a run's C++ options hold of a secret the caller passed as a C
// string, zeroed when the run is done (Run): a restore's account password.
// Keys live in the library's locked memory instead (migstore_key).
template <typename Options>
struct WipeSecretsOnReturn {
  Options* o;
  ~WipeSecretsOnReturn() {
    if constexpr (std::is_same_v<Options, RestoreOptions>) {
      WipeString(&o->account_password);
    }
  }
};

// The callbacks every run takes, behind the C++ observer interfaces.
struct Callbacks {
  migstore_progress_fn on_progress = nullptr;
  migstore_file_error_fn on_file_error = nullptr;
  void* user_data = nullptr;
  migstore_cancel* cancel = nullptr;

  template <typename Options>
  static Callbacks Of(const Options& o) {
    return {o.on_progress, o.on_file_error, o.user_data, o.cancel};
  }

  void Progress(const migstore::Progress& p) const {
    if (on_progress == nullptr) return;
    migstore_progress c{};
    c.struct_size = sizeof(c);
    c.phase = p.phase;
    c.files_done = p.files_done;
    c.files_total = p.files_total;
    c.bytes_done = p.bytes_done;
    c.bytes_total = p.bytes_total;
    c.seconds = p.seconds;
    on_progress(user_data, &c);
  }
  void FileError(const std::string& path, const Status& s) const {
    if (on_file_error == nullptr) return;
    on_file_error(user_data, path.c_str(), static_cast<int>(ExitCodeFor(s)),
                  s.ToString().c_str());
  }
  bool Cancelled() const {
    return cancel != nullptr && cancel->raised.load(std::memory_order_relaxed);
  }
};

// The C callbacks behind a C++ observer interface (CaptureObserver or
// RestoreObserver).
template <typename Base>
class CObserver : public Base {
 public:
  explicit CObserver(Callbacks cb) : cb_(cb) {}
  void OnProgress(const Progress& p) override { cb_.Progress(p); }
  void OnFileError(const FileIssue& i) override {
    cb_.FileError(i.path, i.status);
  }
  bool ShouldCancel() override { return cb_.Cancelled(); }

 protected:
  Callbacks cb_;
};

class CRestoreObserver final : public CObserver<RestoreObserver> {
 public:
  using CObserver::CObserver;
  // Verify's damaged files (it runs in VerifyMode::kFailures).
  void OnVerified(const std::string& path, const Status& s) override {
    if (!s.ok()) cb_.FileError(path, s);
  }
};

// The C observer each run's C++ options go with: a capture's, or the
// RestoreObserver that restore, extract and verify share.
template <typename Options>
struct CObserverFor {
  using type = CRestoreObserver;
};
template <>
struct CObserverFor<CaptureOptions> {
  using type = CObserver<CaptureObserver>;
};

// Zeroes a secret the caller handed over in its own memory (a password, a
// key's secret, a token) when the call returns, whatever happened.
struct ZeroOnReturn {
  void* p;
  size_t n;
  ~ZeroOnReturn() {
    if (p != nullptr && n != 0) sodium_memzero(p, n);
  }
};

// Fills *key from `make`, zeroing the caller's buffer whatever happens.
template <typename Make>
int KeyFromBuffer(void* buffer, size_t size, migstore_key** key, char** errmsg,
                  Make make) {
  ZeroOnReturn zero{buffer, size};
  if (key == nullptr) {
    return Finish(errmsg, Status::InvalidArgument("key out-pointer is NULL"));
  }
  *key = nullptr;
  if (buffer == nullptr || size == 0) {
    return Finish(errmsg, Status::InvalidArgument("the key buffer is empty"));
  }
  Result<Key> made =
      make(std::string_view(static_cast<const char*>(buffer), size));
  if (!made.ok()) return Finish(errmsg, made.status());
  *key = new migstore_key{std::move(made).value()};
  return Finish(errmsg, Status::OK());
}

int KeyFromPath(const char* path, migstore_key** key, char** errmsg,
                Result<Key> (*make)(const std::string&)) {
  if (key == nullptr) {
    return Finish(errmsg, Status::InvalidArgument("key out-pointer is NULL"));
  }
  *key = nullptr;
  Result<std::string> p = Required(path, "the key path");
  if (!p.ok()) return Finish(errmsg, p.status());
  Result<Key> made = make(*p);
  if (!made.ok()) return Finish(errmsg, made.status());
  *key = new migstore_key{std::move(made).value()};
  return Finish(errmsg, Status::OK());
}

// What a capture takes and how: everything but where the store goes and
// its key, which migstore_capture's caller gives (ToCapture) and a state
// migration point makes (ToSmpCapture).
Status ToCaptureRun(const migstore_capture_options& c, CaptureOptions* o) {
  if (c.root != nullptr) o->root = c.root;
  if (c.layout != nullptr) {
    MIGSTORE_ASSIGN_OR_RETURN(o->layout, ParseLayout(c.layout));
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      o->rules_files,
      Strings(c.rules_files, c.rules_files_count, "rules_files"));
  if (c.config_file != nullptr) o->config_file = c.config_file;
  MIGSTORE_ASSIGN_OR_RETURN(
      o->users.include,
      Strings(c.users_include, c.users_include_count, "users_include"));
  MIGSTORE_ASSIGN_OR_RETURN(
      o->users.exclude,
      Strings(c.users_exclude, c.users_exclude_count, "users_exclude"));
  MIGSTORE_ASSIGN_OR_RETURN(o->users.last_used, LastUsedOf(c.last_used));
  o->continue_on_error = c.continue_on_error != 0;
  o->cross_mounts = c.cross_mounts != 0;
  o->local_only = c.local_only != 0;
  o->allow_processing = c.allow_processing != 0;
  MIGSTORE_ASSIGN_OR_RETURN(o->threads, Threads(c.threads));
  if (c.level != 0) o->level = c.level;
  o->compress = c.no_compress == 0;
  o->hardlink = c.hardlink != 0;
  o->hardlink_fallback = c.hardlink_fallback_error != 0
                             ? HardLinkFallback::kError
                             : HardLinkFallback::kCopy;
  if (c.cipher != nullptr && *c.cipher != '\0') {
    MIGSTORE_ASSIGN_OR_RETURN(o->cipher, ParseCipher(c.cipher));
  }
  return Status::OK();
}

Status ToCapture(const migstore_capture_options& c, CaptureOptions* o) {
  MIGSTORE_ASSIGN_OR_RETURN(o->store_path,
                            Required(c.store_path, "store_path"));
  o->key = KeyOf(c.key);
  o->encrypt = c.no_encrypt == 0;
  if (!o->encrypt && c.key != nullptr) {
    return Status::InvalidArgument("no_encrypt is set and a key is given");
  }
  o->overwrite = c.overwrite != 0;
  if (c.base_store != nullptr) o->base_store = c.base_store;
  o->min_free_bytes = c.min_free_bytes;
  o->kdf_opslimit = c.kdf_opslimit;
  o->kdf_memlimit = c.kdf_memlimit;
  return ToCaptureRun(c, o);
}

// The state migration point makes the store and its key: a caller that
// names either expects something else to happen, and is told so. (The C++
// client sets store_path, key, encrypt and overwrite itself.)
Status ToSmpCapture(const migstore_capture_options& c, CaptureOptions* o) {
  if (c.store_path != nullptr || c.key != nullptr || c.no_encrypt != 0) {
    return Status::InvalidArgument(
        "the state migration point makes and keeps the store and its key: "
        "store_path and key must be NULL and no_encrypt 0");
  }
  if (c.base_store != nullptr && *c.base_store != '\0') {
    return Status::InvalidArgument(
        "base_store: the state migration point does not make incremental "
        "stores");
  }
  return ToCaptureRun(c, o);
}

// The reader's key policy: the same three fields in every reading run's
// options.
template <typename COptions>
KeyPolicy KeyPolicyOf(const COptions& c) {
  KeyPolicy p;
  p.allow_unencrypted = c.allow_unencrypted != 0;
  p.max_kdf_passes = c.max_kdf_passes;
  p.max_kdf_memory = c.max_kdf_memory;
  return p;
}

// What a restore does with a store: everything but the store and its key,
// which migstore_restore's caller gives (ToRestore) and a state migration
// point hands over (ToSmpRestore).
Status ToRestoreRun(const migstore_restore_options& c, RestoreOptions* o) {
  MIGSTORE_ASSIGN_OR_RETURN(o->target, Required(c.target, "target"));
  o->key_policy = KeyPolicyOf(c);
  MIGSTORE_ASSIGN_OR_RETURN(
      std::vector<std::string> maps,
      Strings(c.map_users, c.map_users_count, "map_users"));
  for (const std::string& m : maps) {
    MIGSTORE_ASSIGN_OR_RETURN(UserMapping mapping, ParseUserMapping(m));
    o->map_users.push_back(std::move(mapping));
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      std::vector<std::string> domains,
      Strings(c.map_domains, c.map_domains_count, "map_domains"));
  for (const std::string& m : domains) {
    MIGSTORE_ASSIGN_OR_RETURN(DomainMapping mapping, ParseDomainMapping(m));
    o->map_domains.push_back(std::move(mapping));
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      o->users.include,
      Strings(c.users_include, c.users_include_count, "users_include"));
  MIGSTORE_ASSIGN_OR_RETURN(
      o->users.exclude,
      Strings(c.users_exclude, c.users_exclude_count, "users_exclude"));
  MIGSTORE_ASSIGN_OR_RETURN(o->users.last_used, LastUsedOf(c.last_used));
  if (o->users.last_used &&
      o->users.last_used->kind == LastUsed::Kind::kLoggedOnNow) {
    return Status::InvalidArgument(
        "last_used \"0\" (logged on now) means nothing for a store");
  }
  // Indexed by enum migstore_conflict.
  static constexpr ConflictPolicy kPolicies[] = {
      ConflictPolicy::kRename, ConflictPolicy::kOverwrite,
      ConflictPolicy::kSkip, ConflictPolicy::kNewer};
  static_assert(MIGSTORE_CONFLICT_NEWER == 3);
  MIGSTORE_ASSIGN_OR_RETURN(o->on_conflict,
                            FromTable(c.on_conflict, kPolicies, "on_conflict"));
  MIGSTORE_ASSIGN_OR_RETURN(
      o->rules_files,
      Strings(c.rules_files, c.rules_files_count, "rules_files"));
  if (c.config_file != nullptr) o->config_file = c.config_file;
  o->machine_settings = c.machine_settings != 0;
  o->min_free_bytes = c.min_free_bytes;
  o->dry_run = c.dry_run != 0;
  o->continue_on_error = c.continue_on_error != 0;
  o->allow_processing = c.allow_processing != 0;
  MIGSTORE_ASSIGN_OR_RETURN(o->threads, Threads(c.threads));
  o->strip_privileges = c.strip_privileges != 0;
  o->create_accounts = c.create_accounts != 0;
  o->enable_accounts = c.enable_accounts != 0;
  // Last, and zeroed by Run whatever happens (WipeSecretsOnReturn).
  if (c.account_password != nullptr) o->account_password = c.account_password;
  return Status::OK();
}

Status ToRestore(const migstore_restore_options& c, RestoreOptions* o) {
  MIGSTORE_ASSIGN_OR_RETURN(o->store_path,
                            Required(c.store_path, "store_path"));
  o->key = KeyOf(c.key);
  return ToRestoreRun(c, o);
}

Status ToSmpRestore(const migstore_restore_options& c, RestoreOptions* o) {
  if (c.store_path != nullptr || c.key != nullptr) {
    return Status::InvalidArgument(
        "the state migration point hands over the store and its key: "
        "store_path and key must be NULL");
  }
  return ToRestoreRun(c, o);
}

Status ToExtract(const migstore_extract_options& c, ExtractOptions* o) {
  MIGSTORE_ASSIGN_OR_RETURN(o->store_path,
                            Required(c.store_path, "store_path"));
  MIGSTORE_ASSIGN_OR_RETURN(o->to, Required(c.to, "to"));
  o->key = KeyOf(c.key);
  o->key_policy = KeyPolicyOf(c);
  MIGSTORE_ASSIGN_OR_RETURN(o->include,
                            Strings(c.include, c.include_count, "include"));
  MIGSTORE_ASSIGN_OR_RETURN(o->exclude,
                            Strings(c.exclude, c.exclude_count, "exclude"));
  o->overwrite = c.overwrite != 0;
  o->continue_on_error = c.continue_on_error != 0;
  MIGSTORE_ASSIGN_OR_RETURN(o->threads, Threads(c.threads));
  return Status::OK();
}

Status ToVerify(const migstore_verify_options& c, VerifyOptions* o) {
  MIGSTORE_ASSIGN_OR_RETURN(o->store_path,
                            Required(c.store_path, "store_path"));
  o->key = KeyOf(c.key);
  o->key_policy = KeyPolicyOf(c);
  // Indexed by enum migstore_verify_mode. A summary is kFailures: counts,
  // plus each damaged file for on_file_error.
  static constexpr VerifyMode kModes[] = {VerifyMode::kFailures,
                                          VerifyMode::kCatalog};
  static_assert(MIGSTORE_VERIFY_CATALOG == 1);
  MIGSTORE_ASSIGN_OR_RETURN(o->mode, FromTable(c.mode, kModes, "mode"));
  MIGSTORE_ASSIGN_OR_RETURN(o->threads, Threads(c.threads));
  return Status::OK();
}

Status ToList(const migstore_list_options& c, std::string* store_path) {
  MIGSTORE_ASSIGN_OR_RETURN(*store_path, Required(c.store_path, "store_path"));
  return Status::OK();
}

// Where each struct's first version ends: the least struct_size accepted.
// These stay put when fields are appended.
template <typename T>
inline constexpr size_t kV1End = 0;
#define MIGSTORE_C_V1(type, last_field) \
  template <>                           \
  inline constexpr size_t kV1End<type> = MIGSTORE_C_V1_END(type, last_field)
MIGSTORE_C_V1(migstore_capture_options, cancel);
MIGSTORE_C_V1(migstore_capture_result, seconds);
MIGSTORE_C_V1(migstore_restore_options, cancel);
MIGSTORE_C_V1(migstore_extract_options, cancel);
MIGSTORE_C_V1(migstore_restore_result, seconds);
MIGSTORE_C_V1(migstore_verify_options, cancel);
MIGSTORE_C_V1(migstore_verify_result, seconds);
MIGSTORE_C_V1(migstore_list_options, user_data);
MIGSTORE_C_V1(migstore_list_result, users);
MIGSTORE_C_V1(migstore_smp_options, retry_delay_seconds);
#undef MIGSTORE_C_V1

// Everything a run does before it starts: reads the options and checks the
// result struct by the struct_size rule, converts the options, and zeroes
// the caller's result (but for its struct_size) so a failure leaves no stale
// numbers in it.
template <typename COptions, typename CResult, typename Options>
Status Prepare(const COptions* in, CResult* result, std::string_view name,
               Status (*convert)(const COptions&, Options*), COptions* c,
               Options* o) {
  static_assert(kV1End<COptions> != 0 && kV1End<CResult> != 0);
  Status s = ReadSized(in, kV1End<COptions>, std::string(name) + " options", c);
  if (s.ok()) {
    s = CheckResultSize(result, kV1End<CResult>, std::string(name) + " result");
  }
  if (s.ok()) s = convert(*c, o);
  WriteSized(CResult{}, result);
  return s;
}

// One run through the C API: options read and converted (Prepare), the C++
// run (`run(options, observer)`: migstore::Capture, or a state migration
// point's step) with the callbacks behind its observer, then `done` turns
// its report into the caller's result struct and the code.
template <typename COptions, typename CResult, typename Options,
          typename Report, typename RunFn>
int Run(const COptions* options, CResult* result, char** errmsg,
        std::string_view name, Status (*convert)(const COptions&, Options*),
        RunFn run, int (*done)(const Report&, CResult*, char**)) {
  COptions c;
  Options o;
  WipeSecretsOnReturn<Options> wipe{&o};
  Status s = Prepare(options, result, name, convert, &c, &o);
  if (!s.ok()) return Finish(errmsg, s);
  typename CObserverFor<Options>::type observer(Callbacks::Of(c));
  Result<Report> report = run(o, &observer);
  if (!report.ok()) return Finish(errmsg, report.status());
  return done(*report, result, errmsg);
}

int CaptureDone(const CaptureReport& report, migstore_capture_result* result,
                char** errmsg) {
  migstore_capture_result r{};
  r.files = report.files;
  r.directories = report.directories;
  r.symlinks = report.symlinks;
  r.bytes = report.bytes;
  r.duplicate_files = report.duplicate_files;
  r.stored_bytes = report.stored_bytes;
  r.store_size = report.store_size;
  r.files_skipped = report.errors.size();
  for (const CaptureUser& u : report.users)
    r.users_selected += u.selected ? 1 : 0;
  r.seconds = report.seconds;
  r.linked_files = report.linked_files;
  r.copied_files = report.copied_files;
  r.registry_keys = report.registry_keys;
  r.registry_values = report.registry_values;
  r.base_files = report.base_files;
  r.base_bytes = report.base_bytes;
  r.base_files_read_again = report.base_files_read_again;
  WriteSized(r, result);
  return Completed(errmsg, report.errors.size(), "files");
}

// Restore and extract.
int RestoreDone(const RestoreReport& report, migstore_restore_result* result,
                char** errmsg) {
  migstore_restore_result r{};
  r.files = report.files;
  r.directories = report.directories;
  r.symlinks = report.symlinks;
  r.hardlinks = report.hardlinks;
  r.bytes = report.bytes;
  r.renamed = report.renamed;
  r.overwritten = report.overwritten;
  r.skipped = report.skipped;
  r.identical = report.identical;
  r.files_failed = report.errors.size();
  r.seconds = report.seconds;
  r.registry_keys = report.registry_keys;
  r.registry_values = report.registry_values;
  WriteSized(r, result);
  return Completed(errmsg, report.errors.size(), "entries");
}

// Damage is in the report, and makes the code 42.
int VerifyDone(const VerifyReport& report, migstore_verify_result* result,
               char** errmsg) {
  migstore_verify_result r{};
  r.entries = report.entries;
  r.files = report.files;
  r.files_intact = report.files_intact;
  r.files_damaged = report.files_damaged;
  r.catalog_intact = report.catalog_intact ? 1 : 0;
  r.entries_lost = report.entries_lost;
  r.seconds = report.seconds;
  WriteSized(r, result);
  if (report.intact()) return Finish(errmsg, Status::OK());
  return Finish(errmsg,
                Status::Corruption(
                    std::to_string(report.files_damaged) + " files damaged" +
                    (report.catalog_intact ? "" : "; the catalog is damaged")));
}

// --- a state migration point ----------------------------------------------

// A name or id the caller may have left NULL, for the client to refuse as
// empty.
std::string OrEmpty(const char* s) { return s != nullptr ? s : ""; }

// *out set to a copy of `text` the caller frees.
Status CopyOutTo(std::string_view text, char** out) {
  *out = CopyOut(text);
  return *out != nullptr ? Status::OK() : Status::IOError("out of memory");
}

Status ToSmpConnection(const migstore_smp_options& c, SmpConnection* o,
                       std::string* warning) {
  MIGSTORE_ASSIGN_OR_RETURN(o->server, Required(c.server, "server"));
  if (c.ca_file != nullptr) o->ca_file = c.ca_file;
  // Zero keeps the task-sequence step's defaults; negative means none.
  if (c.retry_count != 0) o->retry_count = std::max(c.retry_count, 0);
  if (c.retry_delay_seconds != 0) {
    o->retry_delay_seconds = std::max(c.retry_delay_seconds, 0);
  }
  const bool from_file = c.token_file != nullptr && *c.token_file != '\0';
  const bool from_buffer = c.token != nullptr || c.token_size != 0;
  if (from_file == from_buffer) {
    return Status::InvalidArgument(
        "give the token in token_file or in token and token_size, one of the "
        "two");
  }
  // The token last, so that no refusal of another field leaves it behind
  // in *o (SmpClient::Connect wipes the copy it is given).
  if (from_file) {
    MIGSTORE_ASSIGN_OR_RETURN(o->token,
                              ReadSmpTokenFile(c.token_file, warning));
  } else {
    if (c.token == nullptr || c.token_size == 0) {
      return Status::InvalidArgument("token is NULL or token_size is 0");
    }
    o->token.assign(static_cast<const char*>(c.token), c.token_size);
  }
  return Status::OK();
}

// A call on a state migration point's handle, which must not be NULL.
// `body(client)` returns the code, or a Status that becomes it.
template <typename Body>
int OnSmp(migstore_smp* smp, char** errmsg, Body&& body) {
  return Guarded(errmsg, [&] {
    if (smp == nullptr) {
      return Finish(errmsg,
                    Status::InvalidArgument("the migstore_smp handle is NULL"));
    }
    auto done = body(smp->client);
    if constexpr (std::is_same_v<decltype(done), int>) {
      return done;
    } else {
      return Finish(errmsg, done);
    }
  });
}

// A task-sequence step with a store through the C API: Run, with the
// client's step (SmpClient::Capture or Restore) in place of the local run.
// *store_id, when wanted, is set on every return: to the store's id when
// the step completed, else to NULL.
template <typename COptions, typename CResult, typename Options,
          typename Report, typename ObserverBase>
int SmpRun(migstore_smp* smp, const COptions* options, CResult* result,
           char** store_id, char** errmsg, std::string_view name,
           Status (*convert)(const COptions&, Options*),
           Result<Report> (SmpClient::*step)(Options, ObserverBase*, SmpStore*),
           int (*done)(const Report&, CResult*, char**)) {
  if (store_id != nullptr) *store_id = nullptr;
  return OnSmp(smp, errmsg, [&](SmpClient& client) {
    SmpStore store;
    const int code = Run(
        options, result, errmsg, name, convert,
        [&](const Options& o, ObserverBase* observer) {
          return (client.*step)(o, observer, &store);
        },
        done);
    if (store_id != nullptr &&
        (code == MIGSTORE_OK || code == MIGSTORE_DONE_WITH_ERRORS)) {
      *store_id = CopyOut(store.id);
    }
    return code;
  });
}

}  // namespace
}  // namespace migstore::c_api

using migstore::Status;
using namespace migstore::c_api;  // NOLINT: this file is their one user

extern "C" {

const char* migstore_version(void) { return migstore::Version(); }

int migstore_c_api_version(void) { return MIGSTORE_C_API_VERSION; }

const char* migstore_code_name(int code) {
  switch (code) {
    case MIGSTORE_OK:
      return "ok";
    case MIGSTORE_CANCELLED:
      return "cancelled";
    case MIGSTORE_DONE_WITH_ERRORS:
      return "done with errors";
    case MIGSTORE_INVALID_ARGUMENTS:
      return "invalid arguments";
    case MIGSTORE_USE_LAC:
      return "local account missing";
    case MIGSTORE_INVALID_STORE:
      return "invalid store";
    case MIGSTORE_KEY_UNREADABLE:
      return "key unreadable";
    case MIGSTORE_FAILED_STARTUP:
      return "not enough free space";
    case MIGSTORE_WRONG_KEY:
      return "wrong key";
    case MIGSTORE_CORRUPTED_STORE:
      return "corrupted store";
    case MIGSTORE_STOPPED_ON_ERROR:
      return "stopped on error";
    case MIGSTORE_FATAL:
      return "fatal";
    case MIGSTORE_INTERNAL:
      return "internal error";
    default:
      return "unknown";
  }
}

void migstore_free(void* ptr) { std::free(ptr); }

void migstore_free_secret(char* secret) {
  if (secret == nullptr) return;
  sodium_memzero(secret, std::strlen(secret));
  std::free(secret);
}

migstore_cancel* migstore_cancel_create(void) {
  return new (std::nothrow) migstore_cancel;
}

void migstore_cancel_request(migstore_cancel* cancel) {
  if (cancel != nullptr) cancel->raised.store(true, std::memory_order_relaxed);
}

int migstore_cancel_requested(const migstore_cancel* cancel) {
  return cancel != nullptr && cancel->raised.load(std::memory_order_relaxed);
}

void migstore_cancel_destroy(migstore_cancel* cancel) { delete cancel; }

int migstore_key_from_key_file(const char* path, migstore_key** key,
                               char** errmsg) {
  return Guarded(errmsg, [&] {
    return KeyFromPath(path, key, errmsg, &migstore::Key::FromKeyFile);
  });
}

int migstore_key_from_password_file(const char* path, migstore_key** key,
                                    char** errmsg) {
  return Guarded(errmsg, [&] {
    return KeyFromPath(path, key, errmsg, &migstore::Key::FromPasswordFile);
  });
}

int migstore_key_from_password(void* password, size_t size, migstore_key** key,
                               char** errmsg) {
  return Guarded(errmsg, [&] {
    return KeyFromBuffer(password, size, key, errmsg,
                         &migstore::Key::FromPassword);
  });
}

int migstore_key_from_secret(void* secret, size_t size, migstore_key** key,
                             char** errmsg) {
  return Guarded(errmsg, [&] {
    return KeyFromBuffer(secret, size, key, errmsg,
                         &migstore::Key::FromKeySecret);
  });
}

int migstore_keygen(const char* path, int overwrite, char** errmsg) {
  return Guarded(errmsg, [&] {
    migstore::Result<std::string> p = Required(path, "the key file path");
    if (!p.ok()) return Finish(errmsg, p.status());
    return Finish(errmsg, migstore::WriteKeyFile(*p, overwrite != 0));
  });
}

void migstore_key_destroy(migstore_key* key) { delete key; }

const char* migstore_key_warning(const migstore_key* key) {
  if (key == nullptr || key->key.warning().empty()) return nullptr;
  return key->key.warning().c_str();
}

int migstore_capture(const migstore_capture_options* options,
                     migstore_capture_result* result, char** errmsg) {
  return Guarded(errmsg, [&] {
    return Run(options, result, errmsg, "capture", &ToCapture,
               &migstore::Capture, &CaptureDone);
  });
}

int migstore_restore(const migstore_restore_options* options,
                     migstore_restore_result* result, char** errmsg) {
  return Guarded(errmsg, [&] {
    return Run(options, result, errmsg, "restore", &ToRestore,
               &migstore::Restore, &RestoreDone);
  });
}

int migstore_extract(const migstore_extract_options* options,
                     migstore_restore_result* result, char** errmsg) {
  return Guarded(errmsg, [&] {
    return Run(options, result, errmsg, "extract", &ToExtract,
               &migstore::Extract, &RestoreDone);
  });
}

int migstore_verify(const migstore_verify_options* options,
                    migstore_verify_result* result, char** errmsg) {
  return Guarded(errmsg, [&] {
    return Run(options, result, errmsg, "verify", &ToVerify, &migstore::Verify,
               &VerifyDone);
  });
}

int migstore_list(const migstore_list_options* options,
                  migstore_list_result* result, char** errmsg) {
  return Guarded(errmsg, [&] {
    migstore_list_options c;
    std::string path;
    Status s = Prepare(options, result, "list", &ToList, &c, &path);
    if (!s.ok()) return Finish(errmsg, s);
    migstore::StoreSummary summary;
    bool summarised = false;
    auto summarise = [&] {
      if (summarised) return;
      summarised = true;
      migstore_list_result r{};
      r.format_version = summary.format_version;
      r.encrypted = summary.encryption != "none";
      r.file_size = summary.file_size;
      r.entries = summary.entries;
      r.contents = summary.contents;
      r.users = summary.users.size();
      WriteSized(r, result);
    };
    s = migstore::ListStore(
        path, KeyOf(c.key), KeyPolicyOf(c), &summary,
        [&](const migstore::StoreEntry& e) -> Status {
          summarise();
          if (c.on_entry == nullptr) return Status::OK();
          migstore_entry ce{};
          ce.struct_size = sizeof(ce);
          ce.user = e.user.c_str();
          ce.path = e.path.c_str();
          ce.type = e.type;
          ce.size = e.size;
          ce.mode = e.mode;
          ce.uid = e.uid;
          ce.gid = e.gid;
          ce.mtime_ns = e.mtime_ns;
          ce.symlink_target = e.symlink_target.c_str();
          if (c.on_entry(c.user_data, &ce) != 0)
            return Status::Cancelled("the entry callback stopped the listing");
          return Status::OK();
        });
    if (s.ok()) summarise();  // a store without entries
    return Finish(errmsg, s);
  });
}

int migstore_smp_connect(const migstore_smp_options* options,
                         migstore_smp** smp, char** errmsg) {
  return Guarded(errmsg, [&] {
    migstore_smp_options c;
    Status s = ReadSized(options, kV1End<migstore_smp_options>,
                         "state migration point options", &c);
    // c holds the caller's fields whenever they could be read, and is all
    // zeros otherwise: the caller's token buffer is zeroed when it was given.
    ZeroOnReturn zero{c.token, c.token_size};
    if (smp == nullptr) {
      return Finish(errmsg, Status::InvalidArgument("smp out-pointer is NULL"));
    }
    *smp = nullptr;
    if (!s.ok()) return Finish(errmsg, s);
    migstore::SmpConnection connection;
    std::string warning;
    s = ToSmpConnection(c, &connection, &warning);
    if (!s.ok()) return Finish(errmsg, s);
    migstore::Result<migstore::SmpClient> client =
        migstore::SmpClient::Connect(std::move(connection));
    if (!client.ok()) return Finish(errmsg, client.status());
    *smp = new migstore_smp{std::move(client).value(), std::move(warning)};
    return Finish(errmsg, Status::OK());
  });
}

void migstore_smp_destroy(migstore_smp* smp) { delete smp; }

const char* migstore_smp_warning(const migstore_smp* smp) {
  if (smp == nullptr || smp->warning.empty()) return nullptr;
  return smp->warning.c_str();
}

int migstore_smp_capture(migstore_smp* smp,
                         const migstore_capture_options* options,
                         migstore_capture_result* result, char** store_id,
                         char** errmsg) {
  return SmpRun(smp, options, result, store_id, errmsg, "capture",
                &ToSmpCapture, &migstore::SmpClient::Capture, &CaptureDone);
}

int migstore_smp_restore(migstore_smp* smp,
                         const migstore_restore_options* options,
                         migstore_restore_result* result, char** store_id,
                         char** errmsg) {
  return SmpRun(smp, options, result, store_id, errmsg, "restore",
                &ToSmpRestore, &migstore::SmpClient::Restore, &RestoreDone);
}

int migstore_smp_release(migstore_smp* smp, char** errmsg) {
  return OnSmp(smp, errmsg, [](migstore::SmpClient& client) {
    return client.ReleaseRestore().status();
  });
}

int migstore_smp_enroll(migstore_smp* smp, const char* computer, char** token,
                        char** errmsg) {
  if (token != nullptr) *token = nullptr;
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) -> Status {
    if (token == nullptr)
      return Status::InvalidArgument("token out-pointer is NULL");
    migstore::Result<std::string> made = client.Enroll(OrEmpty(computer));
    if (!made.ok()) return made.status();
    ZeroOnReturn zero{made->data(), made->size()};
    return CopyOutTo(*made, token);
  });
}

int migstore_smp_associate(migstore_smp* smp, const char* source,
                           const char* destination, const char* const* users,
                           size_t users_count, char** errmsg) {
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) -> Status {
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names,
                              Strings(users, users_count, "users"));
    return client.Associate(OrEmpty(source), OrEmpty(destination), names);
  });
}

int migstore_smp_unassociate(migstore_smp* smp, const char* source,
                             char** errmsg) {
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) {
    return client.Unassociate(OrEmpty(source));
  });
}

int migstore_smp_list(migstore_smp* smp, char** json, char** errmsg) {
  if (json != nullptr) *json = nullptr;
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) -> Status {
    if (json == nullptr)
      return Status::InvalidArgument("json out-pointer is NULL");
    MIGSTORE_ASSIGN_OR_RETURN(migstore::SmpListing listing, client.List());
    return CopyOutTo(migstore::SmpListingToJson(listing), json);
  });
}

int migstore_smp_recover_key(migstore_smp* smp, const char* store_id,
                             const char* key_path, int overwrite,
                             char** errmsg) {
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) -> Status {
    // Checked before the server records a recovery that could not be kept.
    MIGSTORE_ASSIGN_OR_RETURN(std::string path, Required(key_path, "key_path"));
    MIGSTORE_ASSIGN_OR_RETURN(migstore::Key key,
                              client.RecoverKey(OrEmpty(store_id)));
    return migstore::WriteKeyFile(path, key, overwrite != 0);
  });
}

int migstore_smp_delete(migstore_smp* smp, const char* store_id,
                        char** errmsg) {
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) {
    return client.Delete(OrEmpty(store_id));
  });
}

int migstore_smp_set_restore_only(migstore_smp* smp, int on, char** errmsg) {
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) {
    return client.SetRestoreOnly(on != 0);
  });
}

int migstore_smp_set_retention(migstore_smp* smp, int64_t minutes,
                               char** errmsg) {
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) {
    return client.SetRetention(minutes);
  });
}

int migstore_smp_set_abandon_after(migstore_smp* smp, int64_t minutes,
                                   char** errmsg) {
  return OnSmp(smp, errmsg, [&](migstore::SmpClient& client) {
    return client.SetAbandonAfter(minutes);
  });
}

}  // extern "C"
