// A store's life cycle at the state migration point (docs/smp.md, "States"),
// as USMT's task-sequence steps drive it:
//
//   requested ──► capturing ──► captured ──► ready ──► restoring ⇄ restored
//   (Request      (bytes         (upload       (Release   (Request     (restore
//    State Store)  arriving)      committed)    after      for restore)  done)
//                                               capture)
//                                   restoring | restored ──► released ──►
//                                   deleted (Release after restore) (retention
//                                   over)
//
// A capture may start again (a new upload replacing the old) until the
// source releases it; from `ready` on the store is read-only. A restore may
// run again until the destination releases. An administrator may delete a
// store in any state. A capture that was requested and never committed
// (the computer was wiped or retired mid-capture) is abandoned after the
// abandonment time, freeing its slot and its partial upload; a committed
// capture is never deleted before its release and retention. Anything else
// is refused.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_SMP_STATE_H_
#define MIGSTORE_ENGINE_SRC_SMP_STATE_H_

#include <optional>
#include <string_view>

namespace migstore::smp {

enum class StoreState {
  kRequested,
  kCapturing,
  kCaptured,
  kReady,
  kRestoring,
  kRestored,
  kReleased,
  kDeleted,
};

// What moves a store, and who may ask.
enum class StoreEvent {
  kUploadStarted,    // the source: bytes arrive
  kUploadCommitted,  // the source: the upload's length and hash checked
  kReleaseCapture,   // the source: Release State Store after capture
  kRequestRestore,   // the destination: Request State Store for restore
  kRestoreDone,      // the destination: the restore finished
  kReleaseRestore,   // the destination: Release State Store after restore
  kExpire,           // the deletion cycle: retention is over
  kAbandon,          // the deletion cycle: a capture left unfinished
  kDelete,           // an administrator
};

std::string_view StateName(StoreState s);
std::optional<StoreState> StateFromName(std::string_view name);
std::string_view EventName(StoreEvent e);

// The state `event` moves a store in `from` to, or nothing when the move is
// illegal.
std::optional<StoreState> Next(StoreState from, StoreEvent event);

// Whether a store in `s` holds a client's slot in its storage location
// (counted against the location's maximum number of clients).
bool HoldsSlot(StoreState s);

}  // namespace migstore::smp

#endif  // MIGSTORE_ENGINE_SRC_SMP_STATE_H_
