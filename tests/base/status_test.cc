#include "migstore/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

#include "migstore/exit_codes.h"
#include "migstore/result.h"

namespace migstore {
namespace {

TEST(Status, OkCostsNothingAndSaysOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(s.message().empty());
  EXPECT_EQ(sizeof(Status), sizeof(void*));
}

TEST(Status, EachCategoryHasItsOwnPredicate) {
  struct Case {
    Status s;
    bool (Status::*is)() const;
    const char* name;
  } cases[] = {
      {Status::Corruption("x"), &Status::IsCorruption, "Corruption"},
      {Status::WrongKey("x"), &Status::IsWrongKey, "Wrong key"},
      {Status::KeyUnreadable("x"), &Status::IsKeyUnreadable, "Key unreadable"},
      {Status::NotAStore("x"), &Status::IsNotAStore, "Not a store"},
      {Status::UnsupportedVersion("x"), &Status::IsUnsupportedVersion,
       "Unsupported version"},
      {Status::IOError("x"), &Status::IsIOError, "I/O error"},
      {Status::InvalidArgument("x"), &Status::IsInvalidArgument,
       "Invalid argument"},
      {Status::NotFound("x"), &Status::IsNotFound, "Not found"},
      {Status::AlreadyExists("x"), &Status::IsAlreadyExists, "Already exists"},
      {Status::Cancelled("x"), &Status::IsCancelled, "Cancelled"},
      {Status::Stopped("x"), &Status::IsStopped, "Stopped"},
      {Status::Refused("x"), &Status::IsRefused, "Refused"},
      {Status::Unavailable("x"), &Status::IsUnavailable, "Store unavailable"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.s.ok());
    EXPECT_EQ(c.s.ToString(), std::string(c.name) + ": x");
    int matches = 0;
    for (const Case& other : cases) matches += (c.s.*other.is)() ? 1 : 0;
    EXPECT_EQ(matches, 1) << c.name;
    EXPECT_TRUE((c.s.*c.is)());
  }
}

TEST(Status, TwoPartMessagesAndContext) {
  Status s = Status::Corruption("block 3", "bad tag");
  EXPECT_EQ(s.message(), "block 3: bad tag");
  Status c = s.WithContext("store.mig");
  EXPECT_TRUE(c.IsCorruption());
  EXPECT_EQ(c.message(), "store.mig: block 3: bad tag");
  EXPECT_TRUE(Status::OK().WithContext("anything").ok());
  // Already named: not named twice; a longer name that merely starts the
  // same is still put before.
  EXPECT_EQ(c.WithContext("store.mig").message(),
            "store.mig: block 3: bad tag");
  EXPECT_EQ(Status::IOError("store.mig").WithContext("store.mig").message(),
            "store.mig");
  EXPECT_EQ(Status::IOError("store.mig2: x").WithContext("store.mig").message(),
            "store.mig: store.mig2: x");
}

TEST(Status, FromErrnoKeepsTheErrno) {
  Status s = Status::FromErrno("write failed", ENOSPC);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.sys_errno(), ENOSPC);
  EXPECT_NE(s.message().find("No space left"), std::string_view::npos);
  EXPECT_EQ(Status::IOError("x").sys_errno(), 0);
}

TEST(Status, CopiesAreIndependentAndMovesLeaveOk) {
  Status a = Status::NotFound("a");
  Status b = a;
  EXPECT_EQ(b.ToString(), a.ToString());
  Status c = std::move(a);
  EXPECT_TRUE(c.IsNotFound());
  b = Status::OK();
  EXPECT_TRUE(b.ok());
  EXPECT_TRUE(c.IsNotFound());
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  MIGSTORE_ASSIGN_OR_RETURN(int h, Half(v));
  MIGSTORE_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int v) {
  MIGSTORE_RETURN_IF_ERROR(Half(v).status());
  return Status::OK();
}

TEST(Result, HoldsAValueOrAnError) {
  Result<int> ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  EXPECT_TRUE(ok.status().ok());
  Result<int> bad = Half(3);
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
}

TEST(Result, MacrosPassErrorsUp) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_TRUE(Quarter(6).status().IsInvalidArgument());
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_TRUE(CheckEven(5).IsInvalidArgument());
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ExitCodes, FollowUsmtNumbers) {
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::OK())), 0);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::Cancelled("x"))), 2);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::InvalidArgument("x"))), 11);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::NotAStore("x"))), 27);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::NotFound("x"))), 27);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::AlreadyExists("x"))), 27);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::UnsupportedVersion("x"))), 27);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::Refused("x"))), 27);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::Unavailable("x"))), 27);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::KeyUnreadable("x"))), 33);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::WrongKey("x"))), 37);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::Corruption("x"))), 42);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::Stopped("x"))), 61);
  EXPECT_EQ(static_cast<int>(ExitCodeFor(Status::IOError("x"))), 71);
}

}  // namespace
}  // namespace migstore
