// Damage to a store is detected, never crashes, never yields wrong bytes, and
// costs only what lives in the damaged block. Exhaustive over small stores:
// every single-bit flip and every truncation length.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "format/container_reader.h"
#include "format/memory_store.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

using testing::TempDir;

// What the pristine store says lives where: for each file, the catalog
// block of its entry, the content segment block and the data blocks.
struct FileHome {
  const MemoryFile* file = nullptr;
  uint64_t catalog_block = 0;
  std::optional<uint64_t> content_block;
  std::set<uint64_t> data_blocks;
};

std::vector<FileHome> MapHomes(const ContainerReader& r,
                               const MemoryStore& store) {
  std::vector<FileHome> homes;
  const StoreIndex& x = r.index();
  for (const MemoryFile& f : store.files) {
    FileHome h;
    h.file = &f;
    for (size_t i = 0; i < x.catalog_segments.size(); ++i) {
      auto entries = r.ReadCatalogSegment(i);
      EXPECT_TRUE(entries.ok());
      for (const Entry& e : *entries) {
        if (e.profile == f.entry.profile && e.path == f.entry.path) {
          h.catalog_block = x.catalog_segments[i].block;
          if (e.content) {
            h.content_block =
                x.content_segments[ContentSegmentOf(x, *e.content)].block;
            auto content = r.ReadContent(*e.content);
            EXPECT_TRUE(content.ok());
            for (const Chunk& c : content->chunks)
              h.data_blocks.insert(c.block);
          }
        }
      }
    }
    homes.push_back(std::move(h));
  }
  return homes;
}

// Which block holds byte `offset`; nullopt for the header, index or trailer.
std::optional<uint64_t> BlockAt(const ContainerReader& r, uint64_t offset) {
  for (uint64_t b = 0; b < r.block_count(); ++b) {
    if (offset >= r.block_offset(b) &&
        offset < r.block_offset(b) + r.index().blocks[b].frame_len) {
      return b;
    }
  }
  return std::nullopt;
}

// Opens the damaged store and checks every file against the damage model.
// Returns a description of the first violation, or "".
std::string CheckDamaged(const std::string& path, const KeySource& key,
                         const std::vector<FileHome>& homes,
                         std::optional<uint64_t> hit) {
  auto r = ContainerReader::Open(path, key);
  if (!hit) {
    if (r.ok()) return "opened despite damage outside every block";
    const Status& s = r.status();
    if (!s.IsCorruption() && !s.IsNotAStore() && !s.IsUnsupportedVersion()) {
      return "wrong status: " + s.ToString();
    }
    return "";
  }
  if (!r.ok())
    return "damage inside block " + std::to_string(*hit) +
           " failed the open: " + r.status().ToString();
  BlockCache cache;
  for (const FileHome& h : homes) {
    const Entry& want = h.file->entry;
    auto e = (*r)->FindEntry(want.profile, want.path);
    bool expect_lost = h.catalog_block == *hit;
    if (!e.ok() || !e->has_value()) {
      if (expect_lost && !e.ok() && e.status().IsCorruption()) continue;
      return "entry " + want.path + " lost: " + e.status().ToString();
    }
    if (expect_lost)
      return "entry " + want.path + " read from a damaged segment";
    if (!(*e)->content) continue;
    expect_lost = h.content_block == *hit || h.data_blocks.count(*hit) > 0;
    auto c = (*r)->ReadContent(*(*e)->content);
    Result<std::string> bytes =
        c.ok() ? (*r)->ReadFileBytes(*c, &cache) : c.status();
    if (bytes.ok()) {
      if (*bytes != h.file->data) return "WRONG BYTES for " + want.path;
      if (expect_lost)
        return "bytes of " + want.path + " read from a damaged block";
    } else {
      if (!bytes.status().IsCorruption())
        return "wrong status " + bytes.status().ToString();
      if (!expect_lost)
        return want.path +
               " lost to damage elsewhere: " + bytes.status().ToString();
    }
  }
  return "";
}

void FlipBit(const std::string& path, uint64_t bit) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  unsigned char c;
  ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(bit / 8)), 1);
  c ^= static_cast<unsigned char>(1 << (bit % 8));
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(bit / 8)), 1);
  ::close(fd);
}

class Damage : public ::testing::TestWithParam<bool> {
 protected:
  KeySource Key() const {
    return GetParam()
               ? KeySource::KeyFileSecret(SecretBytes::Copy(secret_.view()))
               : KeySource::None();
  }
  // The golden store in 512-byte blocks: several data blocks, one of each
  // metadata block.
  std::string Write(const std::string& path, const MemoryStore& store,
                    MemoryWriteOptions opts = testing::QuickOptions()) {
    if (opts.block_size == 4096) opts.block_size = 512;
    EXPECT_OK(WriteMemoryStore(path, Key(), store, opts));
    return path;
  }

  SecretBytes secret_ = SecretBytes::Random(kKeySize);
  TempDir dir_;
};

TEST_P(Damage, EveryBitFlipIsCaughtAndStaysInItsBlock) {
  MemoryStore store = testing::GoldenStore();
  const std::string path = Write(dir_ / "s.mig", store);
  auto pristine = ContainerReader::Open(path, Key());
  ASSERT_OK(pristine);
  ASSERT_GE((*pristine)->block_count(), 6u);
  std::vector<FileHome> homes = MapHomes(**pristine, store);
  const uint64_t size = (*pristine)->file_size();
  std::vector<std::optional<uint64_t>> block_of(size);
  for (uint64_t o = 0; o < size; ++o) block_of[o] = BlockAt(**pristine, o);
  pristine->reset();

  size_t isolated = 0;
  for (uint64_t bit = 0; bit < size * 8; ++bit) {
    FlipBit(path, bit);
    std::string violation = CheckDamaged(path, Key(), homes, block_of[bit / 8]);
    FlipBit(path, bit);
    ASSERT_EQ(violation, "")
        << "bit " << bit << " (byte " << bit / 8 << " of " << size << ")";
    isolated += block_of[bit / 8].has_value();
  }
  EXPECT_GT(isolated, size * 4) << "most of the store is blocks, each isolated";
}

TEST_P(Damage, EveryTruncationIsRefused) {
  const std::string path = Write(dir_ / "s.mig", testing::GoldenStore());
  const std::string bytes = testing::ReadFile(path);
  for (size_t len = 0; len < bytes.size(); ++len) {
    testing::WriteFile(path, bytes.substr(0, len));
    auto r = ContainerReader::Open(path, Key());
    ASSERT_FALSE(r.ok()) << len;
    const Status& s = r.status();
    ASSERT_TRUE(len < 8 ? s.IsNotAStore() : s.IsCorruption())
        << len << ": " << s.ToString();
  }
}

// Two stores with the same layout, so their frames line up byte for byte.
TEST_P(Damage, ABlockFromAnotherStoreIsRefused) {
  MemoryStore store = testing::GoldenStore();
  const std::string a = Write(dir_ / "a.mig", store);
  const std::string b = Write(dir_ / "b.mig", store);
  std::string bytes_a = testing::ReadFile(a), bytes_b = testing::ReadFile(b);
  ASSERT_EQ(bytes_a.size(), bytes_b.size());
  auto rb = ContainerReader::Open(b, Key());
  ASSERT_OK(rb);
  std::vector<FileHome> homes = MapHomes(**rb, store);
  for (uint64_t blk = 0; blk < (*rb)->block_count(); ++blk) {
    std::string spliced = bytes_b;
    uint64_t off = (*rb)->block_offset(blk),
             len = (*rb)->index().blocks[blk].frame_len;
    spliced.replace(off, len, bytes_a, off, len);
    testing::WriteFile(dir_ / "spliced.mig", spliced);
    EXPECT_EQ(CheckDamaged(dir_ / "spliced.mig", Key(), homes, blk), "")
        << "block " << blk;
  }
}

TEST_P(Damage, ABlockMovedToAnotherPositionIsRefused) {
  // Two incompressible files of exactly one block each, stored raw: their
  // frames have the same length and can be swapped.
  MemoryStore store;
  DeterministicRandom gen(11);
  store.files = {testing::MakeFile(0, "a", gen.Bytes(512)),
                 testing::MakeFile(0, "b", gen.Bytes(512))};
  const std::string path = Write(dir_ / "s.mig", store);
  auto r = ContainerReader::Open(path, Key());
  ASSERT_OK(r);
  ASSERT_EQ((*r)->index().blocks[0].frame_len,
            (*r)->index().blocks[1].frame_len);
  std::vector<FileHome> homes = MapHomes(**r, store);
  std::string bytes = testing::ReadFile(path);
  uint64_t o0 = (*r)->block_offset(0), o1 = (*r)->block_offset(1);
  uint64_t len = (*r)->index().blocks[0].frame_len;
  std::string swapped = bytes;
  swapped.replace(o0, len, bytes, o1, len);
  swapped.replace(o1, len, bytes, o0, len);
  testing::WriteFile(path, swapped);
  auto damaged = ContainerReader::Open(path, Key());
  ASSERT_OK(damaged);
  for (const FileHome& h : homes) {
    auto e = (*damaged)->FindEntry(0, h.file->entry.path);
    ASSERT_OK(e);
    auto c = (*damaged)->ReadContent(*(*e)->content);
    ASSERT_OK(c);
    Status s = (*damaged)->ReadFileBytes(*c).status();
    EXPECT_TRUE(s.IsCorruption()) << h.file->entry.path << ": " << s.ToString();
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, Damage, ::testing::Values(true, false),
                         [](const auto& p) {
                           return p.param ? "Encrypted" : "Unencrypted";
                         });

}  // namespace
}  // namespace migstore::format
