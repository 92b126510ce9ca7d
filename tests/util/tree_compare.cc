#include "tests/util/tree_compare.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <set>

namespace migstore::testing {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::vector<std::string> Names(int dir_fd) {
  std::vector<std::string> out;
  int dup = ::dup(dir_fd);
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string Join(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "/" + b;
}

std::string Xattrs(int dir_fd, const std::string& name) {
  std::string path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
  std::string names(65536, '\0');
  ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n <= 0) return {};
  names.resize(static_cast<size_t>(n));
  std::vector<std::string> list;
  for (size_t s = 0; s < names.size();) {
    size_t e = names.find('\0', s);
    list.push_back(names.substr(s, e - s));
    s = e + 1;
  }
  std::sort(list.begin(), list.end());
  std::string out;
  for (const std::string& x : list) {
    std::string v(65536, '\0');
    ssize_t m = ::lgetxattr(path.c_str(), x.c_str(), v.data(), v.size());
    v.resize(m > 0 ? static_cast<size_t>(m) : 0);
    out += x + "=" + v + ";";
  }
  return out;
}

std::string ReadAll(int dir_fd, const std::string& name) {
  int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return "<unreadable>";
  Fd owned(fd);
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

// Reads up to n bytes, fewer only at the end of the file (or on an error,
// which then shows as a difference).
size_t ReadUpTo(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

// Whether `name` holds the same bytes in both folders.
bool SameBytesAt(int dir_a, int dir_b, const std::string& name) {
  Fd fa(::openat(dir_a, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
  Fd fb(::openat(dir_b, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
  return SameBytes(fa.get(), fb.get());
}

std::string Link(int dir_fd, const std::string& name) {
  char buf[8192];
  ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf, sizeof(buf));
  return n < 0 ? std::string("<unreadable>")
               : std::string(buf, static_cast<size_t>(n));
}

int64_t Ns(const struct timespec& t) {
  return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
}

class Comparer {
 public:
  explicit Comparer(const TreeCompareOptions& o) : o_(o) {}

  std::string Run(int a, int b) {
    Dir(a, b, "");
    if (diff_.empty()) {
      // Hard-link groups: the partition by inode must be the same.
      for (const auto& [ino, paths] : groups_a_) {
        if (paths.size() < 2) continue;
        std::set<uint64_t> there;
        for (const std::string& p : paths) there.insert(ino_b_[p]);
        if (there.size() != 1) return paths[0] + ": hard-link group split";
        if (groups_b_[*there.begin()].size() != paths.size())
          return paths[0] + ": hard-link group differs";
      }
      for (const auto& [ino, paths] : groups_b_) {
        if (paths.size() < 2) continue;
        std::set<uint64_t> there;
        for (const std::string& p : paths) there.insert(ino_a_[p]);
        if (there.size() != 1 ||
            groups_a_[*there.begin()].size() != paths.size())
          return paths[0] + ": hard-linked only in the restore";
      }
    }
    return diff_;
  }

 private:
  bool Ignored(const std::string& rel) const {
    return std::find(o_.ignore.begin(), o_.ignore.end(), rel) !=
           o_.ignore.end();
  }

  void Dir(int a, int b, const std::string& rel) {
    std::vector<std::string> na = Names(a), nb = Names(b);
    std::erase_if(na,
                  [&](const std::string& n) { return Ignored(Join(rel, n)); });
    std::erase_if(nb,
                  [&](const std::string& n) { return Ignored(Join(rel, n)); });
    if (na != nb) {
      std::vector<std::string> only_a, only_b;
      std::set_difference(na.begin(), na.end(), nb.begin(), nb.end(),
                          std::back_inserter(only_a));
      std::set_difference(nb.begin(), nb.end(), na.begin(), na.end(),
                          std::back_inserter(only_b));
      diff_ = !only_a.empty()
                  ? Join(rel, only_a[0]) + ": missing from the restore"
                  : Join(rel, only_b[0]) + ": only in the restore";
      return;
    }
    for (const std::string& n : na) {
      if (!diff_.empty()) return;
      Entry(a, b, n, Join(rel, n));
    }
  }

  void Entry(int a, int b, const std::string& n, const std::string& rel) {
    struct stat sa, sb;
    if (::fstatat(a, n.c_str(), &sa, AT_SYMLINK_NOFOLLOW) != 0 ||
        ::fstatat(b, n.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0) {
      diff_ = rel + ": cannot stat";
      return;
    }
    if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) {
      diff_ = rel + ": type differs";
      return;
    }
    if (!S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) != (sb.st_mode & 07777)) {
      diff_ = rel + ": mode " + std::to_string(sa.st_mode & 07777) +
              " became " + std::to_string(sb.st_mode & 07777);
      return;
    }
    if (o_.owners && (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)) {
      diff_ = rel + ": owner differs";
      return;
    }
    if ((!S_ISDIR(sa.st_mode) || o_.directory_times) &&
        Ns(sa.st_mtim) != Ns(sb.st_mtim)) {
      diff_ = rel + ": mtime " + std::to_string(Ns(sa.st_mtim)) + " became " +
              std::to_string(Ns(sb.st_mtim));
      return;
    }
    if (Xattrs(a, n) != Xattrs(b, n)) {
      diff_ = rel + ": extended attributes differ";
      return;
    }
    if (S_ISLNK(sa.st_mode)) {
      if (Link(a, n) != Link(b, n)) diff_ = rel + ": symlink target differs";
      return;
    }
    if (S_ISREG(sa.st_mode)) {
      if (sa.st_size != sb.st_size || !SameBytesAt(a, b, n)) {
        diff_ = rel + ": bytes differ";
        return;
      }
      // Holes stay holes: the restore allocates no more than the original
      // (with a little slack for the filesystems' own rounding).
      if (sb.st_blocks > sa.st_blocks + 64) {
        diff_ = rel + ": " + std::to_string(sb.st_blocks) +
                " blocks allocated where the original has " +
                std::to_string(sa.st_blocks);
        return;
      }
      ino_a_[rel] = sa.st_ino;
      ino_b_[rel] = sb.st_ino;
      groups_a_[sa.st_ino].push_back(rel);
      groups_b_[sb.st_ino].push_back(rel);
      return;
    }
    if (S_ISDIR(sa.st_mode)) {
      int da = ::openat(a, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      int db = ::openat(b, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      Fd fa(da), fb(db);
      if (da < 0 || db < 0) {
        diff_ = rel + ": cannot open folder";
        return;
      }
      Dir(da, db, rel);
    }
  }

  const TreeCompareOptions& o_;
  std::string diff_;
  std::map<std::string, uint64_t> ino_a_, ino_b_;
  std::map<uint64_t, std::vector<std::string>> groups_a_, groups_b_;
};

void Walk(
    int dir_fd, const std::string& rel,
    const std::function<void(int, const std::string&, const std::string&)>& f) {
  for (const std::string& n : Names(dir_fd)) {
    std::string r = Join(rel, n);
    f(dir_fd, n, r);
    struct stat st;
    if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode)) {
      int sub =
          ::openat(dir_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (sub >= 0) {
        Fd owned(sub);
        Walk(sub, r, f);
      }
    }
  }
}

}  // namespace

std::string CompareTrees(const std::string& expected, const std::string& actual,
                         const TreeCompareOptions& options) {
  int a = ::open(expected.c_str(), O_RDONLY | O_DIRECTORY);
  int b = ::open(actual.c_str(), O_RDONLY | O_DIRECTORY);
  Fd fa(a), fb(b);
  if (a < 0) return "cannot open " + expected;
  if (b < 0) return "cannot open " + actual;
  return Comparer(options).Run(a, b);
}

bool SameBytes(int fd_a, int fd_b) {
  if (fd_a < 0 || fd_b < 0) return false;
  std::vector<char> ba(1 << 16), bb(1 << 16);
  for (;;) {
    const size_t na = ReadUpTo(fd_a, ba.data(), ba.size());
    const size_t nb = ReadUpTo(fd_b, bb.data(), bb.size());
    if (na != nb || std::memcmp(ba.data(), bb.data(), na) != 0) return false;
    if (na < ba.size()) return true;
  }
}

std::vector<std::string> FindTemporaries(const std::string& root) {
  std::vector<std::string> out;
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return out;
  Fd owned(fd);
  Walk(fd, "", [&](int, const std::string& name, const std::string& rel) {
    if (name.size() > 25 && name[0] == '.' &&
        name.find(".migtmp-") == name.size() - 24) {
      out.push_back(rel);
    }
  });
  return out;
}

std::map<std::string, EntryState> SnapshotTree(const std::string& root) {
  std::map<std::string, EntryState> out;
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return out;
  Fd owned(fd);
  Walk(fd, "",
       [&](int dir_fd, const std::string& name, const std::string& rel) {
         struct stat st;
         if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
           return;
         EntryState s;
         s.mode = st.st_mode;
         s.size = static_cast<uint64_t>(st.st_size);
         s.mtime_ns = Ns(st.st_mtim);
         s.ino = st.st_ino;
         if (S_ISREG(st.st_mode) && st.st_size < (1 << 20))
           s.data = ReadAll(dir_fd, name);
         if (S_ISLNK(st.st_mode)) s.data = Link(dir_fd, name);
         out[rel] = s;
       });
  return out;
}

std::string CompareSnapshots(const std::map<std::string, EntryState>& before,
                             const std::map<std::string, EntryState>& after) {
  for (const auto& [rel, was] : before) {
    auto it = after.find(rel);
    if (it == after.end()) return rel + ": missing";
    const EntryState& now = it->second;
    if (was.mode != now.mode) return rel + ": mode changed";
    if (was.size != now.size) return rel + ": size changed";
    if (was.mtime_ns != now.mtime_ns) return rel + ": mtime changed";
    if (was.data != now.data) return rel + ": data changed";
    if (S_ISREG(was.mode) && was.ino != now.ino) return rel + ": inode changed";
  }
  for (const auto& [rel, now] : after) {
    if (before.count(rel) == 0) return rel + ": new";
  }
  return "";
}

}  // namespace migstore::testing
