// The <processing> and <externalProcess> steps of the rules (docs/rules.md,
// "Processing"): run at one moment of a capture (pre-scan, scan-success,
// post-scan) or a restore (pre-apply, apply-success, post-apply).
//
// A command line runs only when the user allows it (--allow-processing):
// rules files come from many hands, and a command runs with migstore's
// rights, often root's. It is given to /bin/sh -c in the root (capture) or
// the target (restore), with MIGSTORE_PHASE (the moment) and MIGSTORE_ROOT
// (that directory, by its full name; PWD too) in its environment but no
// other MIGSTORE_* or AWS_* variable (passwords, S3 keys), its
// input from /dev/null, its output on migstore's standard error (standard
// output may carry --json), no signal blocked and every signal at its
// default. There is no time limit: a command that hangs holds the run.
// A command that cannot start, is killed or exits non-zero is an error of
// the run. Without the permission each step is a note that says what was
// not run.
//
// USMT's script helpers (KillExplorer, RestartExplorer, AskForLogoff,
// RegisterFonts, StartService, StopService, SyncSCM,
// RemoveEmptyDirectories) act on a running Windows; on an offline root
// there is nothing for them to act on, so each is a note.
//
// Thread safety: Run blocks its caller until the steps are done; one call
// at a time per run.

#ifndef MIGSTORE_ENGINE_SRC_PROCESSING_RUN_PROCESSING_H_
#define MIGSTORE_ENGINE_SRC_PROCESSING_RUN_PROCESSING_H_

#include <string>
#include <string_view>
#include <vector>

#include "migstore/file_issue.h"
#include "migstore/matcher.h"

namespace migstore::processing {

struct ProcessingResult {
  std::vector<FileNote> notes;
  std::vector<FileIssue> errors;  // path: "<externalProcess> FILE:LINE"
};

ProcessingResult Run(const Matcher& rules, std::string_view when,
                     const std::string& dir, bool allowed);

}  // namespace migstore::processing

#endif  // MIGSTORE_ENGINE_SRC_PROCESSING_RUN_PROCESSING_H_
