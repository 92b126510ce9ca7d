// The store I/O seam (format/store_io.h) with the in-memory sink and source
// (format/memory_io.h): a container written and read without a file, and
// what the writer and reader do when the place a store lives fails: an
// error at any byte or a crash before commit publishes nothing; a read
// error or a short read costs only the files whose bytes it touches.

#include <gtest/gtest.h>

#include <set>

#include "format/container_reader.h"
#include "format/container_writer.h"
#include "format/layout.h"
#include "format/memory_io.h"
#include "format/memory_store.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

const char kName[] = "mem://stores/pc42.mig";

KeySource Key() { return KeySource::Password(SecretBytes::Copy("pw")); }

Status Write(MemoryBucket* bucket, IoFaults faults = {},
             bool overwrite = false) {
  return WriteMemoryStore(
      std::make_unique<MemorySink>(bucket, kName, overwrite, faults), Key(),
      testing::RichStore(), testing::QuickOptions());
}

TEST(StoreIo, AContainerGoesThroughTheSeamAndComesBackExactly) {
  MemoryBucket bucket;
  ASSERT_OK(Write(&bucket));
  ASSERT_EQ(bucket.count(), 1u);
  auto source = MemorySource::Open(bucket, kName);
  ASSERT_OK(source);
  auto reader = ContainerReader::Open(std::move(*source), Key());
  ASSERT_OK(reader);
  auto got = ReadMemoryStore(**reader);
  ASSERT_OK(got);
  NormalizeMemoryStore(&*got);
  MemoryStore want = testing::RichStore();
  NormalizeMemoryStore(&want);
  EXPECT_EQ(*got, want);
  EXPECT_EQ((*reader)->file_size(), bucket.Get(kName)->size());

  // Without overwrite, a second store under the name is refused at commit,
  // and the first one stays.
  const std::string first = *bucket.Get(kName);
  Status again = Write(&bucket);
  EXPECT_TRUE(again.IsAlreadyExists()) << again.ToString();
  EXPECT_EQ(*bucket.Get(kName), first);
  ASSERT_OK(Write(&bucket, {}, /*overwrite=*/true));
  EXPECT_NE(*bucket.Get(kName), first);
}

TEST(StoreIo, AWriteErrorAtAnyByteOrACrashBeforeCommitPublishesNothing) {
  MemoryBucket sized;
  ASSERT_OK(Write(&sized));
  const uint64_t size = sized.Get(kName)->size();
  ASSERT_GT(size, 4096u);
  // Every byte of the first few hundred (header, first blocks), then 200
  // spread over the rest, the last byte included.
  std::set<uint64_t> at;
  for (uint64_t n = 0; n < 300; ++n) at.insert(n);
  for (uint64_t k = 0; k <= 200; ++k) at.insert((size - 1) * k / 200);
  for (uint64_t n : at) {
    MemoryBucket bucket;
    IoFaults f;
    f.error_at = n;
    Status s = Write(&bucket, f);
    ASSERT_TRUE(s.IsIOError()) << "error at byte " << n << ": " << s.ToString();
    EXPECT_NE(s.ToString().find(kName), std::string::npos) << s.ToString();
    ASSERT_EQ(bucket.count(), 0u) << "error at byte " << n;
  }
  MemoryBucket bucket;
  IoFaults crash;
  crash.fail_commit = true;
  EXPECT_TRUE(Write(&bucket, crash).IsIOError());
  EXPECT_EQ(bucket.count(), 0u);

  // A writer dropped before Finish leaves nothing either.
  {
    auto w = ContainerWriter::Create(
        std::make_unique<MemorySink>(&bucket, kName, false), Key(),
        testing::QuickOptions().writer);
    ASSERT_OK(w);
    ASSERT_OK((*w)->SetProperty("host", "pc42"));
  }
  EXPECT_EQ(bucket.count(), 0u);
}

// Reads every file of RichStore from `reader`: how many read back right;
// any other outcome must be a failure of kind `want` naming the store, and
// a file that reads must read exactly.
struct ReadOutcome {
  size_t good = 0;
  size_t failed = 0;
};
ReadOutcome ReadAll(const ContainerReader& reader, bool want_io_error) {
  ReadOutcome out;
  BlockCache cache;
  for (const MemoryFile& f : testing::RichStore().files) {
    if (f.entry.type != EntryType::kFile) continue;
    auto e = reader.FindEntry(f.entry.profile, f.entry.path);
    Result<std::string> bytes = std::string();
    if (!e.ok()) {
      bytes = e.status();
    } else if (!e->has_value()) {
      ADD_FAILURE() << f.entry.path << " is missing";
      continue;
    } else if ((*e)->content) {
      auto c = reader.ReadContentFor(**e);
      bytes = c.ok() ? reader.ReadFileBytes(*c, &cache) : c.status();
    }
    if (bytes.ok()) {
      EXPECT_EQ(*bytes, f.data) << f.entry.path;
      ++out.good;
      continue;
    }
    ++out.failed;
    const Status& s = bytes.status();
    EXPECT_TRUE(want_io_error ? s.IsIOError() : s.IsCorruption())
        << f.entry.path << ": " << s.ToString();
    EXPECT_NE(s.ToString().find(kName), std::string::npos) << s.ToString();
  }
  return out;
}

TEST(StoreIo, AReadErrorOrAShortReadCostsOnlyTheBlockItTouches) {
  MemoryBucket bucket;
  ASSERT_OK(Write(&bucket));
  auto pristine =
      ContainerReader::Open(*MemorySource::Open(bucket, kName), Key());
  ASSERT_OK(pristine);
  const ContainerReader& p = **pristine;
  const ReadOutcome all = ReadAll(p, true);
  ASSERT_EQ(all.failed, 0u);
  ASSERT_GT(p.block_count(), 3u);

  for (bool short_read : {false, true}) {
    for (uint64_t b = 0; b < p.block_count(); ++b) {
      IoFaults f;
      const uint64_t at = p.block_offset(b) + 7;
      (short_read ? f.short_at : f.error_at) = at;
      auto r =
          ContainerReader::Open(*MemorySource::Open(bucket, kName, f), Key());
      const bool data =
          p.index().blocks[b].type == static_cast<uint8_t>(BlockType::kData);
      if (!r.ok()) {
        // Only a block the open itself reads may fail it: the index is
        // past every block here, so none of these.
        ADD_FAILURE() << "block " << b << ": " << r.status().ToString();
        continue;
      }
      ReadOutcome o = ReadAll(**r, !short_read);
      EXPECT_EQ(o.good + o.failed, all.good);
      if (data) {
        // A catalog or content segment may hold every file's record; a
        // data block holds only some files' bytes.
        EXPECT_GT(o.good, 0u) << "block " << b << " cost every file";
        EXPECT_GT(o.failed, 0u) << "block " << b << " went unseen";
      }
    }
  }

  // The header, the index and the trailer are read by the open: a failure
  // there fails it, with the same kinds.
  const uint64_t size = p.file_size();
  for (uint64_t at : {uint64_t{3}, uint64_t{kHeaderSize - 1}, size - 3}) {
    IoFaults e;
    e.error_at = at;
    auto r =
        ContainerReader::Open(*MemorySource::Open(bucket, kName, e), Key());
    ASSERT_FALSE(r.ok()) << at;
    EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
    IoFaults s;
    s.short_at = at;
    r = ContainerReader::Open(*MemorySource::Open(bucket, kName, s), Key());
    ASSERT_FALSE(r.ok()) << at;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  }
  EXPECT_TRUE(
      MemorySource::Open(bucket, "mem://nothing").status().IsNotFound());
}

}  // namespace
}  // namespace migstore::format
