#include "engine/src/profiles/login_records.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "engine/base/time_ns.h"
#include "engine/src/fs/root_fs.h"

namespace migstore::internal {
namespace {

// glibc struct utmp on x86-64 and aarch64 (__WORDSIZE_TIME64_COMPAT32).
constexpr size_t kTypeOffset = 0;
constexpr size_t kUserOffset = 44;
constexpr size_t kUserSize = 32;
constexpr size_t kTvSecOffset = 340;
constexpr size_t kTvUsecOffset = 344;
constexpr int16_t kUserProcess = 7;

// wtmp files grow for years; 64 MiB is over 170,000 logins.
constexpr size_t kMaxWtmpBytes = 64u << 20;

uint32_t LoadLe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 |
         static_cast<uint32_t>(u[2]) << 16 | static_cast<uint32_t>(u[3]) << 24;
}

int16_t LoadLe16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int16_t>(static_cast<uint16_t>(u[0]) |
                              static_cast<uint16_t>(u[1]) << 8);
}

void MergeNewest(std::map<std::string, int64_t>* into,
                 const std::map<std::string, int64_t>& from) {
  for (const auto& [user, t] : from) {
    auto [it, inserted] = into->emplace(user, t);
    if (!inserted && t > it->second) it->second = t;
  }
}

}  // namespace

std::map<std::string, int64_t> ParseUtmpRecords(std::string_view bytes) {
  std::map<std::string, int64_t> newest;
  for (size_t off = 0; off + kUtmpRecordSize <= bytes.size();
       off += kUtmpRecordSize) {
    const char* r = bytes.data() + off;
    if (LoadLe16(r + kTypeOffset) != kUserProcess) continue;
    const char* user = r + kUserOffset;
    size_t len = strnlen(user, kUserSize);
    if (len == 0) continue;
    int64_t sec = static_cast<int32_t>(LoadLe32(r + kTvSecOffset));
    int64_t usec = static_cast<int32_t>(LoadLe32(r + kTvUsecOffset));
    if (sec <= 0) continue;
    int64_t ns = NanosFrom(sec, usec * 1000);
    auto [it, inserted] = newest.emplace(std::string(user, len), ns);
    if (!inserted && ns > it->second) it->second = ns;
  }
  return newest;
}

std::map<std::string, int64_t> ReadWtmpLogins(std::string_view root) {
  std::map<std::string, int64_t> newest;
  for (const char* rel : {"var/log/wtmp", "var/log/wtmp.1"}) {
    Result<std::string> bytes =
        ReadSmallFile(JoinRoot(root, rel), kMaxWtmpBytes);
    if (bytes.ok()) MergeNewest(&newest, ParseUtmpRecords(*bytes));
  }
  return newest;
}

std::optional<int64_t> ReadLastlog(std::string_view root, uint32_t uid) {
  std::string path = JoinRoot(root, "var/log/lastlog");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char rec[4];
  ssize_t n =
      ::pread(fd, rec, sizeof(rec),
              static_cast<off_t>(uid) * static_cast<off_t>(kLastlogRecordSize));
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof(rec))) return std::nullopt;
  int64_t sec = static_cast<int32_t>(LoadLe32(rec));
  if (sec <= 0) return std::nullopt;
  return NanosFrom(sec, 0);
}

std::set<std::string> ReadLoggedOnUsers(std::string_view root) {
  std::set<std::string> users;
  for (const char* rel : {"run/utmp", "var/run/utmp"}) {
    Result<std::string> bytes = ReadSmallFile(JoinRoot(root, rel), 1u << 20);
    if (!bytes.ok()) continue;
    for (const auto& entry : ParseUtmpRecords(*bytes))
      users.insert(entry.first);
  }
  return users;
}

}  // namespace migstore::internal
