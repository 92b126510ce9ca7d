// engine/base/rel_path.h: the path arithmetic capture, the rules and
// restore share.

#include "engine/base/rel_path.h"

#include <gtest/gtest.h>

namespace migstore {
namespace {

TEST(RelPath, SplitsIntoParentAndName) {
  EXPECT_EQ(ParentOf("a/b/c"), "a/b");
  EXPECT_EQ(NameOf("a/b/c"), "c");
  EXPECT_EQ(ParentOf("c"), "");
  EXPECT_EQ(NameOf("c"), "c");
  EXPECT_EQ(ParentOf(""), "");
  EXPECT_EQ(NameOf(""), "");
}

TEST(RelPath, JoinsWithOneSlashAndTheRootAsEmpty) {
  EXPECT_EQ(JoinPath("a/b", "c"), "a/b/c");
  EXPECT_EQ(JoinPath("", "c"), "c");
  EXPECT_EQ(JoinPath("a", ""), "a");
  EXPECT_EQ(JoinPath("", ""), "");
}

TEST(RelPath, AtOrBelowMatchesWholeComponentsOnly) {
  EXPECT_TRUE(IsAtOrBelow("Users/alice", "Users/alice", false));
  EXPECT_TRUE(IsAtOrBelow("Users/alice/x", "Users/alice", false));
  EXPECT_FALSE(IsAtOrBelow("Users/alice2/x", "Users/alice", false));
  EXPECT_FALSE(IsAtOrBelow("Users", "Users/alice", false));
  EXPECT_TRUE(IsAtOrBelow("anything", "", false));
  // Folding is ASCII only, and only when asked for.
  EXPECT_FALSE(IsAtOrBelow("users/ALICE/x", "Users/alice", false));
  EXPECT_TRUE(IsAtOrBelow("users/ALICE/x", "Users/alice", true));
  EXPECT_FALSE(IsAtOrBelow("Users/\xc3\x89ve", "Users/\xc3\xa9ve", true));
}

TEST(RelPath, RebasedMovesOnlyWhatIsBelow) {
  EXPECT_EQ(Rebased("Users/alice/x", "Users/alice", "Users/alice2", false),
            "Users/alice2/x");
  EXPECT_EQ(Rebased("Users/alice", "Users/alice", "Users/alice2", false),
            "Users/alice2");
  EXPECT_EQ(Rebased("Users/bob/x", "Users/alice", "Users/alice2", false),
            "Users/bob/x");
  EXPECT_EQ(Rebased("users/Alice/x", "Users/alice", "Users/alice2", true),
            "Users/alice2/x");
  EXPECT_EQ(Rebased("x/y", "", "home", false), "home/x/y");
}

}  // namespace
}  // namespace migstore
