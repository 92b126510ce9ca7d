#include "engine/src/smp/state.h"

#include <array>
#include <cstdint>

namespace migstore::smp {
namespace {

constexpr std::array<std::string_view, 8> kStateNames = {
    "requested", "capturing", "captured", "ready",
    "restoring", "restored",  "released", "deleted"};

// A set of states, one bit each.
constexpr uint32_t Bit(StoreState s) { return 1u << static_cast<unsigned>(s); }
template <typename... States>
constexpr uint32_t Any(States... s) {
  return (Bit(s) | ...);
}

// docs/smp.md's table of moves: `event` moves a store in any of `from` to
// `to`; nothing else moves one.
struct Move {
  StoreEvent event;
  uint32_t from;
  StoreState to;
};

using S = StoreState;
using E = StoreEvent;
constexpr Move kMoves[] = {
    // A capture run again before release replaces the upload.
    {E::kUploadStarted, Any(S::kRequested, S::kCapturing, S::kCaptured),
     S::kCapturing},
    {E::kUploadCommitted, Any(S::kCapturing), S::kCaptured},
    {E::kReleaseCapture, Any(S::kCaptured), S::kReady},
    {E::kRequestRestore, Any(S::kReady, S::kRestoring, S::kRestored),
     S::kRestoring},
    {E::kRestoreDone, Any(S::kRestoring), S::kRestored},
    // Every request has its release, a failed restore's too: the retention
    // clock starts either way (the store stays until then).
    {E::kReleaseRestore, Any(S::kRestoring, S::kRestored), S::kReleased},
    {E::kExpire, Any(S::kReleased), S::kDeleted},
    // Only what holds no usable store: a committed capture waits for its
    // release, however long.
    {E::kAbandon, Any(S::kRequested, S::kCapturing), S::kDeleted},
    // Any state but deleted, which is final: its bytes are gone.
    {E::kDelete,
     Any(S::kRequested, S::kCapturing, S::kCaptured, S::kReady, S::kRestoring,
         S::kRestored, S::kReleased),
     S::kDeleted},
};

}  // namespace

std::string_view StateName(StoreState s) {
  return kStateNames[static_cast<size_t>(s)];
}

std::optional<StoreState> StateFromName(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<StoreState>(i);
  }
  return std::nullopt;
}

std::string_view EventName(StoreEvent e) {
  switch (e) {
    case StoreEvent::kUploadStarted:
      return "upload";
    case StoreEvent::kUploadCommitted:
      return "commit";
    case StoreEvent::kReleaseCapture:
      return "release after capture";
    case StoreEvent::kRequestRestore:
      return "request for restore";
    case StoreEvent::kRestoreDone:
      return "restore done";
    case StoreEvent::kReleaseRestore:
      return "release after restore";
    case StoreEvent::kExpire:
      return "expire";
    case StoreEvent::kAbandon:
      return "abandon";
    case StoreEvent::kDelete:
      return "delete";
  }
  return "?";
}

std::optional<StoreState> Next(StoreState from, StoreEvent event) {
  for (const Move& m : kMoves) {
    if (m.event == event && (m.from & Bit(from)) != 0) return m.to;
  }
  return std::nullopt;
}

bool HoldsSlot(StoreState s) {
  return s != StoreState::kReleased && s != StoreState::kDeleted;
}

}  // namespace migstore::smp
