#include "engine/src/restore/create_accounts.h"

#include <crypt.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "engine/base/case_fold.h"
#include "engine/src/fs/copy_file.h"
#include "engine/src/fs/open_beneath.h"
#include "engine/src/fs/root_fs.h"
#include "engine/src/restore/account_names.h"
#include "engine/src/restore/safe_path.h"

namespace migstore::restore {
namespace {

struct IdRange {
  uint32_t min = 1000;
  uint32_t max = 60000;
};

// What useradd reads from etc/login.defs, with its defaults.
struct LoginDefs {
  IdRange uid, gid;
  uint32_t pass_min_days = 0;
  uint32_t pass_max_days = 99999;
  uint32_t pass_warn_age = 7;
  std::string encrypt_method;  // as written; "" when not set
};

LoginDefs ParseLoginDefs(std::string_view text) {
  LoginDefs d;
  const std::pair<std::string_view, uint32_t*> keys[] = {
      {"UID_MIN", &d.uid.min},
      {"UID_MAX", &d.uid.max},
      {"GID_MIN", &d.gid.min},
      {"GID_MAX", &d.gid.max},
      {"PASS_MIN_DAYS", &d.pass_min_days},
      {"PASS_MAX_DAYS", &d.pass_max_days},
      {"PASS_WARN_AGE", &d.pass_warn_age}};
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? "" : text.substr(eol + 1);
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!line.empty() && blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && blank(line.back())) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    size_t gap = 0;
    while (gap < line.size() && !blank(line[gap])) ++gap;
    std::string_view key = line.substr(0, gap), value = line.substr(gap);
    while (!value.empty() && blank(value.front())) value.remove_prefix(1);
    for (const auto& [name, field] : keys) {
      uint32_t v = 0;
      if (key == name && ParseAccountId(value, &v)) *field = v;
    }
    if (key == "ENCRYPT_METHOD") d.encrypt_method = value;
  }
  // A range upside down is no range: useradd's defaults instead.
  if (d.uid.min > d.uid.max || d.uid.min == 0) d.uid = IdRange();
  if (d.gid.min > d.gid.max || d.gid.min == 0) d.gid = IdRange();
  return d;
}

// Ids no account is given: (uid_t)-1, which chown reads as "unchanged",
// and 65535, the 16-bit one that older interfaces (NFSv2, 16-bit uid
// syscalls) use for the same and for nobody.
bool ReservedId(uint32_t id) { return id == 65535 || id == UINT32_MAX; }

// `wanted` when free and in range, else `second` likewise, else the lowest
// free id in range. `taken(id)`: whether the target has it.
std::optional<uint32_t> PickId(std::optional<uint32_t> wanted,
                               std::optional<uint32_t> second, IdRange range,
                               const std::function<bool(uint32_t)>& taken) {
  auto usable = [&](uint32_t id) {
    return id >= range.min && id <= range.max && !ReservedId(id) && !taken(id);
  };
  if (wanted && usable(*wanted)) return wanted;
  if (second && usable(*second)) return second;
  // Ends at the first free id: as many steps as ids taken from the bottom.
  for (uint64_t id = range.min; id <= range.max; ++id) {
    if (usable(static_cast<uint32_t>(id))) return static_cast<uint32_t>(id);
  }
  return std::nullopt;
}

// The name service's view (getpwnam_r...): on the running system, LDAP or
// sssd accounts that no file of the target lists.
struct NssUser {
  TargetAccount account;
  std::string group;  // its primary group's name, "" when unknown
};
struct NssGroup {
  uint32_t gid = 0;
  bool members = false;
};

template <typename Entry, typename Fn>
bool NssLookup(Fn fn, Entry* entry, std::vector<char>* buf) {
  buf->resize(16384);
  for (;;) {
    Entry* found = nullptr;
    const int rc = fn(entry, buf->data(), buf->size(), &found);
    if (rc == ERANGE && buf->size() < (1u << 24)) {
      buf->resize(buf->size() * 2);
      continue;
    }
    return rc == 0 && found != nullptr;
  }
}

std::optional<NssGroup> NssGroupByName(const std::string& name) {
  struct group g;
  std::vector<char> buf;
  if (!NssLookup(
          [&](struct group* e, char* b, size_t n, struct group** out) {
            return ::getgrnam_r(name.c_str(), e, b, n, out);
          },
          &g, &buf)) {
    return std::nullopt;
  }
  return NssGroup{g.gr_gid, g.gr_mem != nullptr && g.gr_mem[0] != nullptr};
}

std::optional<std::string> NssGroupName(uint32_t gid) {
  struct group g;
  std::vector<char> buf;
  if (!NssLookup(
          [&](struct group* e, char* b, size_t n, struct group** out) {
            return ::getgrgid_r(gid, e, b, n, out);
          },
          &g, &buf)) {
    return std::nullopt;
  }
  return std::string(g.gr_name);
}

std::optional<NssUser> NssUserByName(const std::string& name) {
  struct passwd p;
  std::vector<char> buf;
  if (!NssLookup(
          [&](struct passwd* e, char* b, size_t n, struct passwd** out) {
            return ::getpwnam_r(name.c_str(), e, b, n, out);
          },
          &p, &buf)) {
    return std::nullopt;
  }
  NssUser u;
  u.account.uid = p.pw_uid;
  u.account.gid = p.pw_gid;
  std::string_view home = p.pw_dir != nullptr ? p.pw_dir : "";
  while (!home.empty() && home.front() == '/') home.remove_prefix(1);
  while (!home.empty() && home.back() == '/') home.remove_suffix(1);
  if (!home.empty() && UnsafePathReason(home).empty()) u.account.home = home;
  u.group = NssGroupName(p.pw_gid).value_or("");
  return u;
}

bool NssHasUid(uint32_t uid) {
  struct passwd p;
  std::vector<char> buf;
  return NssLookup(
      [&](struct passwd* e, char* b, size_t n, struct passwd** out) {
        return ::getpwuid_r(uid, e, b, n, out);
      },
      &p, &buf);
}

bool NssHasGid(uint32_t gid) { return NssGroupName(gid).has_value(); }

// Whether `name` is in `dir` below the target (not followed when a link).
bool ExistsBelow(int target_fd, std::string_view dir, const char* name) {
  auto d = fs::OpenBeneath(target_fd, dir, O_PATH | O_DIRECTORY);
  struct stat st;
  return d.ok() && ::fstatat(d->get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// /bin/bash as the target will see it: bin/bash, or usr/bin/bash behind a
// merged /usr's "bin -> usr/bin" link (read, never followed).
bool TargetHasBash(int target_fd) {
  if (ExistsBelow(target_fd, "bin", "bash")) return true;
  char link[64];
  ssize_t n = ::readlinkat(target_fd, "bin", link, sizeof(link));
  if (n <= 0) return false;
  std::string_view to(link, static_cast<size_t>(n));
  return (to == "usr/bin" || to == "/usr/bin") &&
         ExistsBelow(target_fd, "usr/bin", "bash");
}

// The first field of each line mapped to its second (a password field)
// and its fourth (a group's members): what a name's line holds.
std::map<std::string_view, std::vector<std::string_view>> LinesByName(
    std::string_view text) {
  std::map<std::string_view, std::vector<std::string_view>> out;
  for (std::string_view line : AccountLines(text)) {
    std::vector<std::string_view> f = AccountFields(line);
    out.try_emplace(f[0], std::move(f));
  }
  return out;
}

std::set<uint32_t> IdsIn(std::string_view text, size_t field = 2) {
  std::set<uint32_t> ids;
  for (std::string_view line : AccountLines(text)) {
    std::vector<std::string_view> f = AccountFields(line);
    uint32_t id = 0;
    if (f.size() > field && ParseAccountId(f[field], &id)) ids.insert(id);
  }
  return ids;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The target's etc/NAME as planned from: its text, or a note that it is
// missing. `required`: its absence is an error.
Result<AccountFile> Snapshot(int target_fd, const std::string& name,
                             bool required) {
  AccountFile f;
  f.name = name;
  Result<std::optional<std::string>> text =
      ReadTargetFile(target_fd, "etc/" + name);
  if (!text.ok()) {
    return text.status().WithContext("--create-accounts: the target's etc/" +
                                     name + " cannot be used");
  }
  f.existed = text->has_value();
  if (f.existed) {
    f.old_text = std::move(**text);
  } else if (required) {
    return Status::IOError("--create-accounts: the target has no etc/" + name);
  }
  return f;
}

// The target's etc/login.defs, which only tunes defaults: a symlink (NixOS
// links it into the store) is not followed but noted, and useradd's
// defaults are used; anything else that stops it being read is an error.
Result<LoginDefs> ReadLoginDefs(int target_fd,
                                std::vector<std::string>* notes) {
  auto etc = fs::OpenBeneath(target_fd, "etc", O_PATH | O_DIRECTORY);
  struct stat st;
  if (etc.ok() &&
      ::fstatat(etc->get(), "login.defs", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode)) {
    notes->push_back(
        "the target's etc/login.defs is a symlink, not followed: useradd's "
        "defaults are used (ids 1000..60000, SHA-512 hashes)");
    return LoginDefs();
  }
  MIGSTORE_ASSIGN_OR_RETURN(AccountFile defs,
                            Snapshot(target_fd, "login.defs", false));
  return ParseLoginDefs(defs.old_text);
}

void AddLine(AccountFile* f, const std::string& line) {
  if (f->added.empty() && !f->old_text.empty() && f->old_text.back() != '\n')
    f->added.push_back('\n');
  f->added += line;
  f->added.push_back('\n');
}

Result<std::string> ReadAll(int fd, const std::string& what) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("reading " + what, errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (64u << 20)) return Status::IOError(what, "over 64 MiB");
  }
}

Status WriteAllTo(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("writing " + what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// shadow's lock (lckpwdf): a write lock on etc/.pwd.lock, waited for up to
// 15 s as lckpwdf waits, so useradd or passwd running on a live target
// cannot interleave with us.
Result<UniqueFd> LockAccountFiles(int etc_fd) {
  UniqueFd fd(::openat(etc_fd, ".pwd.lock",
                       O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                       0600));
  if (!fd.valid()) return Status::FromErrno("etc/.pwd.lock", errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::IOError("etc/.pwd.lock", "not a regular file");
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  for (int tries = 0; tries < 150; ++tries) {
    if (::fcntl(fd.get(), F_SETLK, &lock) == 0) return fd;
    if (errno != EACCES && errno != EAGAIN && errno != EINTR)
      return Status::FromErrno("locking etc/.pwd.lock", errno);
    ::usleep(100 * 1000);
  }
  return Status::IOError("etc/.pwd.lock",
                         "held by another program (useradd, passwd?) for 15 s");
}

// A file to rewrite as found under the lock: the old one open (invalid
// when there is none) and its status.
struct Found {
  UniqueFd old;
  struct stat st = {};
};

// etc/NAME opened and compared with what was planned from: refused when it
// changed, so that no file is written unless all of them can be.
Result<Found> CheckUnchanged(int etc_fd, const AccountFile& f) {
  const std::string what = "etc/" + f.name;
  Found found;
  found.old = UniqueFd(::openat(
      etc_fd, f.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  const int open_errno = errno;
  if (found.old.valid()) {
    if (::fstat(found.old.get(), &found.st) != 0)
      return Status::FromErrno(what, errno);
    if (!S_ISREG(found.st.st_mode))
      return Status::IOError(what, "not a regular file");
    MIGSTORE_ASSIGN_OR_RETURN(std::string now, ReadAll(found.old.get(), what));
    if (!f.existed || now != f.old_text) {
      return Status::IOError(what,
                             "changed while the restore ran: no account file "
                             "was written; run the restore again");
    }
  } else if (open_errno != ENOENT) {
    return Status::FromErrno(what, open_errno);  // ELOOP: a symlink
  } else if (f.existed) {
    return Status::IOError(what,
                           "removed while the restore ran: no account file "
                           "was written");
  }
  return found;
}

// etc/NAME replaced by its planned text plus the new lines (see the top of
// the header).
Status Replace(int etc_fd, const AccountFile& f, const Found& found) {
  const std::string what = "etc/" + f.name;
  const bool existed = found.old.valid();
  const std::string tmp = TempName(f.name);
  UniqueFd fd(::openat(etc_fd, tmp.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600));
  if (!fd.valid()) return Status::FromErrno("creating etc/" + tmp, errno);
  auto fail = [&](Status s) {
    ::unlinkat(etc_fd, tmp.c_str(), 0);
    return s;
  };
  Status s = WriteAllTo(fd.get(), f.old_text, what);
  if (s.ok()) s = WriteAllTo(fd.get(), f.added, what);
  if (!s.ok()) return fail(s);
  // The old file's owner, mode and extended attributes (an SELinux label,
  // ACLs); a new file root's with the planned mode. Not root, a chown of a
  // file we own to a group we are not in is refused: the group stays ours.
  const bool root = ::geteuid() == 0;
  const uid_t uid = existed ? found.st.st_uid : 0;
  const gid_t gid = existed ? found.st.st_gid : f.new_gid;
  bool chowned = false;
  if (root || existed) {
    if (::fchown(fd.get(), uid, gid) == 0) {
      chowned = true;
    } else if (root || errno != EPERM) {
      return fail(Status::FromErrno("chown " + what, errno));
    }
  }
  mode_t mode = existed ? (found.st.st_mode & 07777) : f.new_mode;
  // A new file meant for its group alone (shadow's 0640 root:shadow) whose
  // group could not be given would be readable by ours: owner only.
  if (!existed && !chowned && (mode & 0004) == 0) mode &= 0700;
  if (::fchmod(fd.get(), mode) != 0)
    return fail(Status::FromErrno("chmod " + what, errno));
  if (existed) {
    s = fs::CopyXattrs(found.old.get(), fd.get(), what,
                       [](const std::string&, int) {});
    if (!s.ok()) return fail(s);
  }
  if (::fsync(fd.get()) != 0)
    return fail(Status::FromErrno("fsync " + what, errno));
  if (::renameat(etc_fd, tmp.c_str(), etc_fd, f.name.c_str()) != 0)
    return fail(Status::FromErrno("renaming etc/" + tmp, errno));
  if (::fsync(etc_fd) != 0) return Status::FromErrno("fsync etc", errno);
  return Status::OK();
}

}  // namespace

Result<std::string> HashAccountPassword(std::string_view password,
                                        std::string_view encrypt_method) {
  if (password.empty())
    return Status::InvalidArgument("the account password is empty");
  if (password.find('\0') != std::string_view::npos)
    return Status::InvalidArgument("the account password holds a NUL byte");
  const bool yescrypt = internal::EqualsFolded(encrypt_method, "YESCRYPT");
  const char* prefix = yescrypt ? "$y$" : "$6$";
  const char* name = yescrypt ? "yescrypt" : "sha512crypt";
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // No random bytes given: libxcrypt draws them from the kernel. A count
  // of 0: the method's default cost.
  if (::crypt_gensalt_rn(prefix, 0, nullptr, 0, setting, sizeof(setting)) ==
      nullptr) {
    return Status::FromErrno(std::string("crypt_gensalt_rn(") + name + ")",
                             errno);
  }
  auto data = std::make_unique<crypt_data>();
  std::string secret(password);
  const char* hash =
      ::crypt_rn(secret.c_str(), setting, data.get(), sizeof(*data));
  std::string out = hash != nullptr ? std::string(hash) : std::string();
  ::explicit_bzero(secret.data(), secret.size());
  ::explicit_bzero(data.get(), sizeof(*data));
  if (out.empty() || out[0] == '*')
    return Status::IOError(std::string("crypt_rn(") + name + ") failed");
  return out;
}

bool LooksLikeWindowsTarget(const std::string& target) {
  // The SAM is Windows' account database: only a Windows root has one.
  if (auto win = internal::FindChildNoCase(target, "Windows")) {
    std::string dir = *win;
    bool sam = true;
    for (const char* part : {"System32", "config"}) {
      auto child =
          internal::FindChildNoCase(internal::JoinRoot(target, dir), part);
      if (!child) {
        sam = false;
        break;
      }
      dir += "/" + *child;
    }
    if (sam &&
        internal::FindChildNoCase(internal::JoinRoot(target, dir), "SAM"))
      return true;
  }
  // A linux root keeps its accounts in etc/passwd, whatever folders it
  // has besides ("windows" for a game, a share): not Windows.
  struct stat st;
  if (::lstat(internal::JoinRoot(target, "etc/passwd").c_str(), &st) == 0)
    return false;
  if (auto win = internal::FindChildNoCase(target, "Windows");
      win && internal::IsDirectory(internal::JoinRoot(target, *win))) {
    return true;
  }
  auto users = internal::FindChildNoCase(target, "Users");
  if (!users) return false;
  auto children = internal::ListChildren(internal::JoinRoot(target, *users));
  if (!children.ok()) return false;
  for (const internal::DirChild& c : *children) {
    if (c.is_dir &&
        internal::FindChildNoCase(
            internal::JoinRoot(target, *users + "/" + c.name), "NTUSER.DAT")) {
      return true;
    }
  }
  return false;
}

bool IsRunningSystem(int target_fd) {
  struct stat target, root;
  return target_fd >= 0 && ::fstat(target_fd, &target) == 0 &&
         ::stat("/", &root) == 0 && target.st_dev == root.st_dev &&
         target.st_ino == root.st_ino;
}

std::string DescribeAccount(const NewAccount& a) {
  return a.name + ": uid " + std::to_string(a.uid) + ", group " + a.name +
         " (gid " + std::to_string(a.gid) +
         (a.new_group ? ", new)" : ", already there)") + ", home " + a.home +
         ", shell " + a.shell +
         (a.shadow_kept ? ", etc/shadow's locked line already there kept"
          : a.enabled   ? ", enabled: the password must be changed at first "
                          "login"
          : a.has_password
              ? ", locked and expired (its password set): no login, not even "
                "with an SSH key"
              : ", locked and expired: no login, not even with an SSH key");
}

Result<AccountPlan> PlanAccounts(const AccountRequest& r,
                                 const std::vector<LandingUser>& users,
                                 std::vector<std::string>* notes) {
  if (r.enable && !r.create) {
    return Status::InvalidArgument(
        "--enable-accounts needs --create-accounts (as /lae needs /lac)");
  }
  if (!r.password.empty() && !r.create) {
    return Status::InvalidArgument(
        "--account-password-file goes with --create-accounts");
  }
  if (r.enable && r.password.empty()) {
    return Status::InvalidArgument(
        "--enable-accounts needs --account-password-file: an account is "
        "never enabled with an empty password");
  }
  if (r.create && LooksLikeWindowsTarget(r.target)) {
    return Status::InvalidArgument(
        "--create-accounts: " + r.target +
        " is a Windows installation; creating a SAM account offline is not "
        "supported (create the accounts on the running system, or let the "
        "domain provide them)");
  }
  AccountPlan plan;
  const TargetAccounts* t = r.accounts;
  if (r.target_fd < 0 || t == nullptr ||
      (!t->has_passwd && t->passwd_error.empty())) {
    if (r.create) {
      notes->push_back(
          "the target has no etc/passwd (not a linux root): "
          "--create-accounts creates no account");
    }
    return plan;
  }
  if (!t->passwd_error.empty()) {
    if (!r.create) return plan;  // read as a target without accounts
    return Status::IOError(
        "--create-accounts: the target's etc/passwd cannot be used",
        t->passwd_error);
  }
  // On the running system the name service has accounts no file lists.
  const bool nss = IsRunningSystem(r.target_fd);

  // The users who land as a local name the target does not know, read
  // again from the file the accounts will be added to.
  MIGSTORE_ASSIGN_OR_RETURN(AccountFile passwd,
                            Snapshot(r.target_fd, "passwd", true));
  const auto known = LinesByName(passwd.old_text);
  std::vector<const LandingUser*> missing;
  std::set<std::string> seen;
  for (const LandingUser& u : users) {
    if (!u.linux_layout || known.count(u.name) || !seen.insert(u.name).second)
      continue;
    if (SplitDomain(u.name)) {
      if (r.create) {
        notes->push_back(u.name +
                         " is a domain account: the domain provides it, "
                         "no local account is created");
      }
      continue;
    }
    if (nss) {
      if (std::optional<NssUser> d = NssUserByName(u.name)) {
        notes->push_back(u.name +
                         " is not in etc/passwd but the name service has it "
                         "(uid " +
                         std::to_string(d->account.uid) +
                         "): its files are given to that account");
        if (!d->group.empty())
          plan.directory_groups.emplace_back(d->group, d->account.gid);
        plan.directory_users.emplace_back(u.name, std::move(d->account));
        continue;
      }
    }
    missing.push_back(&u);
  }
  if (missing.empty()) return plan;
  std::vector<std::string> names;
  for (const LandingUser* u : missing) {
    names.push_back(u->name == u->store_name
                        ? u->name
                        : u->name + " (the store's " + u->store_name + ")");
  }
  if (!r.create) {
    return Status::NoAccount(
        "the target's etc/passwd has no account for " + JoinNames(names),
        "give --create-accounts to create them (LoadState's /lac), "
        "--map-user to restore them as accounts the target has, or "
        "--user-exclude to leave them out; nothing was written");
  }

  MIGSTORE_ASSIGN_OR_RETURN(AccountFile group,
                            Snapshot(r.target_fd, "group", false));
  MIGSTORE_ASSIGN_OR_RETURN(AccountFile shadow,
                            Snapshot(r.target_fd, "shadow", false));
  MIGSTORE_ASSIGN_OR_RETURN(AccountFile gshadow,
                            Snapshot(r.target_fd, "gshadow", false));
  MIGSTORE_ASSIGN_OR_RETURN(const LoginDefs defs,
                            ReadLoginDefs(r.target_fd, notes));
  if (!r.password.empty() && !defs.encrypt_method.empty() &&
      !internal::EqualsFolded(defs.encrypt_method, "YESCRYPT") &&
      !internal::EqualsFolded(defs.encrypt_method, "SHA512")) {
    notes->push_back("the target's etc/login.defs has ENCRYPT_METHOD " +
                     defs.encrypt_method +
                     ": the account password is hashed with SHA-512");
  }
  std::set<uint32_t> uids = IdsIn(passwd.old_text);
  std::set<uint32_t> gids = IdsIn(group.old_text);
  // Groups that are some account's primary group: never a new user's own.
  const std::set<uint32_t> primary = IdsIn(passwd.old_text, 3);
  const auto groups = LinesByName(group.old_text);
  const auto shadowed = LinesByName(shadow.old_text);
  const auto gshadowed = LinesByName(gshadow.old_text);
  auto uid_taken = [&](uint32_t id) {
    return uids.count(id) != 0 || (nss && NssHasUid(id));
  };
  auto gid_taken = [&](uint32_t id) {
    return gids.count(id) != 0 || (nss && NssHasGid(id));
  };
  // A new etc/shadow is root's and the shadow group's, as Debian has it.
  shadow.new_mode = 0600;
  if (auto s = groups.find("shadow"); s != groups.end()) {
    uint32_t id = 0;
    if (s->second.size() >= 3 && ParseAccountId(s->second[2], &id)) {
      shadow.new_mode = 0640;
      shadow.new_gid = id;
    }
  }
  const bool bash = TargetHasBash(r.target_fd);
  const int64_t today = static_cast<int64_t>(std::time(nullptr)) / 86400;

  for (const LandingUser* u : missing) {
    const std::string who =
        "cannot create the local account " + u->name +
        (u->name == u->store_name ? ""
                                  : " (the store's " + u->store_name + ")");
    if (std::string why = BadLocalNameReason(u->name); !why.empty()) {
      return Status::InvalidArgument(
          who, why + "; restore it as another name with --map-user");
    }
    NewAccount a;
    a.name = u->name;
    a.store_name = u->store_name;
    a.home = "/" + u->home;
    bool writable = !u->home.empty();
    for (unsigned char c : a.home)
      writable &= c >= 0x20 && c != 0x7f && c != ':';
    if (!writable) {
      return Status::InvalidArgument(
          who, "its home " + a.home + " cannot be written in etc/passwd");
    }
    // A shadow line of the name without its account: what an interrupted
    // run of ours leaves is locked ('!'), and kept; one with a usable
    // password is someone's stale entry, which the new account would
    // inherit.
    const auto sh = shadowed.find(a.name);
    if (sh != shadowed.end() &&
        (sh->second.size() < 2 || sh->second[1].empty() ||
         sh->second[1][0] != '!')) {
      return Status::InvalidArgument(
          who,
          "etc/shadow already has a line for " + a.name +
              " that is not locked: a stale entry with a usable password, "
              "which the new account would take over; remove that line, or "
              "restore the user as another name with --map-user");
    }
    std::optional<uint32_t> uid =
        PickId(u->uid, std::nullopt, defs.uid, uid_taken);
    if (!uid) {
      return Status::InvalidArgument(
          who, "no free uid in UID_MIN..UID_MAX of the target's login.defs");
    }
    a.uid = *uid;
    uids.insert(a.uid);

    // A group of the name already there: joined only when it is a
    // user-private group waiting for its user (a gid in GID_MIN..GID_MAX,
    // no members, nobody's primary group), as an interrupted run of ours
    // leaves it. Anything else (docker, sudo, disk, a team's group) would
    // hand the new account its rights.
    std::optional<uint32_t> existing;
    bool members = false;
    if (auto g = groups.find(a.name); g != groups.end()) {
      uint32_t id = 0;
      if (g->second.size() >= 3 && ParseAccountId(g->second[2], &id))
        existing = id;
      members = g->second.size() >= 4 && !g->second[3].empty();
      if (!existing) {
        return Status::InvalidArgument(
            who, "etc/group's line for " + a.name + " has no valid gid");
      }
    } else if (nss) {
      if (std::optional<NssGroup> d = NssGroupByName(a.name)) {
        existing = d->gid;
        members = d->members;
      }
    }
    if (existing) {
      std::string why;
      if (*existing < defs.gid.min || *existing > defs.gid.max) {
        why = "its gid " + std::to_string(*existing) +
              " is outside GID_MIN..GID_MAX (" + std::to_string(defs.gid.min) +
              ".." + std::to_string(defs.gid.max) + "): a system group";
      } else if (members) {
        why = "it lists members";
      } else if (primary.count(*existing)) {
        why = "it is another account's primary group";
      }
      if (!why.empty()) {
        return Status::InvalidArgument(
            who, "the target has a group " + a.name + " (gid " +
                     std::to_string(*existing) + ") and " + why +
                     "; a new account is not put in it, which would give it "
                     "that group's rights: restore the user as another name "
                     "with --map-user");
      }
      a.gid = *existing;
      a.new_group = false;
    } else {
      // The captured gid when the store names it for the user (its private
      // group; another group's number would make this group own that
      // group's files), else the uid (useradd's user-private group), else
      // the lowest free one.
      std::optional<uint32_t> captured;
      if (!u->gid_name.empty() &&
          (u->gid_name == u->store_name || u->gid_name == u->name)) {
        captured = u->gid;
      }
      std::optional<uint32_t> gid =
          PickId(captured, a.uid, defs.gid, gid_taken);
      if (!gid) {
        return Status::InvalidArgument(
            who, "no free gid in GID_MIN..GID_MAX of the target's login.defs");
      }
      a.gid = *gid;
      gids.insert(a.gid);
      AddLine(&group, a.name + ":x:" + std::to_string(a.gid) + ":");
      if (gshadow.existed && !gshadowed.count(a.name))
        AddLine(&gshadow, a.name + ":!::");
    }
    a.shell = bash ? "/bin/bash" : "/bin/sh";
    a.enabled = r.enable;
    a.has_password = !r.password.empty();
    if (sh != shadowed.end()) {
      a.shadow_kept = true;  // an interrupted run's: its account follows
    } else {
      std::string field = "!";
      std::string last_change = std::to_string(today);
      if (a.has_password) {
        MIGSTORE_ASSIGN_OR_RETURN(
            std::string hash,
            HashAccountPassword(r.password, defs.encrypt_method));
        field = (a.enabled ? "" : "!") + hash;
        // A password set here is one several people know: it must be
        // changed at the first login (lastchg 0, as `passwd -e` does).
        last_change = "0";
      }
      // '!' stops password logins only: under UsePAM, sshd lets a key in
      // while the account has not expired. Expired on day 1 (1970-01-02),
      // as `usermod -L -e 1` does, nobody logs in at all.
      const char* expire = a.enabled ? "" : "1";
      AddLine(&shadow, a.name + ":" + field + ":" + last_change + ":" +
                           std::to_string(defs.pass_min_days) + ":" +
                           std::to_string(defs.pass_max_days) + ":" +
                           std::to_string(defs.pass_warn_age) + "::" + expire +
                           ":");
    }
    AddLine(&passwd, a.name + ":x:" + std::to_string(a.uid) + ":" +
                         std::to_string(a.gid) + "::" + a.home + ":" + a.shell);
    plan.accounts.push_back(std::move(a));
  }
  for (AccountFile* f : {&group, &gshadow, &shadow, &passwd}) {
    if (!f->added.empty()) plan.files.push_back(std::move(*f));
  }
  return plan;
}

void AddPlannedAccounts(const AccountPlan& plan, TargetAccounts* accounts) {
  for (const auto& [name, account] : plan.directory_users)
    accounts->users.try_emplace(name, account);
  for (const auto& [name, gid] : plan.directory_groups)
    accounts->groups.try_emplace(name, gid);
  for (const NewAccount& a : plan.accounts) {
    TargetAccount t;
    t.uid = a.uid;
    t.gid = a.gid;
    t.home = a.home.substr(1);
    accounts->users.insert_or_assign(a.name, std::move(t));
    accounts->groups.try_emplace(a.name, a.gid);
  }
}

Status WriteAccounts(int target_fd, const AccountPlan& plan) {
  if (plan.files.empty()) return Status::OK();
  MIGSTORE_ASSIGN_OR_RETURN(
      UniqueFd etc, fs::OpenBeneath(target_fd, "etc", O_RDONLY | O_DIRECTORY));
  MIGSTORE_ASSIGN_OR_RETURN(UniqueFd lock, LockAccountFiles(etc.get()));
  // Every file checked before the first is written: a change to passwd
  // must not leave the new groups behind.
  std::vector<Found> found;
  for (const AccountFile& f : plan.files) {
    MIGSTORE_ASSIGN_OR_RETURN(Found one, CheckUnchanged(etc.get(), f));
    found.push_back(std::move(one));
  }
  for (size_t i = 0; i < plan.files.size(); ++i) {
    MIGSTORE_RETURN_IF_ERROR(Replace(etc.get(), plan.files[i], found[i]));
  }
  return Status::OK();
}

}  // namespace migstore::restore
