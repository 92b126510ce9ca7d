/* migstore.h: the C API of migstore, for programs that embed it as their
 * capture backend (deployment agents in C, C#, PowerShell, Python, Go). It
 * wraps the C++ API of this folder (capture.h, restore.h, extract.h,
 * verify.h, listing.h, key.h, smp.h) behind opaque handles, plain structs and
 * integer codes, so it can be called through any foreign-function interface
 * and stays binary compatible as it grows. leveldb's include/leveldb/c.h is
 * the model. docs/embedding.md walks through a capture and a restore.
 *
 * Results
 * -------
 * Every call that can fail returns an int code, one of enum migstore_code:
 * the migstore command's exit codes, which follow USMT's (docs/cli.md). 0 is
 * success; 3 means the run completed but skipped files (continue_on_error).
 * Such calls also take `char** errmsg`: when errmsg is not NULL, *errmsg is
 * set on every return, to NULL when the code is 0 and otherwise to a message
 * ("Corruption: block 3: bad tag") that the caller owns and must release with
 * migstore_free(). Passing NULL for errmsg is allowed: the message is dropped.
 *
 * Options and result structs
 * --------------------------
 * Every struct passed in or out starts with `size_t struct_size`, which the
 * caller sets to sizeof the struct as its header declares it. New fields are
 * only ever appended, so:
 *   - a caller built against an older header passes a smaller struct; the
 *     library reads only struct_size bytes and takes the defaults for the
 *     rest, and writes only struct_size bytes of a result;
 *   - a caller built against a newer header passes a larger struct; the
 *     library accepts it when every byte it does not know is zero (the caller
 *     asked for nothing this library cannot do), else returns
 *     MIGSTORE_INVALID_ARGUMENTS.
 * A struct_size smaller than the first version of a struct is
 * MIGSTORE_INVALID_ARGUMENTS. Zero is the default of every field, so
 *     migstore_capture_options o = {.struct_size = sizeof o};
 * is a complete default set of options (C++: `o{}; o.struct_size = sizeof o`;
 * ctypes: every field not given is zero).
 *
 * Strings
 * -------
 * Strings passed in are NUL-terminated, borrowed for the duration of the call
 * only, and are byte strings: paths need not be UTF-8. Strings the library
 * passes to callbacks are valid only during the callback. Strings returned
 * through errmsg are the caller's (migstore_free).
 *
 * Callbacks and threads
 * ---------------------
 * A run (capture, restore, extract, verify, list, and a state migration
 * point's capture and restore) works on many threads. Its callbacks are
 * called one at a time, never concurrently, but not always on the thread
 * that started the run. A callback must return quickly (the run's workers
 * may wait on it), must not call the run that called it, and may call
 * migstore_cancel_request(). `user_data` is handed to every callback as is.
 *
 * Every function is safe to call from any thread. Runs may go on concurrently
 * with each other, on different stores and targets. Handles (migstore_key,
 * migstore_cancel, migstore_smp) are immutable once created, except for the
 * cancel flag, and may be shared between concurrent runs; destroying a
 * handle while a run uses it is undefined.
 *
 * Key material
 * ------------
 * The API never takes a password in a string the caller cannot zero: a key
 * comes from a key file, a password file, or a buffer that the library copies
 * into locked memory and then zeroes (migstore_key_from_password,
 * migstore_key_from_secret). The library's copy is zeroed when the last run
 * using it is done and the key is destroyed. Keys are never logged.
 * A state migration point's token is a secret too, and handled the same
 * way: it comes from a token file or from a buffer the library copies and
 * zeroes (migstore_smp_options); a token the library hands out
 * (migstore_smp_enroll) is released with migstore_free_secret(), which
 * zeroes it. A store key escrowed by the server never reaches the caller's
 * memory: the steps use it inside the library, and migstore_smp_recover_key
 * writes it to a key file.
 * One password is not a key and comes as a C string: a restore's
 * account_password, the password of the local accounts it creates
 * (migstore_restore_options, API version 5). The library copies it for
 * the run, never logs it nor puts it in a message or a callback's text,
 * and zeroes its copy before the call returns; the string stays the
 * caller's, who zeroes it once the call has returned.
 */

#ifndef MIGSTORE_MIGSTORE_H_
#define MIGSTORE_MIGSTORE_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define MIGSTORE_EXPORT __attribute__((visibility("default")))
#else
#define MIGSTORE_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the C API described by this header. It grows by one when
 * functions or fields are added; what exists is never changed or removed. */
#define MIGSTORE_C_API_VERSION 6

/* ------------------------------------------------------------------------ */
/* Codes, messages, version                                                  */

/* The results of every call: the migstore command's exit codes. */
enum migstore_code {
  MIGSTORE_OK = 0,
  MIGSTORE_CANCELLED = 2,          /* stopped through a migstore_cancel */
  MIGSTORE_DONE_WITH_ERRORS = 3,   /* completed; files skipped (see callback) */
  MIGSTORE_INVALID_ARGUMENTS = 11, /* options, rules, a NULL that must not be */
  /* API version 5: a restore onto a linux target whose etc/passwd lacks the
   * local account of a user it restores, without create_accounts; nothing
   * was written (LoadState's USMT_ERROR_USE_LAC). */
  MIGSTORE_USE_LAC = 14,
  MIGSTORE_INVALID_STORE = 27,  /* missing, not a store, newer format, exists */
  MIGSTORE_KEY_UNREADABLE = 33, /* key or password source unreadable, empty */
  MIGSTORE_FAILED_STARTUP = 29, /* less free space than min_free_bytes asks */
  MIGSTORE_WRONG_KEY = 37,      /* the key does not open the store, or none */
  MIGSTORE_CORRUPTED_STORE = 42,  /* damage found in the store */
  MIGSTORE_STOPPED_ON_ERROR = 61, /* stopped at a file error (no continue) */
  MIGSTORE_FATAL = 71,            /* the environment failed: I/O, memory */
  MIGSTORE_INTERNAL = 72          /* a bug in migstore */
};

/* "0.1.0": the library's version (not the header's). Static storage; never
 * free it. */
MIGSTORE_EXPORT const char* migstore_version(void);

/* MIGSTORE_C_API_VERSION of the library, to compare with the header's. */
MIGSTORE_EXPORT int migstore_c_api_version(void);

/* A short name for a code ("ok", "cancelled", "wrong key"...); "unknown" for
 * a number that is not a code. Static storage; never free it. */
MIGSTORE_EXPORT const char* migstore_code_name(int code);

/* Releases a string the library returned (an errmsg). NULL is allowed. */
MIGSTORE_EXPORT void migstore_free(void* ptr);

/* Releases a secret the library returned as a NUL-terminated string (the
 * token of migstore_smp_enroll): overwrites it with zeros up to its
 * terminating NUL, then frees it. NULL is allowed. API version 4. */
MIGSTORE_EXPORT void migstore_free_secret(char* secret);

/* ------------------------------------------------------------------------ */
/* Cancellation                                                              */

/* A flag one thread raises to stop runs going on in others. A run given it
 * polls it a few times a second and stops with MIGSTORE_CANCELLED: a capture
 * leaves no store behind; a restore or extract keeps the files already
 * renamed into place and leaves nothing half-written. Once raised it stays
 * raised: use a new one for the next run. */
typedef struct migstore_cancel migstore_cancel;

/* A new, lowered flag; NULL only when out of memory. Release it with
 * migstore_cancel_destroy() after every run using it has returned. */
MIGSTORE_EXPORT migstore_cancel* migstore_cancel_create(void);
/* Raises the flag. Safe from any thread and from a signal handler (one
 * lock-free atomic store). */
MIGSTORE_EXPORT void migstore_cancel_request(migstore_cancel* cancel);
/* 1 when raised, else 0. */
MIGSTORE_EXPORT int migstore_cancel_requested(const migstore_cancel* cancel);
/* NULL is allowed. */
MIGSTORE_EXPORT void migstore_cancel_destroy(migstore_cancel* cancel);

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

/* What opens (or will protect) an encrypted store: a key file's secret or a
 * password, held in locked memory that is zeroed when freed. A run given NULL
 * for a key uses none. */
typedef struct migstore_key migstore_key;

/* A key file made by migstore_keygen() or `migstore keygen`. On success
 * *key is the caller's (migstore_key_destroy). KEY_UNREADABLE when the file
 * cannot be read or is not a key file. */
MIGSTORE_EXPORT int migstore_key_from_key_file(const char* path,
                                               migstore_key** key,
                                               char** errmsg);
/* The first line of a file, without its line ending, as a password.
 * KEY_UNREADABLE when unreadable or empty. */
MIGSTORE_EXPORT int migstore_key_from_password_file(const char* path,
                                                    migstore_key** key,
                                                    char** errmsg);
/* A password of `size` bytes at `password` (not NUL-terminated; any bytes).
 * The library copies it into locked memory and then overwrites the caller's
 * `size` bytes with zeros, on success and on failure alike: the password
 * exists only in the library's copy afterwards. INVALID_ARGUMENTS when size
 * is 0 or password is NULL. */
MIGSTORE_EXPORT int migstore_key_from_password(void* password, size_t size,
                                               migstore_key** key,
                                               char** errmsg);
/* The 32-byte secret of a key file, held by the caller (a vault, a TPM)
 * rather than written to disk. Copied and then zeroed as for
 * migstore_key_from_password. INVALID_ARGUMENTS unless size is 32. */
MIGSTORE_EXPORT int migstore_key_from_secret(void* secret, size_t size,
                                             migstore_key** key, char** errmsg);
/* Writes a new random key file at `path`, mode 0600, atomically.
 * INVALID_STORE (27) when the file exists and overwrite is 0. */
MIGSTORE_EXPORT int migstore_keygen(const char* path, int overwrite,
                                    char** errmsg);
/* NULL is allowed. A run that was given the key must have returned. */
MIGSTORE_EXPORT void migstore_key_destroy(migstore_key* key);
/* What loading the key found worth telling the user, though the key is
 * used: a key file or password file that group or others may read
 * ("permissions 0644 for 'K' are too open; ..."); NULL when nothing (and for
 * a NULL key). Valid until the key is destroyed. API version 3. */
MIGSTORE_EXPORT const char* migstore_key_warning(const migstore_key* key);

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */

/* How far a run has come; a few times a second and at each phase change. */
typedef struct migstore_progress {
  size_t struct_size; /* set by the library: the fields present */
  /* USMT's phase names: "Initializing", "Scanning", "Saving" (capture),
   * "Applying" (restore, extract), "Verifying", "Done". */
  const char* phase;
  uint64_t files_done;
  uint64_t files_total;
  uint64_t bytes_done; /* file data read (capture) or written (restore) */
  uint64_t bytes_total;
  double seconds; /* since the run started */
} migstore_progress;

typedef void (*migstore_progress_fn)(void* user_data,
                                     const migstore_progress* progress);

/* One file the run could not handle (or, for verify, one found damaged):
 * `path` is relative to the root, the target or the store; `code` is what the
 * file's error alone would make of the run (42 damaged data, 71 an I/O
 * error...); `message` says what happened. Under continue_on_error the file
 * is skipped and the run goes on; otherwise the run stops with
 * MIGSTORE_STOPPED_ON_ERROR after this call. */
typedef void (*migstore_file_error_fn)(void* user_data, const char* path,
                                       int code, const char* message);

/* ------------------------------------------------------------------------ */
/* Capture (ScanState)                                                       */

typedef struct migstore_capture_options {
  size_t struct_size;     /* sizeof(migstore_capture_options) */
  const char* root;       /* the machine's root; NULL: "/" */
  const char* store_path; /* the store file to write; required */
  /* The key that protects the store. NULL with no_encrypt 0 is
   * INVALID_ARGUMENTS: encryption is only ever turned off by saying so. */
  const migstore_key* key;
  int no_encrypt;        /* nonzero: an unencrypted store (key must be NULL) */
  int overwrite;         /* nonzero: replace an existing store (else 27) */
  int continue_on_error; /* nonzero: skip files that fail (result 3) */
  int cross_mounts;      /* nonzero: cross mount points below profile homes */
  int threads;           /* 0: one per core */
  int level;             /* zstd level; 0: 3 */
  const char* layout;    /* "linux" or "windows"; NULL: detected */
  /* Native rules files or USMT migration XML; none: the built-in rules. */
  const char* const* rules_files;
  size_t rules_files_count;
  const char* config_file; /* USMT Config.xml; NULL: none */
  /* Users taken (globs, as --user-include / --user-exclude). */
  const char* const* users_include;
  size_t users_include_count;
  const char* const* users_exclude;
  size_t users_exclude_count;
  /* Argon2id cost for a password key; 0: the default (3 passes, 256 MiB).
   * Lower only for tests. */
  uint64_t kdf_opslimit;
  uint64_t kdf_memlimit;
  migstore_progress_fn on_progress;     /* NULL: none */
  migstore_file_error_fn on_file_error; /* NULL: none */
  void* user_data;                      /* for the callbacks */
  migstore_cancel* cancel;              /* NULL: cannot be cancelled */
  /* Fields after this line came after version 1 of the struct; zero keeps
   * meaning "as version 1 did". */
  /* Non-zero: a hard-link store (docs/cli.md, "capture --hardlink"):
   * store_path becomes a directory of hard links to the captured files and
   * an unencrypted catalog. key must then be NULL (such a store cannot be
   * encrypted); level does not apply. */
  int hardlink;
  /* With hardlink, a file that cannot be linked (another filesystem): 0
   * copies it into the store with a note; non-zero makes it a per-file error
   * (continue_on_error decides what follows). */
  int hardlink_fallback_error;
  /* Fields after this line came after version 4 of the API (they are API
   * version 5's); zero keeps meaning "as version 4 did". */
  /* Non-zero: enter no mount point of a network filesystem (NFS, CIFS...)
   * or of a removable one (ScanState /localonly, capture --local-only);
   * each one left out is a note. Zero: local or not, a mount point is
   * entered as cross_mounts says. */
  int local_only;
  /* Non-zero: run the command lines of the rules' <externalProcess> steps
   * (pre-scan, scan-success, post-scan; docs/rules.md, "Processing"), as
   * capture --allow-processing. A command that fails is a file error
   * (continue_on_error decides what follows). Zero: none runs, each is a
   * note: a rules file never runs commands on its own. */
  int allow_processing;
  /* Non-zero: the store's data is not compressed (capture --no-compress);
   * level does not apply. */
  int no_compress;
  /* Refuse to start, with MIGSTORE_FAILED_STARTUP (29) and nothing
   * written, when the store's filesystem has fewer free bytes than this
   * (capture --min-free); 0: no check. INVALID_ARGUMENTS for an s3://
   * store, which has no filesystem; it does not apply to
   * migstore_smp_capture (the server keeps the store). */
  uint64_t min_free_bytes;
  /* Only users who used the machine lately (ScanState /uel, capture
   * --last-used): "DAYS" (in the last DAYS days), "YYYY-MM-DD" or
   * "YYYY/MM/DD" (since that local date), or "0" (logged on now; linux
   * roots only). users_include beats it, and it beats users_exclude.
   * NULL or "": no such limit. Anything else: INVALID_ARGUMENTS. */
  const char* last_used;
  /* Fields after this line came after version 5 of the API (API version
   * 6); NULL keeps meaning "as version 5 did". */
  /* What seals an encrypted store's blocks (capture --cipher):
   * "xchacha20-poly1305" (NULL or "": the default, read by every
   * migstore) or "aes-256-gcm" (less CPU where the processor has AES
   * instructions; libraries before API version 6 cannot read such a
   * store). Anything else, or a cipher with no_encrypt or hardlink:
   * INVALID_ARGUMENTS. */
  const char* cipher;
  /* An incremental capture (capture --base; docs/design.md, "Incremental
   * capture"): the earlier store of the same root, opened with `key`.
   * Files it holds with the same path, size, mtime and ctime (unchanged a
   * minute before it was made, on a filesystem whose ctime can be trusted)
   * are not read;
   * their bytes are copied from it, so the new store stands alone. May be
   * store_path itself with overwrite. A base that cannot be opened is the
   * call's error (27 missing or unencrypted while a key is given, 37 wrong
   * key); damage inside it only makes its files read again. Not with
   * hardlink, nor for migstore_smp_capture (INVALID_ARGUMENTS). NULL or
   * "": a full capture. */
  const char* base_store;
  /* Fields of later API versions are appended here. */
} migstore_capture_options;

typedef struct migstore_capture_result {
  size_t struct_size; /* set by the caller: sizeof(migstore_capture_result) */
  uint64_t files;
  uint64_t directories;
  uint64_t symlinks;
  uint64_t bytes;           /* logical bytes of the files captured */
  uint64_t duplicate_files; /* stored once, found again */
  uint64_t stored_bytes;    /* distinct file bytes put in the store */
  uint64_t store_size;      /* bytes of the store file */
  uint64_t files_skipped;   /* under continue_on_error */
  uint64_t users_selected;
  double seconds;
  /* Fields after this line came after version 1 of the struct. */
  uint64_t linked_files; /* hard-link stores: files linked into the store */
  uint64_t copied_files; /* hard-link stores: files copied (not linkable) */
  /* Fields after this line came after version 4 of the API (API version
   * 5). Settings taken from the root's offline registry hives (a windows
   * root and rules with Registry patterns; docs/rules.md, "Registry"):
   * keys, and values. */
  uint64_t registry_keys;
  uint64_t registry_values;
  /* Fields after this line came after version 5 of the API (API version
   * 6). With base_store: files taken over from the base without being
   * read, and their logical bytes (both counted in files and bytes too);
   * files the base held unchanged that were read again (their base
   * blocks were mostly stale, or damaged). */
  uint64_t base_files;
  uint64_t base_bytes;
  uint64_t base_files_read_again;
  /* Fields of later API versions are appended here. */
} migstore_capture_result;

/* Captures the profiles under options->root into a new store. The store
 * appears at store_path only when the capture succeeds (code 0 or 3);
 * otherwise nothing is left behind. `result` may be NULL; when not, it is
 * filled on 0 and 3 and zeroed (but for struct_size) otherwise.
 * Codes: 0, 3, 2, 11 (options, rules), 27 (store exists), 29 (less free
 * space than min_free_bytes), 33, 61, 71. */
MIGSTORE_EXPORT int migstore_capture(const migstore_capture_options* options,
                                     migstore_capture_result* result,
                                     char** errmsg);

/* ------------------------------------------------------------------------ */
/* Restore (LoadState) and extract (UsmtUtils /extract)                      */

/* What to do with an entry whose destination is taken (docs/cli.md). */
enum migstore_conflict {
  MIGSTORE_CONFLICT_RENAME = 0, /* restore beside, as "name (1).ext" */
  MIGSTORE_CONFLICT_OVERWRITE = 1,
  MIGSTORE_CONFLICT_SKIP = 2,
  MIGSTORE_CONFLICT_NEWER = 3 /* keep the newer modification time */
};

typedef struct migstore_restore_options {
  size_t struct_size;      /* sizeof(migstore_restore_options) */
  const char* store_path;  /* required */
  const migstore_key* key; /* NULL: for an unencrypted store */
  /* Where the capture root's entries land ("/" for the running system);
   * required; created when missing (unless dry_run), once the plan has
   * passed. */
  const char* target;
  /* "OLD:NEW" pairs (LoadState /mu): the store's user OLD restored as NEW. */
  const char* const* map_users;
  size_t map_users_count;
  const char* const* users_include;
  size_t users_include_count;
  const char* const* users_exclude;
  size_t users_exclude_count;
  int on_conflict; /* enum migstore_conflict */
  /* USMT migration XML whose restore-time rules apply (docs/rules.md,
   * "Restore-time rules"): <merge>, <locationModify>, <contentModify>,
   * <destinationCleanup>, the NeverRestore() filter and the processing
   * steps (these only with allow_processing). Their include and exclude
   * rules choose nothing again: the store holds what the capture took. */
  const char* const* rules_files;
  size_t rules_files_count;
  int dry_run;           /* nonzero: plan and report, write nothing */
  int continue_on_error; /* nonzero: skip entries that fail (result 3) */
  int threads;           /* 0: one per core */
  migstore_progress_fn on_progress;
  migstore_file_error_fn on_file_error;
  void* user_data;
  migstore_cancel* cancel;
  /* Fields after this line came after version 1 of the struct (API
   * version 3). They are the reader's key policy (docs/cli.md, "Keys and
   * passwords"); zero is the safe default, which version 1 did not have: */
  /* Nonzero: with a key, accept a store that is not encrypted (a container
   * written without one, or a hard-link store). Zero: such a store is
   * refused with MIGSTORE_INVALID_STORE (27), since whoever can replace the
   * store could have written it and the key would authenticate nothing. */
  int allow_unencrypted;
  /* The most Argon2id passes and memory (bytes) a password store's header
   * may ask for; 0: 6 passes, 512 MiB. A header asking for more is refused
   * (27) before any key derivation. */
  uint64_t max_kdf_passes;
  uint64_t max_kdf_memory;
  /* Non-zero (API version 3): files are restored without setuid and setgid
   * bits and without file capabilities (security.capability); zero
   * reproduces them as captured, as USMT does (docs/security.md, "Restore
   * as root versus as a user"). Folders keep their setgid bit. */
  int strip_privileges;
  /* Fields after this line came after version 4 of the API (they are API
   * version 5's); zero keeps meaning "as version 4 did", but for the local
   * accounts: see create_accounts. */
  /* A USMT Config.xml: its <ErrorControl> decides which errors skip an
   * entry and which stop the restore (docs/rules.md, "Error control"), as
   * restore --config. NULL: none. */
  const char* config_file;
  /* "OLD:NEW" pairs (LoadState /md, restore --map-domain): a store user
   * whose name carries the domain OLD ("OLD\alice", or "alice@OLD" as sssd
   * spells it) is restored as the same user of NEW. Domains compare ASCII
   * case-insensitively; '*' in OLD stands for any run of characters. They
   * apply to users no map_users pair names; the first that matches wins.
   * A malformed pair is INVALID_ARGUMENTS. */
  const char* const* map_domains;
  size_t map_domains_count;
  /* As migstore_capture_options' last_used, against the last use the
   * store recorded; "0" is INVALID_ARGUMENTS (a store does not say who is
   * logged on). NULL or "": no such limit. */
  const char* last_used;
  /* The password of the local accounts create_accounts creates (LoadState
   * /lac:password): a NUL-terminated password, NOT a path to a file.
   * NULL or "": none (accounts created locked, without one). It needs
   * create_accounts (else INVALID_ARGUMENTS). The library copies it for
   * the run, hashes it as the target's login.defs ENCRYPT_METHOD asks
   * (yescrypt or SHA-512 crypt), never logs it nor puts it in a
   * message, and zeroes its copy before returning; the string stays the
   * caller's, who should zero it once the call has returned. */
  const char* account_password;
  /* Refuse to start, with MIGSTORE_FAILED_STARTUP (29) and nothing
   * written, when the target's filesystem has fewer free bytes than this
   * (restore --min-free); 0: no check. */
  uint64_t min_free_bytes;
  /* Non-zero: also write the store's machine settings (HKLM) into the
   * target's SOFTWARE and SYSTEM hives (restore --machine-settings). Zero:
   * they are left out, counted in a note. Users' settings (HKCU) are
   * always restored with their users. */
  int machine_settings;
  /* Non-zero: run the command lines of the rules' <externalProcess> steps
   * (pre-apply, apply-success, post-apply), as restore --allow-processing;
   * a command that fails is an entry error. Zero: none runs, each is a
   * note. */
  int allow_processing;
  /* Local accounts (LoadState /lac; docs/security.md, "Accounts"). On a
   * target with etc/passwd, a selected linux user who lands (after
   * map_users and map_domains) as a local name the target does not know
   * stops the restore before anything is written, with MIGSTORE_USE_LAC
   * (14), unless create_accounts is non-zero: then the account is added to
   * the target's etc/passwd, group, shadow (and gshadow), locked unless
   * enable_accounts. A target without etc/passwd is a plain folder: nothing
   * is looked for. Non-zero on a Windows target is INVALID_ARGUMENTS (no
   * SAM account is made offline). The 14 applies to callers of older
   * versions too, whose struct ends before this field, rather than leave
   * files owned by a number a later useradd would hand to someone else. */
  int create_accounts;
  /* Non-zero (LoadState /lae): the accounts created are enabled, with
   * account_password, which must be changed at first login. Needs
   * create_accounts and a non-empty account_password (else
   * INVALID_ARGUMENTS). */
  int enable_accounts;
  /* Fields of later API versions are appended here. */
} migstore_restore_options;

typedef struct migstore_extract_options {
  size_t struct_size; /* sizeof(migstore_extract_options) */
  const char* store_path;
  const migstore_key* key;
  const char* to; /* required; created when missing */
  /* Globs (extract.h): include beats exclude; none: everything. */
  const char* const* include;
  size_t include_count;
  const char* const* exclude;
  size_t exclude_count;
  int overwrite; /* nonzero: replace files already under `to` */
  int continue_on_error;
  int threads;
  migstore_progress_fn on_progress;
  migstore_file_error_fn on_file_error;
  void* user_data;
  migstore_cancel* cancel;
  /* Fields after this line came after version 1 of the struct (API
   * version 3): the reader's key policy, as in migstore_restore_options. */
  int allow_unencrypted;
  uint64_t max_kdf_passes;
  uint64_t max_kdf_memory;
  /* Fields of later API versions are appended here. */
} migstore_extract_options;

typedef struct migstore_restore_result {
  size_t struct_size; /* set by the caller: sizeof(migstore_restore_result) */
  uint64_t files;     /* written (or, in a dry run, to be written) */
  uint64_t directories;
  uint64_t symlinks;
  uint64_t hardlinks; /* restored as links to an earlier member */
  uint64_t bytes;
  uint64_t renamed; /* conflicts restored beside as "name (N).ext" */
  uint64_t overwritten;
  uint64_t skipped;      /* conflicts that kept what was there */
  uint64_t identical;    /* already there and identical */
  uint64_t files_failed; /* entries not restored (continue_on_error) */
  double seconds;
  /* Fields after this line came after version 1 of the struct (API
   * version 5). Settings written into the target's offline registry hives
   * (a restore of a store holding any; 0 from migstore_extract): keys
   * created, and values set (in a dry run, to be). */
  uint64_t registry_keys;
  uint64_t registry_values;
  /* Fields of later API versions are appended here. */
} migstore_restore_result;

/* Restores a store below options->target. Nothing is ever written outside
 * target; every file is written under a temporary name and renamed once
 * whole, so running it again after a failure finishes the job. `result` as
 * for migstore_capture. Codes: 0, 3, 2, 11, 14 (local accounts missing on
 * the target; see create_accounts), 27 (also: an unencrypted store given a
 * key, a key derivation costlier than allowed), 29 (less free space than
 * min_free_bytes), 33, 37, 42 (damaged index), 61, 71. */
MIGSTORE_EXPORT int migstore_restore(const migstore_restore_options* options,
                                     migstore_restore_result* result,
                                     char** errmsg);

/* Copies entries out of a store as plain files below options->to: no user
 * mapping, no ownership, no extended attributes. Codes as migstore_restore. */
MIGSTORE_EXPORT int migstore_extract(const migstore_extract_options* options,
                                     migstore_restore_result* result,
                                     char** errmsg);

/* ------------------------------------------------------------------------ */
/* Verify (UsmtUtils /verify)                                                */

enum migstore_verify_mode {
  MIGSTORE_VERIFY_SUMMARY = 0, /* catalog and every file's data */
  MIGSTORE_VERIFY_CATALOG = 1  /* the catalog only; no file data read */
};

typedef struct migstore_verify_options {
  size_t struct_size; /* sizeof(migstore_verify_options) */
  const char* store_path;
  const migstore_key* key;
  int mode; /* enum migstore_verify_mode */
  int threads;
  migstore_progress_fn on_progress;
  /* Called for each damaged file, with code 42. */
  migstore_file_error_fn on_file_error;
  void* user_data;
  migstore_cancel* cancel;
  /* Fields after this line came after version 1 of the struct (API
   * version 3): the reader's key policy, as in migstore_restore_options. */
  int allow_unencrypted;
  uint64_t max_kdf_passes;
  uint64_t max_kdf_memory;
  /* Fields of later API versions are appended here. */
} migstore_verify_options;

typedef struct migstore_verify_result {
  size_t struct_size; /* set by the caller: sizeof(migstore_verify_result) */
  uint64_t entries;
  uint64_t files; /* file entries checked */
  uint64_t files_intact;
  uint64_t files_damaged;
  int catalog_intact;    /* 1 or 0 */
  uint64_t entries_lost; /* in damaged catalog segments */
  double seconds;
} migstore_verify_result;

/* Reads a store end to end without writing anything. Damage found returns
 * MIGSTORE_CORRUPTED_STORE (42) with `result` filled in; other codes mean
 * the store could not be read at all (27, 33, 37, 42, 2). */
MIGSTORE_EXPORT int migstore_verify(const migstore_verify_options* options,
                                    migstore_verify_result* result,
                                    char** errmsg);

/* ------------------------------------------------------------------------ */
/* List                                                                      */

/* One entry of a store, as migstore_list streams them. */
typedef struct migstore_entry {
  size_t struct_size; /* set by the library: the fields present */
  const char* user;   /* the profile's user; "" outside every profile */
  const char* path;   /* root-relative, raw bytes */
  const char* type;   /* "file", "dir", "symlink" or "fifo" */
  uint64_t size;
  uint32_t mode; /* permission bits, 07777 */
  uint32_t uid;
  uint32_t gid;
  int64_t mtime_ns;
  const char* symlink_target; /* "" unless a symlink */
} migstore_entry;

/* Called for every entry, in catalog order. Return 0 to go on; anything else
 * stops the listing, which then returns MIGSTORE_CANCELLED. */
typedef int (*migstore_entry_fn)(void* user_data, const migstore_entry* entry);

typedef struct migstore_list_options {
  size_t struct_size; /* sizeof(migstore_list_options) */
  const char* store_path;
  const migstore_key* key;
  migstore_entry_fn on_entry; /* NULL: only the result is filled */
  void* user_data;
  /* Fields after this line came after version 1 of the struct (API
   * version 3): the reader's key policy, as in migstore_restore_options. */
  int allow_unencrypted;
  uint64_t max_kdf_passes;
  uint64_t max_kdf_memory;
  /* Fields of later API versions are appended here. */
} migstore_list_options;

typedef struct migstore_list_result {
  size_t struct_size; /* set by the caller: sizeof(migstore_list_result) */
  int format_version;
  int encrypted;      /* 1 or 0 */
  uint64_t file_size; /* bytes of the store file */
  uint64_t entries;
  uint64_t contents; /* distinct file contents stored */
  uint64_t users;
} migstore_list_result;

/* Lists a store's entries, one catalog segment in memory at a time. The
 * callback runs on the calling thread. `result` is filled before the first
 * entry is listed. Codes: 0, 2, 11, 27, 33, 37, 42. */
MIGSTORE_EXPORT int migstore_list(const migstore_list_options* options,
                                  migstore_list_result* result, char** errmsg);

/* ------------------------------------------------------------------------ */
/* A state migration point (migstore serve; docs/smp.md)                     */

/* API version 4. A state migration point keeps the stores of a fleet and
 * their keys: the old computer captures into it (Request State Store,
 * capture, Release State Store, as Configuration Manager's task-sequence
 * steps), the new computer associated with it restores from it and releases
 * it, and the server deletes it after its retention time. A migstore_smp is
 * a connection to one: its address and a token, an enrolled computer's or
 * the administrator's (the server's DATA/admin.token). The token stays in
 * the library's memory and is zeroed when the handle is destroyed. A handle
 * may be used by several threads at once. */
typedef struct migstore_smp migstore_smp;

typedef struct migstore_smp_options {
  size_t struct_size; /* sizeof(migstore_smp_options) */
  /* "https://HOST[:PORT]", or "http://HOST[:PORT]" on a loopback address
   * only (tokens and keys cross the connection); required. */
  const char* server;
  /* The token, from one of two places and never both. A token file: its
   * first line (`migstore smp enroll --out` writes one, mode 0600). A file
   * that group or others may read is used, with migstore_smp_warning(). */
  const char* token_file;
  /* Or `token_size` bytes at `token`: the token itself, no line ending, not
   * NUL-terminated. The library copies them and then overwrites the
   * caller's bytes with zeros, on success and on failure alike (whenever
   * struct_size lets the library read these fields), as
   * migstore_key_from_password does. */
  void* token;
  size_t token_size;
  /* https: the CA certificate (PEM) to trust instead of the system's. */
  const char* ca_file;
  /* Request State Store, as the task-sequence step's options: how many
   * more times to ask while the server is busy or cannot be reached (0: 3;
   * negative: never), and the seconds to wait in between (0: 30; negative:
   * none). */
  int retry_count;
  int retry_delay_seconds;
  /* Fields of later API versions are appended here. */
} migstore_smp_options;

/* Checks the address and reads the token; the server is not contacted, so
 * a token it does not know is refused by the first call that uses it (27).
 * On success *smp is the caller's (migstore_smp_destroy); NULL otherwise.
 * Codes: 0; 11 (an address that is not https://HOST[:PORT] or http:// on
 * loopback, no token or two, a token holding spaces or control characters,
 * a CA file that cannot be read or that is given for http); 33 (the token
 * file cannot be read or holds no token). */
MIGSTORE_EXPORT int migstore_smp_connect(const migstore_smp_options* options,
                                         migstore_smp** smp, char** errmsg);
/* NULL is allowed. Every call using the handle must have returned. */
MIGSTORE_EXPORT void migstore_smp_destroy(migstore_smp* smp);
/* What reading the token file found worth telling the user, though the
 * token is used ("permissions 0644 for 'T' are too open; ..."), as
 * migstore_key_warning(); NULL when nothing. Valid until the handle is
 * destroyed. */
MIGSTORE_EXPORT const char* migstore_smp_warning(const migstore_smp* smp);

/* --- The task-sequence steps (a computer's token) ------------------------ */

/* The old computer: Request State Store (asked again while the server is
 * busy, as migstore_smp_options say), the capture streamed to the server as
 * it is packed (no copy of the store on this computer; an upload that is
 * cut off resumes where it stopped), commit, Release State Store.
 *
 * `options` and `result` are migstore_capture's, and everything of
 * migstore_capture applies: the rules, the user selection, the callbacks,
 * cancellation, continue_on_error and the codes. But the server makes the
 * store and its key and keeps both: store_path and key must be NULL and
 * no_encrypt and hardlink 0, else INVALID_ARGUMENTS; overwrite,
 * hardlink_fallback_error, kdf_opslimit, kdf_memlimit and min_free_bytes
 * do not apply (a
 * capture may run again, replacing the upload, until it is released). When
 * the computer's association names users, only those are taken.
 *
 * With a non-NULL `store_id`, *store_id is set on every return: on 0 and 3
 * to the store's id (32 hex digits; migstore_free), otherwise to NULL.
 * Codes: 0, 3, 2, 11, 27 (the server refused: a token it does not know,
 * restore-only mode, the computer's store already released and waiting for
 * its destination; or it stayed busy or out of reach through the retries),
 * 42 (the server received other bytes than were sent), 61, 71 (the
 * server failed). A capture that fails leaves the server's store
 * unreleased; running it again starts the upload over. */
MIGSTORE_EXPORT int migstore_smp_capture(
    migstore_smp* smp, const migstore_capture_options* options,
    migstore_capture_result* result, char** store_id, char** errmsg);

/* The new computer (or the same one, after a refresh): Request State Store
 * for restore (asked again as for a capture), the restore read from the
 * server in ranges, then the server told the store is restored (not after a
 * dry run, which restored nothing). `options` and `result` are
 * migstore_restore's, and everything of migstore_restore applies (user
 * mapping, rules, conflicts, callbacks, the reader's key policy); but the
 * server hands over the store and its key: store_path and key must be NULL,
 * else INVALID_ARGUMENTS. A restore may run again until
 * migstore_smp_release(). `store_id` as for migstore_smp_capture. Codes: as
 * migstore_restore; 27 also when the server refuses (no store of an
 * associated computer is ready for this one, or it was released). */
MIGSTORE_EXPORT int migstore_smp_restore(
    migstore_smp* smp, const migstore_restore_options* options,
    migstore_restore_result* result, char** store_id, char** errmsg);

/* Release State Store after restore: the stores this computer restored
 * are released, and the server deletes them when the retention time has
 * passed. Codes: 0, 27 (nothing to release), 71. */
MIGSTORE_EXPORT int migstore_smp_release(migstore_smp* smp, char** errmsg);

/* --- Administration (the administrator's token) --------------------------
 * A computer's token is refused (27) for everything here but
 * migstore_smp_list, which shows a computer its own stores. Computer names
 * are 1 to 64 letters, digits, '-', '_' or '.' (else 11); a store id is 32
 * hex digits (else 11). */

/* Enrolls `computer` and makes its token; enrolling it again makes a new
 * one and the old one stops working. On 0, *token is the new token, a
 * NUL-terminated string the caller owns; NULL otherwise. The token is a
 * secret (whoever holds it may capture and restore as that computer): hand
 * it on (a token file of mode 0600, a vault) and release it with
 * migstore_free_secret(), which zeroes it. Codes: 0, 11, 27, 71. */
MIGSTORE_EXPORT int migstore_smp_enroll(migstore_smp* smp, const char* computer,
                                        char** token, char** errmsg);

/* Associates the old computer `source` with the new one `destination`
 * (both enrolled), replacing the association `source` had; a store not yet
 * released follows it. `users` (user names, as the capture's users_include
 * takes them) limit the capture to those users; none: all users. A refresh
 * (one computer restoring its own store) needs no association. Codes: 0,
 * 11 (a bad name, source and destination the same), 27 (a computer not
 * enrolled, not the administrator), 71. */
MIGSTORE_EXPORT int migstore_smp_associate(migstore_smp* smp,
                                           const char* source,
                                           const char* destination,
                                           const char* const* users,
                                           size_t users_count, char** errmsg);

/* Removes the association of `source`. Codes: 0, 11, 27 (it has none), 71. */
MIGSTORE_EXPORT int migstore_smp_unassociate(migstore_smp* smp,
                                             const char* source, char** errmsg);

/* The stores, the associations and the settings, as the JSON text that
 * `migstore smp list --json` prints (one line, no line ending):
 *   {"stores": [STORE, ...],
 *    "associations": [{"source", "destination", "users": [...],
 *                      "created_at"}, ...],
 *    "retention_minutes": N, "restore_only": true|false}
 * where STORE is docs/smp.md's store object: {"id", "source",
 * "destination", "users": [...], "location", "state", "size", "sha256",
 * "requested_at", "captured_at", "released_at", "restored_at",
 * "delete_after"}, times in seconds since the epoch (0: not yet), "state"
 * one of "requested", "capturing", "captured", "ready", "restoring",
 * "restored", "released", "deleted". Strings are shown as the command
 * shows names (docs/cli.md, "Names"). The administrator sees everything, a
 * computer only its own stores. On 0, *json is the caller's (migstore_free);
 * NULL otherwise. Codes: 0, 27, 71. */
MIGSTORE_EXPORT int migstore_smp_list(migstore_smp* smp, char** json,
                                      char** errmsg);

/* Recovers the key of store `store_id` from the server (audited there) and
 * writes it as a key file at `key_path`, mode 0600, atomically, for a
 * restore by hand (migstore_key_from_key_file, `migstore restore
 * --key-file`): the key never passes through the caller's memory. Codes: 0,
 * 11, 27 (not the administrator, no such store, or key_path exists and
 * overwrite is 0), 71 (the file cannot be written). */
MIGSTORE_EXPORT int migstore_smp_recover_key(migstore_smp* smp,
                                             const char* store_id,
                                             const char* key_path,
                                             int overwrite, char** errmsg);

/* Deletes store `store_id` now, in any state; deleting a deleted store is
 * a no-op. Codes: 0, 11, 27, 71. */
MIGSTORE_EXPORT int migstore_smp_delete(migstore_smp* smp, const char* store_id,
                                        char** errmsg);

/* Non-zero: restore-only mode, in which the server refuses new captures
 * (27) and goes on serving restores; zero: captures again. Codes: 0, 27,
 * 71. */
MIGSTORE_EXPORT int migstore_smp_set_restore_only(migstore_smp* smp, int on,
                                                  char** errmsg);

/* The minutes a store is kept after its release after restore before the
 * server deletes it (0: at the next deletion cycle). It applies to stores
 * released from now on. Codes: 0, 11 (negative), 27, 71. */
MIGSTORE_EXPORT int migstore_smp_set_retention(migstore_smp* smp,
                                               int64_t minutes, char** errmsg);

/* The minutes after its latest request a capture that was never committed
 * is deleted by the server, freeing its slot and partial upload (0: never;
 * the default is 2880). Committed captures are never abandoned. Codes: 0,
 * 11 (negative), 27, 71. */
MIGSTORE_EXPORT int migstore_smp_set_abandon_after(migstore_smp* smp,
                                                   int64_t minutes,
                                                   char** errmsg);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MIGSTORE_MIGSTORE_H_ */
