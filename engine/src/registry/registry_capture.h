// CaptureRegistry: the settings half of a capture of an offline Windows
// root. Opens the hives (hive_files.h) of the machine and of each selected
// user, walks their keys where the rules could take something (the
// matcher's MayTakeBelowRegistry prunes the rest), and returns a record for
// every key and value the rules take (Matcher::DecideRegistry), with USMT's
// precedence as for files.
//
// A hive that is absent is a note; one that cannot be read is an error of
// that hive (the caller decides, as for a file, whether it stops the
// capture). Hives are only read.
//
// Thread safety: a pure function of the root, the machine and the matcher.

#ifndef MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_CAPTURE_H_
#define MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_CAPTURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "format/registry.h"
#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/status.h"

namespace migstore::registry {

struct HiveIssue {
  std::string path;  // root-relative hive file, or a key
  Status status;     // errors
  std::string what;  // notes
  // The part of the registry concerned ("HKCU", "HKLM\SOFTWARE") and, for
  // HKCU, the Machine::profiles index of its user (-1 otherwise).
  std::string key;
  int32_t profile = -1;

  static HiveIssue Note(std::string path, std::string what) {
    HiveIssue n;
    n.path = std::move(path);
    n.what = std::move(what);
    return n;
  }
  static HiveIssue Error(std::string path, Status status, std::string key,
                         int32_t profile) {
    HiveIssue e;
    e.path = std::move(path);
    e.status = std::move(status);
    e.key = std::move(key);
    e.profile = profile;
    return e;
  }
};

struct RegistryCaptureResult {
  std::vector<format::RegistryRecord> records;
  uint64_t keys = 0;    // key records
  uint64_t values = 0;  // value records
  std::vector<HiveIssue> notes;
  std::vector<HiveIssue> errors;
};

// `store_profile[k]` is the store's profile number of Machine::profiles[k],
// format::kNoProfile for a user not captured. Does nothing (an empty
// result) when the matcher has no registry rule or the root is not a
// Windows one.
RegistryCaptureResult CaptureRegistry(
    const Machine& machine, const Matcher& matcher,
    const std::vector<uint32_t>& store_profile);

}  // namespace migstore::registry

#endif  // MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_CAPTURE_H_
