// The bridge from a discovered profile to the store's catalog record
// (format/catalog.h): the capture writes one per selected profile.
//
// Thread safety: pure function.

#ifndef MIGSTORE_ENGINE_SRC_PROFILES_CATALOG_PROFILE_H_
#define MIGSTORE_ENGINE_SRC_PROFILES_CATALOG_PROFILE_H_

#include "format/catalog.h"
#include "migstore/profiles.h"

namespace migstore::internal {

format::Profile ToCatalogProfile(const UserProfile& profile);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_PROFILES_CATALOG_PROFILE_H_
