#include "engine/src/smp/http_server.h"

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "engine/src/smp/metrics.h"
#include "format/store_io.h"

namespace migstore::smp {
namespace {

using nlohmann::json;

constexpr char kStorePath[] = R"(/v1/stores/([0-9a-f]{32}))";

std::string KindOf(const Status& s) {
  if (s.IsInvalidArgument()) return "InvalidArgument";
  if (s.IsNotFound()) return "NotFound";
  if (s.IsAlreadyExists()) return "AlreadyExists";
  if (s.IsRefused()) return "Refused";
  if (s.IsUnavailable()) return "Unavailable";
  if (s.IsCorruption()) return "Corruption";
  return "IOError";
}

int HttpStatusOf(const Status& s) {
  if (s.IsInvalidArgument()) return 400;
  if (s.IsRefused()) return 403;
  if (s.IsNotFound()) return 404;
  if (s.IsAlreadyExists()) return 409;
  if (s.IsCorruption()) return 422;
  if (s.IsUnavailable()) return 503;
  return 500;
}

void SendJson(httplib::Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void SendError(httplib::Response& res, const Status& s, int status = 0) {
  const int code = status != 0 ? status : HttpStatusOf(s);
  if (code == 503) {
    res.set_header("Retry-After", std::to_string(kBusyRetryAfterSeconds));
  }
  SendJson(res, json{{"error", std::string(s.message())}, {"kind", KindOf(s)}},
           code);
}

json StoreJson(const StoreInfo& s) {
  return json{{"id", s.id},
              {"source", s.source},
              {"destination", s.destination},
              {"users", s.users},
              {"location", s.location},
              {"state", std::string(StateName(s.state))},
              {"size", s.size},
              {"sha256", s.sha256},
              {"requested_at", s.requested_at},
              {"captured_at", s.captured_at},
              {"released_at", s.released_at},
              {"restored_at", s.restored_at},
              {"delete_after", s.delete_after}};
}

json SettingsJson(const Settings& s) {
  return json{{"retention_minutes", s.retention_minutes},
              {"restore_only", s.restore_only},
              {"abandon_after_minutes", s.abandon_after_minutes}};
}

json GrantJson(const StoreGrant& g) {
  std::string hex(2 * g.key.size(), '\0');
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < g.key.size(); ++i) {
    hex[2 * i] = kDigits[g.key.data()[i] >> 4];
    hex[2 * i + 1] = kDigits[g.key.data()[i] & 15];
  }
  return json{{"store", StoreJson(g.store)}, {"key", std::move(hex)}};
}

std::string BearerToken(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size() || h.compare(0, kBearer.size(), kBearer) != 0)
    return "";
  return h.substr(kBearer.size());
}

// A JSON request body ("" counts as {}).
Result<json> BodyOf(const httplib::Request& req) {
  if (req.body.empty()) return json::object();
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument("the request body is not a JSON object");
  return j;
}

Result<std::string> StringField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    return Status::InvalidArgument(std::string("\"") + name +
                                   "\" is missing or not a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> StringList(const json& j, const char* name) {
  std::vector<std::string> out;
  auto it = j.find(name);
  if (it == j.end()) return out;
  if (!it->is_array())
    return Status::InvalidArgument(std::string("\"") + name +
                                   "\" is not a list");
  for (const json& v : *it) {
    if (!v.is_string())
      return Status::InvalidArgument(std::string("\"") + name +
                                     "\" holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// "bytes A-B/*" or "bytes A-B/TOTAL": A and the length B - A + 1.
Result<std::pair<uint64_t, uint64_t>> ParseContentRange(const std::string& h,
                                                        size_t body_size) {
  unsigned long long first = 0, last = 0;
  char rest[32] = {0};
  if (std::sscanf(h.c_str(), "bytes %llu-%llu/%31s", &first, &last, rest) !=
          3 ||
      last < first || last - first + 1 != body_size) {
    return Status::InvalidArgument("Content-Range '" + h +
                                   "' does not describe the body");
  }
  return std::make_pair(uint64_t{first}, uint64_t{body_size});
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" ||
         host.rfind("127.", 0) == 0;
}

struct HttpServer::Impl {
  Service* service = nullptr;
  ServeOptions options;
  std::unique_ptr<httplib::Server> http;
  int port = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;  // guarded by mu

  // The caller the pre-routing handler authenticated for this request (it
  // runs on the thread that then runs the route's handler), so a request
  // costs one token look-up, made before its body is read.
  static std::optional<Principal>& Authenticated() {
    thread_local std::optional<Principal> who;
    return who;
  }
  // When this thread's request was routed (steady clock), for its latency;
  // none for a request the library answered itself before routing (a
  // malformed one), whose latency is not counted.
  static std::optional<std::chrono::steady_clock::time_point>& RoutedAt() {
    thread_local std::optional<std::chrono::steady_clock::time_point> at;
    return at;
  }
  RequestMetrics metrics;

  // The caller, or a 401 already sent.
  std::optional<Principal> Caller(const httplib::Request&,
                                  httplib::Response& res) {
    std::optional<Principal> who = Authenticated();
    if (!who) SendError(res, Status::Refused("no valid token"), 401);
    return who;
  }

  // Routes a control request: `fn` gets the caller and the JSON body and
  // answers a JSON value or a Status.
  template <typename Fn>
  httplib::Server::Handler Control(Fn fn) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) {
      std::optional<Principal> who = Caller(req, res);
      if (!who) return;
      Result<json> body = BodyOf(req);
      if (!body.ok()) return SendError(res, body.status());
      Result<json> answer = fn(*who, req, *body);
      if (!answer.ok()) return SendError(res, answer.status());
      SendJson(res, *answer);
    };
  }

  void Routes();
  void DeletionCycle();
};

void HttpServer::Impl::Routes() {
  httplib::Server& s = *http;
  Service& svc = *service;
  using Req = httplib::Request;

  s.Get("/v1/whoami", Control([](const Principal& who, const Req&,
                                 const json&) -> Result<json> {
          return json{{"name", who.name}, {"admin", who.admin}};
        }));
  s.Get("/v1/metrics", Control([this](const Principal& who, const Req&,
                                      const json&) -> Result<json> {
          if (!who.admin) {
            return Status::Refused("metrics", "are the administrator's");
          }
          return metrics.Snapshot();
        }));
  s.Post("/v1/computers", Control([&svc](const Principal& who, const Req&,
                                         const json& b) -> Result<json> {
           MIGSTORE_ASSIGN_OR_RETURN(std::string name, StringField(b, "name"));
           MIGSTORE_ASSIGN_OR_RETURN(std::string token, svc.Enroll(who, name));
           return json{{"name", name}, {"token", token}};
         }));
  s.Post("/v1/associations", Control([&svc](const Principal& who, const Req&,
                                            const json& b) -> Result<json> {
           MIGSTORE_ASSIGN_OR_RETURN(std::string src, StringField(b, "source"));
           MIGSTORE_ASSIGN_OR_RETURN(std::string dst,
                                     StringField(b, "destination"));
           MIGSTORE_ASSIGN_OR_RETURN(std::vector<std::string> users,
                                     StringList(b, "users"));
           MIGSTORE_RETURN_IF_ERROR(svc.Associate(who, src, dst, users));
           return json::object();
         }));
  s.Delete(
      R"(/v1/associations/([A-Za-z0-9._-]+))",
      Control([&svc](const Principal& who, const Req& req,
                     const json&) -> Result<json> {
        MIGSTORE_RETURN_IF_ERROR(svc.Unassociate(who, req.matches[1].str()));
        return json::object();
      }));
  s.Get("/v1/stores", Control([&svc](const Principal& who, const Req&,
                                     const json&) -> Result<json> {
          MIGSTORE_ASSIGN_OR_RETURN(std::vector<StoreInfo> stores,
                                    svc.ListStores(who));
          MIGSTORE_ASSIGN_OR_RETURN(std::vector<AssociationInfo> assocs,
                                    svc.ListAssociations(who));
          MIGSTORE_ASSIGN_OR_RETURN(Settings settings, svc.GetSettings(who));
          json out{{"stores", json::array()},
                   {"associations", json::array()},
                   {"settings", SettingsJson(settings)}};
          for (const StoreInfo& st : stores)
            out["stores"].push_back(StoreJson(st));
          for (const AssociationInfo& a : assocs) {
            out["associations"].push_back(json{{"source", a.source},
                                               {"destination", a.destination},
                                               {"users", a.users},
                                               {"created_at", a.created_at}});
          }
          return out;
        }));
  s.Post("/v1/capture", Control([&svc](const Principal& who, const Req&,
                                       const json&) -> Result<json> {
           MIGSTORE_ASSIGN_OR_RETURN(StoreGrant g, svc.RequestCapture(who));
           return GrantJson(g);
         }));
  s.Get(std::string(kStorePath) + "/upload",
        Control([&svc](const Principal& who, const Req& req,
                       const json&) -> Result<json> {
          MIGSTORE_ASSIGN_OR_RETURN(
              UploadState u, svc.UploadStatus(who, req.matches[1].str()));
          return json{{"store", StoreJson(u.store)}, {"received", u.received}};
        }));
  s.Put(std::string(kStorePath) + "/upload",
        [this, &svc](const Req& req, httplib::Response& res) {
          std::optional<Principal> who = Caller(req, res);
          if (!who) return;
          const std::string id = req.matches[1].str();
          Result<std::pair<uint64_t, uint64_t>> range = ParseContentRange(
              req.get_header_value("Content-Range"), req.body.size());
          if (!range.ok()) return SendError(res, range.status());
          Result<UploadState> u =
              svc.WriteUpload(*who, id, range->first, req.body);
          if (u.ok()) return SendJson(res, json{{"received", u->received}});
          if (u.status().IsInvalidArgument()) {
            // Not where the received bytes end: say where they do.
            Result<UploadState> now = svc.UploadStatus(*who, id);
            if (now.ok()) {
              return SendJson(res,
                              json{{"error", std::string(u.status().message())},
                                   {"kind", "InvalidArgument"},
                                   {"received", now->received}},
                              416);
            }
          }
          SendError(res, u.status());
        });
  s.Post(std::string(kStorePath) + "/commit",
         Control([&svc](const Principal& who, const Req& req,
                        const json& b) -> Result<json> {
           auto size = b.find("size");
           if (size == b.end() || !size->is_number_unsigned())
             return Status::InvalidArgument("\"size\" is missing");
           MIGSTORE_ASSIGN_OR_RETURN(std::string sha, StringField(b, "sha256"));
           MIGSTORE_ASSIGN_OR_RETURN(
               StoreInfo st, svc.CommitUpload(who, req.matches[1].str(),
                                              size->get<uint64_t>(), sha));
           return json{{"store", StoreJson(st)}};
         }));
  s.Post(std::string(kStorePath) + "/release",
         Control([&svc](const Principal& who, const Req& req,
                        const json&) -> Result<json> {
           MIGSTORE_ASSIGN_OR_RETURN(
               StoreInfo st, svc.ReleaseCapture(who, req.matches[1].str()));
           return json{{"store", StoreJson(st)}};
         }));
  s.Post("/v1/restore", Control([&svc](const Principal& who, const Req&,
                                       const json&) -> Result<json> {
           MIGSTORE_ASSIGN_OR_RETURN(StoreGrant g, svc.RequestRestore(who));
           return GrantJson(g);
         }));
  s.Post(std::string(kStorePath) + "/restored",
         Control([&svc](const Principal& who, const Req& req,
                        const json&) -> Result<json> {
           MIGSTORE_ASSIGN_OR_RETURN(
               StoreInfo st, svc.RestoreDone(who, req.matches[1].str()));
           return json{{"store", StoreJson(st)}};
         }));
  s.Post("/v1/restore/release", Control([&svc](const Principal& who, const Req&,
                                               const json&) -> Result<json> {
           MIGSTORE_ASSIGN_OR_RETURN(std::vector<StoreInfo> released,
                                     svc.ReleaseRestore(who));
           json out{{"stores", json::array()}};
           for (const StoreInfo& st : released)
             out["stores"].push_back(StoreJson(st));
           return out;
         }));
  // GET (and HEAD, which the library answers from the same handler) of a
  // store's bytes: the library applies the request's Range to the content
  // provider, answering 206 with Content-Range, and reads only what is
  // asked, straight from the file or the object.
  s.Get(std::string(kStorePath) + "/data",
        [this, &svc](const Req& req, httplib::Response& res) {
          std::optional<Principal> who = Caller(req, res);
          if (!who) return;
          Result<std::unique_ptr<format::StoreSource>> bytes =
              svc.OpenForRead(*who, req.matches[1].str());
          if (!bytes.ok()) return SendError(res, bytes.status());
          std::shared_ptr<format::StoreSource> held = std::move(*bytes);
          res.set_content_provider(
              held->size(), "application/octet-stream",
              [held](size_t offset, size_t length, httplib::DataSink& sink) {
                std::string buf(std::min<size_t>(length, 1 << 20), '\0');
                if (buf.empty()) return false;
                Status read = held->ReadAt(offset, buf.size(), buf.data());
                return read.ok() && sink.write(buf.data(), buf.size());
              });
        });
  s.Post(std::string(kStorePath) + "/key",
         Control([&svc](const Principal& who, const Req& req,
                        const json&) -> Result<json> {
           MIGSTORE_ASSIGN_OR_RETURN(StoreGrant g,
                                     svc.RecoverKey(who, req.matches[1].str()));
           return GrantJson(g);
         }));
  s.Delete(kStorePath, Control([&svc](const Principal& who, const Req& req,
                                      const json&) -> Result<json> {
             MIGSTORE_RETURN_IF_ERROR(svc.Delete(who, req.matches[1].str()));
             return json::object();
           }));
  s.Put(
      "/v1/settings", Control([&svc](const Principal& who, const Req&,
                                     const json& b) -> Result<json> {
        if (auto r = b.find("retention_minutes"); r != b.end()) {
          if (!r->is_number_integer())
            return Status::InvalidArgument(
                "\"retention_minutes\" is not a number");
          MIGSTORE_RETURN_IF_ERROR(svc.SetRetention(who, r->get<int64_t>()));
        }
        if (auto r = b.find("abandon_after_minutes"); r != b.end()) {
          if (!r->is_number_integer())
            return Status::InvalidArgument(
                "\"abandon_after_minutes\" is not a number");
          MIGSTORE_RETURN_IF_ERROR(svc.SetAbandonAfter(who, r->get<int64_t>()));
        }
        if (auto r = b.find("restore_only"); r != b.end()) {
          if (!r->is_boolean())
            return Status::InvalidArgument(
                "\"restore_only\" is not true "
                "or false");
          MIGSTORE_RETURN_IF_ERROR(svc.SetRestoreOnly(who, r->get<bool>()));
        }
        MIGSTORE_ASSIGN_OR_RETURN(Settings st, svc.GetSettings(who));
        return SettingsJson(st);
      }));
}

void HttpServer::Impl::DeletionCycle() {
  std::unique_lock<std::mutex> lock(mu);
  while (!stopping) {
    lock.unlock();
    Result<int> n = service->RunDeletionCycle();
    if (!n.ok()) {
      std::fprintf(stderr, "migstore serve: deletion cycle: %s\n",
                   n.status().ToString().c_str());
    } else if (*n > 0) {
      std::fprintf(stderr,
                   "migstore serve: retention over: deleted %d store%s\n", *n,
                   *n == 1 ? "" : "s");
    }
    lock.lock();
    cv.wait_for(lock, std::chrono::seconds(options.deletion_cycle_seconds),
                [&] { return stopping; });
  }
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Create(
    Service* service, const ServeOptions& options) {
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty()))
    return Status::InvalidArgument("give both --tls-cert and --tls-key");
  if (!tls && !IsLoopbackHost(options.host)) {
    return Status::InvalidArgument(
        "--listen " + options.host,
        "plain HTTP is served on a loopback address only: tokens and store "
        "keys cross the connection (give --tls-cert and --tls-key)");
  }
  auto impl = std::make_unique<Impl>();
  impl->service = service;
  impl->options = options;
  if (tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(),
                                                    options.tls_key.c_str());
    if (!ssl->is_valid()) {
      return Status::InvalidArgument(
          "--tls-cert " + options.tls_cert,
          "the certificate and key cannot be loaded (PEM files, matching)");
    }
    impl->http = std::move(ssl);
  } else {
    impl->http = std::make_unique<httplib::Server>();
  }
  impl->http->set_payload_max_length(options.max_body_bytes);
  // Nothing unauthenticated gets its body read: the token is checked
  // before the library reads an upload's bytes.
  impl->http->set_pre_routing_handler(
      [svc = service](const httplib::Request& req, httplib::Response& res) {
        Impl::RoutedAt() = std::chrono::steady_clock::now();
        Result<Principal> who = svc->Authenticate(BearerToken(req));
        Impl::Authenticated() =
            who.ok() ? std::optional<Principal>(*who) : std::nullopt;
        if (who.ok()) return httplib::Server::HandlerResponse::Unhandled;
        SendError(res,
                  Status::Refused("no valid token (Authorization: Bearer)"),
                  401);
        return httplib::Server::HandlerResponse::Handled;
      });
  impl->http->set_logger([m = &impl->metrics](const httplib::Request& req,
                                              const httplib::Response& res) {
    std::optional<std::chrono::steady_clock::time_point> routed =
        std::exchange(Impl::RoutedAt(), std::nullopt);
    uint64_t micros = 0;
    if (routed) {
      micros = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::steady_clock::now() - *routed)
              .count());
    }
    // A store read's body comes from a content provider: its length is in
    // the header the library set, not in res.body. A HEAD sends none.
    uint64_t out = res.body.size();
    if (req.method == "HEAD") {
      out = 0;
    } else if (res.has_header("Content-Length")) {
      out = std::strtoull(res.get_header_value("Content-Length").c_str(),
                          nullptr, 10);
    }
    m->Record(KindOfRequest(req.method, req.path), res.status, micros,
              req.body.size(), out);
  });
  impl->http->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendError(res, Status::IOError("the server failed on this request"));
      });
  impl->Routes();
  const std::string host =
      options.host.size() > 2 && options.host.front() == '['
          ? options.host.substr(1, options.host.size() - 2)
          : options.host;
  if (options.port == 0) {
    impl->port = impl->http->bind_to_any_port(host);
    if (impl->port <= 0)
      return Status::Unavailable("cannot listen on " + options.host);
  } else {
    if (!impl->http->bind_to_port(host, options.port)) {
      return Status::Unavailable("cannot listen on " + options.host + ":" +
                                     std::to_string(options.port),
                                 "the address is in use or not this host's");
    }
    impl->port = options.port;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port; }

Status HttpServer::Run() {
  std::thread cycle([this] { impl_->DeletionCycle(); });
  const bool ok = impl_->http->listen_after_bind();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  cycle.join();
  if (!ok) return Status::IOError("the HTTP server stopped on an error");
  return Status::OK();
}

void HttpServer::Stop() {
  if (impl_ == nullptr) return;
  impl_->http->stop();
}

}  // namespace migstore::smp
