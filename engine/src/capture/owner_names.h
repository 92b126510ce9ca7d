// Names of owners and groups on the captured system, from ROOT/etc/passwd
// and ROOT/etc/group, so a restore can map ownership by name on another
// machine. A Windows root has neither file and yields none.
//
// Thread safety: pure function over the filesystem.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_OWNER_NAMES_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_OWNER_NAMES_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace migstore::capture {

struct OwnerNames {
  std::map<uint32_t, std::string> users;
  std::map<uint32_t, std::string> groups;
};

// Reads both files under `root`; missing or unreadable files give empty maps
// (ownership is then kept by number only).
OwnerNames ReadOwnerNames(const std::string& root);

// Parses passwd or group text: "name:x:id:..." lines, the id in field 3.
// The first name given for an id wins; malformed lines are skipped.
std::map<uint32_t, std::string> ParseIdFile(std::string_view text);

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_OWNER_NAMES_H_
