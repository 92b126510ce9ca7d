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
inline constexpr size_t kMaxPayload =
    kMaxIndexPlain + kMaxIndexPlain / 128 + 128 * 1024;
// Every block frame is at least 24 bytes, so a store's block count is also
// bounded by its size (the reader checks the block table against it).
inline constexpr uint64_t kMaxBlocks = uint64_t{1} << 32;

// Paths are root-relative byte strings: at most PATH_MAX - 1 bytes.
inline constexpr size_t kMaxPathBytes = 4095;
inline constexpr size_t kMaxSymlinkTarget = 4095;
inline constexpr size_t kMaxXattrName = 255;     // XATTR_NAME_MAX
inline constexpr size_t kMaxXattrValue = 65536;  // XATTR_SIZE_MAX
inline constexpr size_t kMaxXattrsPerEntry = 1024;
// Names and values of one entry's xattrs together. Keeps any one entry far
// below a block, so a catalog segment always fits in kMaxBlockPlain.
inline constexpr size_t kMaxXattrBytesPerEntry = 1 * kMiB;
inline constexpr size_t kMaxNameBytes = 256;  // user, group, property key
inline constexpr size_t kMaxPropertyValue = 65536;
inline constexpr size_t kMaxProperties = 4096;
inline constexpr size_t kMaxProfiles = 65536;
inline constexpr size_t kMaxFoldersPerProfile = 64;
inline constexpr size_t kMaxFoldersInIndex = size_t{1} << 18;
inline constexpr size_t kMaxOwnerNames = 65536;  // each of owners, groups
inline constexpr size_t kMaxEntriesPerSegment = 65536;
inline constexpr size_t kMaxContentsPerSegment = 65536;
inline constexpr size_t kMaxRangesPerContent = size_t{1} << 20;
inline constexpr size_t kMaxChunksPerContent = size_t{1} << 21;
inline constexpr uint32_t kMaxMode = 07777;
inline constexpr uint64_t kMaxFileSize = uint64_t{1} << 62;
// Registry records (docs/format.md "Registry segment"). Windows allows key
// names of 255 characters, 512 levels deep, and value names of 16383
// characters; a value's data above 1 MiB is not a setting (the capture
// reports and skips it).
inline constexpr size_t kMaxRegistryKeyBytes = 65536;
inline constexpr size_t kMaxRegistryNameBytes = 65536;
inline constexpr size_t kMaxRegistryData = 1 * kMiB;
inline constexpr size_t kMaxRegistryRecordsPerSegment = 65536;
// Plain bytes of all of a store's registry segments together (a capture
// takes at most 1 GiB of settings), so that a crafted store of many small
// blocks that each decode to 16 MiB cannot make a reader hold gigabytes.
inline constexpr uint64_t kMaxRegistryTotal = uint64_t{1} << 30;

// Decoding amplifies: prefix-compressed paths expand, and every decoded
// element costs more memory than its bytes. These totals per decoded block
// keep what a crafted block can make a reader allocate to tens of MiB.
inline constexpr size_t kMaxPathBytesPerSegment = 32 * kMiB;
inline constexpr size_t kMaxXattrsPerSegment = 65536;
inline constexpr size_t kMaxPiecesPerContentSegment = size_t{1}
                                                      << 21;  // ranges + chunks

// Argon2id parameters a header may hold at all (outside them it is
// Corruption), and the most a writer may be asked for.
inline constexpr uint64_t kMinKdfOps = 1;
inline constexpr uint64_t kMaxKdfOps = 16;
inline constexpr uint64_t kMinKdfMem = 8 * 1024;     // libsodium's minimum
inline constexpr uint64_t kMaxKdfMem = 1024 * kMiB;  // 1 GiB
// The most a reader spends on one header's Argon2id unless its caller
// allows more (KdfParams::ReaderDefault): 4 times the work of the 3 passes
// over 256 MiB a writer uses by default. The format's own maximum above is
// 21 times that (about 11 s and 1 GiB per open), which a crafted store
// could otherwise make every open, and every wrong guess, pay.
inline constexpr uint64_t kReaderKdfOps = 6;
inline constexpr uint64_t kReaderKdfMem = 512 * kMiB;

}  // namespace migstore::format::limits

#endif  // MIGSTORE_FORMAT_LIMITS_H_
