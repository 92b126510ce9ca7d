#include "tests/util/s3_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <pugixml.hpp>
#include <thread>

#include "engine/src/store/s3_client.h"
#include "tests/util/http_stub.h"

namespace migstore::testing {
namespace {

bool OnPath(const std::string& name, std::string* full) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string p(path);
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string candidate = p.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      *full = candidate;
      return true;
    }
    start = end + 1;
  }
  return false;
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok =
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

pid_t Spawn(const std::vector<std::string>& argv,
            const std::vector<std::string>& extra_env, const std::string& log) {
  // Everything the child needs is made before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (const std::string& e : extra_env)
    env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Its own process group, so the server and anything it forks die
  // together.
  ::setpgid(0, 0);
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0) ::dup2(null, 0);
  ::execve(args[0], args.data(), env.data());
  ::_exit(127);
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One IAM query call to moto (its first calls need no valid signature, but
// moto routes by the service named in the Authorization header).
std::string IamCall(const std::string& endpoint, const std::string& form) {
  CURL* h = curl_easy_init();
  std::string out;
  curl_easy_setopt(h, CURLOPT_URL, (endpoint + "/").c_str());
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:iam");
  curl_easy_setopt(h, CURLOPT_USERPWD, "bootstrap:bootstrap");
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_perform(h);
  curl_easy_cleanup(h);
  return out;
}

}  // namespace

std::unique_ptr<S3TestServer> S3TestServer::Start(std::string* why_not) {
  std::unique_ptr<S3TestServer> s(new S3TestServer());
  s->dir_ = std::make_unique<TempDir>();
  const int port = UnusedLoopbackPort();
  s->endpoint_ = "http://127.0.0.1:" + std::to_string(port);
  const std::string log = *s->dir_ / "server.log";

  std::string moto, s3rver;
  const char* s3rver_env = std::getenv("MIGSTORE_S3RVER");
  const std::string s3rver_tools = std::string(MIGSTORE_SOURCE_DIR) +
                                   "/.tools/s3rver/node_modules/.bin/s3rver";
  const char* force = std::getenv("MIGSTORE_TEST_S3_SERVER");  // moto|s3rver
  const bool want_moto = force == nullptr || std::string(force) == "moto";
  if (want_moto && OnPath("moto_server", &moto)) {
    s->kind_ = "moto";
    // Three unauthenticated calls make the user and its key; every later
    // request is checked.
    s->pid_ = Spawn({moto, "-H", "127.0.0.1", "-p", std::to_string(port)},
                    {"INITIAL_NO_AUTH_ACTION_COUNT=3"}, log);
  } else if (s3rver_env != nullptr && ::access(s3rver_env, X_OK) == 0) {
    s3rver = s3rver_env;
  } else if (::access(s3rver_tools.c_str(), X_OK) == 0) {
    s3rver = s3rver_tools;
  }
  if (s->kind_.empty()) {
    std::string node;
    if (s3rver.empty() || !OnPath("node", &node)) {
      *why_not =
          "no S3 server for the s3:// tests: neither moto_server on PATH nor "
          "s3rver in .tools/s3rver (scripts/bootstrap installs it with npm) "
          "or $MIGSTORE_S3RVER";
      return nullptr;
    }
    s->kind_ = "s3rver";
    s->access_key_ = "S3RVER";
    s->secret_key_ = "S3RVER";
    const std::string data = *s->dir_ / "data";
    ::mkdir(data.c_str(), 0700);
    s->pid_ = Spawn({node, s3rver, "--directory", data, "--address",
                     "127.0.0.1", "--port", std::to_string(port), "--silent"},
                    {}, log);
  }
  if (s->pid_ < 0) {
    *why_not = "cannot start the S3 server (fork failed)";
    return nullptr;
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!Accepts(port)) {
    int status;
    if (::waitpid(s->pid_, &status, WNOHANG) == s->pid_) {
      s->pid_ = -1;
      *why_not = s->kind_ + " exited at start: " + ReadFile(log);
      return nullptr;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      *why_not = s->kind_ + " did not answer within 60 s: " + ReadFile(log);
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (s->kind_ == "moto") {
    IamCall(s->endpoint_,
            "Action=CreateUser&UserName=migstore&Version=2010-05-08");
    std::string key =
        IamCall(s->endpoint_,
                "Action=CreateAccessKey&UserName=migstore&Version=2010-05-08");
    IamCall(s->endpoint_,
            "Action=PutUserPolicy&UserName=migstore&PolicyName=all&Version="
            "2010-05-08&PolicyDocument=" +
                store::S3Client::UriEncode(
                    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                    R"("Action":"*","Resource":"*"}]})",
                    false));
    pugi::xml_document doc;
    doc.load_string(key.c_str());
    pugi::xml_node k = doc.child("CreateAccessKeyResponse")
                           .child("CreateAccessKeyResult")
                           .child("AccessKey");
    s->access_key_ = k.child_value("AccessKeyId");
    s->secret_key_ = k.child_value("SecretAccessKey");
    if (s->access_key_.empty() || s->secret_key_.empty()) {
      *why_not = "moto did not hand out an access key: " + key;
      return nullptr;
    }
  }
  store::S3Client client(s->Config());
  Status made = client.CreateBucket(s->bucket_);
  if (!made.ok()) {
    *why_not = s->kind_ + " refused to create a bucket: " + made.ToString();
    return nullptr;
  }
  return s;
}

S3TestServer::~S3TestServer() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGTERM);
    int status;
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
}

store::S3Config S3TestServer::Config() const {
  store::S3Config c;
  c.endpoint = endpoint_;
  c.region = "us-east-1";
  c.access_key_id = access_key_;
  c.secret_access_key = secret_key_;
  c.path_style = true;
  c.retry.max_attempts = 3;
  c.retry.base_delay = std::chrono::milliseconds(20);
  c.retry.max_delay = std::chrono::milliseconds(200);
  return c;
}

std::vector<std::string> S3TestServer::Env() const {
  return {"AWS_ACCESS_KEY_ID=" + access_key_,
          "AWS_SECRET_ACCESS_KEY=" + secret_key_, "AWS_REGION=us-east-1",
          "AWS_ENDPOINT_URL=" + endpoint_};
}

}  // namespace migstore::testing
