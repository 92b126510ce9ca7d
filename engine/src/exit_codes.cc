#include "migstore/exit_codes.h"

namespace migstore {

ExitCode ExitCodeFor(const Status& s) {
  if (s.ok()) return ExitCode::kSuccess;
  if (s.IsCancelled()) return ExitCode::kCancelled;
  if (s.IsStopped()) return ExitCode::kStoppedOnError;
  if (s.IsInvalidArgument()) return ExitCode::kInvalidArguments;
  if (s.IsNotAStore() || s.IsNotFound() || s.IsAlreadyExists() ||
      s.IsUnsupportedVersion() || s.IsRefused() || s.IsUnavailable()) {
    return ExitCode::kInvalidStore;
  }
  if (s.IsKeyUnreadable()) return ExitCode::kKeyUnreadable;
  if (s.IsWrongKey()) return ExitCode::kWrongKey;
  if (s.IsCorruption()) return ExitCode::kCorruptedStore;
  if (s.IsNoSpace()) return ExitCode::kFailedStartup;
  if (s.IsNoAccount()) return ExitCode::kUseLac;
  return ExitCode::kFatal;
}

}  // namespace migstore
