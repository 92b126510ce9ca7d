// The native rules language's patterns: root-relative globs with '/'
// separators ("Users/alice/Documents/**", "**/*.tmp"). '*' matches within a
// name, '?' one byte, "[...]" one byte of a set ("[!...]" or "[^...]" for
// the complement, "a-z" ranges), "**" as a whole segment any number of
// directories, and '\' makes the next byte literal. A leading '/' is
// allowed and means the root.
//
// A pattern whose last segment has no wildcard names an entry: the file or
// directory of that name, and when it is a directory everything below it
// (ParseNativePattern then returns a second part for the subtree). A last
// segment with a wildcard matches names only ("*.txt" does not take the
// contents of a directory called "notes.txt"); write "dir*/**" for that.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_RULES_NATIVE_PATTERN_H_
#define MIGSTORE_ENGINE_SRC_RULES_NATIVE_PATTERN_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/src/rules/pattern.h"

namespace migstore::internal {

struct NativePatternError {
  size_t offset = 0;  // byte offset into the pattern
  std::string message;
};

// Parses `text` into one or two PatternParts (the entry, and its subtree
// when the last segment is literal). False with *error on a syntax error.
bool ParseNativePattern(std::string_view text, std::vector<PatternParts>* out,
                        NativePatternError* error);

// Escapes '*', '?', '[', ']' and '\' so that `s` matches literally.
std::string EscapeNative(std::string_view s);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_NATIVE_PATTERN_H_
