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
    return;
  }
  cmd->add_flag("--allow-unencrypted", o->allow_unencrypted,
                "With a key or password, accept a store that is not "
                "encrypted (refused otherwise, exit 27: the key would "
                "authenticate nothing)");
  // The format's own maxima (docs/format.md, "Limits"): a header beyond them
  // is damaged whatever the reader allows.
  cmd->add_option("--max-kdf-passes", o->max_kdf_passes,
                  "Accept a password store whose Argon2id makes up to N "
                  "passes (default 6)")
      ->check(CLI::Range(1, 16));
  cmd->add_option("--max-kdf-memory", o->max_kdf_memory_mib,
                  "Accept a password store whose Argon2id needs up to MiB "
                  "mebibytes (default 512)")
      ->check(CLI::Range(1, 1024));
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

KeyPolicy PolicyOf(const KeyOptions& o) {
  KeyPolicy p;
  p.allow_unencrypted = o.allow_unencrypted;
  p.max_kdf_passes = o.max_kdf_passes;
  p.max_kdf_memory = o.max_kdf_memory_mib << 20;
  return p;
}

}  // namespace migstore::cli
