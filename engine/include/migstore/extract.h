// Extract: what UsmtUtils /extract does. Copies entries out of a store into
// a directory as plain files, at their store paths below it: no user
// mapping, no ownership (everything belongs to whoever runs it; setuid and
// setgid bits are dropped), no extended attributes, no rules. Modes and
// times are kept; symlinks are recreated, never followed.
//
//   ExtractOptions o;
//   o.store_path = "pc42.mig";
//   o.key = *Key::FromKeyFile("pc42.key");
//   o.to = "/tmp/recovered";
//   o.include = {"*.docx", "home/alice/Documents/**"};
//   auto report = Extract(o, &observer);
//
// Selection (UsmtUtils: "include beats exclude"): an entry that matches an
// include is taken; otherwise it is taken when no include was given and it
// matches no exclude. A glob without '/' matches the entry's name in any
// folder ("*.txt"); one with '/' matches the whole store path, where '*'
// stays within a name and "**" spans folders ("home/*/Documents/**"). A
// glob naming a folder ("home/alice/Documents") takes everything below it.
// The directories above a taken entry come along with it.
//
// Extracting one file reads the store's index and catalog, the one content
// segment that describes it and the data blocks that hold it: nothing else.
// Safety, temporaries, damage handling and error policy are Restore's
// (restore.h); a file already there is an error unless `overwrite`, or
// identical (an interrupted extract run again).
//
// Thread safety: as Restore.

#ifndef MIGSTORE_EXTRACT_H_
#define MIGSTORE_EXTRACT_H_

#include <string>
#include <vector>

#include "migstore/restore.h"

namespace migstore {

struct ExtractOptions {
  std::string store_path;
  Key key;
  KeyPolicy key_policy;  // as RestoreOptions::key_policy
  std::string to;        // created when missing
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  bool overwrite = false;  // replace files already under `to` (UsmtUtils /o)
  bool continue_on_error = false;
  int threads = 0;
  // Also write the store's registry settings (docs/rules.md, "Registry") to
  // this .reg file, as regedit imports it: HKLM's, and the HKCU of
  // `reg_user` as HKEY_CURRENT_USER (import it as that user). `reg_user`
  // may be left empty when the settings hold one user's HKCU or none.
  // Replaces an existing file only with `overwrite`.
  std::string reg_file;
  std::string reg_user;
  size_t window_entries = 65536;           // as RestoreOptions::window_entries
  size_t claim_memory = size_t{32} << 20;  // as RestoreOptions::claim_memory
};

// Errors as Restore's; InvalidArgument for a malformed glob.
Result<RestoreReport> Extract(const ExtractOptions& options,
                              RestoreObserver* observer = nullptr);

}  // namespace migstore

#endif  // MIGSTORE_EXTRACT_H_
