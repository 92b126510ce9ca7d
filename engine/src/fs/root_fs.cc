#include "engine/src/fs/root_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "engine/base/case_fold.h"
#include "engine/base/time_ns.h"

namespace migstore::internal {

std::string JoinRoot(std::string_view root, std::string_view rel) {
  std::string out(root);
  if (rel.empty()) return out.empty() ? "/" : out;
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(rel);
  return out;
}

std::string JoinRel(std::string_view rel, std::string_view name) {
  std::string out(rel);
  if (!out.empty()) out.push_back('/');
  out.append(name);
  return out;
}

Result<std::vector<DirChild>> ListChildren(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno("cannot list " + dir, errno);
  std::vector<DirChild> out;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    DirChild c;
    c.name = std::string(n);
    struct stat st;
    std::string full = dir + "/" + c.name;
    if (::lstat(full.c_str(), &st) == 0) {
      c.is_dir = S_ISDIR(st.st_mode);
      c.is_symlink = S_ISLNK(st.st_mode);
    }
    out.push_back(std::move(c));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const DirChild& a, const DirChild& b) {
    return a.name < b.name;
  });
  return out;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::optional<int64_t> MtimeNs(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return MtimeNanos(st);
}

std::optional<std::string> FindChildNoCase(const std::string& dir,
                                           std::string_view name) {
  std::string exact = dir + "/" + std::string(name);
  if (Exists(exact)) return std::string(name);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::optional<std::string> found;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (EqualsFolded(n, name)) {
      found = std::string(n);
      break;
    }
  }
  ::closedir(d);
  return found;
}

std::string ResolveNoCase(std::string_view root, std::string_view rel) {
  std::string out;
  bool missing = false;
  size_t pos = 0;
  while (pos <= rel.size() && !rel.empty()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string_view part = rel.substr(pos, slash - pos);
    std::optional<std::string> real;
    if (!missing) real = FindChildNoCase(JoinRoot(root, out), part);
    if (!real) missing = true;
    out = JoinRel(out, real ? *real : std::string(part));
    pos = slash + 1;
  }
  return out;
}

bool HasDotSegment(std::string_view rel) {
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string_view part = rel.substr(pos, slash - pos);
    if (part == "." || part == "..") return true;
    pos = slash + 1;
  }
  return false;
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno("cannot read " + path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      return Status::InvalidArgument(path, "file too large");
    }
  }
  ::close(fd);
  return data;
}

}  // namespace migstore::internal
