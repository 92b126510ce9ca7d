#include "engine/src/profiles/catalog_profile.h"

namespace migstore::internal {

format::Profile ToCatalogProfile(const UserProfile& p) {
  format::Profile out;
  out.name = p.name;
  out.home = p.home;
  out.layout = p.layout == Layout::kWindows ? format::Layout::kWindows
                                            : format::Layout::kLinux;
  out.uid = p.uid;
  out.gid = p.gid;
  out.sid = p.sid;
  out.last_use_ns = p.last_use_ns;
  out.folders = p.folders;
  return out;
}

}  // namespace migstore::internal
