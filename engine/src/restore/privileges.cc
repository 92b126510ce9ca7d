#include "engine/src/restore/privileges.h"

#include <sys/stat.h>

namespace migstore::restore {

bool HasCapability(const format::Entry& e) {
  for (const format::Xattr& x : e.xattrs()) {
    if (x.name == kCapabilityXattr) return true;
  }
  return false;
}

std::string PrivilegesOf(uint32_t mode, bool root_owned, bool capability) {
  std::string out;
  auto add = [&](const char* what) {
    if (!out.empty()) out += ", ";
    out += what;
  };
  if (mode & S_ISUID) add(root_owned ? "setuid root" : "setuid");
  if (mode & S_ISGID) add("setgid");
  if (capability) add("file capabilities (security.capability)");
  return out;
}

std::string PrivilegeNote(const std::string& privileges, bool strip) {
  return "carries " + privileges + " in the store: " +
         (strip ? "left out (--strip-privileges)"
                : "kept, as captured (--strip-privileges leaves them out)");
}

std::string PrivilegeSummary(uint64_t files, bool strip) {
  return std::to_string(files) +
         (files == 1 ? " file carries" : " files carry") +
         " setuid or setgid bits or file capabilities in the store: " +
         (strip ? "left out (--strip-privileges)"
                : "kept, as captured; restore as root only stores you trust, "
                  "or give --strip-privileges (docs/security.md)");
}

}  // namespace migstore::restore
