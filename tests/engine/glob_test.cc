// The pattern machinery below both languages: globs, the two pattern
// parsers' specificity, and USMT's precedence relation.

#include <gtest/gtest.h>

#include "engine/src/rules/glob.h"
#include "engine/src/rules/native_pattern.h"
#include "engine/src/rules/pattern.h"
#include "engine/src/rules/usmt_pattern.h"

namespace migstore::internal {
namespace {

using Type = GlobToken::Type;

Glob Native(const std::string& pattern) {
  std::vector<PatternParts> parts;
  NativePatternError error;
  EXPECT_TRUE(ParseNativePattern(pattern, &parts, &error)) << error.message;
  return parts.empty() ? Glob() : Glob(parts[0].node);
}

TEST(Glob, TokensMatchWholeStrings) {
  Glob g({GlobToken::Literal("/a"), GlobToken::Of(Type::kStar),
          GlobToken::Literal(".txt")});
  EXPECT_TRUE(g.Match("/a.txt"));
  EXPECT_TRUE(g.Match("/abc.txt"));
  EXPECT_FALSE(g.Match("/ab/c.txt"));  // '*' stops at '/'
  Glob any({GlobToken::Literal("/a"), GlobToken::Of(Type::kAny),
            GlobToken::Literal(".txt")});
  EXPECT_TRUE(any.Match("/ab/c.txt"));
}

TEST(Glob, SlashTokens) {
  Glob sub({GlobToken::Literal("/a"), GlobToken::Of(Type::kSlashAnyOpt)});
  EXPECT_TRUE(sub.Match("/a"));
  EXPECT_TRUE(sub.Match("/a/b/c"));
  EXPECT_FALSE(sub.Match("/ab"));
  Glob dirs({GlobToken::Literal("/a"), GlobToken::Of(Type::kSlashAnyDirs),
             GlobToken::Literal("b")});
  EXPECT_TRUE(dirs.Match("/a/b"));
  EXPECT_TRUE(dirs.Match("/a/x/y/b"));
  EXPECT_FALSE(dirs.Match("/ab"));
  EXPECT_FALSE(dirs.Match("/a/xb"));
}

TEST(Glob, MayMatchAtOrBelow) {
  Glob g = Native("users/*/docs/**/x");  // node: /users/*/docs/**
  EXPECT_TRUE(g.MayMatchAtOrBelow(""));
  EXPECT_TRUE(g.MayMatchAtOrBelow("/users"));
  EXPECT_TRUE(g.MayMatchAtOrBelow("/users/al"));  // "/users/al" + "/docs"
  EXPECT_TRUE(g.MayMatchAtOrBelow("/users/al/docs/deep"));
  EXPECT_FALSE(g.MayMatchAtOrBelow("/usr"));
  EXPECT_FALSE(g.MayMatchAtOrBelow("/users/al/pics"));
  Glob exact({GlobToken::Literal("/users/alice")});
  EXPECT_TRUE(exact.MayMatchAtOrBelow("/users"));
  EXPECT_FALSE(exact.MayMatchAtOrBelow(
      "/users/al"));  // "/users/al" + "ice" is not below
  EXPECT_FALSE(exact.MayMatchAtOrBelow("/users/alice/x"));
}

TEST(Glob, MayMatchBelowThroughUsmtStar) {
  // A USMT node '*' crosses '\', so "C:\Users\*Temp\*" matches
  // /Users/alice/AppData/Local/Temp: every ancestor may hold a match, even
  // though what follows the '*' ("Temp") does not start a segment
  // (found by glob_match_fuzzer; the walk pruned Users/alice).
  PatternParts parts;
  UsmtPatternError error;
  ASSERT_TRUE(ParseUsmtPattern("C:\\Users\\*Temp\\* [*]", &parts, &error));
  Glob node(parts.node);
  ASSERT_TRUE(node.Match("/Users/alice/AppData/Local/Temp"));
  EXPECT_TRUE(node.MayMatchAtOrBelow(""));
  EXPECT_TRUE(node.MayMatchAtOrBelow("/Users"));
  EXPECT_TRUE(node.MayMatchAtOrBelow("/Users/alice"));
  EXPECT_TRUE(node.MayMatchAtOrBelow("/Users/alice/AppData/Local"));
  EXPECT_FALSE(node.MayMatchAtOrBelow("/Data"));
  // The same through a trailing "\*" that is not last.
  Glob slash({GlobToken::Literal("/a"), GlobToken::Of(Type::kSlashAnyOpt),
              GlobToken::Literal("x")});
  ASSERT_TRUE(slash.Match("/a/b/x"));
  EXPECT_TRUE(slash.MayMatchAtOrBelow("/a/b"));
}

TEST(Glob, ClassesAndFolding) {
  std::vector<PatternParts> parts;
  NativePatternError error;
  ASSERT_TRUE(ParseNativePattern("d/[A-C]x", &parts, &error));
  Glob leaf(parts[0].leaf);
  EXPECT_TRUE(leaf.Match("Bx"));
  EXPECT_FALSE(leaf.Match("bx"));
  leaf.FoldCase();
  EXPECT_TRUE(leaf.Match("bx"));  // folded text against a folded class
}

TEST(Specificity, NativeAndUsmtAgree) {
  std::vector<PatternParts> native;
  NativePatternError ne;
  ASSERT_TRUE(ParseNativePattern("Users/a/Documents/**", &native, &ne));
  PatternParts usmt;
  UsmtPatternError ue;
  ASSERT_TRUE(ParseUsmtPattern(R"(C:\Users\a\Documents\* [*])", &usmt, &ue));
  EXPECT_EQ(native[0].spec.node, usmt.spec.node);
  EXPECT_EQ(native[0].spec.leaf, usmt.spec.leaf);
  EXPECT_TRUE(native[0].spec.names_directory);
  ASSERT_TRUE(ParseNativePattern("**/*.doc*", &native, &ne));
  ASSERT_TRUE(ParseUsmtPattern(R"(* [*.doc*])", &usmt, &ue));
  EXPECT_EQ(native[0].spec.node, usmt.spec.node);
  EXPECT_EQ(native[0].spec.leaf, usmt.spec.leaf);
  EXPECT_FALSE(usmt.spec.names_directory);
  ASSERT_EQ(native.size(), 1u);  // a wildcard leaf names no subtree
  ASSERT_TRUE(ParseNativePattern("a/.ssh", &native, &ne));
  ASSERT_EQ(native.size(), 2u);  // the entry and its subtree
  EXPECT_EQ(native[0].spec.node, native[1].spec.node);
}

TEST(Specificity, Precedence) {
  Specificity dir_any{true, 3, 0}, root_ext{false, 0, 5}, dir_ext{true, 3, 5},
      deeper_any{true, 5, 0};
  EXPECT_TRUE(IncludeBeats(dir_any, root_ext));  // directory beats extension
  EXPECT_FALSE(IncludeBeats(root_ext, dir_any));
  EXPECT_FALSE(IncludeBeats(dir_any, dir_any));  // tie goes to the exclude
  EXPECT_FALSE(IncludeBeats(dir_any, dir_ext));  // exclude more specific
  EXPECT_TRUE(IncludeBeats(dir_ext, dir_any));
  EXPECT_FALSE(
      IncludeBeats(deeper_any, dir_ext));  // more one way, less the other
  EXPECT_FALSE(IncludeBeats(dir_ext, deeper_any));
  EXPECT_GT(
      LeafScore({GlobToken::Literal("a.txt")}),
      LeafScore({GlobToken::Of(Type::kStar), GlobToken::Literal(".txt")}));
}

TEST(UsmtPattern, Forms) {
  PatternParts p;
  UsmtPatternError e;
  ASSERT_TRUE(ParseUsmtPattern(R"(c:\a b\ [x])", &p, &e));
  EXPECT_EQ(Glob(p.node).tokens()[0].text, "/a b");
  ASSERT_TRUE(ParseUsmtPattern(R"(C:\Windows\*)", &p, &e));
  EXPECT_FALSE(p.has_leaf);
  EXPECT_FALSE(ParseUsmtPattern(R"(C:\x [])", &p, &e));
  EXPECT_FALSE(ParseUsmtPattern(R"(C:\x [a]b])", &p, &e));
  EXPECT_FALSE(ParseUsmtPattern(R"(C:\x\..\y [a])", &p, &e));
  EXPECT_FALSE(ParseUsmtPattern(R"(E:\x [a])", &p, &e));
  EXPECT_TRUE(e.other_drive);
  EXPECT_EQ(EscapeUsmt("a[1]^*"), "a^[1^]^^^*");
  EXPECT_EQ(UsmtPathOf("Users/a"), R"(C:\Users\a)");
  EXPECT_EQ(UsmtPathOf(""), "C:");
}

}  // namespace
}  // namespace migstore::internal
