// Hard limits a reader enforces on untrusted input, and the writer on what it
// is asked to write (docs/format.md "Limits"). Anything beyond them is
// rejected as corrupt before memory is allocated for it, so a crafted store
// cannot make a reader allocate without bound.

#ifndef MIGSTORE_FORMAT_LIMITS_H_
#define MIGSTORE_FORMAT_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace migstore::format::limits {

inline constexpr size_t kMiB = size_t{1} << 20;

// Plain (decoded) size of a data, catalog or content block.
inline constexpr size_t kMaxBlockPlain = 16 * kMiB;
// Plain size of the index block, which grows with the number of blocks.
inline constexpr size_t kMaxIndexPlain = 64 * kMiB;
// A frame's payload: the largest plain block, zstd's worst-case expansion
// of it, and the AEAD overhead.
inline constexpr size_t kMaxPayload = kMaxIndexPlain + kMaxIndexPlain / 128 +
                                      128 * 1024;
inline constexpr uint64_t kMaxBlocks = uint64_t{1} << 32;

// Paths are root-relative byte strings: at most PATH_MAX - 1 bytes.
inline constexpr size_t kMaxPathBytes = 4095;
inline constexpr size_t kMaxSymlinkTarget = 4095;
inline constexpr size_t kMaxXattrName = 255;      // XATTR_NAME_MAX
inline constexpr size_t kMaxXattrValue = 65536;   // XATTR_SIZE_MAX
inline constexpr size_t kMaxXattrsPerEntry = 1024;
// Names and values of one entry's xattrs together. Keeps any one entry far
// below a block, so a catalog segment always fits in kMaxBlockPlain.
inline constexpr size_t kMaxXattrBytesPerEntry = 1 * kMiB;
inline constexpr size_t kMaxNameBytes = 256;      // user, group, property key
inline constexpr size_t kMaxPropertyValue = 65536;
inline constexpr size_t kMaxProfiles = 100000;
inline constexpr size_t kMaxFoldersPerProfile = 256;
inline constexpr size_t kMaxOwnerNames = 1 << 20;
inline constexpr size_t kMaxProperties = 4096;
inline constexpr size_t kMaxEntriesPerSegment = 65536;
inline constexpr size_t kMaxContentsPerSegment = 65536;
inline constexpr size_t kMaxRangesPerContent = 1 << 24;
inline constexpr size_t kMaxChunksPerContent = 1 << 24;
inline constexpr uint32_t kMaxMode = 07777;
inline constexpr uint64_t kMaxFileSize = uint64_t{1} << 62;

// Argon2id parameters a reader accepts from a header: a crafted header must
// not make opening a store take minutes or gigabytes.
inline constexpr uint64_t kMinKdfOps = 1;
inline constexpr uint64_t kMaxKdfOps = 16;
inline constexpr uint64_t kMinKdfMem = 8 * 1024;     // libsodium's minimum
inline constexpr uint64_t kMaxKdfMem = 1024 * kMiB;  // 1 GiB

}  // namespace migstore::format::limits

#endif  // MIGSTORE_FORMAT_LIMITS_H_
