// A store's life cycle (engine/src/smp/state.h) against the table in
// docs/smp.md, "States": every (state, event) pair, the legal ones going
// where the table says and all the others refused, and the states' names.

#include "engine/src/smp/state.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace migstore::smp {
namespace {

using S = StoreState;
using E = StoreEvent;

constexpr S kAllStates[] = {S::kRequested, S::kCapturing, S::kCaptured,
                            S::kReady,     S::kRestoring, S::kRestored,
                            S::kReleased,  S::kDeleted};
constexpr E kAllEvents[] = {
    E::kUploadStarted,  E::kUploadCommitted, E::kReleaseCapture,
    E::kRequestRestore, E::kRestoreDone,     E::kReleaseRestore,
    E::kExpire,         E::kAbandon,         E::kDelete};

// docs/smp.md's table, written out pair by pair (not computed the way
// state.cc computes it, so a mistake there shows here).
const std::map<std::pair<S, E>, S>& Legal() {
  static const auto* legal = new std::map<std::pair<S, E>, S>{
      // upload bytes (source): requested, capturing, captured -> capturing
      {{S::kRequested, E::kUploadStarted}, S::kCapturing},
      {{S::kCapturing, E::kUploadStarted}, S::kCapturing},
      {{S::kCaptured, E::kUploadStarted}, S::kCapturing},
      // commit upload (source): capturing -> captured
      {{S::kCapturing, E::kUploadCommitted}, S::kCaptured},
      // release after capture (source): captured -> ready
      {{S::kCaptured, E::kReleaseCapture}, S::kReady},
      // request for restore (destination): ready, restoring, restored ->
      // restoring
      {{S::kReady, E::kRequestRestore}, S::kRestoring},
      {{S::kRestoring, E::kRequestRestore}, S::kRestoring},
      {{S::kRestored, E::kRequestRestore}, S::kRestoring},
      // restore done (destination): restoring -> restored
      {{S::kRestoring, E::kRestoreDone}, S::kRestored},
      // release after restore (destination): restoring, restored -> released
      {{S::kRestoring, E::kReleaseRestore}, S::kReleased},
      {{S::kRestored, E::kReleaseRestore}, S::kReleased},
      // retention over (deletion cycle): released -> deleted
      {{S::kReleased, E::kExpire}, S::kDeleted},
      {{S::kRequested, E::kAbandon}, S::kDeleted},
      {{S::kCapturing, E::kAbandon}, S::kDeleted},
      // delete (administrator): any -> deleted. A deleted store is gone
      // (its bytes and slot freed, its row kept for the record): nothing
      // moves it again, a second delete included.
      {{S::kRequested, E::kDelete}, S::kDeleted},
      {{S::kCapturing, E::kDelete}, S::kDeleted},
      {{S::kCaptured, E::kDelete}, S::kDeleted},
      {{S::kReady, E::kDelete}, S::kDeleted},
      {{S::kRestoring, E::kDelete}, S::kDeleted},
      {{S::kRestored, E::kDelete}, S::kDeleted},
      {{S::kReleased, E::kDelete}, S::kDeleted},
  };
  return *legal;
}

TEST(StateTest, EveryMoveIsTheTablesOrRefused) {
  int legal = 0, refused = 0;
  for (S from : kAllStates) {
    for (E event : kAllEvents) {
      const auto it = Legal().find({from, event});
      const std::optional<S> to = Next(from, event);
      const std::string what = std::string(EventName(event)) + " from " +
                               std::string(StateName(from));
      if (it == Legal().end()) {
        EXPECT_FALSE(to.has_value())
            << what << " is refused by the table, but goes to "
            << StateName(*to);
        ++refused;
      } else {
        ASSERT_TRUE(to.has_value()) << what << " is legal, but refused";
        EXPECT_EQ(*to, it->second)
            << what << " goes to " << StateName(it->second) << ", not "
            << StateName(*to);
        ++legal;
      }
    }
  }
  // Every pair was looked at.
  EXPECT_EQ(legal, 21);
  EXPECT_EQ(refused, 8 * 9 - 21);
}

TEST(StateTest, FromReadyOnTheStoreIsReadOnly) {
  for (S from :
       {S::kReady, S::kRestoring, S::kRestored, S::kReleased, S::kDeleted}) {
    EXPECT_FALSE(Next(from, E::kUploadStarted).has_value()) << StateName(from);
    EXPECT_FALSE(Next(from, E::kUploadCommitted).has_value())
        << StateName(from);
  }
}

TEST(StateTest, ALifeFromRequestToDeletion) {
  std::optional<S> s = S::kRequested;
  for (E e : {E::kUploadStarted, E::kUploadStarted, E::kUploadCommitted,
              E::kUploadStarted, E::kUploadCommitted, E::kReleaseCapture,
              E::kRequestRestore, E::kRestoreDone, E::kRequestRestore,
              E::kRestoreDone, E::kReleaseRestore, E::kExpire}) {
    ASSERT_TRUE(s.has_value());
    s = Next(*s, e);
    ASSERT_TRUE(s.has_value()) << EventName(e);
  }
  EXPECT_EQ(*s, S::kDeleted);
}

TEST(StateTest, SlotsAreHeldFromRequestUntilRelease) {
  for (S s : kAllStates) {
    const bool holds = s != S::kReleased && s != S::kDeleted;
    EXPECT_EQ(HoldsSlot(s), holds) << StateName(s);
  }
}

TEST(StateTest, NamesRoundTrip) {
  std::set<std::string> names;
  for (S s : kAllStates) {
    const std::string_view name = StateName(s);
    EXPECT_FALSE(name.empty());
    names.emplace(name);
    const std::optional<S> back = StateFromName(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, s) << name;
  }
  EXPECT_EQ(names.size(), std::size(kAllStates));
  // The names the protocol and the database use (docs/smp.md).
  EXPECT_EQ(StateName(S::kRequested), "requested");
  EXPECT_EQ(StateName(S::kReady), "ready");
  EXPECT_EQ(StateName(S::kDeleted), "deleted");
  for (std::string_view bad : {"", "Ready", "ready ", "gone", "restor"}) {
    EXPECT_FALSE(StateFromName(bad).has_value()) << bad;
  }
}

TEST(StateTest, EventsHaveDistinctNames) {
  std::set<std::string> names;
  for (E e : kAllEvents) names.emplace(EventName(e));
  EXPECT_EQ(names.size(), std::size(kAllEvents));
  EXPECT_EQ(names.count("?"), 0u);
}

}  // namespace
}  // namespace migstore::smp
