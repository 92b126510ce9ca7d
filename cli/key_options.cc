#include "key_options.h"

#include <cstdio>
#include <cstdlib>

namespace migstore::cli {

void AddKeyOptions(CLI::App* cmd, KeyOptions* o, bool capture) {
  cmd->add_option("--key-file", o->key_file,
                  "A key file made by `migstore keygen`");
  cmd->add_option("--password-file", o->password_file,
                  "A file whose first line is the password");
  cmd->add_flag("--password-stdin", o->password_stdin,
                "Read the password from the first line of standard input");
  if (capture) {
    cmd->add_flag(
        "--no-encrypt", o->no_encrypt,
        "Write the store unencrypted (it is encrypted unless this is said)");
  }
}

Result<Key> ResolveKey(const KeyOptions& o, const char* command) {
  int named = !o.key_file.empty() + !o.password_file.empty() +
              (o.password_stdin ? 1 : 0);
  if (named > 1) {
    return Status::InvalidArgument(
        "give only one of --key-file, --password-file and --password-stdin");
  }
  if (o.no_encrypt && named > 0) {
    return Status::InvalidArgument(
        "--no-encrypt does not take a key or password");
  }
  Result<Key> key = Key();
  if (!o.key_file.empty()) {
    key = Key::FromKeyFile(o.key_file);
  } else if (!o.password_file.empty()) {
    key = Key::FromPasswordFile(o.password_file);
  } else if (o.password_stdin) {
    key = Key::FromPasswordDescriptor(0);
  } else if (const char* env = std::getenv("MIGSTORE_PASSWORD");
             !o.no_encrypt && env != nullptr && *env != '\0') {
    key = Key::FromPasswordEnvironment("MIGSTORE_PASSWORD");
  }
  if (key.ok() && !key->warning().empty()) {
    std::fprintf(stderr, "migstore %s: warning: %s\n", command,
                 key->warning().c_str());
  }
  return key;
}

}  // namespace migstore::cli
