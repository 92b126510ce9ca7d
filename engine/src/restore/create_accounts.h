// Local accounts a restore gives files to (LoadState's /lac and /lae): the
// selected linux users who land as a local name the target's etc/passwd
// does not hold are found before anything is written (NoAccount, exit 14,
// unless told to create them), planned (ids, home, shell, password hash),
// and appended to TARGET/etc/passwd, group, shadow and gshadow once the
// restore's plan has passed. docs/security.md, "Accounts", says why each
// choice.
//
// Every file is rewritten below the target, never through a symlink: the
// old content and the new lines under a temporary name made exclusively in
// TARGET/etc, with the old file's mode, owner and extended attributes,
// fsynced and renamed over it, the folder fsynced; under shadow's lock
// (etc/.pwd.lock, as lckpwdf takes it), and only when every file still
// holds what was planned from (all four checked before the first is
// written). group and gshadow go first, passwd last, so a run that dies
// half way leaves no account without its group, and the next run finishes
// (the group it made is used, its locked shadow line kept).
//
// What could hand a new account someone else's rights is refused rather
// than guessed around: a group of the name that is not a user-private one
// of its own (a system gid, members listed, another account's primary
// group: docker, sudo, disk...), a shadow line of the name that holds a
// usable password. A gid is reused from the store only when the store names
// it for the user itself. On the running system ("/") the name service
// (LDAP, sssd) is asked too, so a directory user is never shadowed by a new
// local one.
//
// Thread safety: functions; the restore calls them from one thread.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_CREATE_ACCOUNTS_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_CREATE_ACCOUNTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/src/restore/target_accounts.h"
#include "migstore/result.h"

namespace migstore::restore {

// A selected store user, as it lands on the target.
struct LandingUser {
  std::string store_name;  // as the store has it
  std::string name;        // after --map-user / --map-domain
  std::string home;        // destination home, root-relative
  bool linux_layout = true;
  uint32_t uid = 0;  // as captured (linux)
  uint32_t gid = 0;
  std::string gid_name;  // the store's name for gid; "" when it has none
};

struct AccountRequest {
  bool create = false;        // --create-accounts
  bool enable = false;        // --enable-accounts
  std::string_view password;  // --account-password-file's; "" when none
  std::string target;         // the target's path (the Windows check)
  int target_fd = -1;         // -1: the target does not exist yet
  const TargetAccounts* accounts = nullptr;  // as read (passwd_error)
};

// One account to be created.
struct NewAccount {
  std::string name;
  std::string store_name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool new_group = true;  // false: the target's group of that name is used
  std::string home;       // "/home/alice"
  std::string shell;      // "/bin/bash" when the target has it, else /bin/sh
  bool enabled = false;
  bool has_password = false;
  bool shadow_kept = false;  // etc/shadow already had a line for the name
};

// One of the files to rewrite: its text when planned and what is added.
struct AccountFile {
  std::string name;  // below TARGET/etc: "passwd", "group", ...
  bool existed = false;
  std::string old_text;
  std::string added;  // whole lines; a newline first when old_text lacks one
  // When the file is made (it did not exist): root's, group new_gid, this
  // mode; a mode for the group only (0640) falls back to 0600 when the
  // group cannot be given (not root).
  unsigned new_mode = 0644;
  uint32_t new_gid = 0;
};

struct AccountPlan {
  std::vector<NewAccount> accounts;
  std::vector<AccountFile> files;  // in the order they are written
  // Users the name service knows but etc/passwd does not (the running
  // system), and their primary groups: for OwnerMap, not written.
  std::vector<std::pair<std::string, TargetAccount>> directory_users;
  std::vector<std::pair<std::string, uint32_t>> directory_groups;
};

// Checks the request and finds the users whose local accounts the target
// lacks: InvalidArgument for enable without create or without a password,
// a password without create, create on a Windows target, a name that
// cannot be a local account's, a group of the name that must not be
// joined, or a shadow line of the name with a usable password; NoAccount
// (exit 14) naming the users when some are missing and create is off;
// IOError when create meets a target etc/passwd, group or shadow that is a
// symlink or not a regular file (a symlinked login.defs is noted and
// useradd's defaults used). Otherwise the accounts to make (none when
// nothing is missing, or the target has no etc/passwd), with their lines;
// `notes` gets what is worth telling.
Result<AccountPlan> PlanAccounts(const AccountRequest& request,
                                 const std::vector<LandingUser>& users,
                                 std::vector<std::string>* notes);

// The planned accounts and their groups, and the directory users found,
// added to `accounts`, so OwnerMap gives their files the new numbers.
void AddPlannedAccounts(const AccountPlan& plan, TargetAccounts* accounts);

// Writes the plan below `target_fd` (see the top of this file). IOError when
// a file cannot be written, or when any of them changed since it was
// planned from (then none is written).
Status WriteAccounts(int target_fd, const AccountPlan& plan);

// "alice: uid 1001, group alice (gid 1001, new), home /home/alice, shell
// /bin/bash, locked": what a note says of an account created.
std::string DescribeAccount(const NewAccount& account);

// A hash of `password` with a fresh salt (libxcrypt's crypt_rn) by the
// method login.defs' ENCRYPT_METHOD names: "YESCRYPT" gives "$y$...",
// anything else (SHA512, none, a weaker one) SHA-512's "$6$...", which
// every libc's crypt reads. InvalidArgument for an empty password or one
// holding a NUL.
Result<std::string> HashAccountPassword(std::string_view password,
                                        std::string_view encrypt_method);

// Whether the target is a Windows installation: it holds
// Windows/System32/config/SAM, or it has no etc/passwd and holds Windows/ or
// Users/*/NTUSER.DAT (any case), as capture's layout guess. A linux root
// with a "windows" folder is not one.
bool LooksLikeWindowsTarget(const std::string& target);

// Whether `target_fd` is the running system's root ("/": the same device
// and inode).
bool IsRunningSystem(int target_fd);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_CREATE_ACCOUNTS_H_
