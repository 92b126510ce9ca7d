// Catalog records: entries, segments, content records, the index block.

#include <gtest/gtest.h>

#include "format/catalog_codec.h"
#include "format/coding.h"
#include "format/layout.h"
#include "format/limits.h"
#include "format/store_index.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

using testing::MakeDir;
using testing::MakeFifo;
using testing::MakeFile;
using testing::MakeSymlink;

std::vector<Entry> RichEntries() {
  std::vector<Entry> out;
  for (const MemoryFile& f : testing::RichStore().files) {
    Entry e = f.entry;
    if (e.type == EntryType::kFile && e.size > 0) e.content = out.size();
    out.push_back(std::move(e));
  }
  return out;
}

TEST(CatalogSegment, RoundTripsEveryKindOfEntry) {
  std::vector<Entry> entries = RichEntries();
  bool has_4095 = false, has_newline = false, has_non_utf8 = false;
  for (const Entry& e : entries) {
    ASSERT_OK(ValidateEntry(e));
    has_4095 |= e.path.size() == 4095;
    has_newline |= e.path.find('\n') != std::string::npos;
    has_non_utf8 |= e.path.find('\xff') != std::string::npos;
  }
  ASSERT_TRUE(has_4095 && has_newline && has_non_utf8);
  auto back = DecodeCatalogSegment(EncodeCatalogSegment(entries));
  ASSERT_OK(back);
  EXPECT_EQ(*back, entries);
}

TEST(CatalogSegment, PrefixCompressionKeepsSiblingsCheap) {
  std::vector<Entry> entries;
  for (int i = 0; i < 1000; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name),
                  "home/alice/Documents/projects/report-%04d.txt", i);
    entries.push_back(MakeFile(1, name, "").entry);
  }
  std::string plain = EncodeCatalogSegment(entries);
  // ~45-byte paths cost a few bytes each after the first.
  EXPECT_LT(plain.size(), entries.size() * 30);
  auto back = DecodeCatalogSegment(plain);
  ASSERT_OK(back);
  EXPECT_EQ(*back, entries);
}

TEST(CatalogSegment, RejectsMalformedSegments) {
  std::vector<Entry> entries = {MakeFile(1, "a", "").entry,
                                MakeFile(1, "b", "").entry};
  std::string good = EncodeCatalogSegment(entries);
  EXPECT_TRUE(DecodeCatalogSegment(good + "x").status().IsCorruption());
  EXPECT_TRUE(DecodeCatalogSegment(good.substr(0, good.size() - 1))
                  .status()
                  .IsCorruption());
  std::swap(entries[0], entries[1]);
  EXPECT_TRUE(DecodeCatalogSegment(EncodeCatalogSegment(entries))
                  .status()
                  .IsCorruption());
  entries[1] = entries[0];
  EXPECT_TRUE(DecodeCatalogSegment(EncodeCatalogSegment(entries))
                  .status()
                  .IsCorruption());
  // A count larger than the bytes could hold.
  std::string lie;
  PutVarint(&lie, 60000);
  EXPECT_TRUE(
      DecodeCatalogSegment(lie + good.substr(1)).status().IsCorruption());
}

TEST(CatalogSegment, RejectsUnknownFieldBits) {
  std::string plain;
  PutVarint(&plain, 1);
  EncodeEntryPath("a", "", &plain);
  Entry e = MakeFile(0, "a", "").entry;
  std::string body;
  EncodeEntryBody(e, &body);
  // Body: profile varint, type byte, then the field bits (none set here).
  ASSERT_EQ(body[2], 0);
  EXPECT_TRUE(DecodeCatalogSegment(plain + body).ok());
  // Field bit 9, which no version defines: varint 0x80 0x04.
  std::string unknown = body;
  unknown[2] = static_cast<char>(0x80);
  unknown.insert(3, 1, '\x04');
  Status s = DecodeCatalogSegment(plain + unknown).status();
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("unknown entry field bits"), std::string::npos)
      << s.ToString();
  // Field bit 8 (inode) is known, but only in an external-content catalog.
  std::string inode = body;
  inode[2] = static_cast<char>(0x80);
  inode.insert(3, 1, '\x02');
  inode += '\x07';  // the inode: 7
  s = DecodeCatalogSegment(plain + inode).status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  auto external =
      DecodeCatalogSegment(plain + inode, ContentLocation::kExternal);
  ASSERT_OK(external);
  EXPECT_EQ((*external)[0].inode, std::optional<uint64_t>(7));
}

TEST(CatalogSegment, ExternalContentEntriesRoundTrip) {
  Entry e = MakeFile(0, "a", "").entry;
  e.size = 12;  // a file with data, which lives outside the catalog
  e.inode = 123456789;
  EXPECT_OK(ValidateEntry(e, ContentLocation::kExternal));
  EXPECT_TRUE(ValidateEntry(e).IsCorruption()) << "no content, and an inode";
  auto back = DecodeCatalogSegment(EncodeCatalogSegment({e}),
                                   ContentLocation::kExternal);
  ASSERT_OK(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], e);
  e.content = 0;
  EXPECT_TRUE(ValidateEntry(e, ContentLocation::kExternal).IsCorruption())
      << "a content reference in an external-content catalog";
}

TEST(Entry, ValidationRefusesImpossibleEntries) {
  auto bad = [](Entry e) { return ValidateEntry(e).IsCorruption(); };
  Entry file = MakeFile(1, "f", "data").entry;
  file.content = 0;
  ASSERT_OK(ValidateEntry(file));
  Entry e = file;
  e.path = "";
  EXPECT_TRUE(bad(e));
  e.path = std::string(4096, 'p');
  EXPECT_TRUE(bad(e));
  e.path = std::string("a\0b", 3);
  EXPECT_TRUE(bad(e));
  e = file;
  e.content.reset();
  EXPECT_TRUE(bad(e)) << "a non-empty file without content";
  e = file;
  e.mode = 010000;
  EXPECT_TRUE(bad(e));
  Entry dir = MakeDir(1, "d").entry;
  dir.content = 3;
  EXPECT_TRUE(bad(dir));
  dir = MakeDir(1, "d").entry;
  dir.link_group = 2;
  EXPECT_TRUE(bad(dir));
  Entry link = MakeSymlink(1, "l", "").entry;
  EXPECT_TRUE(bad(link)) << "a symlink without a target";
  link = MakeSymlink(1, "l", std::string(4096, 't')).entry;
  EXPECT_TRUE(bad(link));
  link = MakeSymlink(1, "l", std::string("a\0b", 3)).entry;
  EXPECT_TRUE(bad(link));
  // The decoder applies the same rule to what it reads.
  EXPECT_TRUE(DecodeCatalogSegment(EncodeCatalogSegment({link}))
                  .status()
                  .IsCorruption());
  Entry fifo = MakeFifo(1, "p").entry;
  fifo.set_symlink_target("x");
  EXPECT_TRUE(bad(fifo));
  Entry x = MakeFile(1, "x", "").entry;
  x.set_xattrs({{"", "v"}});
  EXPECT_TRUE(bad(x));
  x.set_xattrs({{"user.a", std::string(limits::kMaxXattrValue + 1, 'v')}});
  EXPECT_TRUE(bad(x));
  x.mutable_xattrs().assign(
      20, Xattr{"user.big", std::string(limits::kMaxXattrValue, 'v')});
  EXPECT_TRUE(bad(x)) << "xattrs over the per-entry total";
}

Content DenseContent() {
  Content c;
  c.size = 10000;
  c.hash[0] = 0xab;
  c.chunks = {{3, 100, 4000}, {4, 0, 6000}};
  return c;
}

TEST(ContentSegment, RoundTripsDenseSparseAndAllHoles) {
  std::vector<Content> contents;
  contents.push_back(DenseContent());
  Content sparse;
  sparse.size = uint64_t{1} << 40;
  sparse.sparse = true;
  sparse.ranges = {
      {0, 4096}, {uint64_t{1} << 30, 8192}, {(uint64_t{1} << 40) - 10, 10}};
  sparse.chunks = {{9, 0, 12298}};
  contents.push_back(sparse);
  Content holes;
  holes.size = 1 << 20;
  holes.sparse = true;
  contents.push_back(holes);
  std::string plain;
  PutVarint(&plain, contents.size());
  for (const Content& c : contents) EncodeContent(c, &plain);
  auto back = DecodeContentSegment(plain);
  ASSERT_OK(back);
  EXPECT_EQ(*back, contents);
}

TEST(ContentSegment, RejectsInconsistentRecords) {
  auto decode_one = [](const Content& c) {
    std::string plain;
    PutVarint(&plain, 1);
    EncodeContent(c, &plain);
    return DecodeContentSegment(plain).status();
  };
  Content c = DenseContent();
  c.chunks[1].length = 5999;
  EXPECT_TRUE(decode_one(c).IsCorruption()) << "chunks short of the size";
  c = DenseContent();
  c.sparse = true;
  c.ranges = {{0, 5000}, {4000, 5000}};
  EXPECT_TRUE(decode_one(c).IsCorruption()) << "overlapping ranges";
  c.ranges = {{0, 5000}, {5000, 5000}};
  EXPECT_TRUE(decode_one(c).IsCorruption()) << "touching ranges are one range";
  c.ranges = {{6000, 5000}};
  c.chunks = {{1, 0, 5000}};
  EXPECT_TRUE(decode_one(c).IsCorruption()) << "a range past the end";
  c = DenseContent();
  c.chunks[0].length = 0;
  EXPECT_TRUE(decode_one(c).IsCorruption()) << "an empty chunk";
}

StoreIndex SampleIndex() {
  StoreIndex x;
  x.properties = {{"a", "1"}, {"b", std::string("\0\xff", 2)}};
  x.profiles = {testing::MakeProfile("alice", "home/alice", 1001)};
  x.owner_names = {{0, "root"}, {1001, "alice"}};
  x.group_names = {{1001, "alice"}};
  x.blocks = {{1, 100}, {1, 200}, {0x80, 50}, {3, 40},
              {2, 60},  {2, 70},  {3, 30}};
  x.content_count = 5;
  x.content_segments = {{3, 4, 0}, {6, 1, 4}};
  x.entry_count = 7;
  x.catalog_segments = {{4, 3, 0, "ProgramData"}, {5, 4, 1, "home/alice/x"}};
  return x;
}

// The bytes the block table says lie between the header and the index.
uint64_t Span(const StoreIndex& x) {
  uint64_t n = 0;
  for (const BlockInfo& b : x.blocks) n += b.frame_len;
  return n;
}

TEST(StoreIndexCodec, RoundTrips) {
  StoreIndex x = SampleIndex();
  auto back = DecodeStoreIndex(EncodeStoreIndex(x), Span(x));
  ASSERT_OK(back);
  EXPECT_EQ(*back, x);
}

TEST(StoreIndexCodec, RejectsBlocksItMustNotSkipAndInconsistentTables) {
  StoreIndex x = SampleIndex();
  x.blocks[2].type = 0x06;
  Status s = DecodeStoreIndex(EncodeStoreIndex(x), Span(x)).status();
  EXPECT_TRUE(s.IsUnsupportedVersion()) << s.ToString();
  x.blocks[2].type = 0x7f;
  EXPECT_TRUE(DecodeStoreIndex(EncodeStoreIndex(x), Span(x))
                  .status()
                  .IsUnsupportedVersion());
  x.blocks[2].type = 0xff;  // skippable
  EXPECT_TRUE(DecodeStoreIndex(EncodeStoreIndex(x), Span(x)).ok());
  x.blocks[2].type = 0;
  EXPECT_TRUE(
      DecodeStoreIndex(EncodeStoreIndex(x), Span(x)).status().IsCorruption());
  x.blocks[2].type = 4;
  EXPECT_TRUE(
      DecodeStoreIndex(EncodeStoreIndex(x), Span(x)).status().IsCorruption());

  auto corrupt = [](StoreIndex y) {
    return DecodeStoreIndex(EncodeStoreIndex(y), Span(y))
        .status()
        .IsCorruption();
  };
  StoreIndex y = SampleIndex();
  y.content_segments[0].block = 4;  // a catalog block
  EXPECT_TRUE(corrupt(y));
  y = SampleIndex();
  y.content_count = 6;  // the segments hold 5
  EXPECT_TRUE(corrupt(y));
  y = SampleIndex();
  y.content_segments[1].record_count = 0;
  EXPECT_TRUE(corrupt(y));
  y = SampleIndex();
  y.entry_count = 8;
  EXPECT_TRUE(corrupt(y));
  y = SampleIndex();
  std::swap(y.catalog_segments[0], y.catalog_segments[1]);
  EXPECT_TRUE(corrupt(y));
  y = SampleIndex();
  y.catalog_segments[1].block = 9;
  EXPECT_TRUE(corrupt(y));
  y = SampleIndex();
  y.owner_names = {{5, "a"}, {5, "b"}};
  EXPECT_TRUE(corrupt(y));
  y = SampleIndex();
  y.properties = {{"b", ""}, {"a", ""}};
  EXPECT_TRUE(corrupt(y));
  y = SampleIndex();
  y.catalog_segments[1].first_profile = 2;  // only one profile
  EXPECT_TRUE(corrupt(y));
  EXPECT_TRUE(DecodeStoreIndex(EncodeStoreIndex(SampleIndex()) + "z",
                               Span(SampleIndex()))
                  .status()
                  .IsCorruption());
}

TEST(StoreIndexCodec, TheBlockTableMustSpanExactlyTheBytesBeforeTheIndex) {
  StoreIndex x = SampleIndex();
  const std::string plain = EncodeStoreIndex(x);
  EXPECT_TRUE(DecodeStoreIndex(plain, Span(x)).ok());
  EXPECT_TRUE(DecodeStoreIndex(plain, Span(x) + 1).status().IsCorruption());
  EXPECT_TRUE(DecodeStoreIndex(plain, Span(x) - 1).status().IsCorruption());
  // A table claiming millions of blocks in a small file is refused as soon
  // as the lengths pass the file's span, before it is all decoded.
  StoreIndex huge;
  huge.blocks.assign(1 << 20, BlockInfo{1, 24});
  Status s = DecodeStoreIndex(EncodeStoreIndex(huge), 4096).status();
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("exceed"), std::string::npos) << s.ToString();
}

TEST(StoreIndexCodec, FindsTheSegmentOfAContent) {
  StoreIndex x = SampleIndex();
  EXPECT_EQ(ContentSegmentOf(x, 0), 0u);
  EXPECT_EQ(ContentSegmentOf(x, 3), 0u);
  EXPECT_EQ(ContentSegmentOf(x, 4), 1u);
}

TEST(Decoders, ExpansionIsBoundedNotJustSize) {
  // Prefix compression: each entry shares 4000 bytes with the previous and
  // adds five, so ~23 bytes on disk stand for 4005 bytes of path.
  std::vector<Entry> entries;
  std::string base(4000, 'p');
  for (int i = 0; i < 9000; ++i) {
    char tail[8];
    std::snprintf(tail, sizeof(tail), "%05d", i);
    entries.push_back(MakeFile(1, base + tail, "").entry);
  }
  std::string plain = EncodeCatalogSegment(entries);
  EXPECT_LT(plain.size(), 250000u);  // 36 MB of paths
  Status s = DecodeCatalogSegment(plain).status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Many xattrs of one byte each, over several entries.
  entries.clear();
  for (int i = 0; i < 70; ++i) {
    Entry e = MakeFile(1, "f" + std::to_string(1000 + i), "").entry;
    for (int k = 0; k < 1000; ++k)
      e.mutable_xattrs().push_back({"u" + std::to_string(k), ""});
    entries.push_back(e);
  }
  EXPECT_TRUE(DecodeCatalogSegment(EncodeCatalogSegment(entries))
                  .status()
                  .IsCorruption());
}

}  // namespace
}  // namespace migstore::format
