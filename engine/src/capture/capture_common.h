// What every kind of capture shares, before and around its own store
// writing: the options' checks, the selection (machine, users, rules), the
// walk's options, and the store's tables (profiles, owner and group names,
// properties), which a container and a hard-link store's catalog record
// alike.
//
// Thread safety: functions; Select and WriteStoreTables are called from one
// thread.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_CAPTURE_COMMON_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_CAPTURE_COMMON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/src/capture/walk.h"
#include "engine/src/report/reporter.h"
#include "engine/src/rules/error_control.h"
#include "format/container_writer.h"
#include "migstore/capture.h"
#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/user_selection.h"

namespace migstore::capture {

using CaptureReporter = report::Reporter<CaptureObserver>;

// Options every capture and estimate must satisfy.
Status ValidateCommon(const CaptureOptions& o);

// The format's cipher for the options' (XChaCha20-Poly1305 when unset).
format::BlockCipher BlockCipherOf(const CaptureOptions& o);

// The machine, the users, the rules.
struct Selection {
  Machine machine;
  std::vector<UserChoice> choices;
  Matcher matcher;
  std::vector<CaptureUser> users;
  std::vector<std::string> diagnostics;
  // Config.xml's <ErrorControl>: which errors are skipped or stop the run.
  internal::ErrorControl error_control;
};
Result<Selection> Select(const CaptureOptions& o);

WalkOptions WalkOptionsFor(const CaptureOptions& o, const Selection& sel,
                           CaptureReporter* reporter);

// The report's start: store, root, layout, users, rule diagnostics.
CaptureReport NewReport(const CaptureOptions& o, const Selection& sel);

// A file that cannot be captured: reported; then recorded in the report
// and skipped (OK) when Config.xml's <ErrorControl> says it is non-fatal,
// or no rule decides and continue_on_error is set; else the end of the
// capture (Stopped, exit 61), as always when a rule says it is fatal.
Status FileError(const CaptureOptions& o, const Selection& sel,
                 CaptureReporter* reporter, CaptureReport* report,
                 const std::string& path, const Status& error);

// The step every capture shares between selecting and storing: walks with
// `wopt`, adds the walk's notes to the report and passes each per-file
// error through FileError. Returns the walk (its entries, set apart and
// owners), or the first error that ends the capture. Runs in the caller's
// arena.
Result<WalkResult> WalkSelection(const CaptureOptions& o, const Selection& sel,
                                 const WalkOptions& wopt,
                                 CaptureReporter* reporter,
                                 CaptureReport* report);

// The rules' <processing> and <externalProcess> steps (run_processing.h)
// at `when`: notes to the report, a failed command through FileError.
Status Process(const CaptureOptions& o, const Selection& sel,
               std::string_view when, CaptureReporter* reporter,
               CaptureReport* report);
// Once the store is finished (`succeeded`) or abandoned: scan-success when
// it succeeded, then post-scan either way. Nothing can be undone by then:
// a step that fails is an error of the report (exit 3), never the end of a
// capture whose store is already in place.
void AfterCapture(const CaptureOptions& o, const Selection& sel, bool succeeded,
                  CaptureReporter* reporter, CaptureReport* report);

// Worker threads: the option, or one per core.
int Threads(const CaptureOptions& o);

// Lets the walk of `wopt` sort through a scratch file made in the first of
// `dirs` that takes one: its threads then hold about o.window_entries
// between them (docs/design.md, "Bounded memory"). Returns the file, which
// must outlive the walk's result; null when none could be made (the walk
// then holds every entry).
std::unique_ptr<format::SpillFile> SortWalkThroughScratch(
    const CaptureOptions& o, const std::vector<std::string>& dirs,
    WalkOptions* wopt);

// Adds the selected profiles, the names of `owners` (the walk's) and the
// store properties to `w`. profile_number[k] is then the store's number for
// Machine::profiles[k] (kNoProfile when not selected).
Status WriteStoreTables(const CaptureOptions& o, const Selection& sel,
                        const std::string& layout_name, const Owners& owners,
                        format::ContainerWriter* w,
                        std::vector<uint32_t>* profile_number);

// The settings (docs/rules.md, "Registry"): the registry keys and values
// the rules take from the root's offline hives, added to `w`. A hive that
// cannot be read goes through FileError; absent hives are notes. Counts go
// to report->registry_keys and registry_values.
Status CaptureSettings(const CaptureOptions& o, const Selection& sel,
                       const std::vector<uint32_t>& profile_number,
                       format::ContainerWriter* w, CaptureReporter* reporter,
                       CaptureReport* report);

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_CAPTURE_COMMON_H_
