#include "smp_commands.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <thread>

#include "cli_common.h"
#include "migstore/key.h"
#include "migstore/smp_server.h"

namespace migstore::cli {
namespace {

// "HOST:PORT", "[V6]:PORT".
Status ParseListen(const std::string& text, std::string* host, int* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return Status::InvalidArgument("--listen " + text, "want HOST:PORT");
  *host = text.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  char* end = nullptr;
  const long p = std::strtol(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || p < 0 || p > 65535)
    return Status::InvalidArgument("--listen " + text, "bad port");
  *port = static_cast<int>(p);
  return Status::OK();
}

std::string Time(int64_t t) {
  if (t == 0) return "-";
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string Users(const std::vector<std::string>& users) {
  if (users.empty()) return "all users";
  std::string out;
  for (const std::string& u : users) out += (out.empty() ? "" : ",") + u;
  return out;
}

void PrintMetrics(const SmpMetrics& m, bool json) {
  if (json) {
    std::printf("%s\n", m.json.c_str());
    return;
  }
  std::printf("up %.0f s; memory %.1f MiB (peak %.1f MiB)\n", m.uptime_seconds,
              m.rss_bytes / 1048576.0, m.peak_rss_bytes / 1048576.0);
  std::printf("%-8s %10s %7s %8s %12s %12s %9s %9s %9s\n", "kind", "requests",
              "errors", "refused", "MiB in", "MiB out", "p50 ms", "p99 ms",
              "max ms");
  for (const SmpRequestStats& r : m.requests) {
    std::printf(
        "%-8s %10llu %7llu %8llu %12.1f %12.1f %9.1f %9.1f %9.1f\n",
        DisplayText(r.kind).c_str(), static_cast<unsigned long long>(r.count),
        static_cast<unsigned long long>(r.errors),
        static_cast<unsigned long long>(r.refused), r.bytes_in / 1048576.0,
        r.bytes_out / 1048576.0, r.p50_ms, r.p99_ms, r.max_ms);
  }
}

void PrintListing(const SmpListing& l, bool json) {
  if (json) {
    std::printf("%s\n", SmpListingToJson(l).c_str());
    return;
  }
  std::printf(
      "retention %lld minutes; restore-only %s; unfinished captures "
      "abandoned after %s\n",
      static_cast<long long>(l.retention_minutes),
      l.restore_only ? "on" : "off",
      l.abandon_after_minutes > 0
          ? (std::to_string(l.abandon_after_minutes) + " minutes").c_str()
          : "never");
  std::printf("associations: %zu\n", l.associations.size());
  for (const SmpAssociation& a : l.associations) {
    std::printf("  %s -> %s (%s)\n", DisplayText(a.source).c_str(),
                DisplayText(a.destination).c_str(),
                DisplayText(Users(a.users)).c_str());
  }
  std::printf("stores: %zu\n", l.stores.size());
  for (const SmpStore& s : l.stores) {
    std::printf("  %s  %-9s %s -> %s  %llu bytes  requested %s%s%s\n",
                s.id.c_str(), s.state.c_str(), DisplayText(s.source).c_str(),
                DisplayText(s.destination).c_str(),
                static_cast<unsigned long long>(s.size),
                Time(s.requested_at).c_str(),
                s.delete_after != 0 ? "  deleted after " : "",
                s.delete_after != 0 ? Time(s.delete_after).c_str() : "");
  }
}

Status WriteTokenFile(const std::string& path, const std::string& token,
                      bool overwrite) {
  // A token is a key to a computer's store: written as a key file is.
  std::FILE* probe = nullptr;
  if (!overwrite && (probe = std::fopen(path.c_str(), "r")) != nullptr) {
    std::fclose(probe);
    return Status::AlreadyExists(path, "exists (--overwrite to replace it)");
  }
  const std::string tmp = path + ".tmp";
  std::FILE* f = nullptr;
  {
    const mode_t old = ::umask(077);
    f = std::fopen(tmp.c_str(), "we");
    ::umask(old);
  }
  if (f == nullptr) return Status::FromErrno("cannot create " + tmp, errno);
  const bool wrote = std::fprintf(f, "%s\n", token.c_str()) > 0 &&
                     std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!wrote || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return Status::FromErrno("cannot write " + path, err);
  }
  return Status::OK();
}

}  // namespace

void AddSmpStepOptions(CLI::App* cmd, SmpClientOptions* o, bool retries) {
  cmd->add_option("--smp", o->server,
                  "Use a state migration point (migstore serve) at this URL "
                  "for the store and its key, instead of --store")
      ->group("State migration point");
  cmd->add_option("--token-file", o->token_file,
                  "This computer's token for --smp (smp enroll)")
      ->group("State migration point");
  cmd->add_option("--ca-file", o->ca_file,
                  "The CA certificate (PEM) an https server is checked with")
      ->group("State migration point");
  if (retries) {
    cmd->add_option("--retry-count", o->retry_count,
                    "Request State Store: how often to ask again while the "
                    "server is busy")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000))
        ->group("State migration point");
    cmd->add_option("--retry-delay", o->retry_delay,
                    "Request State Store: seconds to wait between")
        ->capture_default_str()
        ->check(CLI::Range(0, 86400))
        ->group("State migration point");
  }
}

Result<SmpClient> ConnectSmp(const SmpClientOptions& o, const char* command) {
  if (o.token_file.empty())
    return Status::InvalidArgument("--token-file is required with a server");
  std::string warning;
  MIGSTORE_ASSIGN_OR_RETURN(std::string token,
                            ReadSmpTokenFile(o.token_file, &warning));
  if (!warning.empty())
    std::fprintf(stderr, "migstore %s: warning: %s\n", command,
                 warning.c_str());
  SmpConnection c;
  c.server = o.server;
  c.token = std::move(token);
  c.ca_file = o.ca_file;
  c.retry_count = o.retry_count;
  c.retry_delay_seconds = o.retry_delay;
  return SmpClient::Connect(std::move(c));
}

Status CheckStoreChoice(const std::string& store, const SmpClientOptions& smp,
                        const KeyOptions& key) {
  if (store.empty() == smp.server.empty()) {
    return Status::InvalidArgument(
        "give the store (--store), or a state migration point (--smp with "
        "--token-file), one of the two");
  }
  if (!smp.server.empty() &&
      (!key.key_file.empty() || !key.password_file.empty() ||
       key.password_stdin || key.no_encrypt)) {
    return Status::InvalidArgument(
        "the state migration point makes and keeps the store's key: give no "
        "key option with --smp");
  }
  if (smp.server.empty() && !smp.token_file.empty())
    return Status::InvalidArgument("--token-file goes with --smp");
  return Status::OK();
}

CLI::App* AddServeCommand(CLI::App* app, ServeCommandOptions* o) {
  CLI::App* cmd = app->add_subcommand(
      "serve",
      "Run a state migration point: hand out stores to computers that "
      "capture, keep them and their keys, give them to the associated new "
      "computer, delete them after the retention time (docs/smp.md)");
  cmd->add_option("--listen", o->listen,
                  "HOST:PORT to serve on (plain HTTP: a loopback address "
                  "only)")
      ->capture_default_str();
  cmd->add_option("--data", o->data,
                  "Folder for smp.db, server.key and admin.token (made if "
                  "missing)")
      ->required();
  cmd->add_option("--db", o->db,
                  "postgresql://… : keep the state in PostgreSQL (several "
                  "serve nodes share it) instead of DATA/smp.db");
  cmd->add_option("--server-key", o->server_key,
                  "The key that wraps every store's key (default "
                  "DATA/server.key, made on first start); nodes sharing a "
                  "database share it");
  cmd->add_option("--storage", o->storage,
                  "A storage location: a folder, "
                  "DIR[,max-clients=N][,min-free=SIZE], or an object store, "
                  "s3://BUCKET/PREFIX[,max-clients=N] (S3 settings from the "
                  "environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                  "AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL); give it "
                  "once per location, in order of preference")
      ->required();
  cmd->add_option("--tls-cert", o->tls_cert, "TLS certificate (PEM)");
  cmd->add_option("--tls-key", o->tls_key, "TLS private key (PEM)");
  cmd->add_option("--deletion-cycle", o->deletion_cycle_seconds,
                  "Seconds between runs of the retention's deletion cycle")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  return cmd;
}

int RunServe(const ServeCommandOptions& o) {
  SmpServeOptions s;
  Status st = ParseListen(o.listen, &s.host, &s.port);
  if (!st.ok()) return Fail("serve", st);
  s.data_dir = o.data;
  s.db = o.db;
  s.server_key = o.server_key;
  s.tls_cert = o.tls_cert;
  s.tls_key = o.tls_key;
  s.deletion_cycle_seconds = o.deletion_cycle_seconds;
  for (const std::string& text : o.storage) {
    Result<SmpStorageFolder> f = ParseSmpStorageFolder(text);
    if (!f.ok()) return Fail("serve", f.status());
    s.storage.push_back(*f);
  }
  // SIGINT and SIGTERM stop the server from a thread of their own (a
  // signal handler may not call into the HTTP library).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Result<SmpServer> server = SmpServer::Start(s);
  if (!server.ok()) return Fail("serve", server.status());
  const bool tls = !s.tls_cert.empty();
  std::printf(
      "migstore serve: listening on %s://%s:%d\n", tls ? "https" : "http",
      s.host.find(':') != std::string::npos ? ("[" + s.host + "]").c_str()
                                            : s.host.c_str(),
      server->port());
  if (!server->new_admin_token_file().empty()) {
    std::printf("migstore serve: administrator token written to %s\n",
                server->new_admin_token_file().c_str());
  }
  std::fflush(stdout);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server->Stop();
  });
  st = server->Wait();
  // Wake the stopper if the server ended on its own.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  if (!st.ok()) return Fail("serve", st);
  return Code(ExitCode::kSuccess);
}

CLI::App* AddSmpCommand(CLI::App* app, SmpCommandOptions* o) {
  CLI::App* smp = app->add_subcommand(
      "smp",
      "Administer a state migration point, or release a restored "
      "store (docs/smp.md)");
  smp->require_subcommand(1);
  smp->add_option("--server", o->client.server,
                  "The state migration point's URL")
      ->required();
  smp->add_option("--token-file", o->client.token_file,
                  "The administrator's token (DATA/admin.token) or this "
                  "computer's")
      ->required();
  smp->add_option("--ca-file", o->client.ca_file,
                  "The CA certificate (PEM) an https server is checked with");

  CLI::App* enroll = smp->add_subcommand(
      "enroll", "Make a computer's token (a new one replaces its old one)");
  enroll->add_option("computer", o->computer, "The computer's name")
      ->required();
  enroll->add_option("--out", o->out, "Where to write the token (0600)")
      ->required();
  enroll->add_flag("--overwrite", o->overwrite, "Replace an existing file");

  CLI::App* assoc =
      smp->add_subcommand("associate",
                          "Link an old computer to its new one (a computer "
                          "association); a refresh of one computer needs none");
  assoc->add_option("source", o->source, "The old computer")->required();
  assoc->add_option("destination", o->destination, "The new computer")
      ->required();
  assoc->add_option("--user", o->users,
                    "Take only this user (repeat; default all)");

  CLI::App* unassoc =
      smp->add_subcommand("unassociate", "Remove a computer's association");
  unassoc->add_option("source", o->source, "The old computer")->required();

  smp->add_subcommand("release",
                      "Release State Store after restore: the retention "
                      "time starts");
  CLI::App* list =
      smp->add_subcommand("list", "Stores, their states, and the associations");
  list->add_flag("--json", o->json, "Machine-readable output");

  CLI::App* metrics = smp->add_subcommand(
      "metrics",
      "What the server node has answered since it started: requests, "
      "latency, memory");
  metrics->add_flag("--json", o->json, "Machine-readable output");

  CLI::App* recover =
      smp->add_subcommand("recover-key",
                          "Write a store's key to a key file for a manual "
                          "restore (audited)");
  recover->add_option("store", o->store, "The store's id")->required();
  recover->add_option("--out", o->out, "The key file to write (0600)")
      ->required();
  recover->add_flag("--overwrite", o->overwrite, "Replace an existing file");

  CLI::App* del =
      smp->add_subcommand("delete", "Delete a store now, in any state");
  del->add_option("store", o->store, "The store's id")->required();

  CLI::App* ro = smp->add_subcommand(
      "restore-only", "Refuse new captures, keep serving restores");
  ro->add_option("mode", o->on_off, "on or off")
      ->required()
      ->check(CLI::IsMember({"on", "off"}));

  CLI::App* ret = smp->add_subcommand(
      "retention", "Minutes a released store is kept before deletion");
  ret->add_option("minutes", o->minutes, "0 deletes at the next cycle")
      ->required()
      ->check(CLI::Range(int64_t{0}, int64_t{5270400}));

  CLI::App* abandon = smp->add_subcommand(
      "abandon-after",
      "Minutes after its latest request an uncommitted capture is deleted "
      "(default 2880, two days)");
  abandon->add_option("minutes", o->minutes, "0 never abandons one")
      ->required()
      ->check(CLI::Range(int64_t{0}, int64_t{5270400}));
  return smp;
}

int RunSmp(CLI::App* smp, const SmpCommandOptions& o) {
  Result<SmpClient> client = ConnectSmp(o.client, "smp");
  if (!client.ok()) return Fail("smp", client.status());
  auto ran = [&](const char* name) { return smp->got_subcommand(name); };
  Status s;
  if (ran("enroll")) {
    Result<std::string> token = client->Enroll(o.computer);
    s = token.ok() ? WriteTokenFile(o.out, *token, o.overwrite)
                   : token.status();
    if (s.ok())
      std::printf("enrolled %s; its token is in %s\n",
                  DisplayText(o.computer).c_str(), o.out.c_str());
  } else if (ran("associate")) {
    s = client->Associate(o.source, o.destination, o.users);
    if (s.ok())
      std::printf("associated %s -> %s (%s)\n", DisplayText(o.source).c_str(),
                  DisplayText(o.destination).c_str(),
                  DisplayText(Users(o.users)).c_str());
  } else if (ran("unassociate")) {
    s = client->Unassociate(o.source);
  } else if (ran("release")) {
    Result<std::vector<SmpStore>> released = client->ReleaseRestore();
    s = released.status();
    if (released.ok()) {
      for (const SmpStore& st : *released)
        std::printf("released store %s; deleted after %s\n", st.id.c_str(),
                    Time(st.delete_after).c_str());
    }
  } else if (ran("list")) {
    Result<SmpListing> l = client->List();
    s = l.status();
    if (l.ok()) PrintListing(*l, o.json);
  } else if (ran("metrics")) {
    Result<SmpMetrics> m = client->Metrics();
    s = m.status();
    if (m.ok()) PrintMetrics(*m, o.json);
  } else if (ran("recover-key")) {
    Result<Key> key = client->RecoverKey(o.store);
    s = key.ok() ? WriteKeyFile(o.out, *key, o.overwrite) : key.status();
    if (s.ok())
      std::printf("the key of store %s is in %s\n", o.store.c_str(),
                  o.out.c_str());
  } else if (ran("delete")) {
    s = client->Delete(o.store);
    if (s.ok()) std::printf("deleted store %s\n", o.store.c_str());
  } else if (ran("restore-only")) {
    s = client->SetRestoreOnly(o.on_off == "on");
    if (s.ok()) std::printf("restore-only %s\n", o.on_off.c_str());
  } else if (ran("abandon-after")) {
    s = client->SetAbandonAfter(o.minutes);
    if (s.ok() && o.minutes == 0)
      std::printf("unfinished captures are never abandoned\n");
    else if (s.ok())
      std::printf("unfinished captures abandoned after %lld minutes\n",
                  static_cast<long long>(o.minutes));
  } else if (ran("retention")) {
    s = client->SetRetention(o.minutes);
    if (s.ok())
      std::printf("retention %lld minutes\n",
                  static_cast<long long>(o.minutes));
  }
  if (!s.ok()) return Fail("smp", s);
  return Code(ExitCode::kSuccess);
}

}  // namespace migstore::cli
