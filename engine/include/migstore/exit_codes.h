// Exit codes of the migstore command and result codes of the C API. They
// follow USMT's return codes (ScanState, LoadState, UsmtUtils) wherever the
// meaning matches, so task-sequence scripts that test them keep working.
// docs/cli.md lists them; the numbers are stable and never reused.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_EXIT_CODES_H_
#define MIGSTORE_EXIT_CODES_H_

#include "migstore/status.h"

namespace migstore {

enum class ExitCode : int {
  kSuccess = 0,
  kHelp = 1,            // help was asked for and shown
  kCancelled = 2,       // stopped on request (Ctrl+C, an observer)
  kDoneWithErrors = 3,  // finished; some files skipped (--continue-on-error)
  kInvalidArguments = 11,
  kUseLac = 14,          // local accounts missing on the target and no
                         // --create-accounts; nothing was written
                         // (USMT_ERROR_USE_LAC)
  kInvalidStore = 27,    // store missing, incomplete, not a store, exists,
                         // refused by the reader's KeyPolicy, unreachable,
                         // or its server refuses the credentials
  kKeyUnreadable = 33,   // key file or password source unreadable or empty
  kWrongKey = 37,        // the store is encrypted and the key does not open it
  kFailedStartup = 29,   // less free space than --min-free asks for; nothing
                         // was written (USMT_FAILED_MIGSTARTUP)
  kCorruptedStore = 42,  // damage found in the store
  kStoppedOnError = 61,  // stopped at a per-file error (no --continue-on-error)
  kFatal = 71,           // the operating environment failed (I/O, memory)
  kInternal = 72,        // a bug: an invariant of migstore itself failed
};

// The exit code that reports a run ending with `status`.
ExitCode ExitCodeFor(const Status& status);

}  // namespace migstore

#endif  // MIGSTORE_EXIT_CODES_H_
