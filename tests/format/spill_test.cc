// The scratch file (SpillFile) and the writer that spills to it: sorted
// catalog runs and content segments go to disk past their memory and come
// back as the very store an unbounded writer makes; the file has no name,
// and damage to it is found.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "engine/base/deterministic_random.h"
#include "format/container_reader.h"
#include "format/container_writer.h"
#include "format/memory_io.h"
#include "format/memory_store.h"
#include "format/spill_file.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

using testing::MakeFile;
using testing::TempDir;

TEST(SpillFile, PiecesComeBackAndTheFileHasNoName) {
  TempDir dir;
  auto spill = SpillFile::Create({dir.path()});
  ASSERT_OK(spill);
  EXPECT_EQ((*spill)->dir(), dir.path());
  DeterministicRandom gen(1);
  std::vector<std::string> plain;
  std::vector<SpillFile::Piece> pieces;
  for (size_t n : {0, 1, 100, 65536, 300000}) {
    plain.push_back(gen.Text(n));
    auto p = (*spill)->Write(plain.back());
    ASSERT_OK(p);
    pieces.push_back(*p);
  }
  EXPECT_TRUE(testing::ListDir(dir.path()).empty())
      << "a scratch file must be nameless";
  // Out of order, and twice.
  for (size_t i : {4, 2, 0, 3, 1, 4}) {
    std::string got = "stale";
    ASSERT_OK((*spill)->Read(pieces[i], &got));
    EXPECT_EQ(got, plain[i]) << i;
  }
  // Text is compressed, and what is on disk is not the text.
  EXPECT_LT((*spill)->size(), 366000u / 2);
}

TEST(SpillFile, DamageAndSwappedPiecesAreFound) {
  TempDir dir;
  auto spill = SpillFile::Create({dir.path()});
  ASSERT_OK(spill);
  auto a = (*spill)->Write("first piece of the run");
  auto b = (*spill)->Write("second piece of the run");
  ASSERT_OK(a);
  ASSERT_OK(b);
  std::string got;
  // A piece read as another (a misplaced offset) fails its seal.
  SpillFile::Piece swapped = *b;
  swapped.number = a->number;
  EXPECT_TRUE((*spill)->Read(swapped, &got).IsCorruption());
  // One flipped byte on disk.
  char byte;
  const int fd = (*spill)->fd_for_testing();
  ASSERT_EQ(::pread(fd, &byte, 1, b->offset + b->length - 3), 1);
  byte ^= 0x20;
  ASSERT_EQ(::pwrite(fd, &byte, 1, b->offset + b->length - 3), 1);
  Status s = (*spill)->Read(*b, &got);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("scratch file"), std::string::npos)
      << s.ToString();
  ASSERT_OK((*spill)->Read(*a, &got));
  EXPECT_EQ(got, "first piece of the run");
  // Cut short (a full disk, a truncation).
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(b->offset + 5)), 0);
  EXPECT_FALSE((*spill)->Read(*b, &got).ok());
}

TEST(SpillFile, TheFirstDirectoryThatWorksIsUsedAndNoneIsAnIOError) {
  TempDir dir;
  auto spill = SpillFile::Create({"", dir / "missing", dir.path()});
  ASSERT_OK(spill);
  EXPECT_EQ((*spill)->dir(), dir.path());
  auto none = SpillFile::Create({dir / "missing", dir / "gone"});
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().IsIOError()) << none.status().ToString();
  EXPECT_NE(none.status().ToString().find("gone"), std::string::npos)
      << none.status().ToString();
}

// Files in many folders of two profiles, one in three with data (some of it
// the same), one in fifty with xattrs, in a shuffled order.
MemoryStore ManyFiles(int count) {
  MemoryStore s;
  s.profiles = {testing::MakeProfile("a", "home/a", 1),
                testing::MakeProfile("b", "home/b", 2)};
  DeterministicRandom gen(9);
  for (int i = 0; i < count; ++i) {
    char name[96];
    std::snprintf(name, sizeof(name), "home/%c/d%02d/f-%05d.txt",
                  i % 2 ? 'a' : 'b', i % 37, i);
    std::string data;
    if (i % 3 == 0) data = i % 9 == 0 ? "shared" : name + gen.Text(200);
    MemoryFile f = MakeFile(1 + i % 2, name, data);
    if (i % 50 == 0) f.entry.set_xattrs({{"user.k", gen.Bytes(20)}});
    s.files.push_back(std::move(f));
  }
  for (size_t i = s.files.size(); i > 1; --i)
    std::swap(s.files[i - 1], s.files[gen.Below(i)]);
  return s;
}

Result<MemoryStore> ReadBack(const std::string& path, const KeySource& key,
                             StoreIndex* index) {
  MIGSTORE_ASSIGN_OR_RETURN(std::unique_ptr<ContainerReader> r,
                            ContainerReader::Open(path, key));
  *index = r->index();
  return ReadMemoryStore(*r);
}

TEST(ContainerWriter, SpilledRunsMakeTheSameStoreAsMemory) {
  TempDir dir;
  const MemoryStore want_raw = ManyFiles(20000);
  SecretBytes secret = SecretBytes::Random(kKeySize);
  auto key = [&] {
    return KeySource::KeyFileSecret(SecretBytes::Copy(secret.view()));
  };
  MemoryWriteOptions held = testing::QuickOptions();
  held.writer.contents_per_segment = 256;  // many content segments
  ASSERT_OK(WriteMemoryStore(dir / "held.mig", key(), want_raw, held));
  MemoryWriteOptions spilled = held;
  // A run every ~100 entries, a content segment spilled as soon as it is
  // finished.
  spilled.writer.catalog_memory = 8 * 1024;
  spilled.writer.content_memory = 1;
  ASSERT_OK(WriteMemoryStore(dir / "spilled.mig", key(), want_raw, spilled));
  // Nothing else is left in the store's directory (the scratch file was
  // made there, nameless).
  EXPECT_EQ(testing::ListDir(dir.path()),
            (std::vector<std::string>{"held.mig", "spilled.mig"}));

  StoreIndex held_index, spilled_index;
  auto a = ReadBack(dir / "held.mig", key(), &held_index);
  auto b = ReadBack(dir / "spilled.mig", key(), &spilled_index);
  ASSERT_OK(a);
  ASSERT_OK(b);
  MemoryStore want = want_raw;
  NormalizeMemoryStore(&want);
  NormalizeMemoryStore(&*b);
  EXPECT_EQ(*b, want);
  NormalizeMemoryStore(&*a);
  EXPECT_EQ(*a, *b);
  // Cut into the same segments, at the same entries.
  EXPECT_EQ(spilled_index.entry_count, 20000u);
  ASSERT_EQ(spilled_index.catalog_segments.size(),
            held_index.catalog_segments.size());
  for (size_t i = 0; i < held_index.catalog_segments.size(); ++i) {
    EXPECT_EQ(spilled_index.catalog_segments[i].first_path,
              held_index.catalog_segments[i].first_path);
    EXPECT_EQ(spilled_index.catalog_segments[i].entry_count,
              held_index.catalog_segments[i].entry_count);
  }
  EXPECT_EQ(spilled_index.content_count, held_index.content_count);
  EXPECT_GT(spilled_index.content_segments.size(), 10u);
}

TEST(ContainerWriter, TheSamePathInTwoRunsIsRefusedAtFinish) {
  TempDir dir;
  WriterOptions o;
  o.kdf = KdfParams::Fast();
  o.catalog_memory = 1024;
  auto w = ContainerWriter::Create(dir / "s.mig", KeySource::None(), o);
  ASSERT_OK(w);
  ASSERT_OK((*w)->AddEntry(MakeFile(0, "home/x/twice", "").entry));
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(
        (*w)->AddEntry(MakeFile(0, "home/x/f" + std::to_string(i), "").entry));
  }
  EXPECT_GT((*w)->spilled_bytes(), 0u);
  ASSERT_OK((*w)->AddEntry(MakeFile(0, "home/x/twice", "").entry));
  EXPECT_EQ((*w)->entry_count(), 202u);
  Status s = (*w)->Finish();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("home/x/twice"), std::string::npos)
      << s.ToString();
  (*w)->Abandon();
  EXPECT_TRUE(testing::ListDir(dir.path()).empty());
}

TEST(ContainerWriter, AStoreWithoutALocalFileSpillsToTheTemporaryDirectory) {
  TempDir dir, tmp;
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  MemoryBucket bucket;
  MemoryWriteOptions o = testing::QuickOptions();
  o.writer.catalog_memory = 4096;
  o.writer.spill_dir = dir / "missing";  // tried first, then TMPDIR
  const MemoryStore want_raw = ManyFiles(2000);
  Status s = WriteMemoryStore(std::make_unique<MemorySink>(&bucket, "s", false),
                              KeySource::None(), want_raw, o);
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_OK(s);
  EXPECT_TRUE(testing::ListDir(tmp.path()).empty());
  auto src = MemorySource::Open(bucket, "s");
  ASSERT_OK(src);
  auto r = ContainerReader::Open(std::move(*src), KeySource::None());
  ASSERT_OK(r);
  auto got = ReadMemoryStore(**r);
  ASSERT_OK(got);
  MemoryStore want = want_raw;
  NormalizeMemoryStore(&want);
  NormalizeMemoryStore(&*got);
  EXPECT_EQ(*got, want);
}

}  // namespace
}  // namespace migstore::format
