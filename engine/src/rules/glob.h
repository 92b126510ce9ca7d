// Glob: the compiled form of every pattern migstore matches, whichever
// language it was written in. A glob is a sequence of tokens matched
// against a whole string; directory strings are matched in "slashed" form,
// "/a/b" for root-relative "a/b" and "" for the root, so that "/**"-style
// tokens need no special case at the root.
//
//   kLiteral      the bytes of `text`
//   kStar         any run of bytes without '/'     (native "*")
//   kAny          any run of bytes, '/' included    (USMT node "*")
//   kQuestion     one byte that is not '/'          (native "?")
//   kClass        one byte of `set`, never '/'      (native "[...]")
//   kSlashAnyOpt  "" or "/" followed by anything    (native trailing "/**",
//                                                    USMT trailing "\*")
//   kSlashAnyDirs "/" or "/.../"                    (native "/**/" inside)
//
// Matching backtracks; patterns are short and written by people, and the
// hot path avoids globs wherever a literal comparison does (pattern_index).
// A glob with several wildcards remembers the states that failed, so that
// no pattern can make a match take more than tokens x text-length states.
//
// Thread safety: immutable after construction.

#ifndef MIGSTORE_ENGINE_SRC_RULES_GLOB_H_
#define MIGSTORE_ENGINE_SRC_RULES_GLOB_H_

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace migstore::internal {

struct GlobToken {
  enum class Type : uint8_t {
    kLiteral,
    kStar,
    kAny,
    kQuestion,
    kClass,
    kSlashAnyOpt,
    kSlashAnyDirs,
  };
  Type type = Type::kLiteral;
  std::string text;      // kLiteral
  std::bitset<256> set;  // kClass: the bytes that match

  static GlobToken Literal(std::string_view s) {
    GlobToken t;
    t.text = std::string(s);
    return t;
  }
  static GlobToken Of(Type type) {
    GlobToken t;
    t.type = type;
    return t;
  }
};

class Glob {
 public:
  Glob() = default;
  // Adjacent literals are merged.
  explicit Glob(std::vector<GlobToken> tokens);

  // Whether the whole of `text` matches.
  bool Match(std::string_view text) const;

  // Whether some string equal to `dir` or starting with `dir` + "/" could
  // match: "can this node pattern reach `dir` or a directory below it?".
  // May say true when no such string matches; never false when one does.
  bool MayMatchAtOrBelow(std::string_view dir) const;

  const std::vector<GlobToken>& tokens() const { return tokens_; }
  bool empty() const { return tokens_.empty(); }

  // Applies ASCII case folding to literals and classes, so that matching
  // folded text is case-insensitive.
  void FoldCase();

 private:
  // States (token, text position) already known to fail, one bit each:
  // without them a glob with several wildcards backtracks exponentially
  // ("C:\*\*\*\*..." against a deep path). Null when the glob has at most
  // one wildcard that spans bytes, which cannot blow up.
  struct Memo {
    uint64_t* bits = nullptr;
    size_t stride = 0;  // text.size() + 1
  };
  bool Run(std::string_view text, bool prefix) const;
  bool MatchFrom(size_t ti, std::string_view text, size_t pi, bool prefix,
                 const Memo& memo) const;
  bool MatchFromUncached(size_t ti, std::string_view text, size_t pi,
                         bool prefix, const Memo& memo) const;
  bool CanContinueBelow(size_t ti) const;
  void FindRequired();

  std::vector<GlobToken> tokens_;
  // The longest literal token: any text that matches contains it, so a
  // text without it is rejected with one substring search, before any
  // backtracking. Most paths fail this way against most globs.
  std::string required_;
  // Two or more kStar/kAny/kSlashAnyOpt/kSlashAnyDirs tokens: Run memoizes.
  bool needs_memo_ = false;
};

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_GLOB_H_
