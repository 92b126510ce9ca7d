// SmpClient (migstore/smp.h): the steps and the administration calls of a
// state migration point, over SmpHttp; captures stream through SmpSink and
// restores read through SmpSource.

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/base/unique_fd.h"
#include "engine/src/smp/smp_http.h"
#include "engine/src/smp/smp_sink.h"
#include "engine/src/smp/smp_source.h"
#include "engine/src/store/given_store.h"
#include "format/keys.h"
#include "format/secret.h"
#include "migstore/display.h"
#include "migstore/smp.h"

namespace migstore {
namespace {

using nlohmann::json;

// Longer than any token `migstore serve` makes (64 hex digits), short
// enough that a wrong file is refused at once.
constexpr size_t kMaxTokenFileBytes = 4096;

// --- the server's address --------------------------------------------------

bool IsLoopbackHost(const std::string& host) {
  if (strcasecmp(host.c_str(), "localhost") == 0) return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

// Checks "http(s)://HOST[:PORT][/]" and returns it without the slash.
Result<std::string> CheckServer(const std::string& server) {
  const std::string form = "the server's address is https://HOST[:PORT]";
  if (server.find('@') != std::string::npos) {
    // Not repeated: the part before '@' may be a password.
    return Status::InvalidArgument(form,
                                   "credentials in the address are not used; "
                                   "give the token instead");
  }
  bool https = false;
  size_t rest_at = 0;
  if (strncasecmp(server.c_str(), "https://", 8) == 0) {
    https = true;
    rest_at = 8;
  } else if (strncasecmp(server.c_str(), "http://", 7) == 0) {
    rest_at = 7;
  } else {
    return Status::InvalidArgument(form, server);
  }
  std::string rest = server.substr(rest_at);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find_first_of("/?#\\ \t\r\n") != std::string::npos)
    return Status::InvalidArgument(form, server);
  std::string host;
  std::string port;
  bool has_port = false;
  if (rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos)
      return Status::InvalidArgument(form, server);
    host = rest.substr(1, close - 1);
    const std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::InvalidArgument(form, server);
      port = after.substr(1);
      has_port = true;
    }
    in6_addr v6;
    if (inet_pton(AF_INET6, host.c_str(), &v6) != 1)
      return Status::InvalidArgument(form, server);
  } else {
    const size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) {
      port = rest.substr(colon + 1);
      has_port = true;
    }
  }
  if (host.empty()) return Status::InvalidArgument(form, server);
  if (has_port) {
    const bool digits =
        !port.empty() && port.size() <= 5 &&
        port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return Status::InvalidArgument(form, server);
    }
  }
  if (!https && !IsLoopbackHost(host)) {
    // Tokens and store keys cross the connection.
    return Status::InvalidArgument(
        "plain http is accepted only on a loopback address (127.0.0.1, ::1, "
        "localhost); use https://",
        server);
  }
  return server.substr(0, rest_at) + rest;
}

// --- answers ---------------------------------------------------------------

std::string Str(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_string() ? it->get<std::string>()
                                          : std::string();
}

int64_t Int(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    return v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX
                                                : static_cast<int64_t>(v);
  }
  return 0;
}

uint64_t U64(const json& j, const char* field) {
  const int64_t v = Int(j, field);
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

double Double(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

bool Bool(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::vector<std::string> Strs(const json& j, const char* field) {
  std::vector<std::string> out;
  auto it = j.find(field);
  if (it == j.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// A store object; `what` names the request for messages.
Result<SmpStore> StoreFrom(const json& j, const std::string& what) {
  if (!j.is_object() || !smp::IsStoreId(Str(j, "id"))) {
    return Status::IOError(what, "the server's answer holds no valid store");
  }
  SmpStore s;
  s.id = Str(j, "id");
  s.source = Str(j, "source");
  s.destination = Str(j, "destination");
  s.users = Strs(j, "users");
  s.location = Str(j, "location");
  s.state = Str(j, "state");
  const int64_t size = Int(j, "size");
  s.size = size > 0 ? static_cast<uint64_t>(size) : 0;
  s.sha256 = Str(j, "sha256");
  s.requested_at = Int(j, "requested_at");
  s.captured_at = Int(j, "captured_at");
  s.released_at = Int(j, "released_at");
  s.restored_at = Int(j, "restored_at");
  s.delete_after = Int(j, "delete_after");
  return s;
}

// The "store" member of an answer.
Result<SmpStore> AnswerStore(const json& answer, const std::string& what) {
  auto it = answer.find("store");
  if (it == answer.end()) {
    return Status::IOError(what, "the server's answer holds no store");
  }
  return StoreFrom(*it, what);
}

std::vector<SmpStore> StoresFrom(const json& answer) {
  std::vector<SmpStore> out;
  auto it = answer.find("stores");
  if (it == answer.end() || !it->is_array()) return out;
  for (const json& s : *it) {
    Result<SmpStore> store = StoreFrom(s, "");
    if (store.ok()) out.push_back(std::move(store).value());
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The store key an answer hands over ("key": 64 hex digits). The hex text
// is zeroed in the answer once decoded; the secret lives in locked memory.
Result<Key> TakeKey(json* answer, const std::string& what) {
  auto it = answer->find("key");
  if (it == answer->end() || !it->is_string()) {
    return Status::IOError(what, "the server's answer holds no store key");
  }
  std::string& hex = it->get_ref<std::string&>();
  format::SecretBytes secret(32);
  bool good = hex.size() == 64;
  for (size_t i = 0; good && i < 32; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    good = hi >= 0 && lo >= 0;
    if (good) secret.data()[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  OPENSSL_cleanse(hex.data(), hex.size());
  if (!good) {
    return Status::IOError(what, "the server's store key is not 64 hex digits");
  }
  return Key::FromKeySecret(secret.view());
}

std::string StorePath(const std::string& id) { return "/v1/stores/" + id; }

// --- the listing as JSON ---------------------------------------------------

// Members in the order written: the order `smp list --json` has always had.
using ordered_json = nlohmann::ordered_json;

ordered_json Shown(const std::vector<std::string>& strings) {
  ordered_json out = ordered_json::array();
  for (const std::string& s : strings) out.push_back(DisplayBytes(s));
  return out;
}

ordered_json StoreJson(const SmpStore& s) {
  return ordered_json{{"id", DisplayBytes(s.id)},
                      {"source", DisplayBytes(s.source)},
                      {"destination", DisplayBytes(s.destination)},
                      {"users", Shown(s.users)},
                      {"location", DisplayBytes(s.location)},
                      {"state", DisplayBytes(s.state)},
                      {"size", s.size},
                      {"sha256", DisplayBytes(s.sha256)},
                      {"requested_at", s.requested_at},
                      {"captured_at", s.captured_at},
                      {"released_at", s.released_at},
                      {"restored_at", s.restored_at},
                      {"delete_after", s.delete_after}};
}

}  // namespace

std::string SmpListingToJson(const SmpListing& listing) {
  ordered_json stores = ordered_json::array();
  for (const SmpStore& s : listing.stores) stores.push_back(StoreJson(s));
  ordered_json associations = ordered_json::array();
  for (const SmpAssociation& a : listing.associations) {
    associations.push_back(
        ordered_json{{"source", DisplayBytes(a.source)},
                     {"destination", DisplayBytes(a.destination)},
                     {"users", Shown(a.users)},
                     {"created_at", a.created_at}});
  }
  // DisplayBytes left only valid UTF-8 without control characters, which
  // dump() writes as it is: no escaping beyond '"' and '\\'.
  return ordered_json{{"stores", std::move(stores)},
                      {"associations", std::move(associations)},
                      {"retention_minutes", listing.retention_minutes},
                      {"restore_only", listing.restore_only},
                      {"abandon_after_minutes", listing.abandon_after_minutes}}
      .dump();
}

struct SmpClient::Impl {
  SmpConnection connection;  // server normalized
  std::shared_ptr<smp::SmpHttp> http;

  std::string Url(const std::string& path) const {
    return connection.server + path;
  }

  // Request State Store (for capture or restore): asked again while the
  // server is busy or cannot be reached, as the task-sequence step does.
  Result<json> RequestStore(const std::string& path) {
    for (int attempt = 0;; ++attempt) {
      Result<json> r = http->Call("POST", path, json::object());
      if (r.ok() || !r.status().IsUnavailable()) return r;
      if (attempt >= connection.retry_count) {
        if (attempt == 0) return r.status();
        return r.status().WithContext(
            "Request State Store, asked " + std::to_string(attempt + 1) +
            " times " + std::to_string(connection.retry_delay_seconds) +
            " s apart");
      }
      std::this_thread::sleep_for(
          std::chrono::seconds(connection.retry_delay_seconds));
    }
  }

  // A step's POST on store `id` that moves it to `done_state`. A request
  // sent again may have been carried out the first time, its answer lost:
  // the repeat is then refused as an illegal move, though the store is
  // where it was meant to go. Said so, it is a success.
  Result<SmpStore> Step(const std::string& id, const std::string& verb,
                        const std::string& done_state) {
    const std::string path = StorePath(id) + "/" + verb;
    int attempts = 0;
    Result<json> r = http->Call("POST", path, json::object(), &attempts);
    if (r.ok()) return AnswerStore(*r, "POST " + Url(path));
    if (attempts > 1 &&
        (r.status().IsRefused() || r.status().IsAlreadyExists())) {
      Result<json> listing = http->Call("GET", "/v1/stores");
      if (listing.ok()) {
        for (const SmpStore& s : StoresFrom(*listing)) {
          if (s.id == id && s.state == done_state) return s;
        }
      }
    }
    return r.status();
  }
};

Result<std::string> ReadSmpTokenFile(const std::string& path,
                                     std::string* warning) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Status::KeyUnreadable("cannot open token file " + path,
                                 std::strerror(errno));
  }
  std::string loose =
      format::LoosePermissionsWarning(fd.get(), "token file", path);
  format::SecretBytes buf(kMaxTokenFileBytes + 1);
  size_t len = 0;
  while (len < buf.size()) {
    const ssize_t r = ::read(fd.get(), buf.data() + len, buf.size() - len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::KeyUnreadable("cannot read token file " + path,
                                   std::strerror(errno));
    }
    if (r == 0) break;
    len += static_cast<size_t>(r);
  }
  if (len > kMaxTokenFileBytes) {
    return Status::KeyUnreadable("token file " + path,
                                 "too large to be a token file");
  }
  std::string_view line = buf.view().substr(0, len);
  line = line.substr(0, line.find_first_of("\r\n"));
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
    line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  if (line.empty())
    return Status::KeyUnreadable("token file " + path, "the token is empty");
  if (warning != nullptr) *warning = std::move(loose);
  return std::string(line);
}

Result<SmpClient> SmpClient::Connect(SmpConnection connection) {
  // This copy of the token is wiped on every return, a refused connection's
  // included; the one kept is SmpHttp's.
  struct WipeToken {
    std::string* token;
    ~WipeToken() { OPENSSL_cleanse(token->data(), token->size()); }
  } wipe{&connection.token};
  MIGSTORE_ASSIGN_OR_RETURN(connection.server, CheckServer(connection.server));
  if (connection.token.empty())
    return Status::InvalidArgument("no token given for " + connection.server);
  for (char c : connection.token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      // The token is not repeated, not even in part.
      return Status::InvalidArgument(
          "the token for " + connection.server,
          "holds spaces or control characters; a token is one word");
    }
  }
  if (!connection.ca_file.empty()) {
    if (strncasecmp(connection.server.c_str(), "https://", 8) != 0) {
      return Status::InvalidArgument("a CA file is for an https:// server",
                                     connection.server);
    }
    if (::access(connection.ca_file.c_str(), R_OK) != 0) {
      return Status::InvalidArgument(
          "cannot read CA file " + connection.ca_file, std::strerror(errno));
    }
  }
  if (connection.retry_count < 0 || connection.retry_delay_seconds < 0) {
    return Status::InvalidArgument(
        "the retry count and delay cannot be negative");
  }
  smp::SmpHttpOptions o;
  o.server = connection.server;
  o.token = connection.token;
  o.ca_file = connection.ca_file;
  auto impl = std::make_unique<Impl>();
  impl->http = std::make_shared<smp::SmpHttp>(std::move(o));
  // The client keeps no copy of the token outside SmpHttp.
  OPENSSL_cleanse(connection.token.data(), connection.token.size());
  connection.token.clear();
  impl->connection = std::move(connection);
  return SmpClient(std::move(impl));
}

SmpClient::SmpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SmpClient::SmpClient(SmpClient&&) noexcept = default;
SmpClient& SmpClient::operator=(SmpClient&&) noexcept = default;
SmpClient::~SmpClient() = default;

// --- the steps -------------------------------------------------------------

Result<CaptureReport> SmpClient::Capture(CaptureOptions options,
                                         CaptureObserver* observer,
                                         SmpStore* store) {
  if (options.hardlink) {
    return Status::InvalidArgument(
        "a state migration point keeps container stores, not hard-link "
        "stores");
  }
  // Refused before a store is requested: the server's store and key are
  // new, so no earlier store opens under it.
  if (!options.base_store.empty()) {
    return Status::InvalidArgument(
        "--base: the state migration point does not make incremental "
        "stores");
  }
  const std::string request = "POST " + impl_->Url("/v1/capture");
  MIGSTORE_ASSIGN_OR_RETURN(json grant, impl_->RequestStore("/v1/capture"));
  MIGSTORE_ASSIGN_OR_RETURN(SmpStore requested, AnswerStore(grant, request));
  MIGSTORE_ASSIGN_OR_RETURN(Key key, TakeKey(&grant, request));
  options.key = std::move(key);
  options.encrypt = true;
  options.overwrite = false;
  options.store_path = impl_->Url(StorePath(requested.id));
  if (!requested.users.empty()) {
    // The association names the users to migrate: those, and no others
    // (an exclude of everyone, which an include beats). A --last-used the
    // caller gave still adds the users it selects.
    UserSelection& u = options.users;
    u.include.insert(u.include.end(), requested.users.begin(),
                     requested.users.end());
    u.exclude.push_back("*");
  }
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<smp::SmpSink> sink,
      smp::SmpSink::Create(impl_->http, requested.id, options.store_path));
  MIGSTORE_ASSIGN_OR_RETURN(
      CaptureReport report,
      internal::CaptureToSink(options, std::move(sink), observer));
  Result<SmpStore> released = impl_->Step(requested.id, "release", "ready");
  if (!released.ok()) {
    return released.status().WithContext(
        "the store was captured but not released (run the capture again)");
  }
  if (store != nullptr) *store = std::move(released).value();
  return report;
}

Result<RestoreReport> SmpClient::Restore(RestoreOptions options,
                                         RestoreObserver* observer,
                                         SmpStore* store) {
  // `options` is this function's own copy (the signature takes it by
  // value): its account password is wiped once the accounts are planned
  // (RestoreFromSource), and on every way out before that.
  struct WipePassword {
    std::string* s;
    ~WipePassword() {
      s->resize(s->capacity());  // within the buffer: never reallocates
      ::explicit_bzero(s->data(), s->size());
      s->clear();
    }
  } wipe{&options.account_password};
  const std::string request = "POST " + impl_->Url("/v1/restore");
  MIGSTORE_ASSIGN_OR_RETURN(json grant, impl_->RequestStore("/v1/restore"));
  MIGSTORE_ASSIGN_OR_RETURN(SmpStore granted, AnswerStore(grant, request));
  MIGSTORE_ASSIGN_OR_RETURN(Key key, TakeKey(&grant, request));
  options.key = std::move(key);
  options.store_path = impl_->Url(StorePath(granted.id));
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<smp::SmpSource> source,
      smp::SmpSource::Open(impl_->http, granted.id, options.store_path));
  MIGSTORE_ASSIGN_OR_RETURN(
      RestoreReport report,
      internal::RestoreFromSource(options, std::move(source), observer,
                                  &options.account_password));
  // A dry run restored nothing: the store stays "restoring".
  if (!options.dry_run) {
    MIGSTORE_ASSIGN_OR_RETURN(granted,
                              impl_->Step(granted.id, "restored", "restored"));
  }
  if (store != nullptr) *store = std::move(granted);
  return report;
}

Result<std::vector<SmpStore>> SmpClient::ReleaseRestore() {
  MIGSTORE_ASSIGN_OR_RETURN(
      json answer,
      impl_->http->Call("POST", "/v1/restore/release", json::object()));
  return StoresFrom(answer);
}

// --- administration --------------------------------------------------------

Result<std::string> SmpClient::Enroll(const std::string& computer) {
  if (computer.empty())
    return Status::InvalidArgument("no computer name given");
  MIGSTORE_ASSIGN_OR_RETURN(
      json answer,
      impl_->http->Call("POST", "/v1/computers", json{{"name", computer}}));
  std::string token = Str(answer, "token");
  auto it = answer.find("token");
  if (it != answer.end() && it->is_string()) {
    std::string& held = it->get_ref<std::string&>();
    OPENSSL_cleanse(held.data(), held.size());
  }
  if (token.empty()) {
    return Status::IOError("POST " + impl_->Url("/v1/computers"),
                           "the server's answer holds no token");
  }
  return token;
}

Status SmpClient::Associate(const std::string& source,
                            const std::string& destination,
                            const std::vector<std::string>& users) {
  if (source.empty() || destination.empty())
    return Status::InvalidArgument(
        "an association needs a source and a "
        "destination computer");
  return impl_->http
      ->Call("POST", "/v1/associations",
             json{{"source", source},
                  {"destination", destination},
                  {"users", users}})
      .status();
}

Status SmpClient::Unassociate(const std::string& source) {
  if (source.empty())
    return Status::InvalidArgument("no source computer given");
  return impl_->http
      ->Call("DELETE", "/v1/associations/" + smp::PathSegment(source))
      .status();
}

Result<SmpListing> SmpClient::List() {
  MIGSTORE_ASSIGN_OR_RETURN(json answer,
                            impl_->http->Call("GET", "/v1/stores"));
  SmpListing out;
  out.stores = StoresFrom(answer);
  auto a = answer.find("associations");
  if (a != answer.end() && a->is_array()) {
    for (const json& j : *a) {
      if (!j.is_object()) continue;
      SmpAssociation s;
      s.source = Str(j, "source");
      s.destination = Str(j, "destination");
      s.users = Strs(j, "users");
      s.created_at = Int(j, "created_at");
      out.associations.push_back(std::move(s));
    }
  }
  auto settings = answer.find("settings");
  if (settings != answer.end() && settings->is_object()) {
    out.retention_minutes = Int(*settings, "retention_minutes");
    out.restore_only = Bool(*settings, "restore_only");
    out.abandon_after_minutes = Int(*settings, "abandon_after_minutes");
  }
  return out;
}

Result<Key> SmpClient::RecoverKey(const std::string& store_id,
                                  SmpStore* store) {
  if (!smp::IsStoreId(store_id))
    return Status::InvalidArgument("not a store id (32 hex digits)", store_id);
  const std::string path = StorePath(store_id) + "/key";
  MIGSTORE_ASSIGN_OR_RETURN(json answer,
                            impl_->http->Call("POST", path, json::object()));
  const std::string what = "POST " + impl_->Url(path);
  MIGSTORE_ASSIGN_OR_RETURN(Key key, TakeKey(&answer, what));
  if (store != nullptr) {
    MIGSTORE_ASSIGN_OR_RETURN(*store, AnswerStore(answer, what));
  }
  return key;
}

Status SmpClient::Delete(const std::string& store_id) {
  if (!smp::IsStoreId(store_id))
    return Status::InvalidArgument("not a store id (32 hex digits)", store_id);
  return impl_->http->Call("DELETE", StorePath(store_id)).status();
}

Status SmpClient::SetRestoreOnly(bool on) {
  return impl_->http->Call("PUT", "/v1/settings", json{{"restore_only", on}})
      .status();
}

Status SmpClient::SetRetention(int64_t minutes) {
  if (minutes < 0)
    return Status::InvalidArgument("the retention cannot be negative");
  return impl_->http
      ->Call("PUT", "/v1/settings", json{{"retention_minutes", minutes}})
      .status();
}

Status SmpClient::SetAbandonAfter(int64_t minutes) {
  if (minutes < 0)
    return Status::InvalidArgument("the abandonment time cannot be negative");
  return impl_->http
      ->Call("PUT", "/v1/settings", json{{"abandon_after_minutes", minutes}})
      .status();
}

Result<SmpMetrics> SmpClient::Metrics() {
  MIGSTORE_ASSIGN_OR_RETURN(json answer,
                            impl_->http->Call("GET", "/v1/metrics"));
  SmpMetrics out;
  out.uptime_seconds = Double(answer, "uptime_seconds");
  out.rss_bytes = U64(answer, "rss_bytes");
  out.peak_rss_bytes = U64(answer, "peak_rss_bytes");
  auto requests = answer.find("requests");
  if (requests == answer.end() || !requests->is_object()) {
    return Status::IOError("GET " + impl_->Url("/v1/metrics"),
                           "the server's answer holds no requests");
  }
  for (const auto& [kind, r] : requests->items()) {
    if (!r.is_object()) continue;
    out.requests.push_back(SmpRequestStats{
        kind, U64(r, "count"), U64(r, "errors"), U64(r, "refused"),
        U64(r, "bytes_in"), U64(r, "bytes_out"), Double(r, "p50_ms"),
        Double(r, "p99_ms"), Double(r, "max_ms")});
  }
  out.json = answer.dump();
  return out;
}

Result<std::string> SmpClient::WhoAmI(bool* admin) {
  MIGSTORE_ASSIGN_OR_RETURN(json answer,
                            impl_->http->Call("GET", "/v1/whoami"));
  const std::string name = Str(answer, "name");
  if (name.empty()) {
    return Status::IOError("GET " + impl_->Url("/v1/whoami"),
                           "the server's answer holds no name");
  }
  if (admin != nullptr) *admin = Bool(answer, "admin");
  return name;
}

}  // namespace migstore
