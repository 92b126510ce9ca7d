// Path arithmetic for restore, where every path comes from a store that may
// be hostile: which store paths may be written at all, how a path splits
// into its directory and name, the names USMT gives a file that meets
// another ("name (1).ext"), and the temporary names files are written under
// before they are renamed into place.
//
// Paths are target-relative byte strings, '/'-separated, no leading or
// trailing '/'.
//
// Thread safety: pure functions (TempName draws from a thread-safe random
// source).

#ifndef MIGSTORE_ENGINE_SRC_RESTORE_SAFE_PATH_H_
#define MIGSTORE_ENGINE_SRC_RESTORE_SAFE_PATH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace migstore::restore {

// Why `path` must not be written below a target, or "" when it may: empty,
// absolute, a "." or ".." component, an empty component ("a//b", a trailing
// '/'), a NUL, or longer than PATH_MAX - 1 bytes.
std::string UnsafePathReason(std::string_view path);

// "a/b/c" -> "a/b"; "c" -> "".
std::string_view ParentOf(std::string_view path);
// "a/b/c" -> "c".
std::string_view NameOf(std::string_view path);
// JoinPath("a/b", "c") == "a/b/c"; JoinPath("", "c") == "c".
std::string JoinPath(std::string_view dir, std::string_view rest);

// Whether `path` is `dir` or lies below it. `fold`: ASCII case-insensitive
// (windows layouts).
bool IsAtOrBelow(std::string_view path, std::string_view dir, bool fold);

// `path` moved from below `from` to below `to`: "Users/alice/x" from
// "Users/alice" to "Users/alice2" is "Users/alice2/x", and `from` itself is
// `to`. A path not at or below `from` is returned as it is. `fold` as
// IsAtOrBelow.
std::string Rebased(std::string_view path, std::string_view from,
                    std::string_view to, bool fold);

// The name a conflicting file takes, from a USMT FindFilePlaceByPattern
// pattern: <F> is the name without its extension, <E> the extension, <N>
// the counter. The default pattern "<F> (<N>).<E>" gives "report (1).docx";
// a name without an extension ("notes", ".bashrc") gives "notes (1)" (the
// pattern's "." before <E> is dropped with the empty extension).
inline constexpr std::string_view kDefaultRenamePattern = "<F> (<N>).<E>";
std::string NumberedName(std::string_view name, uint64_t n,
                         std::string_view pattern = kDefaultRenamePattern);
// Whether `pattern` holds each of <F>, <N> and <E> (USMT requires all
// three; without <N> no free name can be found).
bool ValidRenamePattern(std::string_view pattern);

// A fresh temporary name for a file to be renamed to `name` in the same
// directory: ".<name>.migtmp-<16 hex>", the name shortened when needed so
// the whole stays within NAME_MAX. Recognisable by IsRestoreTemporary.
std::string TempName(std::string_view name);
bool IsRestoreTemporary(std::string_view name);

}  // namespace migstore::restore

#endif  // MIGSTORE_ENGINE_SRC_RESTORE_SAFE_PATH_H_
