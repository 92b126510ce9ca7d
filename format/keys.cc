#include "format/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "format/atomic_file.h"
#include "format/file_io.h"
#include "format/header.h"
#include "format/limits.h"

namespace migstore::format {
namespace {

constexpr size_t kMaxKeyFileBytes = 4096;

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Derives the key-encryption key for `mode` from the user's secret.
Result<SecretBytes> DeriveKek(const Header& h, const KeySource& key) {
  SecretBytes kek(kKeySize);
  if (h.key_mode == KeyMode::kPassword) {
    const SecretBytes& pw = key.secret();
    if (crypto_pwhash(kek.data(), kek.size(),
                      reinterpret_cast<const char*>(pw.data()), pw.size(),
                      h.salt.data(), h.kdf_opslimit,
                      static_cast<size_t>(h.kdf_memlimit),
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
      return Status::IOError(
          "Argon2id failed: not enough memory for its parameters");
    }
  } else {
    assert(h.key_mode == KeyMode::kKeyFile);
    if (key.secret().size() != kKeySize ||
        crypto_generichash_blake2b_salt_personal(
            kek.data(), kek.size(), nullptr, 0, key.secret().data(),
            key.secret().size(), h.salt.data(),
            reinterpret_cast<const unsigned char*>(kKeyFilePersonal)) != 0) {
      return Status::WrongKey("a key-file secret must be 32 bytes");
    }
  }
  return kek;
}

// "512 MiB", or "8 KiB" for what is not a whole number of MiB.
std::string MemoryText(uint64_t bytes) {
  if (bytes % limits::kMiB == 0)
    return std::to_string(bytes / limits::kMiB) + " MiB";
  return std::to_string((bytes + 1023) / 1024) + " KiB";
}

// Refused unless the header's Argon2id cost is within `most`: checked before
// any derivation, so a crafted header costs nothing to turn down.
Status CheckKdfCost(const Header& h, const KdfParams& most) {
  if (h.kdf_opslimit <= most.opslimit && h.kdf_memlimit <= most.memlimit)
    return Status::OK();
  const uint64_t mib = (h.kdf_memlimit + limits::kMiB - 1) / limits::kMiB;
  return Status::Refused(
      "the store's password needs Argon2id with " +
      std::to_string(h.kdf_opslimit) + " passes over " +
      MemoryText(h.kdf_memlimit) +
      ", more than this reader spends unless told (" +
      std::to_string(most.opslimit) + " passes, " + MemoryText(most.memlimit) +
      "): a crafted header could make every open that costly. If the store "
      "is yours, allow it with --max-kdf-passes " +
      std::to_string(std::max(h.kdf_opslimit, most.opslimit)) +
      " --max-kdf-memory " +
      std::to_string(std::max(mib, most.memlimit / limits::kMiB)));
}

const char* ModeName(KeyMode m) {
  switch (m) {
    case KeyMode::kNone:
      return "no key";
    case KeyMode::kPassword:
      return "a password";
    case KeyMode::kKeyFile:
      return "a key file";
  }
  return "an unknown key";
}

}  // namespace

Result<SecretBytes> ParseKeyFile(std::string_view text) {
  size_t end = text.size();
  while (end > 0 && IsSpace(static_cast<unsigned char>(text[end - 1]))) --end;
  text = text.substr(0, end);
  if (text.empty()) return Status::KeyUnreadable("the key file is empty");
  if (text.substr(0, kKeyFilePrefix.size()) != kKeyFilePrefix) {
    return Status::KeyUnreadable(
        "not a migstore key file: it must start with \"migstore-key-v1 \" "
        "(make one with `migstore keygen`)");
  }
  std::string_view hex = text.substr(kKeyFilePrefix.size());
  if (hex.size() < 2 * kKeySize) {
    return Status::KeyUnreadable(
        "the key file is too short: expected 64 hex digits");
  }
  if (hex.size() > 2 * kKeySize) {
    return Status::KeyUnreadable(
        "the key file is too long: expected 64 hex digits");
  }
  SecretBytes secret(kKeySize);
  size_t bin_len = 0;
  if (sodium_hex2bin(secret.data(), secret.size(), hex.data(), hex.size(),
                     nullptr, &bin_len, nullptr) != 0 ||
      bin_len != kKeySize) {
    return Status::KeyUnreadable(
        "the key file holds characters that are not hex digits");
  }
  return secret;
}

SecretBytes FormatKeyFile(const SecretBytes& secret) {
  assert(secret.size() == kKeySize);
  SecretBytes text(kKeyFilePrefix.size() + 2 * kKeySize + 1);
  char* p = reinterpret_cast<char*>(text.data());
  std::memcpy(p, kKeyFilePrefix.data(), kKeyFilePrefix.size());
  // sodium_bin2hex writes a terminating NUL, which the final '\n' replaces.
  sodium_bin2hex(p + kKeyFilePrefix.size(), 2 * kKeySize + 1, secret.data(),
                 secret.size());
  p[text.size() - 1] = '\n';
  return text;
}

KdfParams KdfParams::ReaderDefault() {
  return {limits::kReaderKdfOps, limits::kReaderKdfMem};
}

std::string LoosePermissionsWarning(int fd, std::string_view what,
                                    const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (st.st_mode & 077) == 0) {
    return {};
  }
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o",
                static_cast<unsigned>(st.st_mode & 07777));
  return "permissions " + std::string(mode) + " for '" + path +
         "' are too open; it is used anyway, but other users may be able to "
         "read this " +
         std::string(what) + ": chmod 600 '" + path + "'";
}

Result<KeySource> KeySource::FromKeyFile(const std::string& path,
                                         std::string* warning) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status::KeyUnreadable("cannot open key file " + path,
                                 std::strerror(errno));
  UniqueFd owned(fd);
  if (warning != nullptr)
    *warning = LoosePermissionsWarning(fd, "key file", path);
  SecretBytes buf(kMaxKeyFileBytes + 1);
  size_t len = 0;
  while (len < buf.size()) {
    ssize_t r = ::read(fd, buf.data() + len, buf.size() - len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::KeyUnreadable("cannot read key file " + path,
                                   std::strerror(errno));
    }
    if (r == 0) break;
    len += static_cast<size_t>(r);
  }
  if (len > kMaxKeyFileBytes) {
    return Status::KeyUnreadable("key file " + path,
                                 "too large to be a migstore key file");
  }
  auto secret = ParseKeyFile(buf.view().substr(0, len));
  if (!secret.ok()) return secret.status().WithContext("key file " + path);
  return KeySource::KeyFileSecret(std::move(secret).value());
}

Status WriteNewKeyFile(const std::string& path, bool overwrite) {
  MIGSTORE_ASSIGN_OR_RETURN(AtomicFile file,
                            AtomicFile::Create(path, overwrite));
  SecretBytes text = FormatKeyFile(SecretBytes::Random(kKeySize));
  MIGSTORE_RETURN_IF_ERROR(file.Append(text.view()));
  return file.Commit();
}

Result<SecretBytes> SetUpKeys(const KeySource& key, const KdfParams& params,
                              Header* h) {
  InitSodium();
  h->key_mode = key.mode();
  if (key.mode() == KeyMode::kNone) {
    h->kdf = Kdf::kNone;
    return SecretBytes();
  }
  if (key.mode() == KeyMode::kPassword) {
    if (key.secret().empty())
      return Status::InvalidArgument("the password is empty");
    if (params.opslimit < limits::kMinKdfOps ||
        params.opslimit > limits::kMaxKdfOps ||
        params.memlimit < limits::kMinKdfMem ||
        params.memlimit > limits::kMaxKdfMem) {
      return Status::InvalidArgument(
          "Argon2id parameters out of the accepted range");
    }
    h->kdf = Kdf::kArgon2id13;
    h->kdf_opslimit = params.opslimit;
    h->kdf_memlimit = params.memlimit;
  } else {
    if (key.secret().size() != kKeySize) {
      return Status::InvalidArgument("a key-file secret must be 32 bytes");
    }
    h->kdf = Kdf::kBlake2bKeyed;
    h->kdf_opslimit = 0;
    h->kdf_memlimit = 0;
  }
  RandomFill(h->salt.data(), h->salt.size());
  MIGSTORE_ASSIGN_OR_RETURN(SecretBytes kek, DeriveKek(*h, key));

  SecretBytes data_key = SecretBytes::Random(kKeySize);
  RandomFill(h->wrap_nonce.data(), h->wrap_nonce.size());
  std::string ad = HeaderWrapAd(*h);
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      h->wrapped_key.data(), nullptr, data_key.data(), data_key.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr,
      h->wrap_nonce.data(), kek.data());
  return data_key;
}

Result<SecretBytes> OpenDataKey(const Header& h, const KeySource& key,
                                const KdfParams& most) {
  InitSodium();
  if (h.key_mode == KeyMode::kNone) return SecretBytes();
  if (key.mode() == KeyMode::kNone) {
    return Status::WrongKey(std::string("the store is encrypted and needs ") +
                            ModeName(h.key_mode) + "; none was given");
  }
  if (key.mode() != h.key_mode) {
    return Status::WrongKey(std::string("the store is protected by ") +
                            ModeName(h.key_mode) + ", but " +
                            ModeName(key.mode()) + " was given");
  }
  if (key.secret().empty()) return Status::WrongKey("the password is empty");
  if (h.key_mode == KeyMode::kPassword)
    MIGSTORE_RETURN_IF_ERROR(CheckKdfCost(h, most));
  MIGSTORE_ASSIGN_OR_RETURN(SecretBytes kek, DeriveKek(h, key));
  SecretBytes data_key(kKeySize);
  std::string ad = HeaderWrapAd(h);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          data_key.data(), nullptr, nullptr, h.wrapped_key.data(),
          h.wrapped_key.size(),
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
          h.wrap_nonce.data(), kek.data()) != 0) {
    return Status::WrongKey(
        h.key_mode == KeyMode::kPassword
            ? "wrong password: it does not open this store"
            : "wrong key file: it does not open this store");
  }
  return data_key;
}

}  // namespace migstore::format
