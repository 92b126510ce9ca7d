// Reads arbitrary bytes as a key file and as a password file, through the
// files the CLI reads (written to one temporary file per process) and
// through ParseKeyFile, then wraps and unwraps a data key with what they
// yield (Argon2id at its cheapest accepted cost for a password).
// Properties:
//   - Key::FromKeyFile accepts exactly what ParseKeyFile accepts (within the
//     4 KiB size limit), with the same secret; FormatKeyFile's output parses
//     back to that secret;
//   - Key::FromPasswordFile yields the first line, CR/LF excluded, and
//     refuses an empty first line;
//   - a data key wrapped with a key opens with that key, also after the
//     header is encoded and decoded, and a different key gets WrongKey.

#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

#include "engine/src/store/key_rep.h"
#include "format/header.h"
#include "format/keys.h"
#include "fuzz/fuzz_target.h"
#include "migstore/key.h"

using namespace migstore;
using format::KeySource;
using format::SecretBytes;

namespace {

constexpr size_t kMaxFileBytes = 4096;  // key files and password files

std::string& TempPath() {
  static std::string path;
  return path;
}

void RemoveTempFile() { ::unlink(TempPath().c_str()); }

// The one temporary file of this process, holding `bytes`.
const std::string& WriteTemp(std::string_view bytes) {
  if (TempPath().empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/migstore-fuzz-key-XXXXXX";
    int fd = ::mkstemp(templ.data());
    FUZZ_ASSERT(fd >= 0);
    ::close(fd);
    TempPath() = templ;
    std::atexit(RemoveTempFile);
  }
  std::ofstream out(TempPath(), std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  FUZZ_ASSERT(out.good());
  return TempPath();
}

// The same kind of key with another secret: the last byte changed.
KeySource Other(const KeySource& k) {
  SecretBytes s = SecretBytes::Copy(k.secret().view());
  s.data()[s.size() - 1] ^= 0x5a;
  return k.mode() == format::KeyMode::kPassword
             ? KeySource::Password(std::move(s))
             : KeySource::KeyFileSecret(std::move(s));
}

void CheckWrapRoundTrip(const KeySource& key) {
  format::Header h;
  for (size_t i = 0; i < h.store_id.size(); ++i)
    h.store_id[i] = static_cast<unsigned char>(i);
  Result<SecretBytes> data_key =
      format::SetUpKeys(key, format::KdfParams::Fast(), &h);
  FUZZ_ASSERT(data_key.ok() && data_key->size() == format::kKeySize);

  Result<SecretBytes> opened = format::OpenDataKey(h, key);
  FUZZ_ASSERT(opened.ok() && opened->Equals(*data_key));

  Result<format::Header> decoded =
      format::DecodeHeader(format::EncodeHeader(h));
  FUZZ_ASSERT(decoded.ok());
  Result<SecretBytes> reopened = format::OpenDataKey(*decoded, key);
  FUZZ_ASSERT(reopened.ok() && reopened->Equals(*data_key));

  Result<SecretBytes> wrong = format::OpenDataKey(h, Other(key));
  FUZZ_ASSERT(!wrong.ok() && wrong.status().IsWrongKey());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string& path = WriteTemp(in);

  // As a key file.
  Result<SecretBytes> parsed = format::ParseKeyFile(in);
  Result<Key> key_file = Key::FromKeyFile(path);
  FUZZ_ASSERT(key_file.ok() == (parsed.ok() && size <= kMaxFileBytes));
  if (!key_file.ok()) FUZZ_ASSERT(key_file.status().IsKeyUnreadable());
  if (parsed.ok()) {
    FUZZ_ASSERT(parsed->size() == format::kKeySize);
    Result<SecretBytes> again =
        format::ParseKeyFile(format::FormatKeyFile(*parsed).view());
    FUZZ_ASSERT(again.ok() && again->Equals(*parsed));
  }
  if (key_file.ok()) {
    KeySource source = internal::SourceOf(*key_file);
    FUZZ_ASSERT(source.mode() == format::KeyMode::kKeyFile);
    FUZZ_ASSERT(source.secret().Equals(*parsed));
    CheckWrapRoundTrip(source);
  }

  // As a password file: its first line.
  std::string_view line = in.substr(0, in.find_first_of("\r\n"));
  Result<Key> password = Key::FromPasswordFile(path);
  FUZZ_ASSERT(password.ok() == (!line.empty() && size <= kMaxFileBytes));
  if (password.ok()) {
    KeySource source = internal::SourceOf(*password);
    FUZZ_ASSERT(source.mode() == format::KeyMode::kPassword);
    FUZZ_ASSERT(source.secret().view() == line);
    CheckWrapRoundTrip(source);
  } else {
    FUZZ_ASSERT(password.status().IsKeyUnreadable());
  }
  return 0;
}
