// Restore: what USMT's LoadState does. Opens a store, selects its users,
// plans where every entry goes under a target directory (user mapping,
// USMT <locationModify> rules, conflicts with what is already there), then
// writes in parallel and applies the metadata.
//
//   RestoreOptions o;
//   o.store_path = "/srv/stores/pc42.mig";
//   o.key = *Key::FromKeyFile("/secure/pc42.key");
//   o.target = "/";                    // or a mounted new disk
//   o.map_users = {{"alice", "alice2"}};
//   auto report = Restore(o, &my_observer);
//
// `store_path` may also name a hard-link store (a directory; capture.h
// `hardlink`): the same plan and the same rules apply, and each file is
// linked back from the store into the target when they share a filesystem
// (so the restored file is the captured inode, with its captured metadata
// set on it), or copied out of the store otherwise. An extract always
// copies. Each store file is first checked as Verify checks it (the inode
// captured, with the size and modification time captured): one replaced or
// written since the capture is a damaged entry (Corruption), never restored.
//
// Entries land at their path relative to the capture root ("home/alice/x",
// "Users/alice/x"). Nothing is ever written outside `target`: paths with
// "..", ".", empty components or a leading '/' are refused, as is any path
// that passes through a symlink (one the store creates, or one already in
// the target); every file is opened below a directory handle without
// following symlinks.
//
// Every file is written under a temporary name in its directory
// (".<name>.migtmp-<random>"), its content hash checked, its metadata set,
// and only then renamed into place: a restore that dies leaves no half file
// under a real name, and running it again finishes the job (files already
// restored are recognised and left alone; stale temporaries are removed).
// Directories get their metadata last, deepest first.
//
// Errors with single entries (damaged data, an unsafe path, a target that
// refuses a write) follow `continue_on_error`: off, the restore stops at the
// first and returns Stopped (exit 61); on, each is reported, the entry is
// left out and the restore completes (exit 3). Damage costs only the files
// whose data lives in the damaged block.
//
// Extract (extract.h) and Verify (verify.h) share the observer and report
// types below.
//
// Thread safety: Restore may run concurrently with itself on different
// targets. It calls its observer from one thread at a time (never
// concurrently), but not always the caller's thread.

#ifndef MIGSTORE_RESTORE_H_
#define MIGSTORE_RESTORE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/file_issue.h"
#include "migstore/key.h"
#include "migstore/progress.h"
#include "migstore/result.h"
#include "migstore/user_selection.h"

namespace migstore {

// What to do when an entry's destination is already taken by something
// that is not the same entry already restored (docs/cli.md, "Conflicts").
enum class ConflictPolicy : uint8_t {
  kRename,     // restore it beside, as "name (1).ext", "name (2).ext"... (USMT)
  kOverwrite,  // replace what is there (never a directory)
  kSkip,       // keep what is there
  kNewer,      // keep whichever has the newer modification time
};

// "rename", "overwrite", "skip", "newer".
const char* ConflictPolicyName(ConflictPolicy policy);
// The inverse; InvalidArgument for anything else.
Result<ConflictPolicy> ParseConflictPolicy(std::string_view text);

// --map-user OLD:NEW (LoadState /mu): the store's user OLD is restored as
// the target's user NEW: into NEW's profile folder, owned by NEW. OLD
// names the store user of that name, else the one store user whose name
// is OLD with a domain added or dropped ("carol" and "OLD\carol" find
// the store's OLD\carol; "CONTOSO\bob" finds bob); one that may be
// several is InvalidArgument.
struct UserMapping {
  std::string from;
  std::string to;
};
// Parses "OLD:NEW". A "DOMAIN\" before NEW is accepted and dropped (the
// user lands as that local name); OLD keeps it. InvalidArgument when
// malformed or when a name could not be a folder name.
Result<UserMapping> ParseUserMapping(std::string_view text);

// --map-domain OLD:NEW (LoadState /md): a store user whose name carries the
// domain OLD ("OLD\alice", or "alice@OLD" as sssd spells it) is restored
// as the same user of NEW ("NEW\alice", "alice@NEW"), as if a UserMapping
// named it. Domains compare ASCII case-insensitively; '*' in OLD stands
// for any run of characters.
struct DomainMapping {
  std::string from;
  std::string to;
};
// Parses "OLD:NEW". InvalidArgument when malformed: not one ':', an empty
// side, a character a domain name does not hold ('*' only in OLD), or a
// NEW that is "." or ".." or starts with '-'.
Result<DomainMapping> ParseDomainMapping(std::string_view text);

// What to restore and where. The C API's migstore_restore_options
// (migstore.h) maps onto it.
struct RestoreOptions {
  std::string store_path;
  Key key;
  // What is accepted of the store's encryption (key.h): with a key, an
  // unencrypted store is refused unless key_policy.allow_unencrypted.
  KeyPolicy key_policy;
  // Where the capture root's entries land ("/" for the running system).
  // Created when missing (unless dry_run), once the plan has passed: a run
  // its plan stops leaves no target behind.
  std::string target;
  std::vector<UserMapping> map_users;
  // Applied to users no map_users entry names; the first that matches a
  // user wins (as /md's). One matching no user is noted.
  std::vector<DomainMapping> map_domains;
  // Which of the store's users are restored (include beats last-used beats
  // exclude, as at capture; last use is the one recorded in the store).
  // Entries outside every profile are always restored.
  UserSelection users;
  ConflictPolicy on_conflict = ConflictPolicy::kRename;
  // USMT migration XML whose restore-time rules apply (native rules files
  // are accepted and have none): <merge>, <locationModify>,
  // <contentModify>, <destinationCleanup>, the NeverRestore() filter and
  // the processing steps (docs/rules.md, "Restore-time rules"). Their
  // include and exclude rules do not choose anything again: the store
  // holds what the capture took.
  std::vector<std::string> rules_files;
  // A USMT Config.xml: its <ErrorControl> decides which errors skip an
  // entry and which stop the restore (docs/rules.md, "Error control").
  std::string config_file;
  // Also write the store's machine settings (HKLM) into the target's
  // SOFTWARE and SYSTEM hives; off, they are counted in a note and left
  // out (docs/rules.md, "Registry": what a foreign store would aim at).
  // Users' settings (HKCU) are always restored with their users.
  bool machine_settings = false;
  // Refuse to start (NoSpace, exit 29) when the target's filesystem has
  // less free space than this; 0: no check.
  uint64_t min_free_bytes = 0;
  bool dry_run = false;  // plan and report; write nothing
  bool continue_on_error = false;
  // Run the command lines of the rules' <externalProcess> steps
  // (pre-apply, apply-success, post-apply); off, each is a note.
  bool allow_processing = false;
  // Files are restored without their setuid and setgid bits and without
  // file capabilities (security.capability). Off, they are reproduced as
  // captured. Either way each file that carries them is noted (OnNote),
  // and one note at the end counts them (docs/security.md, "Restore as
  // root versus as a user"). Folders keep their setgid bit (it only passes
  // the group on). Files already in the target are left as they are.
  bool strip_privileges = false;
  // Local accounts (LoadState /lac, /lae; docs/security.md, "Accounts").
  // On a target with etc/passwd, a selected linux user who lands (after
  // map_users and map_domains) as a local name the target does not know
  // stops the restore before anything is written (NoAccount, exit 14),
  // unless create_accounts: then the account is added to the target's
  // etc/passwd, group, shadow (and gshadow), locked unless
  // enable_accounts. enable_accounts needs create_accounts and a
  // password; account_password (never logged) is the one password of
  // every account created, hashed as the target's login.defs
  // ENCRYPT_METHOD says (yescrypt or SHA-512), and wiped from the engine's
  // own copies once hashed. create_accounts on a Windows target is
  // InvalidArgument: no SAM account is made offline.
  bool create_accounts = false;
  bool enable_accounts = false;
  std::string account_password;
  int threads = 0;  // 0: one per core
  // The restore plans and applies the catalog a window of whole catalog
  // segments at a time, about this many entries, so that its memory does
  // not grow with the store (docs/design.md, "Bounded memory"). Tests lower
  // it (1: a segment a window); 0 is InvalidArgument.
  size_t window_entries = 65536;
  // The plan holds the destinations it has given out in memory up to about
  // this many bytes, and writes the rest to a scratch file in $TMPDIR,
  // keeping about 2 bytes of each of those in memory (docs/design.md,
  // "Bounded memory"). Tests lower it; 0 keeps them all in memory.
  size_t claim_memory = size_t{32} << 20;
};

using RestoreProgress = Progress;

struct RestoreUser {
  std::string name;  // in the store
  std::string home;  // in the store, root-relative
  bool selected = false;
  std::string reason;
  std::string mapped_to;         // the target's user, "" when not mapped
  std::string destination_home;  // where the profile lands, root-relative
};

// One entry of the plan: where it goes and what happens there.
struct PlannedEntry {
  std::string path;           // in the store
  std::string destination;    // below the target; "" when nothing is written
  const char* type = "file";  // "file", "dir", "symlink", "fifo"
  uint64_t size = 0;
  // "create", "overwrite", "rename", "skip" (a conflict left as it was),
  // "identical" (already restored), "merge" (a directory already there),
  // "link" (a hard link to an earlier member), "refuse" (unsafe or
  // unreadable: an error).
  const char* action = "create";
  // Why, when it is not a plain create: "exists; --on-conflict rename",
  // "merge DestinationPriority() (MigUser.xml:40)", "moved by Move(...)".
  std::string reason;
};

// What a restore, extract or verify tells its caller while it runs.
// Override what you need; every method has a default that does nothing.
// Called from one thread at a time, not always the caller's; a method must
// return quickly (workers may wait for it).
class RestoreObserver {
 public:
  virtual ~RestoreObserver() = default;
  // The store's users, whether each is restored and where, once.
  virtual void OnUsers(const std::vector<RestoreUser>& /*users*/) {}
  // Often (a few times a second at most, and at each phase change).
  virtual void OnProgress(const RestoreProgress& /*progress*/) {}
  // An entry that could not be restored (or verified): skipped under
  // continue_on_error, else the one the run stopped at.
  virtual void OnFileError(const FileIssue& /*issue*/) {}
  // Something worth knowing that is not an error: an owner kept by number,
  // a rule function migstore does not run, an xattr the target refuses.
  virtual void OnNote(const FileNote& /*note*/) {}
  // Every entry of the plan, in catalog order, before anything is written.
  virtual void OnPlanned(const PlannedEntry& /*entry*/) {}
  // Verify only: each file's verdict, in catalog order.
  virtual void OnVerified(const std::string& /*path*/,
                          const Status& /*status*/) {}
  // Polled; true stops the run (Cancelled, exit 2). Files already renamed
  // into place stay; nothing is left half-written.
  virtual bool ShouldCancel() { return false; }
};

struct RestoreReport {
  std::string store_path;
  std::string target;
  bool dry_run = false;
  std::vector<RestoreUser> users;
  // Entries written (or, in a dry run, to be written).
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t fifos = 0;
  uint64_t hardlinks = 0;  // files restored as links to an earlier member
  uint64_t bytes = 0;      // logical bytes of the files written
  // Conflicts and how they ended.
  uint64_t renamed = 0;       // restored beside as "name (N).ext"
  uint64_t overwritten = 0;   // replaced what was there
  uint64_t skipped = 0;       // left what was there (policy or merge rule)
  uint64_t identical = 0;     // already there, identical: nothing to do
  uint64_t moved = 0;         // sent elsewhere by a <locationModify> rule
  uint64_t not_selected = 0;  // entries of users not selected
  // Settings written into the target's offline registry hives (restore of
  // a store holding any): keys created, values set.
  uint64_t registry_keys = 0;
  uint64_t registry_values = 0;
  std::vector<FileIssue> errors;  // entries not restored
  std::vector<FileNote> notes;
  std::vector<std::string> rule_diagnostics;
  // How the store was read: every data block is opened once, however many
  // files share it (a hostile store can force more: decoded blocks are kept
  // within a memory bound).
  uint64_t blocks_opened = 0;
  uint64_t store_bytes_read = 0;
  double seconds = 0;
};

// Restores. Errors before anything is written: InvalidArgument (options,
// rules, an unknown --map-user user), NotFound / NotAStore /
// UnsupportedVersion / Refused by key_policy (27), WrongKey (37),
// Corruption of the store's index (42), KeyUnreadable, IOError (the
// target), NoAccount (14: local accounts the target lacks, without
// create_accounts). During the run: Stopped (first entry error without
// continue_on_error), Cancelled.
Result<RestoreReport> Restore(const RestoreOptions& options,
                              RestoreObserver* observer = nullptr);

}  // namespace migstore

#endif  // MIGSTORE_RESTORE_H_
