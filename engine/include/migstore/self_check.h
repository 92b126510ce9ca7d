// SelfCheck: proves that this build, on this machine, writes and reads stores
// correctly: it writes real containers into a scratch directory (unencrypted,
// key file, and password with the production Argon2id cost), reads every byte
// back, and checks that a wrong key, a flipped byte and a truncation are each
// caught with the right status. Nothing outside the scratch directory is
// touched, and the directory is removed afterwards.
//
// An agent can run it before trusting migstore with a machine's only copy of
// its users' files.
//
// Thread safety: RunSelfCheck may run concurrently with itself; each call
// uses its own scratch directory.

#ifndef MIGSTORE_SELF_CHECK_H_
#define MIGSTORE_SELF_CHECK_H_

#include <string>
#include <vector>

#include "migstore/status.h"

namespace migstore {

struct SelfCheckStep {
  std::string name;
  Status status;
  double seconds = 0;
};

struct SelfCheckReport {
  std::vector<SelfCheckStep> steps;
  bool ok() const {
    for (const SelfCheckStep& s : steps) {
      if (!s.status.ok()) return false;
    }
    return !steps.empty();
  }
};

// Runs every step, even after one fails. `scratch_parent` is where the
// scratch directory is made; empty means $TMPDIR, else /tmp.
SelfCheckReport RunSelfCheck(const std::string& scratch_parent = "");

}  // namespace migstore

#endif  // MIGSTORE_SELF_CHECK_H_
