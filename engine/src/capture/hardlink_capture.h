// The hard-link capture (CaptureOptions::hardlink, USMT's /hardlink): the
// same selection, walk and reports as a container capture, but each file
// taken is linked into a hard-link store (store_linker.h, on the walk's own
// TBB threads) and the catalog records everything else, with external
// content (docs/format.md "Hard-link store"). The store is built under a
// temporary name and renamed into place whole (hardlink/store_builder.h).
//
// Thread safety: one call per store; it runs its own tasks.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_HARDLINK_CAPTURE_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_HARDLINK_CAPTURE_H_

#include <chrono>

#include "migstore/capture.h"

namespace migstore::capture {

Result<CaptureReport> CaptureHardLinkStore(
    const CaptureOptions& o, CaptureObserver* observer,
    std::chrono::steady_clock::time_point start);

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_HARDLINK_CAPTURE_H_
