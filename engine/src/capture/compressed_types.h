// File types whose contents are already compressed: a capture stores them
// without trying zstd (docs/design.md, "Capture pipeline"). Decided by the
// name's extension, case-insensitively; anything else is compressed, and
// zstd stores what does not shrink as raw blocks of its own.

#ifndef MIGSTORE_ENGINE_SRC_CAPTURE_COMPRESSED_TYPES_H_
#define MIGSTORE_ENGINE_SRC_CAPTURE_COMPRESSED_TYPES_H_

#include <string_view>

namespace migstore::capture {

bool LooksCompressed(std::string_view path);

}  // namespace migstore::capture

#endif  // MIGSTORE_ENGINE_SRC_CAPTURE_COMPRESSED_TYPES_H_
