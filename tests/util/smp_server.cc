#include "tests/util/smp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/util/test_util.h"

namespace migstore::testing {

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

namespace {

bool Listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

SmpTestServer::SmpTestServer(std::string dir, std::vector<std::string> extra,
                             int port)
    : dir_(std::move(dir)),
      extra_(std::move(extra)),
      port_(port != 0 ? port : FreeLoopbackPort()) {
  std::filesystem::create_directories(storage_dir());
}

SmpTestServer::~SmpTestServer() {
  if (pid_ > 0) Kill9();
}

std::string SmpTestServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string SmpTestServer::output() const {
  std::error_code ec;
  if (!std::filesystem::exists(dir_ + "/serve.log", ec)) return "";
  return ReadFile(dir_ + "/serve.log");
}

bool SmpTestServer::Start() {
  std::vector<std::string> args = {
      MIGSTORE_CLI_PATH, "serve",
      "--listen",        "127.0.0.1:" + std::to_string(port_),
      "--data",          data_dir()};
  bool storage_given = false;
  for (const std::string& a : extra_) storage_given |= a == "--storage";
  if (!storage_given) {
    args.push_back("--storage");
    args.push_back(storage_dir());
  }
  args.insert(args.end(), extra_.begin(), extra_.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = EnvironmentWith(env_);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string log = dir_ + "/serve.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    const int null = ::open("/dev/null", O_RDONLY);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(122);
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "migstore serve exited (" + std::to_string(WEXITSTATUS(status)) +
               "): " + output();
      return false;
    }
    if (Listening(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  error_ = "migstore serve did not listen within 30 s: " + output();
  Kill9();
  return false;
}

void SmpTestServer::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int SmpTestServer::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace migstore::testing
