#include "tests/util/pg_cluster.h"

#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

#include "format/secret.h"
#include "tests/util/http_stub.h"

extern char** environ;

namespace migstore::testing {
namespace {

// Where every server program we run is.
bool HasServerPrograms(const std::string& dir) {
  for (const char* name : {"initdb", "pg_ctl", "postgres"}) {
    if (::access((dir + "/" + name).c_str(), X_OK) != 0) return false;
  }
  return true;
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The real folder of `name` on PATH: Debian links initdb into
// /usr/local/bin or similar at most, and pg_ctl finds postgres beside its
// own real path.
std::string RealDirOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return {};
  const std::string p(path);
  for (size_t start = 0; start <= p.size();) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    const std::string candidate = p.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      char real[PATH_MAX];
      if (::realpath(candidate.c_str(), real) != nullptr) return Dirname(real);
    }
    start = end + 1;
  }
  return {};
}

std::string PgConfigBinDir() {
  FILE* f = ::popen("pg_config --bindir 2>/dev/null", "r");
  if (f == nullptr) return {};
  char line[PATH_MAX] = {};
  const bool got = std::fgets(line, sizeof line, f) != nullptr;
  ::pclose(f);
  if (!got) return {};
  std::string dir(line);
  while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r'))
    dir.pop_back();
  return dir;
}

// /usr/lib/postgresql/VERSION/bin, newest version first.
std::vector<std::string> DebianBinDirs() {
  std::vector<std::string> dirs;
  glob_t g{};
  if (::glob("/usr/lib/postgresql/*/bin", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) dirs.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  auto version = [](const std::string& dir) {
    return std::atof(dir.c_str() + std::strlen("/usr/lib/postgresql/"));
  };
  std::sort(dirs.begin(), dirs.end(),
            [&](const std::string& a, const std::string& b) {
              return version(a) > version(b);
            });
  return dirs;
}

// Whether a user other than the owner may reach `path` (every folder on the
// way searchable by others): the unprivileged server must get to its data.
bool SearchableByOthers(const std::string& path) {
  std::string at;
  for (size_t start = 1; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    at = path.substr(0, end);
    struct stat st;
    if (::stat(at.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0)
      return false;
    start = end + 1;
  }
  return true;
}

std::string Tail(const std::string& text, size_t n = 4000) {
  return text.size() <= n ? text : "…" + text.substr(text.size() - n);
}

// This process's environment without PG* settings, which would point
// initdb and pg_ctl at another cluster, and with messages untranslated (the
// port-taken check reads them).
std::vector<std::string> ServerEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (v.rfind("PG", 0) == 0 || v.rfind("LC_ALL=", 0) == 0 ||
        v.rfind("LANGUAGE=", 0) == 0) {
      continue;
    }
    env.emplace_back(v);
  }
  env.emplace_back("LC_ALL=C");
  return env;
}

}  // namespace

Result<std::string> PgCluster::FindBinDir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("MIGSTORE_PG_BINDIR"); env && *env)
    candidates.emplace_back(env);
  candidates.push_back(PgConfigBinDir());
  candidates.push_back(RealDirOnPath("initdb"));
  for (std::string& d : DebianBinDirs()) candidates.push_back(std::move(d));
  for (const std::string& dir : candidates) {
    if (!dir.empty() && HasServerPrograms(dir)) return dir;
  }
  return Status::NotFound(
      "PostgreSQL is not installed",
      "no initdb, pg_ctl and postgres in $MIGSTORE_PG_BINDIR, `pg_config "
      "--bindir`, PATH or /usr/lib/postgresql/*/bin; the PostgreSQL tests "
      "are skipped (scripts/bootstrap installs the postgresql package)");
}

Result<std::unique_ptr<PgCluster>> PgCluster::Start() {
  const auto began = std::chrono::steady_clock::now();
  MIGSTORE_ASSIGN_OR_RETURN(std::string bin_dir, FindBinDir());
  std::unique_ptr<PgCluster> c(new PgCluster());
  c->bin_dir_ = std::move(bin_dir);

  std::string base = DefaultTempBase();
  // A unix socket's path has room for about 100 bytes.
  if (base.size() > 60) base = "/tmp";
  if (::geteuid() == 0) {
    const struct passwd* pw = ::getpwnam("nobody");
    if (pw == nullptr) {
      return Status::IOError(
          "cannot start PostgreSQL",
          "this test runs as root, which initdb refuses, and there is no "
          "user `nobody` to run it as");
    }
    c->run_uid_ = pw->pw_uid;
    c->run_gid_ = pw->pw_gid;
    if (!SearchableByOthers(base)) base = "/tmp";
  }
  c->dir_ = std::make_unique<TempDir>(base);
  const std::string& dir = c->dir_->path();
  if (c->run_uid_ != static_cast<uid_t>(-1) &&
      ::chown(dir.c_str(), c->run_uid_, c->run_gid_) != 0) {
    return Status::FromErrno("cannot give " + dir + " to nobody", errno);
  }
  c->data_dir_ = dir + "/data";
  c->socket_dir_ = dir;

  // The TCP connections authenticate with a password (so the URIs the tests
  // use carry one, as a real deployment's do); the socket is trusted.
  c->password_ = format::RandomHex(16);
  const std::string pwfile = dir + "/pwfile";
  MIGSTORE_RETURN_IF_ERROR(c->WriteOwnFile(pwfile, c->password_ + "\n"));
  std::string out;
  // --no-sync: nothing here has to survive a crash, and the fsyncs of a
  // fresh cluster's files are most of initdb's time on a busy disk.
  Status made = c->Run(
      {c->bin_dir_ + "/initdb", "-D", c->data_dir_, "-U", c->user_,
       "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
       "-E", "UTF8", "--locale=C", "--no-sync"},
      &out);
  ::unlink(pwfile.c_str());
  if (!made.ok()) return Status::IOError("initdb failed", Tail(out));

  // A throwaway cluster, tuned to start fast and to run tests fast: no
  // fsync, no full-page writes, small shared memory (the tests hold a few
  // rows). The db tests provoke deadlocks, which PostgreSQL looks for only
  // after deadlock_timeout (1 s by default).
  const std::string conf =
      "\n# tests/util/pg_cluster.cc: a throwaway test cluster.\n"
      "listen_addresses = '127.0.0.1'\n"
      "unix_socket_directories = '" +
      c->socket_dir_ +
      "'\n"
      "fsync = off\n"
      "synchronous_commit = off\n"
      "full_page_writes = off\n"
      "shared_buffers = 16MB\n"
      "huge_pages = off\n"
      "max_connections = 64\n"
      "deadlock_timeout = 100ms\n";
  MIGSTORE_RETURN_IF_ERROR(
      c->WriteOwnFile(c->data_dir_ + "/postgresql.conf",
                      ReadFile(c->data_dir_ + "/postgresql.conf") + conf));

  // The free port found may be taken by another process before the server
  // binds it: then try another.
  const std::string log = dir + "/server.log";
  for (int attempt = 0;; ++attempt) {
    c->port_ = UnusedLoopbackPort();
    Status started = c->Run(
        {c->bin_dir_ + "/pg_ctl", "start", "-w", "-t", "60", "-D", c->data_dir_,
         "-l", log, "-o", "-p " + std::to_string(c->port_)},
        &out);
    if (started.ok()) break;
    const std::string server_log = ReadFile(log);
    if (attempt < 4 && server_log.find("could not bind") != std::string::npos)
      continue;
    return Status::IOError("pg_ctl start failed",
                           Tail(out) + "\nserver log:\n" + Tail(server_log));
  }
  c->running_ = true;
  MIGSTORE_ASSIGN_OR_RETURN(c->uri_, c->CreateDatabase());
  c->start_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began)
          .count();
  return c;
}

PgCluster::~PgCluster() {
  if (running_) {
    // The postmaster's pid first: when pg_ctl cannot stop it, a signal
    // does (SIGQUIT is what -m immediate sends).
    const std::string pid_text = ReadFile(data_dir_ + "/postmaster.pid");
    std::string out;
    if (!Run({bin_dir_ + "/pg_ctl", "stop", "-w", "-t", "30", "-D", data_dir_,
              "-m", "immediate"},
             &out)
             .ok()) {
      const pid_t pid = static_cast<pid_t>(std::atol(pid_text.c_str()));
      if (pid > 0) ::kill(pid, SIGQUIT);
    }
  }
  dir_.reset();
}

Status PgCluster::WriteOwnFile(const std::string& path,
                               const std::string& text) const {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  const bool written = ::write(fd, text.data(), text.size()) ==
                       static_cast<ssize_t>(text.size());
  const bool given = run_uid_ == static_cast<uid_t>(-1) ||
                     ::fchown(fd, run_uid_, run_gid_) == 0;
  ::close(fd);
  if (!written || !given) return Status::IOError("cannot write " + path);
  return Status::OK();
}

std::string PgCluster::TcpUri(const std::string& database) const {
  return "postgresql://" + user_ + ":" + password_ +
         "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PgCluster::SocketUri(const std::string& database) const {
  return "postgresql://" + user_ + "@/" + database + "?host=" + socket_dir_ +
         "&port=" + std::to_string(port_);
}

std::string PgCluster::ServerLog() const {
  return dir_ != nullptr ? ReadFile(dir_->path() + "/server.log") : "";
}

Result<std::string> PgCluster::CreateDatabase() {
  const std::string name = "migstore_test_" + std::to_string(++databases_);
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(
      PQconnectdb(TcpUri("postgres").c_str()), PQfinish);
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::IOError(
        "cannot connect to the test cluster",
        conn != nullptr ? PQerrorMessage(conn.get()) : "no memory");
  }
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(
      PQexec(conn.get(), ("CREATE DATABASE " + name).c_str()), PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    return Status::IOError("cannot create database " + name,
                           PQresultErrorMessage(res.get()));
  }
  return TcpUri(name);
}

Status PgCluster::Run(const std::vector<std::string>& argv,
                      std::string* output) const {
  // Everything the child needs is made before fork: after it, only
  // async-signal-safe calls.
  const std::string log = dir_->path() + "/command.log";
  const int log_fd =
      ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) return Status::FromErrno("cannot open " + log, errno);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::vector<std::string> env_s = ServerEnvironment();
  std::vector<char*> env;
  for (const std::string& e : env_s)
    env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  const uid_t uid = run_uid_;
  const gid_t gid = run_gid_;
  const char* cwd = dir_->path().c_str();

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Status::FromErrno("cannot fork", err);
  }
  if (pid == 0) {
    if (uid != static_cast<uid_t>(-1) &&
        (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 ||
         ::setuid(uid) != 0)) {
      ::_exit(120);
    }
    // initdb and postgres want to be able to find their way back to the
    // current folder, which root's may not allow to nobody.
    if (::chdir(cwd) != 0) ::_exit(121);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(args[0], args.data(), env.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  *output = ReadFile(log);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::OK();
  const int code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::string why = argv[0] + " exited with " + std::to_string(code);
  if (code == 120) why += " (cannot become nobody)";
  return Status::IOError(why, Tail(*output));
}

Result<PgCluster*> SharedPgCluster() {
  static std::mutex mu;
  static std::unique_ptr<PgCluster> cluster;  // stopped at exit
  static Status failed;
  static bool tried = false;
  std::lock_guard<std::mutex> lock(mu);
  if (!tried) {
    tried = true;
    Result<std::unique_ptr<PgCluster>> started = PgCluster::Start();
    if (started.ok()) {
      cluster = std::move(started).value();
      std::cerr << "[ pg ] PostgreSQL test cluster on 127.0.0.1:"
                << cluster->port() << ", started in "
                << cluster->start_seconds() << " s\n";
    } else {
      failed = started.status();
    }
  }
  if (cluster != nullptr) return cluster.get();
  return failed;
}

}  // namespace migstore::testing
