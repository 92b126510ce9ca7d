// Where a command gets its key: --key-file, --password-file,
// --password-stdin, or the MIGSTORE_PASSWORD environment variable — never
// the command line itself, which other users can read in the process list.
// At most one of the options may be given; they take precedence over the
// environment. Commands that read a store also take the reader's key policy
// (migstore/key.h, KeyPolicy): --allow-unencrypted, --max-kdf-passes,
// --max-kdf-memory.

#ifndef MIGSTORE_CLI_KEY_OPTIONS_H_
#define MIGSTORE_CLI_KEY_OPTIONS_H_

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "migstore/key.h"

namespace migstore::cli {

struct KeyOptions {
  std::string key_file;
  std::string password_file;
  bool password_stdin = false;
  bool no_encrypt = false;  // capture only
  // Reading commands only (restore, extract, verify, list).
  bool allow_unencrypted = false;
  uint64_t max_kdf_passes = 0;      // 0: the default
  uint64_t max_kdf_memory_mib = 0;  // 0: the default
};

// `capture` adds --no-encrypt; the others add the key policy's options.
void AddKeyOptions(CLI::App* cmd, KeyOptions* o, bool capture);

// The key the options name; no key when none is named and MIGSTORE_PASSWORD
// is unset. InvalidArgument for conflicting options; KeyUnreadable when the
// named source cannot be read. A key the engine warns about (a key file
// others may read) is used, and its warning printed on standard error as
// "migstore <command>: warning: ...".
Result<Key> ResolveKey(const KeyOptions& o, const char* command);

// The reader's key policy the options ask for.
KeyPolicy PolicyOf(const KeyOptions& o);

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_KEY_OPTIONS_H_
