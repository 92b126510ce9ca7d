#include "migstore/delete_store.h"

#include "engine/src/hardlink/remove_store.h"
#include "engine/src/hardlink/store_layout.h"

namespace migstore {
namespace {

HardLinkStoreInfo InfoOf(const hardlink::StoreTree& t) {
  HardLinkStoreInfo info;
  info.store_id = hardlink::StoreIdHex(t.id);
  info.files = t.files;
  info.directories = t.directories;
  return info;
}

}  // namespace

Result<HardLinkStoreInfo> InspectHardLinkStore(const std::string& path) {
  MIGSTORE_ASSIGN_OR_RETURN(hardlink::StoreTree t,
                            hardlink::InspectStore(path));
  return InfoOf(t);
}

Result<HardLinkStoreInfo> DeleteHardLinkStore(const std::string& path) {
  MIGSTORE_ASSIGN_OR_RETURN(hardlink::StoreTree t, hardlink::RemoveStore(path));
  return InfoOf(t);
}

}  // namespace migstore
