#include "migstore/smp_server.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "engine/src/smp/db.h"
#include "engine/src/smp/http_server.h"
#include "engine/src/smp/key_escrow.h"
#include "engine/src/smp/service.h"
#include "engine/src/smp/storage.h"
#include "format/atomic_file.h"

namespace migstore {

struct SmpServer::Impl {
  std::unique_ptr<smp::Service> service;
  std::unique_ptr<smp::HttpServer> http;
  std::string new_admin_token_file;
};

namespace {

Status MakeDataDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0)
      return Status::FromErrno("--data " + dir, errno);
    if (!S_ISDIR(st.st_mode))
      return Status::InvalidArgument("--data " + dir, "is not a folder");
    return Status::OK();
  }
  return Status::FromErrno("cannot make --data " + dir, errno);
}

Status WriteAdminToken(const std::string& path, const std::string& token) {
  // AtomicFile makes its file 0600; overwrite: a first start that failed
  // after writing it and before committing runs again.
  MIGSTORE_ASSIGN_OR_RETURN(format::AtomicFile file,
                            format::AtomicFile::Create(path, true));
  MIGSTORE_RETURN_IF_ERROR(file.Append(token + "\n"));
  return file.Commit();
}

Result<int64_t> ParseSize(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("an empty size");
  char* end = nullptr;
  const std::string s(text);
  const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  int shift = 0;
  const std::string unit(end);
  if (unit == "K" || unit == "k")
    shift = 10;
  else if (unit == "M")
    shift = 20;
  else if (unit == "G")
    shift = 30;
  else if (unit == "T")
    shift = 40;
  else if (!unit.empty() || end == s.c_str())
    return Status::InvalidArgument("size '" + s + "'",
                                   "want a number with K, M, G or T");
  if (n > (uint64_t{1} << (62 - shift)))
    return Status::InvalidArgument("size '" + s + "'", "is too large");
  return static_cast<int64_t>(n << shift);
}

}  // namespace

Result<SmpStorageFolder> ParseSmpStorageFolder(const std::string& text) {
  SmpStorageFolder out;
  size_t at = text.find(',');
  out.path = text.substr(0, at);
  bool min_free_given = false;
  while (at != std::string::npos) {
    const size_t next = text.find(',', at + 1);
    const std::string item = text.substr(at + 1, next - at - 1);
    at = next;
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    const std::string value =
        eq == std::string::npos ? "" : item.substr(eq + 1);
    if (name == "max-clients") {
      char* end = nullptr;
      const long long n = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1)
        return Status::InvalidArgument("--storage " + text,
                                       "max-clients wants a number from 1");
      out.max_clients = n;
    } else if (name == "min-free") {
      MIGSTORE_ASSIGN_OR_RETURN(out.min_free_bytes, ParseSize(value));
      min_free_given = true;
    } else {
      return Status::InvalidArgument(
          "--storage " + text,
          "'" + item + "': want max-clients=N or min-free=SIZE");
    }
  }
  if (out.path.empty())
    return Status::InvalidArgument("--storage " + text, "no folder given");
  if (smp::StorageLocation::IsObjectStore(out.path)) {
    if (min_free_given) {
      return Status::InvalidArgument(
          "--storage " + text,
          "min-free is a folder's limit: an object store has no free space "
          "to keep (give max-clients only)");
    }
    MIGSTORE_ASSIGN_OR_RETURN(smp::ObjectLocationName name,
                              smp::ParseObjectLocation(out.path));
    // One spelling per location: the database knows locations by name.
    out.path = name.name;
  }
  return out;
}

SmpServer::SmpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SmpServer::SmpServer(SmpServer&&) noexcept = default;
SmpServer& SmpServer::operator=(SmpServer&&) noexcept = default;
SmpServer::~SmpServer() = default;

Result<SmpServer> SmpServer::Start(const SmpServeOptions& o) {
  if (o.data_dir.empty())
    return Status::InvalidArgument("no --data folder given");
  MIGSTORE_RETURN_IF_ERROR(MakeDataDir(o.data_dir));
  std::vector<smp::StorageLocation> storage;
  for (const SmpStorageFolder& f : o.storage)
    storage.push_back({f.path, f.max_clients, f.min_free_bytes});
  MIGSTORE_ASSIGN_OR_RETURN(
      smp::KeyEscrow escrow,
      smp::KeyEscrow::OpenOrCreate(
          o.server_key.empty() ? o.data_dir + "/server.key" : o.server_key));
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<smp::Db> db,
      smp::Db::Open(o.db.empty() ? o.data_dir + "/smp.db" : o.db));
  auto impl = std::make_unique<Impl>();
  MIGSTORE_ASSIGN_OR_RETURN(impl->service,
                            smp::Service::Open(std::move(db), std::move(escrow),
                                               std::move(storage), nullptr));
  const std::string token_file = o.data_dir + "/admin.token";
  MIGSTORE_ASSIGN_OR_RETURN(
      std::string token,
      impl->service->CreateAdminIfNone([&](const std::string& t) {
        return WriteAdminToken(token_file, t);
      }));
  if (!token.empty()) impl->new_admin_token_file = token_file;
  smp::ServeOptions serve;
  serve.host = o.host;
  serve.port = o.port;
  serve.tls_cert = o.tls_cert;
  serve.tls_key = o.tls_key;
  serve.deletion_cycle_seconds = std::max(1, o.deletion_cycle_seconds);
  MIGSTORE_ASSIGN_OR_RETURN(
      impl->http, smp::HttpServer::Create(impl->service.get(), serve));
  return SmpServer(std::move(impl));
}

int SmpServer::port() const { return impl_->http->port(); }

const std::string& SmpServer::new_admin_token_file() const {
  return impl_->new_admin_token_file;
}

Status SmpServer::Wait() { return impl_->http->Run(); }

void SmpServer::Stop() { impl_->http->Stop(); }

}  // namespace migstore
