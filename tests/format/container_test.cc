// The container writer and reader together: round trips in every key mode,
// segmented catalogs, random access, the writer's contracts, open errors.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <set>

#include "format/coding.h"
#include "format/container_reader.h"
#include "format/container_writer.h"
#include "format/hash.h"
#include "format/limits.h"
#include "format/memory_store.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore::format {
namespace {

using testing::MakeFile;
using testing::TempDir;

KeySource KeyFor(int mode, const SecretBytes& secret) {
  switch (mode) {
    case 1:
      return KeySource::Password(SecretBytes::Copy("correct horse"));
    case 2:
      return KeySource::KeyFileSecret(SecretBytes::Copy(secret.view()));
    default:
      return KeySource::None();
  }
}

class ContainerRoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(ContainerRoundTrip, EverythingWrittenIsReadBackExactly) {
  TempDir dir;
  SecretBytes secret = SecretBytes::Random(kKeySize);
  MemoryStore want = testing::RichStore();
  const std::string path = dir / "s.mig";
  ASSERT_OK(WriteMemoryStore(path, KeyFor(GetParam(), secret), want,
                             testing::QuickOptions()));
  auto reader = ContainerReader::Open(path, KeyFor(GetParam(), secret));
  ASSERT_OK(reader);
  EXPECT_EQ((*reader)->encrypted(), GetParam() != 0);
  auto got = ReadMemoryStore(**reader);
  ASSERT_OK(got);
  NormalizeMemoryStore(&*got);
  EXPECT_EQ(testing::DescribeStore(*got), testing::DescribeStore(want));
  EXPECT_EQ(*got, want);

  // Identical contents and hard links are stored once.
  const StoreIndex& x = (*reader)->index();
  size_t files_with_data = 0;
  for (const MemoryFile& f : want.files) {
    files_with_data += f.entry.type == EntryType::kFile && f.entry.size > 0;
  }
  EXPECT_EQ(x.content_count, files_with_data - 2);
  EXPECT_EQ((*reader)->property("host"), "test-host");
  EXPECT_FALSE((*reader)->property("nope").has_value());
  ASSERT_NE((*reader)->owner_name(1002), nullptr);
  EXPECT_EQ(*(*reader)->owner_name(1002), "bob");
  EXPECT_EQ((*reader)->owner_name(4), nullptr);
  // The sparse file's holes cost nothing.
  auto sparse = (*reader)->FindEntry(1, "home/alice/sparse.img");
  ASSERT_OK(sparse);
  ASSERT_TRUE(sparse->has_value());
  auto c = (*reader)->ReadContentFor(**sparse);
  ASSERT_OK(c);
  EXPECT_EQ(c->stored_size(), 6000u);
  EXPECT_EQ(c->size, 1u << 20);

  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "stores are private to their owner";
}

std::string KeyModeName(const ::testing::TestParamInfo<int>& info) {
  static const char* const kNames[] = {"Unencrypted", "Password", "KeyFile"};
  return kNames[info.param];
}

INSTANTIATE_TEST_SUITE_P(KeyModes, ContainerRoundTrip,
                         ::testing::Values(0, 1, 2), KeyModeName);

TEST(Container, HundredThousandEntriesInManySegmentsAreEachFound) {
  TempDir dir;
  MemoryStore s;
  s.profiles = {testing::MakeProfile("a", "home/a", 1),
                testing::MakeProfile("b", "home/b", 2)};
  DeterministicRandom gen(5);
  for (int i = 0; i < 100000; ++i) {
    char name[96];
    std::snprintf(name, sizeof(name), "home/%c/dir%03d/file-%06d.txt",
                  i % 2 ? 'a' : 'b', i % 997, i);
    // One file in ten has (unique) data.
    s.files.push_back(
        MakeFile(1 + i % 2, name, i % 10 == 0 ? name + gen.Text(50) : ""));
  }
  NormalizeMemoryStore(&s);
  MemoryWriteOptions opts = testing::QuickOptions();
  opts.block_size = 1 << 20;
  const std::string path = dir / "big.mig";
  ASSERT_OK(WriteMemoryStore(path, KeySource::None(), s, opts));
  auto r = ContainerReader::Open(path, KeySource::None());
  ASSERT_OK(r);
  const StoreIndex& x = (*r)->index();
  EXPECT_EQ(x.entry_count, 100000u);
  EXPECT_GE(x.catalog_segments.size(), 20u);
  EXPECT_EQ(x.content_count, 10000u);
  EXPECT_EQ(x.content_segments.size(), 3u);  // 4096 records each at most
  EXPECT_EQ(x.content_segments[1].first_id, 4096u);
  for (size_t i = 0; i < s.files.size(); i += 997) {
    const Entry& want = s.files[i].entry;
    auto e = (*r)->FindEntry(want.profile, want.path);
    ASSERT_OK(e);
    ASSERT_TRUE(e->has_value()) << want.path;
    EXPECT_EQ((*e)->path, want.path);
    if (want.size > 0) {
      auto c = (*r)->ReadContent(*(*e)->content);
      ASSERT_OK(c);
      auto bytes = (*r)->ReadFileBytes(*c);
      ASSERT_OK(bytes);
      EXPECT_EQ(*bytes, s.files[i].data);
    }
  }
  for (auto [profile, missing] :
       {std::pair<uint32_t, std::string>{1, "home/a/dir000/zzz"},
        {1, "home/a/dir001/file-000001.txt"},  // wrong profile
        {1, "a"},
        {2, "zzzz"},
        {0, "home"}}) {
    auto e = (*r)->FindEntry(profile, missing);
    ASSERT_OK(e);
    EXPECT_FALSE(e->has_value()) << missing;
  }
  auto all = ReadMemoryStore(**r);
  ASSERT_OK(all);
  EXPECT_EQ(all->files.size(), 100000u);
}

TEST(Container, ReadingOneFileReadsOnlyWhatHoldsIt) {
  TempDir dir;
  MemoryStore s;
  DeterministicRandom gen(9);
  for (int i = 0; i < 64; ++i) {
    s.files.push_back(
        MakeFile(0, "f" + std::to_string(1000 + i), gen.Bytes(1 << 20)));
  }
  MemoryWriteOptions opts = testing::QuickOptions();
  opts.block_size = 1 << 20;
  const std::string path = dir / "s.mig";
  SecretBytes secret = SecretBytes::Random(kKeySize);
  ASSERT_OK(WriteMemoryStore(
      path, KeySource::KeyFileSecret(SecretBytes::Copy(secret.view())), s,
      opts));
  auto r =
      ContainerReader::Open(path, KeySource::KeyFileSecret(std::move(secret)));
  ASSERT_OK(r);
  auto e = (*r)->FindEntry(0, "f1033");
  ASSERT_OK(e);
  ASSERT_TRUE(e->has_value());
  auto c = (*r)->ReadContent(*(*e)->content);
  ASSERT_OK(c);
  auto bytes = (*r)->ReadFileBytes(*c);
  ASSERT_OK(bytes);
  EXPECT_EQ(*bytes, s.files[33].data);
  // Header, trailer, index, one catalog segment, one content segment and one
  // 1 MiB data block: a small fraction of the 64 MiB store.
  EXPECT_LT((*r)->bytes_read(), (1u << 20) + 64 * 1024)
      << "of " << (*r)->file_size();
  EXPECT_GT((*r)->file_size(), 64u << 20);
}

TEST(Container, OpenSaysWhatIsWrong) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_TRUE(ContainerReader::Open(dir / "fifo", KeySource::None())
                  .status()
                  .IsNotAStore())
      << "and does not wait for a writer";
  EXPECT_TRUE(ContainerReader::Open(dir / "missing.mig", KeySource::None())
                  .status()
                  .IsNotFound());
  EXPECT_TRUE(ContainerReader::Open(dir.path(), KeySource::None())
                  .status()
                  .IsNotAStore());
  testing::WriteFile(dir / "empty", "");
  EXPECT_TRUE(ContainerReader::Open(dir / "empty", KeySource::None())
                  .status()
                  .IsNotAStore());
  testing::WriteFile(dir / "text", "this is a text file, not a store\n");
  EXPECT_TRUE(ContainerReader::Open(dir / "text", KeySource::None())
                  .status()
                  .IsNotAStore());
  testing::WriteFile(dir / "zip",
                     std::string("PK\x03\x04", 4) + std::string(5000, 'z'));
  EXPECT_TRUE(ContainerReader::Open(dir / "zip", KeySource::None())
                  .status()
                  .IsNotAStore());
}

TEST(Container, WrongKeysAreRefusedBeforeAnyData) {
  TempDir dir;
  MemoryStore s = testing::GoldenStore();
  ASSERT_OK(WriteMemoryStore(dir / "pw.mig",
                             KeySource::Password(SecretBytes::Copy("right")), s,
                             testing::QuickOptions()));
  ASSERT_OK(WriteMemoryStore(dir / "kf.mig",
                             KeySource::KeyFileSecret(SecretBytes::Random(32)),
                             s, testing::QuickOptions()));
  auto wrong_pw = ContainerReader::Open(
      dir / "pw.mig", KeySource::Password(SecretBytes::Copy("wrong")));
  EXPECT_TRUE(wrong_pw.status().IsWrongKey()) << wrong_pw.status().ToString();
  EXPECT_TRUE(ContainerReader::Open(dir / "pw.mig", KeySource::None())
                  .status()
                  .IsWrongKey());
  EXPECT_TRUE(
      ContainerReader::Open(dir / "kf.mig",
                            KeySource::KeyFileSecret(SecretBytes::Random(32)))
          .status()
          .IsWrongKey());
  EXPECT_TRUE(
      ContainerReader::Open(dir / "kf.mig",
                            KeySource::Password(SecretBytes::Copy("right")))
          .status()
          .IsWrongKey());
}

// AES-256-GCM stores: every block the writer makes, data, catalog,
// content and index alike, is sealed with it, and the reader finds that in
// the header and reads the store back exactly.
TEST(Container, AesGcmStoresSealEveryBlockWithItAndReadBack) {
  TempDir dir;
  SecretBytes secret = SecretBytes::Random(kKeySize);
  MemoryStore want = testing::RichStore();
  MemoryWriteOptions opts = testing::QuickOptions();
  opts.writer.cipher = BlockCipher::kAes256Gcm;
  for (int mode : {1, 2}) {
    SCOPED_TRACE(mode);
    const std::string path = dir / ("s" + std::to_string(mode));
    ASSERT_OK(WriteMemoryStore(path, KeyFor(mode, secret), want, opts));
    auto reader = ContainerReader::Open(path, KeyFor(mode, secret));
    ASSERT_OK(reader);
    const ContainerReader& r = **reader;
    EXPECT_TRUE(r.encrypted());
    EXPECT_EQ(r.cipher(), BlockCipher::kAes256Gcm);
    EXPECT_EQ(r.header().required_features, kFeatureAes256Gcm);
    auto got = ReadMemoryStore(r);
    ASSERT_OK(got);
    NormalizeMemoryStore(&*got);
    EXPECT_EQ(*got, want);

    // Every frame, the index's included, opens under AES-256-GCM with the
    // store's data key and under nothing else.
    auto data_key = OpenDataKey(r.header(), KeyFor(mode, secret));
    ASSERT_OK(data_key);
    const BlockCodec aes(r.header().store_id,
                         SecretBytes::Copy(data_key->view()),
                         BlockCipher::kAes256Gcm);
    const BlockCodec xchacha(r.header().store_id,
                             SecretBytes::Copy(data_key->view()),
                             BlockCipher::kXChaCha20Poly1305);
    const std::string file = testing::ReadFile(path);
    std::set<uint8_t> types;
    const uint64_t blocks = r.block_count() + 1;  // and the index
    for (uint64_t n = 0; n < blocks; ++n) {
      const uint64_t at =
          n < r.block_count()
              ? r.block_offset(n)
              : (n == 0 ? kHeaderSize
                        : r.block_offset(n - 1) +
                              r.index().blocks[n - 1].frame_len);
      const uint64_t end = n < r.block_count()
                               ? at + r.index().blocks[n].frame_len
                               : file.size() - kTrailerSize;
      const std::string_view frame =
          std::string_view(file).substr(at, end - at);
      std::string plain;
      FrameHeader h;
      SCOPED_TRACE("block " + std::to_string(n));
      ASSERT_OK(aes.Open(n, frame, &plain, &h));
      types.insert(h.type);
      EXPECT_TRUE(xchacha.Open(n, frame, &plain).IsCorruption());
    }
    EXPECT_EQ(types, (std::set<uint8_t>{1, 2, 3, 4}))
        << "data, catalog, content and index blocks";
  }
}

// Required feature bit 2 in the header: authenticated by the key wrap in
// an encrypted store, impossible in an unencrypted one.
TEST(Container, TheCipherBitIsBoundToTheKeyAndNeedsOne) {
  TempDir dir;
  SecretBytes secret = SecretBytes::Random(kKeySize);
  MemoryStore s = testing::GoldenStore();
  auto flip_cipher_bit = [](const std::string& from, const std::string& to) {
    std::string b = testing::ReadFile(from);
    b[header::kRequiredFeatures] ^= static_cast<char>(kFeatureAes256Gcm);
    EncodeFixed64(b.data() + header::kChecksum,
                  XXH3_64bits(b.data(), header::kChecksum));
    testing::WriteFile(to, b);
  };

  // An unencrypted store claiming a cipher is damaged, not newer.
  ASSERT_OK(WriteMemoryStore(dir / "plain.mig", KeySource::None(), s,
                             testing::QuickOptions()));
  flip_cipher_bit(dir / "plain.mig", dir / "plain-aes.mig");
  auto r = ContainerReader::Open(dir / "plain-aes.mig", KeySource::None());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();

  // Switching an encrypted store's cipher either way fails the key wrap.
  for (BlockCipher cipher :
       {BlockCipher::kXChaCha20Poly1305, BlockCipher::kAes256Gcm}) {
    MemoryWriteOptions opts = testing::QuickOptions();
    opts.writer.cipher = cipher;
    const std::string name = CipherName(cipher);
    ASSERT_OK(WriteMemoryStore(dir / name, KeyFor(2, secret), s, opts));
    auto good = ContainerReader::Open(dir / name, KeyFor(2, secret));
    ASSERT_OK(good);
    EXPECT_EQ((*good)->cipher(), cipher);
    flip_cipher_bit(dir / name, dir / (name + "-flipped"));
    r = ContainerReader::Open(dir / (name + "-flipped"), KeyFor(2, secret));
    EXPECT_TRUE(r.status().IsWrongKey()) << r.status().ToString();
  }

  // A writer asked for a cipher without a key refuses to start.
  WriterOptions o;
  o.cipher = BlockCipher::kAes256Gcm;
  auto w = ContainerWriter::Create(dir / "no-key.mig", KeySource::None(), o);
  EXPECT_TRUE(w.status().IsInvalidArgument()) << w.status().ToString();
}

std::unique_ptr<ContainerWriter> NewWriter(const std::string& path,
                                           WriterOptions o = {}) {
  o.kdf = KdfParams::Fast();
  auto w = ContainerWriter::Create(path, KeySource::None(), o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? std::move(w).value() : nullptr;
}

TEST(ContainerWriter, NothingAppearsUntilFinishAndNothingIsLeftOnAbandon) {
  TempDir dir;
  const std::string path = dir / "s.mig";
  {
    auto w = NewWriter(path);
    ASSERT_OK(w->AddEntry(MakeFile(0, "x", "").entry));
    auto names = testing::ListDir(dir.path());
    ASSERT_EQ(names.size(), 1u);
    EXPECT_TRUE(IsTemporaryName(names[0])) << names[0];
    // Destroyed without Finish: abandoned.
  }
  EXPECT_TRUE(testing::ListDir(dir.path()).empty());
  auto w = NewWriter(path);
  ASSERT_OK(w->AddEntry(MakeFile(0, "x", "").entry));
  ASSERT_OK(w->Finish());
  EXPECT_EQ(testing::ListDir(dir.path()), std::vector<std::string>{"s.mig"});
}

TEST(ContainerWriter, ExistingStoresAreReplacedOnlyWhenAskedAndOnlyAtFinish) {
  TempDir dir;
  const std::string path = dir / "s.mig";
  testing::WriteFile(path, "old store");
  auto refused =
      ContainerWriter::Create(path, KeySource::None(), WriterOptions{});
  EXPECT_TRUE(refused.status().IsAlreadyExists());
  EXPECT_EQ(testing::ReadFile(path), "old store");
  WriterOptions o;
  o.overwrite = true;
  auto w = NewWriter(path, o);
  EXPECT_EQ(testing::ReadFile(path), "old store") << "replaced before Finish";
  ASSERT_OK(w->Finish());
  EXPECT_TRUE(ContainerReader::Open(path, KeySource::None()).ok());
}

TEST(ContainerWriter, ErrorsAreStickyAndTheFileIsNeverCommitted) {
  TempDir dir;
  const std::string path = dir / "s.mig";
  auto w = NewWriter(path);
  ASSERT_OK(w->AddEntry(MakeFile(0, "same", "").entry));
  ASSERT_OK(w->AddEntry(MakeFile(0, "same", "").entry));  // found when sorted
  Status s = w->Finish();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("same"), std::string::npos);
  EXPECT_TRUE(w->AddEntry(MakeFile(0, "other", "").entry).IsInvalidArgument());
  EXPECT_TRUE(w->status().IsInvalidArgument());
  EXPECT_TRUE(w->Finish().IsInvalidArgument());
  w.reset();
  EXPECT_TRUE(testing::ListDir(dir.path()).empty());
}

TEST(ContainerWriter, RefusesInconsistentCalls) {
  TempDir dir;
  {
    auto w = NewWriter(dir / "a");
    Entry e = MakeFile(0, "f", "abc").entry;
    e.content = 0;  // never added
    EXPECT_TRUE(w->AddEntry(e).IsInvalidArgument());
  }
  {
    auto w = NewWriter(dir / "b");
    Entry e = MakeFile(3, "f", "").entry;  // no such profile
    EXPECT_TRUE(w->AddEntry(e).IsInvalidArgument());
  }
  {
    auto w = NewWriter(dir / "c");
    uint64_t n0 = w->ReserveBlock();
    uint64_t n1 = w->ReserveBlock();
    std::string f1 =
        w->codec().Seal(n1, BlockType::kData, "one", SealOptions{});
    EXPECT_TRUE(w->AppendFrame(n1, f1).IsInvalidArgument()) << "out of order";
    (void)n0;
  }
  {
    auto w = NewWriter(dir / "d");
    uint64_t n = w->ReserveBlock();
    std::string sealed_for_9 =
        w->codec().Seal(9, BlockType::kData, "x", SealOptions{});
    EXPECT_FALSE(w->AppendFrame(n, sealed_for_9).ok())
        << "sealed for another number";
  }
  {
    auto w = NewWriter(dir / "e");
    (void)w->ReserveBlock();
    EXPECT_TRUE(w->Finish().IsInvalidArgument())
        << "a reserved block never appended";
  }
  {
    auto w = NewWriter(dir / "f");
    Content c;
    c.size = 10;
    c.chunks = {{0, 0, 10}};  // block 0 was never reserved
    EXPECT_TRUE(w->AddContent(c).status().IsInvalidArgument());
  }
  EXPECT_TRUE(testing::ListDir(dir.path()).empty());
}

// The writer keeps a 16-bit mark of each content's size, not the size: an
// entry whose size is its content's cut to 32 bits, or carried past them,
// is still refused.
TEST(ContainerWriter, EntriesMatchContentSizesBeyondFourGiB) {
  TempDir dir;
  int stores = 0;
  // A fresh writer (its errors are sticky) with contents of `sizes`, and an
  // entry of `entry_size` naming the content of sizes[k].
  auto add = [&](const std::vector<uint64_t>& sizes, size_t k,
                 uint64_t entry_size) {
    auto w = NewWriter(dir / ("s" + std::to_string(stores++)));
    const uint64_t n = w->ReserveBlock();
    EXPECT_TRUE(
        w->AppendFrame(n, w->codec().Seal(n, BlockType::kData, "xy", {})).ok());
    std::vector<uint64_t> ids;
    for (uint64_t size : sizes) {
      Content c;
      c.size = size;
      c.sparse = size > 2;
      if (c.sparse) c.ranges = {{size - 2, 2}};
      c.chunks = {{n, 0, 2}};
      auto id = w->AddContent(c);
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      ids.push_back(id.ok() ? *id : 0);
    }
    Entry e = MakeFile(0, "f", "").entry;
    e.content = ids[k];
    e.size = entry_size;
    return w->AddEntry(e);
  };
  const std::vector<uint64_t> sizes = {uint64_t{UINT32_MAX} - 1, UINT32_MAX,
                                       (uint64_t{5} << 32) + 7, 2};
  for (size_t k = 0; k < sizes.size(); ++k) {
    EXPECT_TRUE(add(sizes, k, sizes[k]).ok()) << sizes[k];
    // The size cut to 32 bits, or carried past them, is another size.
    EXPECT_TRUE(
        add(sizes, k, sizes[k] + (uint64_t{1} << 32)).IsInvalidArgument())
        << sizes[k];
    EXPECT_TRUE(add(sizes, k, sizes[k] & UINT32_MAX).ok() ==
                (sizes[k] <= UINT32_MAX))
        << sizes[k];
  }
}

TEST(ContainerWriter, RefusesMetadataBeyondTheLimits) {
  TempDir dir;
  {
    auto w = NewWriter(dir / "a");
    EXPECT_TRUE(w->SetProperty(std::string(300, 'k'), "v").IsInvalidArgument());
    EXPECT_TRUE(w->status().IsInvalidArgument()) << "sticky";
  }
  {
    auto w = NewWriter(dir / "b");
    EXPECT_TRUE(w->SetOwnerName(1, std::string(300, 'n')).IsInvalidArgument());
  }
  {
    auto w = NewWriter(dir / "c");
    Profile p = testing::MakeProfile("a", "home/a", 1);
    p.layout = static_cast<Layout>(7);
    EXPECT_TRUE(w->AddProfile(p).status().IsInvalidArgument());
  }
  {
    auto w = NewWriter(dir / "d");
    Content c;
    c.size = uint64_t{1} << 40;
    c.sparse = true;
    for (uint64_t i = 0; i < limits::kMaxRangesPerContent + 1; ++i)
      c.ranges.push_back({i * 2, 1});
    EXPECT_FALSE(ContainerWriter::ContentFits(c));
    EXPECT_TRUE(w->AddContent(c).status().IsInvalidArgument())
        << "refused at once, not at Finish";
  }
  EXPECT_TRUE(testing::ListDir(dir.path()).empty());
}

TEST(ContainerWriter, ContentSegmentsAreCutBySizeAsWellAsCount) {
  TempDir dir;
  const std::string path = dir / "s.mig";
  auto w = NewWriter(path);
  BlockPacker packer = BlockPacker::Serial(w.get(), 1 << 20, SealOptions{});
  // Contents of 3000 one-byte chunks each (a chunk per block, 1-byte
  // blocks): ~15 KB encoded per record, so a 1 MiB segment holds ~70.
  std::vector<uint64_t> ids;
  DeterministicRandom gen(2);
  for (int f = 0; f < 200; ++f) {
    Content c;
    std::string data = gen.Bytes(3000);
    c.size = data.size();
    c.hash = HashBytes(data);
    for (char ch : data) {
      uint64_t n = w->ReserveBlock();
      ASSERT_OK(w->AppendFrame(
          n, w->codec().Seal(n, BlockType::kData, std::string(1, ch),
                             SealOptions{})));
      c.chunks.push_back({n, 0, 1});
    }
    auto id = w->AddContent(c);
    ASSERT_OK(id);
    Entry e = MakeFile(0, "f" + std::to_string(1000 + f), data).entry;
    e.content = *id;
    ASSERT_OK(w->AddEntry(e));
  }
  ASSERT_OK(w->Finish());
  auto r = ContainerReader::Open(path, KeySource::None());
  ASSERT_OK(r);
  EXPECT_GT((*r)->index().content_segments.size(), 2u);
  auto all = ReadMemoryStore(**r);
  ASSERT_OK(all);
  EXPECT_EQ(all->files.size(), 200u);
}

TEST(BlockPacker, AReusedBufferIsFilledAfreshAndNotReallocated) {
  TempDir dir;
  auto w = NewWriter(dir / "s.mig");
  std::vector<std::string> blocks;
  BlockPacker packer(w.get(), 4096, [&](uint64_t, std::string plain) {
    blocks.push_back(std::move(plain));
    return Status::OK();
  });
  std::string spent(4096, 'x');  // a sealed block's leftover bytes
  const char* const memory = spent.data();
  packer.Reuse(std::move(spent));
  std::vector<Chunk> chunks;
  ASSERT_OK(packer.Add("abc", &chunks));
  ASSERT_OK(packer.Flush());
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0], "abc");
  EXPECT_EQ(blocks[0].data(), memory);
  // A buffer too small to hold a block is not kept.
  packer.Reuse(std::string(10, 'y'));
  ASSERT_OK(packer.Add(std::string(5000, 'z'), &chunks));
  ASSERT_OK(packer.Flush());
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[1], std::string(4096, 'z'));
  EXPECT_EQ(blocks[2], std::string(904, 'z'));
  w->Abandon();
}

TEST(Container, ReaderChecksWhatThePiecesClaim) {
  TempDir dir;
  const std::string path = dir / "s.mig";
  auto w = NewWriter(path);
  // Block 0 is a catalog-typed block no segment lists; block 1 a 5-byte data
  // block.
  ASSERT_OK(
      w->AppendBlock(BlockType::kCatalogSegment, "not data", SealOptions{}));
  ASSERT_OK(w->AppendBlock(BlockType::kData, "short", SealOptions{}));
  auto add = [&](const std::string& name, Chunk chunk) {
    Content c;
    c.size = chunk.length;
    c.chunks = {chunk};
    auto id = w->AddContent(c);
    ASSERT_OK(id);
    Entry e = MakeFile(0, name, std::string(chunk.length, 'x')).entry;
    e.content = *id;
    ASSERT_OK(w->AddEntry(e));
  };
  add("into-a-catalog-block", {0, 0, 4});
  add("past-the-block-end", {1, 2, 10});
  ASSERT_OK(w->Finish());
  auto r = ContainerReader::Open(path, KeySource::None());
  ASSERT_OK(r);
  for (const char* name : {"into-a-catalog-block", "past-the-block-end"}) {
    auto e = (*r)->FindEntry(0, name);
    ASSERT_OK(e);
    auto c = (*r)->ReadContentFor(**e);
    ASSERT_OK(c);
    Status s = (*r)->ReadFileBytes(*c).status();
    EXPECT_TRUE(s.IsCorruption()) << name << ": " << s.ToString();
  }
}

TEST(Container, SkippableBlocksAreSkippedAndOthersRefused) {
  TempDir dir;
  for (uint8_t type :
       {uint8_t{0x80}, uint8_t{0xfe}, uint8_t{0x06}, uint8_t{0x7f}}) {
    const std::string path = dir / ("s" + std::to_string(type));
    auto w = NewWriter(path);
    BlockPacker packer = BlockPacker::Serial(w.get(), 4096, SealOptions{});
    auto c = packer.Pack("file contents");
    ASSERT_OK(c);
    ASSERT_OK(packer.Flush());
    ASSERT_OK(w->AppendBlock(static_cast<BlockType>(type),
                             "from a newer writer", SealOptions{}));
    auto id = w->AddContent(*c);
    ASSERT_OK(id);
    Entry e = MakeFile(0, "f", "file contents").entry;
    e.content = *id;
    ASSERT_OK(w->AddEntry(e));
    ASSERT_OK(w->Finish());
    auto r = ContainerReader::Open(path, KeySource::None());
    if (type >= 0x80) {
      ASSERT_OK(r);
      auto all = ReadMemoryStore(**r);
      ASSERT_OK(all);
      EXPECT_EQ(all->files.at(0).data, "file contents");
    } else {
      EXPECT_TRUE(r.status().IsUnsupportedVersion()) << r.status().ToString();
    }
  }
}

}  // namespace
}  // namespace migstore::format
