#include "tests/util/http_stub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace migstore::testing {
namespace {

int ListenLoopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) std::abort();
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 16) != 0) {
    std::abort();
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w <= 0) return false;
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

std::string HttpRequestRecord::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

int UnusedLoopbackPort() {
  int port = 0;
  int fd = ListenLoopback(&port);
  ::close(fd);
  return port;
}

HttpStub::HttpStub(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ListenLoopback(&port_);
  thread_ = std::thread([this] { Serve(); });
}

HttpStub::~HttpStub() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<HttpRequestRecord> HttpStub::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int HttpStub::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(requests_.size());
}

void HttpStub::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    HandleConnection(fd);
    ::close(fd);
  }
}

void HttpStub::HandleConnection(int fd) {
  std::string in;
  char buf[65536];
  size_t head_end;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    ssize_t r = ::recv(fd, buf, sizeof(buf), 0);
    if (r <= 0) return;
    in.append(buf, static_cast<size_t>(r));
  }
  HttpRequestRecord req;
  std::string head = in.substr(0, head_end);
  std::string rest = in.substr(head_end + 4);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  size_t sp1 = request_line.find(' ');
  size_t sp2 = request_line.rfind(' ');
  req.method = request_line.substr(0, sp1);
  req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers.emplace_back(line.substr(0, colon), value);
    }
    pos = end + 2;
  }
  size_t length = 0;
  if (!req.Header("Content-Length").empty())
    length = std::stoul(req.Header("Content-Length"));
  if (strcasecmp(req.Header("Expect").c_str(), "100-continue") == 0 &&
      rest.size() < length) {
    SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  while (rest.size() < length) {
    ssize_t r = ::recv(fd, buf, sizeof(buf), 0);
    if (r <= 0) return;
    rest.append(buf, static_cast<size_t>(r));
  }
  req.body = rest.substr(0, length);
  int index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index = static_cast<int>(requests_.size());
    requests_.push_back(req);
  }
  HttpReply reply = handler_(req, index);
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                    Reason(reply.status) + "\r\n";
  out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  out += "Connection: close\r\n";
  for (const std::string& h : reply.headers) out += h + "\r\n";
  out += "\r\n";
  if (req.method != "HEAD") out += reply.body;
  SendAll(fd, out);
}

}  // namespace migstore::testing
