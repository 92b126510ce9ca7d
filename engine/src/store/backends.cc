#include "engine/src/store/backends.h"

#include "engine/src/store/s3_config.h"
#include "engine/src/store/s3_store.h"
#include "format/atomic_file.h"
#include "format/file_io.h"

namespace migstore::store {
namespace {

struct S3Target {
  std::shared_ptr<S3Client> client;
  S3Location where;
};

Result<S3Target> S3TargetFor(const std::string& name) {
  MIGSTORE_ASSIGN_OR_RETURN(S3Location where, ParseS3Name(name));
  MIGSTORE_ASSIGN_OR_RETURN(S3Config config, S3Config::FromEnvironment(where));
  return S3Target{std::make_shared<S3Client>(std::move(config)),
                  std::move(where)};
}

}  // namespace

bool IsObjectStoreName(std::string_view name) { return IsS3Name(name); }

Result<std::unique_ptr<format::StoreSink>> CreateStoreSink(
    const std::string& name, const SinkOptions& options) {
  if (!IsObjectStoreName(name))
    return format::CreateFileSink(name, options.overwrite,
                                  options.direct_writes);
  MIGSTORE_ASSIGN_OR_RETURN(S3Target t, S3TargetFor(name));
  S3UploadOptions upload;
  upload.overwrite = options.overwrite;
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<S3Sink> sink,
      S3Sink::Create(std::move(t.client), std::move(t.where), upload));
  return std::unique_ptr<format::StoreSink>(std::move(sink));
}

Result<std::unique_ptr<format::StoreSource>> OpenStoreSource(
    const std::string& name) {
  if (!IsObjectStoreName(name)) {
    MIGSTORE_ASSIGN_OR_RETURN(format::RandomAccessFile file,
                              format::RandomAccessFile::Open(name));
    return std::unique_ptr<format::StoreSource>(
        new format::RandomAccessFile(std::move(file)));
  }
  MIGSTORE_ASSIGN_OR_RETURN(S3Target t, S3TargetFor(name));
  MIGSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<S3Source> source,
      S3Source::Open(std::move(t.client), std::move(t.where)));
  return std::unique_ptr<format::StoreSource>(std::move(source));
}

Status CheckLocalStoreName(const std::string& name, std::string_view what) {
  if (!IsObjectStoreName(name)) return Status::OK();
  return Status::InvalidArgument(
      name, std::string(what) +
                " lives on the local filesystem and cannot be in an object "
                "store; give a local path");
}

}  // namespace migstore::store
