#include "engine/src/rules/glob.h"

#include <algorithm>
#include <vector>

#include "engine/base/case_fold.h"

namespace migstore::internal {

using Type = GlobToken::Type;

Glob::Glob(std::vector<GlobToken> tokens) {
  for (GlobToken& t : tokens) {
    if (t.type == Type::kLiteral) {
      if (t.text.empty()) continue;
      if (!tokens_.empty() && tokens_.back().type == Type::kLiteral) {
        tokens_.back().text += t.text;
        continue;
      }
    }
    tokens_.push_back(std::move(t));
  }
  FindRequired();
}

void Glob::FindRequired() {
  required_.clear();
  int spans = 0;
  for (const GlobToken& t : tokens_) {
    if (t.type == Type::kLiteral && t.text.size() > required_.size())
      required_ = t.text;
    if (t.type == Type::kStar || t.type == Type::kAny ||
        t.type == Type::kSlashAnyOpt || t.type == Type::kSlashAnyDirs) {
      ++spans;
    }
  }
  needs_memo_ = spans >= 2;
}

void Glob::FoldCase() {
  for (GlobToken& t : tokens_) {
    if (t.type == Type::kLiteral) {
      for (char& c : t.text) c = FoldAscii(c);
    } else if (t.type == Type::kClass) {
      for (int c = 'A'; c <= 'Z'; ++c) {
        if (t.set.test(static_cast<size_t>(c)))
          t.set.set(static_cast<size_t>(c - 'A' + 'a'));
      }
    }
  }
  FindRequired();
}

bool Glob::Match(std::string_view text) const {
  if (!required_.empty() && text.find(required_) == std::string_view::npos)
    return false;
  return Run(text, false);
}

bool Glob::MayMatchAtOrBelow(std::string_view dir) const {
  return Run(dir, true);
}

bool Glob::Run(std::string_view text, bool prefix) const {
  if (!needs_memo_) return MatchFrom(0, text, 0, prefix, Memo());
  // The memo lives on the stack for the patterns and paths of real rules,
  // so that Decide does not allocate; a longer path or pattern uses this
  // thread's buffer, which only grows.
  constexpr size_t kStackWords = 256;  // 16384 states
  Memo memo;
  memo.stride = text.size() + 1;
  const size_t words = ((tokens_.size() + 1) * memo.stride + 63) / 64;
  uint64_t stack[kStackWords];
  thread_local std::vector<uint64_t> heap;
  if (words <= kStackWords) {
    memo.bits = stack;
  } else {
    if (heap.size() < words) heap.resize(words);
    memo.bits = heap.data();
  }
  std::fill(memo.bits, memo.bits + words, 0);
  return MatchFrom(0, text, 0, prefix, memo);
}

bool Glob::MatchFrom(size_t ti, std::string_view text, size_t pi, bool prefix,
                     const Memo& memo) const {
  if (memo.bits == nullptr)
    return MatchFromUncached(ti, text, pi, prefix, memo);
  // The answer depends only on (ti, pi) within one Run: a failed state is
  // not explored twice.
  const size_t state = ti * memo.stride + pi;
  uint64_t& word = memo.bits[state / 64];
  const uint64_t bit = uint64_t{1} << (state % 64);
  if (word & bit) return false;
  if (MatchFromUncached(ti, text, pi, prefix, memo)) return true;
  word |= bit;
  return false;
}

// In prefix mode the text has run out: can the tokens from `ti` on match ""
// or a string starting with '/'? (Conservative: true when unsure.)
bool Glob::CanContinueBelow(size_t ti) const {
  for (; ti < tokens_.size(); ++ti) {
    const GlobToken& t = tokens_[ti];
    switch (t.type) {
      case Type::kLiteral:
        return t.text[0] == '/';
      case Type::kStar:
        continue;  // may be empty; cannot produce '/'
      case Type::kQuestion:
      case Type::kClass:
        return false;  // must produce a byte that is not '/'
      case Type::kAny:
      case Type::kSlashAnyOpt:
      case Type::kSlashAnyDirs:
        return true;
    }
  }
  return true;
}

bool Glob::MatchFromUncached(size_t ti, std::string_view text, size_t pi,
                             bool prefix, const Memo& memo) const {
  while (ti < tokens_.size()) {
    const GlobToken& t = tokens_[ti];
    const size_t left = text.size() - pi;
    if (prefix && left == 0) return CanContinueBelow(ti);
    switch (t.type) {
      case Type::kLiteral: {
        const std::string& lit = t.text;
        if (left < lit.size()) {
          // Prefix mode: the text ends inside the literal; what follows in
          // the literal must start a path below the text.
          return prefix &&
                 text.substr(pi) == std::string_view(lit).substr(0, left) &&
                 lit[left] == '/';
        }
        if (text.compare(pi, lit.size(), lit) != 0) return false;
        pi += lit.size();
        ++ti;
        break;
      }
      case Type::kQuestion:
        if (left == 0 || text[pi] == '/') return false;
        ++pi;
        ++ti;
        break;
      case Type::kClass:
        if (left == 0 || text[pi] == '/' ||
            !t.set.test(static_cast<unsigned char>(text[pi]))) {
          return false;
        }
        ++pi;
        ++ti;
        break;
      case Type::kStar:
        for (size_t k = pi;; ++k) {
          if (MatchFrom(ti + 1, text, k, prefix, memo)) return true;
          if (k == text.size() || text[k] == '/') return false;
        }
      case Type::kAny:
        // Prefix mode: '*' can take the rest of the text, a '/' and more,
        // leaving the tokens after it a string of their own below `text`
        // ("C:\Users\*Temp\*" reaches Users/alice/AppData/Local/Temp).
        if (prefix) return true;
        for (size_t k = pi; k <= text.size(); ++k) {
          if (MatchFrom(ti + 1, text, k, prefix, memo)) return true;
        }
        return false;
      case Type::kSlashAnyOpt:
        if (MatchFrom(ti + 1, text, pi, prefix, memo)) return true;
        if (left == 0 || text[pi] != '/') return false;
        // Prefix mode: as kAny once the '/' is there.
        if (prefix) return true;
        for (size_t k = pi + 1; k <= text.size(); ++k) {
          if (MatchFrom(ti + 1, text, k, prefix, memo)) return true;
        }
        return false;
      case Type::kSlashAnyDirs:
        if (left == 0 || text[pi] != '/') return false;
        for (size_t k = pi; k < text.size(); ++k) {
          if (text[k] == '/' && MatchFrom(ti + 1, text, k + 1, prefix, memo))
            return true;
        }
        // Prefix mode: "/x" with the text ending inside the directories.
        return prefix;
    }
  }
  return pi == text.size();
}

}  // namespace migstore::internal
