#include "engine/src/restore/target_accounts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "engine/src/fs/open_beneath.h"
#include "engine/src/restore/safe_path.h"

namespace migstore::restore {

std::vector<std::string_view> AccountFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t colon = line.find(':', start);
    out.push_back(line.substr(
        start, colon == std::string_view::npos ? line.npos : colon - start));
    if (colon == std::string_view::npos) return out;
    start = colon + 1;
  }
}

bool ParseAccountId(std::string_view text, uint32_t* id) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *id);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::vector<std::string_view> AccountLines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view()
                                         : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line);
  }
  return out;
}

TargetAccounts ParseTargetAccounts(std::string_view passwd,
                                   std::string_view group) {
  TargetAccounts t;
  for (std::string_view line : AccountLines(passwd)) {
    std::vector<std::string_view> f = AccountFields(line);
    TargetAccount a;
    if (f.size() < 7 || f[0].empty() || !ParseAccountId(f[2], &a.uid) ||
        !ParseAccountId(f[3], &a.gid)) {
      continue;
    }
    std::string_view home = f[5];
    while (!home.empty() && home.front() == '/') home.remove_prefix(1);
    while (!home.empty() && home.back() == '/') home.remove_suffix(1);
    if (!home.empty() && UnsafePathReason(home).empty()) a.home = home;
    t.users.try_emplace(std::string(f[0]), std::move(a));
  }
  for (std::string_view line : AccountLines(group)) {
    std::vector<std::string_view> f = AccountFields(line);
    uint32_t gid = 0;
    if (f.size() < 3 || f[0].empty() || !ParseAccountId(f[2], &gid)) continue;
    t.groups.try_emplace(std::string(f[0]), gid);
  }
  return t;
}

Result<std::optional<std::string>> ReadTargetFile(int target_fd,
                                                  std::string_view rel) {
  auto fd = fs::OpenBeneath(target_fd, rel, O_RDONLY | O_NONBLOCK);
  if (!fd.ok()) {
    if (fs::LastOpenErrno() == ENOENT) return std::optional<std::string>();
    return fd.status();
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0)
    return Status::FromErrno(std::string(rel), errno);
  if (!S_ISREG(st.st_mode))
    return Status::IOError(std::string(rel), "not a regular file");
  constexpr size_t kMax = 64u << 20;
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading " + std::string(rel), errno);
    }
    if (n == 0) return std::optional<std::string>(std::move(out));
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMax)
      return Status::IOError(std::string(rel), "over 64 MiB");
  }
}

TargetAccounts ReadTargetAccounts(int target_fd) {
  Result<std::optional<std::string>> passwd =
      ReadTargetFile(target_fd, "etc/passwd");
  Result<std::optional<std::string>> group =
      ReadTargetFile(target_fd, "etc/group");
  const bool has_passwd = passwd.ok() && passwd->has_value();
  const bool has_group = group.ok() && group->has_value();
  TargetAccounts t =
      ParseTargetAccounts(has_passwd ? **passwd : "", has_group ? **group : "");
  t.has_passwd = has_passwd;
  t.has_group = has_group;
  if (!passwd.ok()) t.passwd_error = passwd.status().message();
  return t;
}

OwnerMap::OwnerMap(const format::ContainerReader& reader,
                   const TargetAccounts& target,
                   std::map<std::string, std::string> renamed,
                   std::map<uint32_t, uint32_t> renamed_gids)
    : reader_(reader),
      target_(target),
      renamed_(std::move(renamed)),
      renamed_gids_(std::move(renamed_gids)) {}

uint32_t OwnerMap::Uid(uint32_t store_uid) {
  if (auto it = uids_.find(store_uid); it != uids_.end()) return it->second;
  uint32_t out = store_uid;
  const std::string* name = reader_.owner_name(store_uid);
  std::string wanted = name != nullptr ? *name : std::string();
  if (auto r = renamed_.find(wanted); !wanted.empty() && r != renamed_.end())
    wanted = r->second;
  std::string label = std::to_string(store_uid) +
                      (name != nullptr ? " (" + *name + ")" : std::string());
  if (wanted.empty()) {
    notes_.push_back("owner " + label + " has no name in the store: kept as " +
                     label);
  } else if (auto t = target_.users.find(wanted); t != target_.users.end()) {
    out = t->second.uid;
  } else {
    notes_.push_back("owner " + label +
                     (wanted != *name ? " restored as " + wanted : "") +
                     (target_.has_passwd ? " is not in the target's etc/passwd"
                                         : ": the target has no etc/passwd") +
                     ": kept as " + std::to_string(store_uid));
  }
  uids_.emplace(store_uid, out);
  return out;
}

uint32_t OwnerMap::Gid(uint32_t store_gid) {
  if (auto it = gids_.find(store_gid); it != gids_.end()) return it->second;
  uint32_t out = store_gid;
  const std::string* name = reader_.group_name(store_gid);
  std::string label = std::to_string(store_gid) +
                      (name != nullptr ? " (" + *name + ")" : std::string());
  if (auto r = renamed_gids_.find(store_gid); r != renamed_gids_.end()) {
    out = r->second;
  } else if (name == nullptr) {
    notes_.push_back("group " + label + " has no name in the store: kept as " +
                     label);
  } else if (auto t = target_.groups.find(*name); t != target_.groups.end()) {
    out = t->second;
  } else {
    notes_.push_back("group " + label +
                     (target_.has_group ? " is not in the target's etc/group"
                                        : ": the target has no etc/group") +
                     ": kept as " + std::to_string(store_gid));
  }
  gids_.emplace(store_gid, out);
  return out;
}

}  // namespace migstore::restore
