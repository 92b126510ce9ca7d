// ContainerReader: opens a container and reads any part of it by position,
// without reading the rest (docs/format.md). The bytes come from a
// StoreSource (store_io.h): a local file, or anything else that reads by
// position.
//
// Open() checks the header, unwraps the data key (WrongKey when the key does
// not fit), checks the trailer and loads the index block. After that every
// read touches only what it needs: one catalog segment to find a path, one
// content segment to resolve a content number, the data blocks holding that
// content. Damage found later is reported by the read that meets it and
// costs only what lives in the damaged block.
//
// Statuses: NotAStore (no signature, not a regular file), NotFound (no such
// file), UnsupportedVersion, WrongKey, Refused (a key derivation costlier
// than allowed), Corruption (damaged or truncated).
//
// Thread safety: after Open() returns, every method is const and may be
// called from any number of threads at once.

#ifndef MIGSTORE_FORMAT_CONTAINER_READER_H_
#define MIGSTORE_FORMAT_CONTAINER_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/block_codec.h"
#include "format/catalog.h"
#include "format/file_io.h"
#include "format/header.h"
#include "format/keys.h"
#include "format/registry.h"
#include "format/store_index.h"
#include "format/store_io.h"
#include "migstore/result.h"

namespace migstore::format {

// The last few data blocks a reader opened, so files packed together in one
// block cost one decryption and decompression between them. Owned by the
// caller; one per thread.
class BlockCache {
 public:
  explicit BlockCache(size_t capacity = 4) : capacity_(capacity) {}
  // The cached plain contents of block n, or null.
  const std::string* Find(uint64_t n);
  // Stores block n's plain contents (evicting the least recently used one)
  // and returns them.
  const std::string* Put(uint64_t n, std::string plain);

 private:
  size_t capacity_;
  uint64_t clock_ = 0;
  struct Slot {
    uint64_t block;
    uint64_t used;
    std::string plain;
  };
  std::vector<Slot> slots_;
};

class ContainerReader {
 public:
  // `most_kdf`: the most Argon2id cost a password store's header may ask
  // for (OpenDataKey); more is Refused before any key derivation.
  static Result<std::unique_ptr<ContainerReader>> Open(
      const std::string& path, const KeySource& key,
      const KdfParams& most_kdf = KdfParams::ReaderDefault());
  // The same, on any source (a file the caller opened, an object).
  static Result<std::unique_ptr<ContainerReader>> Open(
      std::unique_ptr<StoreSource> source, const KeySource& key,
      const KdfParams& most_kdf = KdfParams::ReaderDefault());

  const Header& header() const { return header_; }
  const StoreIndex& index() const { return index_; }
  bool encrypted() const { return codec_.encrypted(); }
  // What seals the blocks (required feature bit 2); meaningful only when
  // encrypted().
  BlockCipher cipher() const { return codec_.cipher(); }
  // kExternal: the catalog of a store whose contents live outside this file
  // (required feature bit 1); it has no data blocks and no content records.
  ContentLocation content_location() const {
    return (header_.required_features & kFeatureExternalContent) != 0
               ? ContentLocation::kExternal
               : ContentLocation::kInContainer;
  }
  uint64_t file_size() const { return source_->size(); }
  // Bytes read from the source so far, by every thread.
  uint64_t bytes_read() const { return source_->bytes_read(); }
  // The source's StoreSource::parallel_reads().
  int parallel_reads() const { return source_->parallel_reads(); }

  // Blocks before the index block.
  uint64_t block_count() const { return index_.blocks.size(); }
  uint64_t block_offset(uint64_t n) const { return offsets_[n]; }
  // Reads and opens block n into *plain.
  // REQUIRES: n < block_count()
  Status ReadBlock(uint64_t n, std::string* plain) const;
  // Reads and opens block n, which must be a data block (Corruption if it is
  // missing or of another type): what a caller that keeps its own cache of
  // decoded blocks hands to ReadContentData through a DataBlockFetch.
  Status ReadDataBlock(uint64_t n, std::string* plain) const;
  // Reads and authenticates data block n without decoding it: its codec
  // bytes and header, for BlockCodec::SealEncoded to seal into another
  // store (an incremental capture's copies of its base's blocks).
  Status ReadDataBlockEncoded(uint64_t n, std::string* encoded,
                              FrameHeader* header) const;

  // A store property (see docs/format.md "Properties"), if set.
  std::optional<std::string_view> property(std::string_view key) const;
  const std::string* owner_name(uint32_t uid) const;
  const std::string* group_name(uint32_t gid) const;

  // Catalog segment i, decoded and checked against the index: its key range,
  // count, profile and content numbers.
  Result<std::vector<Entry>> ReadCatalogSegment(size_t i) const;
  // The entry for (profile, path): nullopt when the store has none. Reads one
  // catalog segment.
  Result<std::optional<Entry>> FindEntry(uint32_t profile,
                                         std::string_view path) const;

  // Every registry record the store holds (docs/format.md "Registry
  // segment"), in key order; empty for a store without any. Reads every
  // registry segment, checking order across them and the profile numbers.
  Result<std::vector<RegistryRecord>> ReadRegistry() const;
  bool has_registry() const;

  Result<std::vector<Content>> ReadContentSegment(size_t i) const;
  // Content record `id`, as stored: it does not know the entry it is for.
  Result<Content> ReadContent(uint64_t id) const;
  // The content of file entry `e`, checked against it: its size must be the
  // entry's (Corruption otherwise). What a restore uses.
  Result<Content> ReadContentFor(const Entry& e) const;
  // The check ReadContentFor makes, for a caller that read content record
  // *e.content in bulk (ReadContentSegment): Corruption unless `c` is the
  // content of file entry `e`.
  static Status CheckContentFor(const Entry& e, const Content& c);
  // The rule for hard-link groups (docs/format.md, "link_group"): the
  // members of a group are one file under several names, so they must
  // agree on what belongs to the file rather than to a name: content
  // record, size, modification time, mode, owner, group and, in a catalog
  // with external content, inode. Corruption naming what differs when
  // `member` disagrees with `first`, an earlier member of its group.
  static Status CheckLinkGroupMember(const Entry& first, const Entry& member);

  // Streams the stored bytes of `content` (its data ranges' bytes, in order)
  // to `sink`, then checks their hash. Bytes reach the sink before the hash
  // is known: a caller must not treat them as good until this returns OK.
  // `cache`, when given, is used and filled with the blocks read.
  Status ReadContentData(const Content& content,
                         const std::function<Status(std::string_view)>& sink,
                         BlockCache* cache = nullptr) const;
  // ReadContentData with the data blocks supplied by the caller:
  // `fetch(n)` returns data block n's plain contents as ReadDataBlock
  // decodes them (a restore shares decoded blocks between threads so each is
  // opened once). The chunks are still checked against the blocks, and the
  // hash at the end. (Its own name: a nullptr cache would make an overload
  // ambiguous.)
  using DataBlockFetch =
      std::function<Result<std::shared_ptr<const std::string>>(uint64_t)>;
  Status ReadContentDataFrom(
      const Content& content,
      const std::function<Status(std::string_view)>& sink,
      const DataBlockFetch& fetch) const;
  // The whole logical file, holes as zeros: for tests and small files, at
  // most kMaxFileBytesInMemory (InvalidArgument beyond; stream instead).
  static constexpr uint64_t kMaxFileBytesInMemory = uint64_t{64} << 20;
  Result<std::string> ReadFileBytes(const Content& content,
                                    BlockCache* cache = nullptr) const;

 private:
  ContainerReader(std::unique_ptr<StoreSource> source, Header header,
                  BlockCodec codec)
      : source_(std::move(source)), header_(header), codec_(std::move(codec)) {}

  Status LoadIndex();
  // The loop both ReadContentData overloads share: chunks in order, each
  // checked against its block's plain contents, hashed, then the hash.
  static Status StreamContent(
      const Content& content,
      const std::function<Status(std::string_view)>& sink,
      const std::function<Result<const std::string*>(uint64_t)>& block);
  // Corruption unless the index lists block n with this type.
  Status CheckIndexType(uint64_t n, BlockType type) const;
  Status ReadTypedBlock(uint64_t n, BlockType type, std::string* plain) const;

  std::unique_ptr<StoreSource> source_;
  Header header_;
  BlockCodec codec_;
  StoreIndex index_;
  std::vector<uint64_t> offsets_;  // file offset of each block
};

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_CONTAINER_READER_H_
