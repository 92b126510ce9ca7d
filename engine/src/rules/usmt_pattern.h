// USMT's file patterns, "Node [Leaf]" (usmt.md §5): the node is a directory
// ("C:\Data\" for Data only, "C:\Data\*" for Data and every folder below,
// '*' matching across '\' anywhere in a node), the leaf a file name in
// brackets where '*' is the only wildcard. '^' makes the next character
// literal ("[file^].txt]"). A node without a leaf names directories only.
//
// The drive is the root: "C:" is the root of the capture (the one fixed
// drive); other drive letters are not part of it. Spaces at the ends of a
// node component are ignored (Windows cannot create such names through its
// usual APIs, and USMT's own documentation writes "C:\Dir1\ * [*.txt]").
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_RULES_USMT_PATTERN_H_
#define MIGSTORE_ENGINE_SRC_RULES_USMT_PATTERN_H_

#include <string>
#include <string_view>

#include "engine/src/rules/pattern.h"

namespace migstore::internal {

struct UsmtPatternError {
  size_t offset = 0;
  std::string message;
  bool other_drive = false;  // well-formed, but names a drive other than C:
};

// With `registry` the node is a registry key path below a root the caller
// has already turned into plain components (registry_pattern.h): '/' is a
// character of a key name (kept as kRegistrySlash), the leaf is a value
// name that may hold '\' and '/', and the empty leaf "[]" is the key's
// default value.
bool ParseUsmtPattern(std::string_view text, PatternParts* out,
                      UsmtPatternError* error, bool registry = false);

// How a '/' inside a registry key name is kept in a matcher path, whose
// separator is '/'. Windows allows neither this byte nor '\' in key names.
inline constexpr char kRegistrySlash = '\x1f';

// Puts '^' before '[', ']', '^' and '*' so that `s` is literal in a pattern.
std::string EscapeUsmt(std::string_view s);

// The Windows form of a root-relative path: "C:\Users\alice"; "C:" for the
// root. Not escaped.
std::string UsmtPathOf(std::string_view rel);

}  // namespace migstore::internal

#endif  // MIGSTORE_ENGINE_SRC_RULES_USMT_PATTERN_H_
