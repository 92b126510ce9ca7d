// User names as a restore meets them: names qualified with a domain
// ("OLD\alice" as winbind spells them, "alice@old.example" as sssd does),
// moved to another domain (--map-domain, LoadState's /md), and the names a
// local account may take in etc/passwd (--create-accounts).
//
// A qualified name is a directory account: its account lives in the domain
// (AD, LDAP, through sssd or winbind), not in the target's etc/passwd, so it
// is never created locally nor missed there (docs/security.md, "Accounts").
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_ACCOUNT_NAMES_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_ACCOUNT_NAMES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/restore.h"

namespace migstore::restore {

// A name split at its domain: "OLD\alice" (the first '\') or "alice@OLD"
// (the last '@'). Both parts are non-empty.
struct QualifiedName {
  std::string_view domain;
  std::string_view user;
  bool backslash = false;  // "DOMAIN\user" rather than "user@domain"
};
std::optional<QualifiedName> SplitDomain(std::string_view name);

// Whether `domain` matches a --map-domain OLD: ASCII case-insensitively,
// each '*' standing for any run of characters (LoadState accepts '*' in
// OldDomain).
bool DomainMatches(std::string_view pattern, std::string_view domain);

// `name` moved into the first of `mappings` whose OLD matches its domain
// (the first given wins, as with /md), in the same spelling ("NEW\alice",
// "alice@NEW"); nullopt when the name has no domain or none matches.
// *matched (when given) is the index of the mapping used.
std::optional<std::string> MapDomain(std::string_view name,
                                     const std::vector<DomainMapping>& mappings,
                                     size_t* matched = nullptr);

// How well a --map-user OLD names the store user `store_name`: 2 when the
// names are the same (a qualified name spelt either way: "OLD\carol" is
// "carol@OLD"), 1 when one of them carries a domain the other lacks and
// the user parts are the same ("carol" and "OLD\carol", "CONTOSO\bob"
// and "bob"), else 0. Two qualified names whose domains differ never
// match. `fold`: ASCII case-insensitively (a
// windows store); domains always so.
int UserNameMatch(std::string_view store_name, std::string_view from,
                  bool fold);

// The store user of `names` a --map-user OLD `from` names: the one whose
// name is `from` (UserNameMatch 2), else the only one it matches with a
// domain added or dropped. nullopt otherwise; *matches (when given) gets
// the indices of the best matches (none, or several: ambiguous).
std::optional<size_t> FindStoreUser(const std::vector<std::string>& names,
                                    std::string_view from, bool fold,
                                    std::vector<size_t>* matches = nullptr);

// The user mappings in force: `users` (--map-user), then one for each of
// `names` (the store's users) that no entry of `users` names (FindStoreUser)
// and whose
// domain `domains` moves (MapDomain). `fold`: names compare ASCII
// case-insensitively (a windows store). *unused gets the indices of the
// `domains` entries that moved no one.
std::vector<UserMapping> MappingsInForce(
    const std::vector<UserMapping>& users,
    const std::vector<DomainMapping>& domains,
    const std::vector<std::string>& names, bool fold,
    std::vector<size_t>* unused);

// Where a mapped user's profile lands when the target's etc/passwd does not
// say: beside the old one, named for the new user ("home/alice" ->
// "home/alice2"); but a home kept in a folder named for the old user's
// domain ("home/OLD/alice", winbind's template /home/%D/%U) moves to the
// new domain's folder ("home/NEW/alice") when only the domain changes.
std::string MappedHome(std::string_view home, std::string_view from,
                       std::string_view to);

// Why `name` cannot be a local account's name in etc/passwd, or "" when it
// can: 1 to 32 bytes (utmp's ut_user), a letter or '_' first, then
// letters, digits, '_', '.' and '-', and an optional final '$' (shadow's
// useradd with its relaxed checks; Debian's default NAME_REGEX also
// refuses capitals). A qualified name never is one.
std::string BadLocalNameReason(std::string_view name);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_ACCOUNT_NAMES_H_
