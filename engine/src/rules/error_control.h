// ErrorControl: Config.xml's <ErrorControl> (usmt.md, Config.xml; docs/rules.md
// "Error control"), compiled for a machine. Each rule names a pattern and a
// Windows error code (or "any"); for an error on a file or registry key the
// first rule, in file order, whose pattern matches the object and whose code
// matches the error decides:
//
//   <nonFatal errorCode="5">C:\Users\* [*]</nonFatal>  the object is skipped,
//       reported, and the run goes on (exit 3), with or without
//       --continue-on-error;
//   <fatal errorCode="any">C:\Data\* [*]</fatal>      the run stops (exit 61)
//       even with --continue-on-error.
//
// An error no rule matches is decided by --continue-on-error, as before.
// File rules go under <fileError>, registry rules (HKCU, HKLM) under
// <registryError>. Patterns take the system's variables (USMT allows the
// running system's and the current user's; offline there is no current
// user), and an HKCU pattern applies to every user's hive.
//
// Errors carry errno values here; WindowsErrorOf maps them to the Windows
// codes USMT's rules are written in.
//
// Thread safety: immutable once compiled; any number of threads may ask.

#ifndef MIGSTORE_ENGINE_SRC_RULES_ERROR_CONTROL_H_
#define MIGSTORE_ENGINE_SRC_RULES_ERROR_CONTROL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/profiles.h"
#include "migstore/result.h"
#include "migstore/rules.h"

namespace migstore::internal {

// The Windows error code for a status: its errno mapped (ENOENT 2, EACCES
// and EPERM 5, EBUSY 32, EAGAIN 33, ENOSPC 112, ...), 1392 (file corrupt)
// for Corruption, 0 when nothing maps (only "any" matches then).
uint32_t WindowsErrorOf(const Status& status);

class ErrorControl {
 public:
  enum class Kind : uint8_t { kDefault, kNonFatal, kFatal };
  struct Verdict {
    Kind kind = Kind::kDefault;
    std::string rule;  // "Config.xml:12: <nonFatal errorCode="5">..."

    // Whether the run goes on past the error: a nonFatal rule says so, or
    // no rule decides and --continue-on-error is given.
    bool Skips(bool continue_on_error) const {
      return kind == Kind::kNonFatal ||
             (kind == Kind::kDefault && continue_on_error);
    }
    // The Stopped status that ends the run at an error it does not skip,
    // naming the rule or the option.
    Status Stop(const std::string& path, const Status& error) const {
      return Status::Stopped(path + ": " + error.ToString() +
                             (kind == Kind::kFatal
                                  ? " (fatal by " + rule + ")"
                                  : " (use --continue-on-error to skip such "
                                    "files)"));
    }
  };

  // No rules: every verdict is kDefault.
  ErrorControl();
  ~ErrorControl();
  ErrorControl(ErrorControl&&) noexcept;
  ErrorControl& operator=(ErrorControl&&) noexcept;

  // The <ErrorControl> rules of `rules`' Config.xml, for `machine`. A
  // pattern that cannot be read or expanded is a diagnostic, not an error.
  static ErrorControl Compile(const RuleSet& rules, const Machine& machine,
                              std::vector<RuleDiagnostic>* diagnostics);

  bool empty() const;
  // `path`: root-relative, '/'-separated.
  Verdict ForFile(std::string_view path, const Status& error) const;
  // `key`: "HKCU\Software\..." of Machine::profiles[profile], or HKLM's.
  Verdict ForRegistry(std::string_view key, int32_t profile,
                      const Status& error) const;

  struct Data;  // error_control.cc

 private:
  std::unique_ptr<Data> d_;
};

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_ERROR_CONTROL_H_
