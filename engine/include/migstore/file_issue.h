// What a capture, restore, extract or verify says about single files: a file
// it could not handle (FileIssue) and a thing it left out or changed on
// purpose (FileNote). Observers receive them; reports list them.
//
// Thread safety: plain values.

#ifndef MIGSTORE_FILE_ISSUE_H_
#define MIGSTORE_FILE_ISSUE_H_

#include <string>

#include "migstore/status.h"

namespace migstore {

struct FileIssue {
  std::string path;  // root-relative (a store path, or a target path)
  Status status;
  // The run goes on without it (--continue-on-error, or a Config.xml
  // <ErrorControl> nonFatal rule); false: the run stops here.
  bool skipped = false;
};

struct FileNote {
  std::string path;
  std::string what;  // "socket skipped", "mount point not crossed", ...
};

}  // namespace migstore

#endif  // MIGSTORE_FILE_ISSUE_H_
