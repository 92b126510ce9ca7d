#include "key_options.h"

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

Result<Key> ResolveKey(const KeyOptions& o) {
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
  if (!o.key_file.empty()) return Key::FromKeyFile(o.key_file);
  if (!o.password_file.empty()) return Key::FromPasswordFile(o.password_file);
  if (o.password_stdin) return Key::FromPasswordDescriptor(0);
  const char* env = std::getenv("MIGSTORE_PASSWORD");
  if (!o.no_encrypt && env != nullptr && *env != '\0') {
    return Key::FromPasswordEnvironment("MIGSTORE_PASSWORD");
  }
  return Key();
}

}  // namespace migstore::cli
