// The accounts of the system being restored onto, from TARGET/etc/passwd and
// TARGET/etc/group when it has them (a linux root), so that ownership is
// mapped by name: "alice" owns her files on the new machine whatever her
// number there. Read below the target without following symlinks.
//
// OwnerMap turns the store's owner and group numbers into the target's:
// through the store's names, the --map-user renames, and the target's
// tables. An owner the target does not know keeps its number, once noted.
//
// Thread safety: plain values; OwnerMap is built once, then read-only.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_TARGET_ACCOUNTS_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_TARGET_ACCOUNTS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/container_reader.h"
#include "migstore/result.h"

namespace migstore::restore {

struct TargetAccount {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;  // root-relative ("home/alice"), "" when unusable
};

struct TargetAccounts {
  bool has_passwd = false;
  bool has_group = false;
  // Why an etc/passwd that is there was not read: a symlink (never
  // followed), not a regular file, unreadable. has_passwd is then false.
  std::string passwd_error;
  std::unordered_map<std::string, TargetAccount> users;  // by name
  std::unordered_map<std::string, uint32_t> groups;      // by name
};

// Reads etc/passwd and etc/group below `target_fd`; missing files leave the
// tables empty. Parses "name:x:uid:gid:gecos:home:shell" and
// "name:x:gid:members" lines, skipping malformed ones; the first line for a
// name wins.
TargetAccounts ReadTargetAccounts(int target_fd);
// The text of the regular file `rel` below `target_fd`, read without
// following a symlink in any component: nullopt when it does not exist;
// IOError when it is a symlink or anything but a regular file, cannot be
// read, or is over 64 MiB.
Result<std::optional<std::string>> ReadTargetFile(int target_fd,
                                                  std::string_view rel);
TargetAccounts ParseTargetAccounts(std::string_view passwd,
                                   std::string_view group);

// The pieces those files are made of: the lines that hold something (not
// empty, not a '#' comment; a final CR dropped), a line's ':'-separated
// fields, and a decimal id field.
std::vector<std::string_view> AccountLines(std::string_view text);
std::vector<std::string_view> AccountFields(std::string_view line);
bool ParseAccountId(std::string_view text, uint32_t* id);

class OwnerMap {
 public:
  // `renamed` maps store user names to target user names (--map-user);
  // `renamed_gids` maps a mapped user's primary group number in the store to
  // the new user's (so a user's private group follows the user).
  OwnerMap(const format::ContainerReader& reader, const TargetAccounts& target,
           std::map<std::string, std::string> renamed,
           std::map<uint32_t, uint32_t> renamed_gids);

  // The target's numbers for the store's; a number without a name in the
  // store or the target is kept and noted.
  uint32_t Uid(uint32_t store_uid);
  uint32_t Gid(uint32_t store_gid);

  // One line per owner or group kept by number: "owner 1000 (alice) is not
  // in the target's etc/passwd: kept as 1000".
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  const format::ContainerReader& reader_;
  const TargetAccounts& target_;
  std::map<std::string, std::string> renamed_;
  std::map<uint32_t, uint32_t> renamed_gids_;
  std::unordered_map<uint32_t, uint32_t> uids_, gids_;
  std::vector<std::string> notes_;
};

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_TARGET_ACCOUNTS_H_
