// Capture into, and restore from, a store whose bytes another part of the
// engine has already opened: a sink or source it made itself instead of one
// found by the store's name (backends.h). The state migration point's client
// (engine/src/smp/) uses these: its store lives behind a server that needs
// the client's connection and token, which a name alone cannot carry.
//
// Everything else is Capture's and Restore's own (capture.h, restore.h):
// `options.store_path` names the store in reports and messages only.
//
// Thread safety: as Capture and Restore.

#ifndef MIGSTORE_ENGINE_SRC_STORE_GIVEN_STORE_H_
#define MIGSTORE_ENGINE_SRC_STORE_GIVEN_STORE_H_

#include <memory>
#include <string>

#include "format/store_io.h"
#include "migstore/capture.h"
#include "migstore/restore.h"

namespace migstore::internal {

// A container capture written to `sink` (committed when the capture
// succeeds, abandoned otherwise). REQUIRES: !options.hardlink.
Result<CaptureReport> CaptureToSink(const CaptureOptions& options,
                                    std::unique_ptr<format::StoreSink> sink,
                                    CaptureObserver* observer);

// A restore of the container read from `source`. `password_copy`, when
// given, is the caller's own copy of options.account_password (it may be
// that very string): wiped as soon as the accounts are planned, so the
// password does not stay in memory for the whole restore.
Result<RestoreReport> RestoreFromSource(
    const RestoreOptions& options, std::unique_ptr<format::StoreSource> source,
    RestoreObserver* observer, std::string* password_copy = nullptr);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_STORE_GIVEN_STORE_H_
