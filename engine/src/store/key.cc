#include "migstore/key.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "engine/base/unique_fd.h"
#include "engine/src/store/key_rep.h"
#include "format/atomic_file.h"

namespace migstore {
namespace {

using format::KeySource;
using format::SecretBytes;

// Longer than any sane password, short enough that a wrong file (a disk
// image named by mistake) is refused at once.
constexpr size_t kMaxPasswordBytes = 4096;

// The first line of `text`, without CR/LF: what a password file holds.
Result<Key> PasswordFromText(const SecretBytes& text, size_t len,
                             std::string_view where, std::string warning = {}) {
  std::string_view all = text.view().substr(0, len);
  size_t end = all.find_first_of("\r\n");
  std::string_view line = all.substr(0, end);
  if (line.empty())
    return Status::KeyUnreadable(std::string(where), "the password is empty");
  return internal::KeyAccess::Make(KeySource::Password(SecretBytes::Copy(line)),
                                   std::move(warning));
}

// Reads at most kMaxPasswordBytes + 1 bytes from fd into secret memory.
Result<size_t> ReadSecret(int fd, SecretBytes* buf, std::string_view where) {
  size_t len = 0;
  while (len < buf->size()) {
    ssize_t r = ::read(fd, buf->data() + len, buf->size() - len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::KeyUnreadable("cannot read " + std::string(where),
                                   std::strerror(errno));
    }
    if (r == 0) break;
    len += static_cast<size_t>(r);
    // A descriptor (a terminal, a pipe) is read up to the first line only.
    if (std::memchr(buf->data(), '\n', len) != nullptr) break;
  }
  if (len > kMaxPasswordBytes) {
    return Status::KeyUnreadable(std::string(where),
                                 "too long to be a password");
  }
  return len;
}

}  // namespace

namespace internal {

KeySource SourceOf(const Key& key) {
  const KeyRep* rep = KeyAccess::Rep(key);
  if (rep == nullptr) return KeySource::None();
  const KeySource& s = rep->source;
  SecretBytes copy = SecretBytes::Copy(s.secret().view());
  return s.mode() == format::KeyMode::kPassword
             ? KeySource::Password(std::move(copy))
             : KeySource::KeyFileSecret(std::move(copy));
}

format::KdfParams MostKdfOf(const KeyPolicy& policy) {
  format::KdfParams most = format::KdfParams::ReaderDefault();
  if (policy.max_kdf_passes != 0) most.opslimit = policy.max_kdf_passes;
  if (policy.max_kdf_memory != 0) most.memlimit = policy.max_kdf_memory;
  return most;
}

}  // namespace internal

Key::Key() = default;

const std::string& Key::warning() const {
  static const std::string kNone;
  return rep_ == nullptr ? kNone : rep_->warning;
}

const char* Key::kind() const {
  if (rep_ == nullptr) return "none";
  return rep_->source.mode() == format::KeyMode::kPassword ? "password"
                                                           : "key file";
}

Result<Key> Key::FromKeyFile(const std::string& path) {
  std::string warning;
  MIGSTORE_ASSIGN_OR_RETURN(KeySource source,
                            KeySource::FromKeyFile(path, &warning));
  return internal::KeyAccess::Make(std::move(source), std::move(warning));
}

Result<Key> Key::FromPassword(std::string_view password) {
  if (password.empty()) return Status::InvalidArgument("the password is empty");
  return internal::KeyAccess::Make(
      KeySource::Password(SecretBytes::Copy(password)));
}

Result<Key> Key::FromKeySecret(std::string_view secret) {
  if (secret.size() != format::kKeySize) {
    return Status::InvalidArgument("a key secret is 32 bytes, not " +
                                   std::to_string(secret.size()));
  }
  return internal::KeyAccess::Make(
      KeySource::KeyFileSecret(SecretBytes::Copy(secret)));
}

Result<Key> Key::FromPasswordFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Status::KeyUnreadable("cannot open password file " + path,
                                 std::strerror(errno));
  }
  std::string warning =
      format::LoosePermissionsWarning(fd.get(), "password file", path);
  SecretBytes buf(kMaxPasswordBytes + 1);
  MIGSTORE_ASSIGN_OR_RETURN(
      size_t len, ReadSecret(fd.get(), &buf, "password file " + path));
  return PasswordFromText(buf, len, "password file " + path,
                          std::move(warning));
}

Result<Key> Key::FromPasswordEnvironment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return Status::KeyUnreadable(
        std::string("the environment variable ") + name,
        "is not set or is empty");
  }
  return FromPassword(value);
}

Result<Key> Key::FromPasswordDescriptor(int fd) {
  SecretBytes buf(kMaxPasswordBytes + 1);
  MIGSTORE_ASSIGN_OR_RETURN(size_t len,
                            ReadSecret(fd, &buf, "the password input"));
  return PasswordFromText(buf, len, "the password input");
}

Status WriteKeyFile(const std::string& path, bool overwrite) {
  return format::WriteNewKeyFile(path, overwrite);
}

Status WriteKeyFile(const std::string& path, const Key& key, bool overwrite) {
  const format::KeySource source = internal::SourceOf(key);
  if (source.mode() != format::KeyMode::kKeyFile) {
    return Status::InvalidArgument(
        "only a key file's secret can be written to a key file");
  }
  MIGSTORE_ASSIGN_OR_RETURN(format::AtomicFile file,
                            format::AtomicFile::Create(path, overwrite));
  const format::SecretBytes text = format::FormatKeyFile(source.secret());
  MIGSTORE_RETURN_IF_ERROR(file.Append(text.view()));
  return file.Commit();
}

}  // namespace migstore
