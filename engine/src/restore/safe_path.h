// Path rules for restore, where every path comes from a store that may be
// hostile: which store paths may be written at all, the names USMT gives a
// file that meets another ("name (1).ext"), and the temporary names files
// are written under before they are renamed into place. Splitting and
// joining paths is engine/base/rel_path.h.
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

#include "engine/base/rel_path.h"  // ParentOf, NameOf, JoinPath, Rebased

namespace migstore::restore {

// Why `path` must not be written below a target, or "" when it may: empty,
// absolute, a "." or ".." component, an empty component ("a//b", a trailing
// '/'), a NUL, or longer than PATH_MAX - 1 bytes.
std::string UnsafePathReason(std::string_view path);

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
