#include "tests/util/test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/util/tree_compare.h"

extern char** environ;

namespace migstore::testing {

std::string DefaultTempBase() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp ? tmp : "/tmp";
}

TempDir::TempDir() : TempDir(DefaultTempBase()) {}

TempDir::TempDir(const std::string& base) {
  std::string templ = base + "/migstore-test-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed: " << std::strerror(errno);
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests may leave read-only directories; make them writable to remove.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      std::filesystem::permissions(it->path(),
                                   std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ec);
    }
  }
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  // One allocation of the file's size and plain reads: a stringstream grows
  // by doubling and copies, which under ASan made the crash tests' checks
  // (hundreds of megabytes read) most of their time.
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

bool SameBytes(const std::string& a, const std::string& b) {
  int fa = ::open(a.c_str(), O_RDONLY | O_CLOEXEC);
  int fb = ::open(b.c_str(), O_RDONLY | O_CLOEXEC);
  const bool same = SameBytes(fa, fb);
  if (fa >= 0) ::close(fa);
  if (fb >= 0) ::close(fb);
  return same;
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> EnvironmentWith(
    const std::vector<std::string>& extra) {
  std::vector<std::string> all;
  for (char** e = environ; *e != nullptr; ++e) all.emplace_back(*e);
  all.insert(all.end(), extra.begin(), extra.end());
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (seen.insert(it->substr(0, it->find('='))).second) out.push_back(*it);
  }
  return out;
}

RunResult RunMigstore(const std::vector<std::string>& args,
                      const RunOptions& options) {
  RunResult result;
  TempDir io;
  const std::string out_path = io / "out", err_path = io / "err",
                    in_path = io / "in";
  WriteFile(in_path, options.stdin_data);
  std::vector<std::string> argv_s = {MIGSTORE_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = EnvironmentWith(options.env);
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  // The unprivileged child must be able to write its output files.
  if (options.uid >= 0) ::chmod(io.path().c_str(), 0777);

  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return result;
  }
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    if (options.uid >= 0) {
      if (::setgroups(0, nullptr) != 0 ||
          ::setgid(options.gid >= 0 ? options.gid : options.uid) != 0 ||
          ::setuid(options.uid) != 0) {
        ::_exit(120);
      }
    }
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (in < 0 || out < 0 || err < 0) ::_exit(121);
    if (options.file_size_limit > 0) {
      struct rlimit lim = {options.file_size_limit, options.file_size_limit};
      if (::signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
          ::setrlimit(RLIMIT_FSIZE, &lim) != 0) {
        ::_exit(123);
      }
    }
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(122);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

int SpawnMigstore(const std::vector<std::string>& args,
                  const std::vector<std::string>& env) {
  std::vector<std::string> argv_s = {MIGSTORE_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = EnvironmentWith(env);
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(122);
  }
  return pid;
}

TmpfsMount::TmpfsMount(const std::string& at, const std::string& size)
    : at_(at) {
  std::filesystem::create_directories(at);
  mounted_ =
      ::mount("tmpfs", at.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  error_ = mounted_ ? 0 : errno;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
}

std::string SourcePath(const std::string& relative) {
  return std::string(MIGSTORE_SOURCE_DIR) + "/" + relative;
}

std::string LineOf(const std::string& target, const std::string& name,
                   const std::string& user) {
  const std::string text = ReadFile(target + "/etc/" + name);
  size_t at = 0;
  while (at < text.size()) {
    size_t eol = text.find('\n', at);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(at, eol - at);
    if (line.compare(0, user.size() + 1, user + ":") == 0) return line;
    at = eol + 1;
  }
  return "";
}

std::string Field(const std::string& line, int n) {
  size_t start = 0;
  for (int i = 0; i < n; ++i) {
    start = line.find(':', start);
    if (start == std::string::npos) return "";
    ++start;
  }
  return line.substr(start, line.find(':', start) - start);
}

std::string OneComponentMigration(const std::string& role_xml,
                                  const std::string& urlid) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<migration urlid=\"" +
         urlid +
         "\">\n"
         "<component type=\"Documents\" context=\"UserAndSystem\">\n"
         "<displayName>Test</displayName>\n<role role=\"Data\">\n" +
         role_xml + "</role>\n</component>\n</migration>\n";
}

void WriteFileBelow(const std::string& root, const std::string& rel,
                    const std::string& data) {
  int dir = ::open(root.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0) << root;
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    std::string part = rel.substr(
        start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) {
      int fd = ::openat(dir, part.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ASSERT_GE(fd, 0) << std::strerror(errno);
      ASSERT_EQ(::write(fd, data.data(), data.size()),
                static_cast<ssize_t>(data.size()));
      ::close(fd);
      ::close(dir);
      return;
    }
    ::mkdirat(dir, part.c_str(), 0755);
    int next = ::openat(dir, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    ::close(dir);
    ASSERT_GE(next, 0) << part << ": " << std::strerror(errno);
    dir = next;
    start = slash + 1;
  }
}

std::string Sha256Hex(std::string_view data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d, &len, EVP_sha256(), nullptr) !=
      1) {
    ADD_FAILURE() << "OpenSSL could not hash";
    return "";
  }
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back("0123456789abcdef"[d[i] >> 4]);
    out.push_back("0123456789abcdef"[d[i] & 15]);
  }
  return out;
}

}  // namespace migstore::testing
