// Login records of a linux root, read as files (so an offline disk works):
// wtmp (every login), lastlog (the last login per uid) and utmp (who is
// logged on now). The record layouts are glibc's on 64-bit little-endian
// Linux (utmp: 384 bytes; lastlog: 292 bytes); records from another
// architecture are not recognised and simply yield no time.
//
// Thread safety: pure functions over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_PROFILES_LOGIN_RECORDS_H_
#define MIGSTORE_ENGINE_SRC_PROFILES_LOGIN_RECORDS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace migstore::internal {

// Newest USER_PROCESS login per user name, in ns, from the utmp-format
// files ROOT/var/log/wtmp and ROOT/var/log/wtmp.1 (rotated). Missing or
// unreadable files contribute nothing.
std::map<std::string, int64_t> ReadWtmpLogins(std::string_view root);

// ROOT/var/log/lastlog's time for `uid`, in ns; nullopt when unreadable or
// never logged in.
std::optional<int64_t> ReadLastlog(std::string_view root, uint32_t uid);

// Users with a USER_PROCESS record in ROOT/run/utmp or ROOT/var/run/utmp.
std::set<std::string> ReadLoggedOnUsers(std::string_view root);

// Parses utmp-format bytes (whole records only): newest login per user.
// Exposed for tests.
std::map<std::string, int64_t> ParseUtmpRecords(std::string_view bytes);

inline constexpr size_t kUtmpRecordSize = 384;
inline constexpr size_t kLastlogRecordSize = 292;

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_PROFILES_LOGIN_RECORDS_H_
