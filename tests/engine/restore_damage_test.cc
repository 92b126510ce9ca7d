// Damaged, foreign, truncated and wrongly keyed stores: restore, extract and
// verify find the damage, and it stays local. A damaged data block (a
// flipped bit, or a block copied in from another store) costs only the
// files whose data lives in it; with continue_on_error everything else comes
// back and the lost files are named; without it the run stops at the first
// with nothing half-written. A wrong key or a store that is not one writes
// nothing at all. Extracting one file reads the catalog and its blocks only.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "engine/base/deterministic_random.h"
#include "format/container_reader.h"
#include "format/layout.h"
#include "format/memory_store.h"
#include "migstore/extract.h"
#include "migstore/key.h"
#include "migstore/restore.h"
#include "migstore/verify.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore {
namespace {

using format::MemoryStore;
using testing::MakeDir;
using testing::MakeFile;
using testing::ReadFile;
using testing::TempDir;

// Files of 3000 random bytes in 4 KiB blocks: most blocks hold parts of two
// files, so a damaged block costs exactly the files that touch it.
MemoryStore ManyFiles(int n) {
  MemoryStore s;
  DeterministicRandom gen(7);
  s.files.push_back(MakeDir(0, "d"));
  for (int i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "d/f-%03d.bin", i);
    s.files.push_back(MakeFile(0, name, gen.Bytes(3000)));
  }
  s.files.push_back(testing::MakeSymlink(0, "d/link", "f-000.bin"));
  return s;
}

std::string Write(const TempDir& dir, const std::string& name,
                  const MemoryStore& s,
                  const format::KeySource& key = format::KeySource::None()) {
  const std::string path = dir / name;
  EXPECT_OK(format::WriteMemoryStore(path, key, s, testing::QuickOptions()));
  return path;
}

std::unique_ptr<format::ContainerReader> Open(const std::string& path,
                                              const format::KeySource& key) {
  auto r = format::ContainerReader::Open(path, key);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// The store paths whose data lives (partly) in data block `block`.
std::set<std::string> FilesIn(const format::ContainerReader& r,
                              uint64_t block) {
  std::set<std::string> out;
  for (size_t s = 0; s < r.index().catalog_segments.size(); ++s) {
    auto entries = r.ReadCatalogSegment(s);
    EXPECT_TRUE(entries.ok());
    for (const format::Entry& e : *entries) {
      if (!e.content) continue;
      auto c = r.ReadContentFor(e);
      EXPECT_TRUE(c.ok());
      for (const format::Chunk& ch : c->chunks) {
        if (ch.block == block) out.insert(e.path);
      }
    }
  }
  return out;
}

// The data block holding the start of `path`'s data.
uint64_t BlockOf(const format::ContainerReader& r, const std::string& path) {
  auto e = r.FindEntry(0, path);
  EXPECT_TRUE(e.ok() && e->has_value());
  auto c = r.ReadContentFor(**e);
  EXPECT_TRUE(c.ok());
  return c->chunks[0].block;
}

void FlipBit(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char b;
  ASSERT_EQ(::pread(fd, &b, 1, static_cast<off_t>(offset)), 1);
  b = static_cast<char>(b ^ 0x10);
  ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
}

RestoreOptions Options(const std::string& store, const std::string& target,
                       const Key& key, bool continue_on_error) {
  RestoreOptions o;
  o.store_path = store;
  o.target = target;
  o.key = key;
  o.continue_on_error = continue_on_error;
  o.threads = 2;
  return o;
}

// Every regular file under `target` (no temporaries) holds exactly the
// bytes the store had for it.
void ExpectOnlyWholeFiles(const MemoryStore& s, const std::string& target) {
  EXPECT_TRUE(testing::FindTemporaries(target).empty());
  for (const format::MemoryFile& f : s.files) {
    if (f.entry.type != format::EntryType::kFile) continue;
    const std::string p = target + "/" + f.entry.path;
    if (std::filesystem::exists(p)) {
      EXPECT_EQ(ReadFile(p), f.data) << f.entry.path;
    }
  }
}

class Damage : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    store_ = ManyFiles(40);
    if (GetParam()) {
      ASSERT_OK(WriteKeyFile(dir_ / "k.key", false));
      key_ = *Key::FromKeyFile(dir_ / "k.key");
    }
    path_ = Write(dir_, "s.mig", store_, Source());
  }
  format::KeySource Source() const {
    if (!GetParam()) return format::KeySource::None();
    auto k = format::KeySource::FromKeyFile(dir_ / "k.key");
    EXPECT_TRUE(k.ok());
    return std::move(k).value();
  }

  TempDir dir_;
  MemoryStore store_;
  Key key_;
  std::string path_;
};

TEST_P(Damage, ADamagedBlockCostsOnlyTheFilesInIt) {
  auto r = Open(path_, Source());
  ASSERT_NE(r, nullptr);
  const uint64_t block = BlockOf(*r, "d/f-020.bin");
  const std::set<std::string> lost = FilesIn(*r, block);
  ASSERT_GE(lost.size(), 1u);
  ASSERT_LE(lost.size(), 3u);
  FlipBit(path_, r->block_offset(block) + format::kFrameHeaderSize + 7);

  const std::string t = dir_ / "t";
  auto report = Restore(Options(path_, t, key_, true));
  ASSERT_OK(report);
  std::set<std::string> named;
  for (const FileIssue& e : report->errors) {
    named.insert(e.path);
    EXPECT_TRUE(e.status.IsCorruption()) << e.status.ToString();
  }
  EXPECT_EQ(named, lost);
  EXPECT_EQ(report->files, 40 - lost.size());
  for (const std::string& p : lost)
    EXPECT_FALSE(std::filesystem::exists(t + "/" + p)) << p;
  ExpectOnlyWholeFiles(store_, t);
  EXPECT_EQ(std::filesystem::read_symlink(t + "/d/link"), "f-000.bin");

  // Without continue_on_error: stopped at the first, nothing half-written.
  const std::string t2 = dir_ / "t2";
  auto stopped = Restore(Options(path_, t2, key_, false));
  ASSERT_FALSE(stopped.ok());
  EXPECT_TRUE(stopped.status().IsStopped()) << stopped.status().ToString();
  ExpectOnlyWholeFiles(store_, t2);
  for (const std::string& p : lost)
    EXPECT_FALSE(std::filesystem::exists(t2 + "/" + p));

  // Extract loses the same files, no more.
  ExtractOptions x;
  x.store_path = path_;
  x.key = key_;
  x.to = dir_ / "x";
  x.continue_on_error = true;
  auto extracted = Extract(x);
  ASSERT_OK(extracted);
  EXPECT_EQ(extracted->errors.size(), lost.size());
  EXPECT_EQ(extracted->files, 40 - lost.size());
  ExpectOnlyWholeFiles(store_, dir_ / "x");

  // Verify names them.
  struct Lines : RestoreObserver {
    std::vector<std::pair<std::string, bool>> seen;
    void OnVerified(const std::string& p, const Status& s) override {
      seen.push_back({p, s.ok()});
    }
  } all, failures;
  VerifyOptions v;
  v.store_path = path_;
  v.key = key_;
  v.mode = VerifyMode::kAll;
  auto verified = Verify(v, &all);
  ASSERT_OK(verified);
  EXPECT_FALSE(verified->intact());
  EXPECT_TRUE(verified->catalog_intact);
  EXPECT_EQ(verified->files, 40u);
  EXPECT_EQ(verified->files_damaged, lost.size());
  ASSERT_EQ(all.seen.size(), 40u);
  EXPECT_EQ(all.seen[0].first, "d/f-000.bin") << "catalog order";
  for (const auto& [p, ok] : all.seen) EXPECT_EQ(ok, lost.count(p) == 0) << p;
  v.mode = VerifyMode::kFailures;
  ASSERT_OK(Verify(v, &failures));
  EXPECT_EQ(failures.seen.size(), lost.size());
  // The catalog alone is intact, and checking it reads no file data.
  v.mode = VerifyMode::kCatalog;
  auto catalog = Verify(v);
  ASSERT_OK(catalog);
  EXPECT_TRUE(catalog->intact());
  uint64_t data_bytes = 0;
  for (uint64_t b = 0; b < r->block_count(); ++b) {
    if (r->index().blocks[b].type ==
        static_cast<uint8_t>(format::BlockType::kData))
      data_bytes += r->index().blocks[b].frame_len;
  }
  EXPECT_LT(catalog->store_bytes_read, r->file_size() - data_bytes + 1);
}

TEST_P(Damage, ABlockFromAnotherStoreIsRejected) {
  // The same files written again: another store id (and data key), the
  // same block sizes.
  const std::string other = Write(dir_, "other.mig", store_, Source());
  auto a = Open(path_, Source());
  auto b = Open(other, Source());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const uint64_t block = BlockOf(*a, "d/f-010.bin");
  ASSERT_EQ(a->index().blocks[block].frame_len,
            b->index().blocks[block].frame_len);
  std::string frame = ReadFile(other).substr(
      b->block_offset(block), b->index().blocks[block].frame_len);
  {
    int fd = ::open(path_.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, frame.data(), frame.size(),
                       static_cast<off_t>(a->block_offset(block))),
              static_cast<ssize_t>(frame.size()));
    ::close(fd);
  }
  const std::set<std::string> lost = FilesIn(*a, block);
  auto report = Restore(Options(path_, dir_ / "t", key_, true));
  ASSERT_OK(report);
  std::set<std::string> named;
  for (const FileIssue& e : report->errors) named.insert(e.path);
  EXPECT_EQ(named, lost);
  ExpectOnlyWholeFiles(store_, dir_ / "t");
  VerifyOptions v;
  v.store_path = path_;
  v.key = key_;
  auto verified = Verify(v);
  ASSERT_OK(verified);
  EXPECT_EQ(verified->files_damaged, lost.size());
}

// Damage anywhere, of three kinds, on a store of many blocks: a bit flipped
// at a random position, a random range zeroed, the file cut at a random
// length. Whatever is hit (header, data, catalog, index, trailer), the
// restore either refuses the store as a whole or names every file it does
// not restore, and every file under a real name holds exactly its bytes.
TEST_P(Damage, RandomFlipsZeroedRangesAndCutsNeverYieldWrongBytes) {
  const std::string pristine = ReadFile(path_);
  DeterministicRandom gen(GetParam() ? 11 : 12);
  int refused = 0, named = 0;
  for (int trial = 0; trial < 60; ++trial) {
    std::string bytes = pristine;
    const int kind = trial % 3;
    if (kind == 0) {
      bytes[gen.Below(bytes.size())] ^= static_cast<char>(1 << gen.Below(8));
    } else if (kind == 1) {
      // A range that holds a non-zero byte, so zeroing it changes the file.
      for (;;) {
        size_t at = gen.Below(bytes.size());
        size_t n = std::min<size_t>(1 + gen.Below(4096), bytes.size() - at);
        if (bytes.find_first_not_of('\0', at) >= at + n) continue;
        std::fill_n(bytes.begin() + static_cast<ptrdiff_t>(at), n, '\0');
        break;
      }
    } else {
      bytes.resize(gen.Below(bytes.size()));
    }
    const std::string damaged = dir_ / "damaged.mig";
    testing::WriteFile(damaged, bytes);
    const std::string t = dir_ / ("t" + std::to_string(trial));
    auto report = Restore(Options(damaged, t, key_, true));
    ExpectOnlyWholeFiles(store_, t);
    if (!report.ok()) {
      ++refused;
      const Status& s = report.status();
      EXPECT_TRUE(s.IsCorruption() || s.IsNotAStore() || s.IsWrongKey() ||
                  s.IsUnsupportedVersion())
          << "trial " << trial << ": " << s.ToString();
      continue;
    }
    // A damaged catalog segment cannot name the entries it held: it is
    // named by its first path (which the index keeps) and its entry count.
    std::set<std::string> errors, segments;
    for (const FileIssue& e : report->errors) {
      errors.insert(e.path);
      if (e.status.ToString().find(" entries") != std::string::npos)
        segments.insert(e.path);
    }
    EXPECT_FALSE(errors.empty()) << "trial " << trial << ": damage unseen";
    named += !errors.empty();
    for (const format::MemoryFile& f : store_.files) {
      if (f.entry.type != format::EntryType::kFile) continue;
      if (!std::filesystem::exists(t + "/" + f.entry.path)) {
        const bool in_lost_segment =
            !segments.empty() && *segments.begin() <= f.entry.path;
        EXPECT_TRUE(errors.count(f.entry.path) || in_lost_segment)
            << "trial " << trial << ": " << f.entry.path
            << " missing without a word";
      }
    }
    std::filesystem::remove_all(t);
  }
  EXPECT_GT(named, 0) << "some damage should cost files, not the store";
  EXPECT_GT(refused, 0) << "some damage should hit what opens the store";
}

INSTANTIATE_TEST_SUITE_P(Stores, Damage, ::testing::Values(false, true),
                         [](const auto& param) {
                           return param.param ? "Encrypted" : "Plain";
                         });

TEST(RestoreDamage, AWrongKeyOrNoStoreWritesNothing) {
  TempDir dir;
  ASSERT_OK(WriteKeyFile(dir / "k.key", false));
  ASSERT_OK(WriteKeyFile(dir / "other.key", false));
  auto key = format::KeySource::FromKeyFile(dir / "k.key");
  ASSERT_OK(key);
  const std::string store = Write(dir, "s.mig", ManyFiles(3), *key);
  const std::string t = dir / "t";
  auto wrong =
      Restore(Options(store, t, *Key::FromKeyFile(dir / "other.key"), true));
  EXPECT_TRUE(wrong.status().IsWrongKey()) << wrong.status().ToString();
  auto none = Restore(Options(store, t, Key(), true));
  EXPECT_TRUE(none.status().IsWrongKey()) << none.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(t)) << "not even the target is made";

  // Truncated: the trailer is gone.
  const std::string cut = dir / "cut.mig";
  std::filesystem::copy_file(store, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  auto truncated =
      Restore(Options(cut, t, *Key::FromKeyFile(dir / "k.key"), true));
  EXPECT_TRUE(truncated.status().IsCorruption())
      << truncated.status().ToString();
  // Not a store at all.
  testing::WriteFile(dir / "notes.txt", std::string(4096, 'n'));
  auto not_store = Restore(Options(dir / "notes.txt", t, Key(), true));
  EXPECT_TRUE(not_store.status().IsNotAStore())
      << not_store.status().ToString();
  auto missing = Restore(Options(dir / "missing.mig", t, Key(), true));
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(t));
  VerifyOptions v;
  v.store_path = store;
  EXPECT_TRUE(Verify(v).status().IsWrongKey());
}

TEST(RestoreDamage, ADamagedCatalogSegmentCostsItsEntriesOnly) {
  // More entries than one catalog segment holds (4096).
  MemoryStore s;
  s.files.push_back(MakeDir(0, "a"));
  for (int i = 0; i < 4300; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "a/%05d", i);
    s.files.push_back(MakeFile(0, name, ""));
  }
  TempDir dir;
  const std::string store = Write(dir, "s.mig", s);
  auto r = Open(store, format::KeySource::None());
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->index().catalog_segments.size(), 2u);
  const format::CatalogSegmentInfo first = r->index().catalog_segments[0];
  FlipBit(store, r->block_offset(first.block) + format::kFrameHeaderSize + 3);

  auto stopped = Restore(Options(store, dir / "t0", Key(), false));
  EXPECT_TRUE(stopped.status().IsStopped());
  EXPECT_FALSE(std::filesystem::exists(dir / "t0/a"))
      << "stopped before writing";

  auto report = Restore(Options(store, dir / "t", Key(), true));
  ASSERT_OK(report);
  ASSERT_EQ(report->errors.size(), 1u);
  EXPECT_EQ(report->errors[0].path, "a") << "named by the first path it held";
  EXPECT_NE(report->errors[0].status.ToString().find(
                std::to_string(first.entry_count) + " entries"),
            std::string::npos)
      << report->errors[0].status.ToString();
  EXPECT_EQ(report->files, 4301u - first.entry_count);
  EXPECT_TRUE(std::filesystem::exists(dir / "t/a/04299"));

  VerifyOptions v;
  v.store_path = store;
  v.mode = VerifyMode::kCatalog;
  auto verified = Verify(v);
  ASSERT_OK(verified);
  EXPECT_FALSE(verified->catalog_intact);
  EXPECT_EQ(verified->entries_lost, first.entry_count);
  ASSERT_EQ(verified->catalog_damage.size(), 1u);
}

TEST(Extract, OneFileReadsTheCatalogAndItsBlocksOnly) {
  TempDir dir;
  MemoryStore s = ManyFiles(300);
  const std::string store = Write(dir, "big.mig", s);
  auto r = Open(store, format::KeySource::None());
  ASSERT_NE(r, nullptr);
  const format::StoreIndex& x = r->index();
  ASSERT_GT(x.blocks.size(), 200u);

  ExtractOptions o;
  o.store_path = store;
  o.to = dir / "out";
  o.include = {"d/f-123.bin"};
  auto report = Extract(o);
  ASSERT_OK(report);
  EXPECT_EQ(report->files, 1u);
  EXPECT_EQ(report->directories, 1u) << "the folder above it comes along";
  EXPECT_EQ(ReadFile(dir / "out/d/f-123.bin"), s.files[124].data);
  EXPECT_EQ(testing::ListDir(dir / "out/d"),
            std::vector<std::string>{"f-123.bin"});

  // Exactly: header, trailer, index, every catalog segment, the one content
  // segment that describes the file, and the data blocks holding it.
  auto e = r->FindEntry(0, "d/f-123.bin");
  ASSERT_TRUE(e.ok() && e->has_value());
  auto c = r->ReadContentFor(**e);
  ASSERT_OK(c);
  std::set<uint64_t> blocks;
  for (const format::Chunk& ch : c->chunks) blocks.insert(ch.block);
  uint64_t all_blocks = 0;
  for (const format::BlockInfo& b : x.blocks) all_blocks += b.frame_len;
  uint64_t expected = r->file_size() - all_blocks;  // header, index, trailer
  for (const format::CatalogSegmentInfo& seg : x.catalog_segments)
    expected += x.blocks[seg.block].frame_len;
  expected +=
      x.blocks[x.content_segments[format::ContentSegmentOf(x, *(*e)->content)]
                   .block]
          .frame_len;
  for (uint64_t b : blocks) expected += x.blocks[b].frame_len;
  EXPECT_EQ(report->store_bytes_read, expected);
  EXPECT_EQ(report->blocks_opened, blocks.size());
  EXPECT_LT(report->store_bytes_read, r->file_size() / 20);
}

TEST(Extract, IncludeBeatsExcludeAndExistingFilesNeedOverwrite) {
  TempDir dir;
  MemoryStore s;
  s.files = {MakeDir(0, "docs"),
             MakeFile(0, "docs/a.txt", "a"),
             MakeFile(0, "docs/b.pdf", "b"),
             MakeFile(0, "docs/keep.pdf", "k"),
             MakeDir(0, "docs/empty"),
             MakeFile(0, "other/c.txt", "c")};
  s.files[2].entry.mode = 04755;  // setuid: dropped by extract
  const std::string store = Write(dir, "s.mig", s);
  ExtractOptions o;
  o.store_path = store;
  o.to = dir / "x";
  o.exclude = {"*.pdf", "other/**"};
  auto r = Extract(o);
  ASSERT_OK(r);
  EXPECT_EQ(testing::ListDir(dir / "x/docs"),
            (std::vector<std::string>{"a.txt", "empty"}));
  EXPECT_FALSE(std::filesystem::exists(dir / "x/other"));

  // An include beats an exclude that also matches.
  o.to = dir / "y";
  o.include = {"docs/keep.pdf; *.txt"};
  r = Extract(o);
  ASSERT_OK(r);
  EXPECT_EQ(testing::ListDir(dir / "y/docs"),
            (std::vector<std::string>{"a.txt", "keep.pdf"}));
  EXPECT_EQ(ReadFile(dir / "y/other/c.txt"), "c");

  // No ownership, no setuid.
  o.to = dir / "z";
  o.include = {"docs/b.pdf"};
  o.exclude.clear();
  ASSERT_OK(Extract(o));
  struct stat st;
  ASSERT_EQ(::stat((dir / "z/docs/b.pdf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(st.st_uid, ::geteuid());

  // Something else already there: an error unless --overwrite; the same
  // file already there (an interrupted extract run again): fine.
  testing::WriteFile(dir / "z/docs/b.pdf", "changed");
  auto again = Extract(o);
  EXPECT_TRUE(again.status().IsStopped()) << again.status().ToString();
  EXPECT_EQ(ReadFile(dir / "z/docs/b.pdf"), "changed");
  o.overwrite = true;
  ASSERT_OK(Extract(o));
  EXPECT_EQ(ReadFile(dir / "z/docs/b.pdf"), "b");
  o.overwrite = false;
  auto same = Extract(o);
  ASSERT_OK(same);
  EXPECT_EQ(same->identical, 1u);

  o.include = {"[unclosed"};
  EXPECT_TRUE(Extract(o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace migstore
