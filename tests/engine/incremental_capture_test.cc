// Incremental capture (CaptureOptions::base_store, `capture --base`): the
// files a previous store holds unchanged are taken from it without being
// read, every change is read again, and the new store stands alone.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/dataset.h"
#include "engine/base/unique_fd.h"
#include "engine/src/fs/change_time.h"
#include "engine/src/store/key_rep.h"
#include "format/container_reader.h"
#include "format/layout.h"
#include "format/limits.h"
#include "migstore/capture.h"
#include "migstore/key.h"
#include "migstore/restore.h"
#include "migstore/verify.h"
#include "tests/util/store_check.h"
#include "tests/util/test_util.h"

namespace migstore {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

Key TestKey(std::string_view secret = kSecret) {
  auto k = Key::FromKeySecret(secret);
  EXPECT_TRUE(k.ok());
  return std::move(k).value();
}

class IncrementalCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    bench::DatasetSpec spec;
    ASSERT_TRUE(bench::SpecForPreset("demo", &spec).ok());
    // A quarter of the demo's bytes, half its files: every kind of file is
    // still there, and the suite stays quick under the sanitizers
    // (scripts/sanitize).
    spec.bytes /= 4;
    spec.files /= 2;
    ASSERT_TRUE(bench::GenerateDataset(root_, spec).ok());
    // Files changed shortly before a capture are never taken over from it
    // (racily clean files; CaptureOptions::base_settle_ns, lowered to 2 s
    // below): let the tree age past that.
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  }

  CaptureOptions Options(const std::string& store) const {
    CaptureOptions o;
    o.root = root_;
    o.store_path = dir_ / store;
    o.key = TestKey();
    o.threads = 2;
    o.base_settle_ns = 2'000'000'000;
    return o;
  }

  // The tree's regular files below `dir`, in path order.
  std::vector<std::string> FilesBelow(const std::string& dir) const {
    std::vector<std::string> files;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(root_ + "/" + dir)) {
      if (e.is_regular_file() && !e.is_symlink())
        files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // The store at `store` holds exactly the tree, byte for byte.
  void ExpectMatchesTree(const std::string& store) {
    auto r = format::ContainerReader::Open(dir_ / store,
                                           internal::SourceOf(TestKey()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    testing::StoreCheck check = testing::CheckStoreAgainstTree(**r, root_);
    EXPECT_EQ(check.first_mismatch, "");
  }

  // A file below the root keeps its size and modification time but gets
  // other bytes: only the change time tells.
  void RewriteKeepingTimes(const std::string& rel) {
    const std::string path = root_ + "/" + rel;
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    std::string data = testing::ReadFile(path);
    ASSERT_FALSE(data.empty());
    for (char& c : data) c = static_cast<char>(c ^ 0x5a);
    WriteFile(path, data);
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(IncrementalCapture, AnUnchangedTreeIsTakenOverWholeAndStandsAlone) {
  auto first = Capture(Options("first.mig"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  CaptureOptions o = Options("second.mig");
  o.base_store = dir_ / "first.mig";
  auto second = Capture(o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->files, first->files);
  EXPECT_EQ(second->bytes, first->bytes);
  // Every file with data but the hard-linked ones: nothing read again.
  EXPECT_GT(second->base_files, first->files * 9 / 10);
  EXPECT_EQ(second->base_files_read_again, 0u);
  // Only the hard-linked files were read and packed again.
  EXPECT_LT(second->stored_bytes, first->stored_bytes / 10);
  // The same blocks, so about the same size.
  EXPECT_LT(second->store_size, first->store_size * 11 / 10);

  // The base may go: the new store holds everything itself.
  std::filesystem::remove(dir_ / "first.mig");
  ExpectMatchesTree("second.mig");
  RestoreOptions ro;
  ro.store_path = dir_ / "second.mig";
  ro.key = TestKey();
  ro.target = dir_ / "target";
  ro.threads = 2;
  auto restored = Restore(ro);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->errors.size(), 0u);
  VerifyOptions vo;
  vo.store_path = dir_ / "second.mig";
  vo.key = TestKey();
  auto verified = Verify(vo);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->damaged.empty());
}

TEST_F(IncrementalCapture, EveryKindOfChangeIsReadAgain) {
  ASSERT_TRUE(Capture(Options("first.mig")).ok());
  // Same size and modification time, other bytes.
  const std::string doc = "home/alice/Documents";
  std::vector<std::string> docs;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(root_ + "/" + doc)) {
    if (e.is_regular_file() && !e.is_symlink() && e.file_size() > 0 &&
        e.hard_link_count() == 1)
      docs.push_back(std::filesystem::relative(e.path(), root_));
    if (docs.size() == 3) break;
  }
  ASSERT_EQ(docs.size(), 3u);
  RewriteKeepingTimes(docs[0]);
  // Grown.
  WriteFile(root_ + "/" + docs[1],
            testing::ReadFile(root_ + "/" + docs[1]) + "more");
  // Renamed over another name: same bytes, same times, new path.
  ASSERT_EQ(::rename((root_ + "/" + docs[2]).c_str(),
                     (root_ + "/" + doc + "/renamed.bin").c_str()),
            0);
  // New.
  WriteFile(root_ + "/" + doc + "/new.txt", "a new file\n");

  CaptureOptions o = Options("second.mig");
  o.base_store = dir_ / "first.mig";
  auto second = Capture(o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(second->base_files, 0u);
  ExpectMatchesTree("second.mig");
}

TEST_F(IncrementalCapture, BlocksMostlyOfGoneFilesAreNotCarriedForward) {
  auto first = Capture(Options("first.mig"));
  ASSERT_TRUE(first.ok());
  // Everyone but alice goes, and three of every four of her files: the
  // blocks that hold the rest are mostly dead bytes.
  for (const char* user : {"bob", "carol"})
    std::filesystem::remove_all(root_ + "/home/" + user);
  const std::vector<std::string> files = FilesBelow("home/alice");
  for (size_t i = 0; i < files.size(); ++i) {
    if (i % 4 != 0) std::filesystem::remove(files[i]);
  }
  CaptureOptions o = Options("second.mig");
  o.base_store = dir_ / "first.mig";
  auto second = Capture(o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(second->base_files_read_again, 0u)
      << "files in mostly dead blocks are read, not their blocks copied";
  ExpectMatchesTree("second.mig");
  CaptureOptions fresh = Options("fresh.mig");
  auto third = Capture(fresh);
  ASSERT_TRUE(third.ok());
  // No more than a block's worth of dead bytes beyond a fresh capture.
  EXPECT_LT(second->store_size,
            third->store_size + format::limits::kMaxBlockPlain / 2 + 65536)
      << "second " << second->store_size << ", fresh " << third->store_size;
}

// The match against the base reads the walk's stream beside the base's
// files sorted by path through a scratch file; windows of three entries,
// base runs of three files and a base catalog in segments of two entries
// take over what one window does, the large files (set apart, matched
// between the stream's entries) too.
TEST_F(IncrementalCapture, WindowsOfAFewEntriesTakeOverWhatOneWindowDoes) {
  CaptureOptions first = Options("first.mig");
  first.block_size = 64 * 1024;  // some files are large, set apart
  first.catalog_segment_entries = 2;
  auto base = Capture(first);
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  const std::vector<std::string> files = FilesBelow("home/alice/Documents");
  ASSERT_GT(files.size(), 6u);
  RewriteKeepingTimes(std::filesystem::relative(files[1], root_));
  std::filesystem::remove(files[3]);
  WriteFile(root_ + "/home/alice/Documents/new.txt", "new since the base\n");
  bool large = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root_)) {
    large =
        large || (e.is_regular_file() && !e.is_symlink() &&
                  e.file_size() > first.block_size && e.hard_link_count() == 1);
  }
  ASSERT_TRUE(large) << "the tree has a large file to set apart";

  CaptureOptions whole = Options("whole.mig");
  whole.block_size = first.block_size;
  whole.base_store = first.store_path;
  auto a = Capture(whole);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  CaptureOptions windows = whole;
  windows.store_path = dir_ / "windows.mig";
  windows.window_entries = 3;
  auto b = Capture(windows);
  ASSERT_TRUE(b.ok()) << b.status().ToString();

  EXPECT_GT(a->base_files, a->files / 2);
  EXPECT_LT(a->base_files, a->files);
  // The large files too: little is read again.
  EXPECT_LT(a->stored_bytes, base->stored_bytes / 4);
  EXPECT_EQ(b->files, a->files);
  EXPECT_EQ(b->base_files, a->base_files);
  EXPECT_EQ(b->base_bytes, a->base_bytes);
  EXPECT_EQ(b->base_files_read_again, a->base_files_read_again);
  EXPECT_EQ(b->stored_bytes, a->stored_bytes);
  ExpectMatchesTree("whole.mig");
  ExpectMatchesTree("windows.mig");
  auto ra = format::ContainerReader::Open(whole.store_path,
                                          internal::SourceOf(TestKey()));
  auto rb = format::ContainerReader::Open(windows.store_path,
                                          internal::SourceOf(TestKey()));
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ((*ra)->index().content_count, (*rb)->index().content_count);
  EXPECT_EQ((*ra)->block_count(), (*rb)->block_count());
}

// A file with a second name outside what is captured is a file like any
// other, in the base as in the new store: taken over, not read again.
TEST_F(IncrementalCapture, AHardLinkCapturedUnderOneNameIsTakenOver) {
  const std::string doc = root_ + "/home/alice/Documents/linked.bin";
  WriteFile(doc, std::string(3 << 20, 'x') + "linked elsewhere\n");
  ASSERT_EQ(::link(doc.c_str(), (dir_ / "outside.bin").c_str()), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto first = Capture(Options("first.mig"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  CaptureOptions o = Options("second.mig");
  o.base_store = dir_ / "first.mig";
  auto second = Capture(o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->base_files_read_again, 0u);
  // The 3 MiB file is not read again: what is stored is the tree's
  // hard-link groups.
  EXPECT_LT(second->stored_bytes, first->stored_bytes / 10);
  EXPECT_LT(second->stored_bytes, uint64_t{3} << 20);
  ExpectMatchesTree("second.mig");
}

// Flips a byte inside the first block of `type` of the store at `path`.
void DamageFirstBlock(const std::string& path, format::BlockType type) {
  auto r = format::ContainerReader::Open(path, internal::SourceOf(TestKey()));
  ASSERT_TRUE(r.ok());
  uint64_t block = UINT64_MAX;
  for (uint64_t b = 0; b < (*r)->block_count(); ++b) {
    if ((*r)->index().blocks[b].type == static_cast<uint8_t>(type)) {
      block = b;
      break;
    }
  }
  ASSERT_NE(block, UINT64_MAX);
  const off_t at = static_cast<off_t>((*r)->block_offset(block) +
                                      format::kFrameHeaderSize + 40);
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char b;
  ASSERT_EQ(::pread(fd, &b, 1, at), 1);
  b = static_cast<char>(b ^ 0x01);
  ASSERT_EQ(::pwrite(fd, &b, 1, at), 1);
  ::close(fd);
}

// A damaged data block, content segment or catalog segment of the base
// costs only re-reads of the files it served, with a note.
TEST_F(IncrementalCapture, DamageInTheBaseCostsOnlyARereadOfItsFiles) {
  const struct {
    format::BlockType type;
    const char* note;
  } kCases[] = {
      {format::BlockType::kData, "blocks of the base store could not be read"},
      {format::BlockType::kContentSegment,
       "content segments of the base store could not be read"},
      {format::BlockType::kCatalogSegment,
       "entries of the base store could not be read"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(static_cast<int>(c.type));
    const std::string base = dir_ / "first.mig";
    CaptureOptions first = Options("first.mig");
    first.overwrite = true;
    ASSERT_TRUE(Capture(first).ok());
    DamageFirstBlock(base, c.type);
    CaptureOptions o = Options("second.mig");
    o.overwrite = true;
    o.base_store = base;
    auto second = Capture(o);
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_LT(second->base_files, second->files);
    bool noted = false;
    for (const FileNote& n : second->notes)
      noted = noted || testing::Has(n.what, c.note);
    EXPECT_TRUE(noted) << c.note;
    ExpectMatchesTree("second.mig");
  }
}

TEST_F(IncrementalCapture, AFileChangedJustBeforeTheBaseIsReadAgain) {
  // Within the clock's granularity of the base's capture, a later write
  // could leave a file's times as the base recorded them.
  ASSERT_TRUE(Capture(Options("a.mig")).ok());
  CaptureOptions b = Options("b.mig");
  b.base_store = dir_ / "a.mig";
  auto aged = Capture(b);
  ASSERT_TRUE(aged.ok());

  WriteFile(root_ + "/home/alice/Documents/fresh.txt", "just written\n");
  // An old file whose mode changed: its mtime is old, its ctime is not.
  const std::string old = FilesBelow("home/alice").front();
  ASSERT_EQ(::chmod(old.c_str(), 0640), 0);
  ASSERT_TRUE(Capture(Options("c.mig")).ok());
  CaptureOptions d = Options("d.mig");
  d.base_store = dir_ / "c.mig";
  auto fresh = Capture(d);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->files, aged->files + 1);
  EXPECT_EQ(fresh->base_files + 1, aged->base_files)
      << "the fresh file and the one chmod touched are read, not taken over";
  ExpectMatchesTree("d.mig");
}

TEST_F(IncrementalCapture, TheBaseMayBeTheStoreItReplaces) {
  ASSERT_TRUE(Capture(Options("pc.mig")).ok());
  WriteFile(root_ + "/home/alice/Documents/today.txt", "today\n");
  CaptureOptions o = Options("pc.mig");
  o.base_store = o.store_path;
  o.overwrite = true;
  auto second = Capture(o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(second->base_files, 0u);
  ExpectMatchesTree("pc.mig");
}

TEST_F(IncrementalCapture, ABaseThatCannotBeTrustedOrOpenedStopsBeforeAStore) {
  // Another key: WrongKey, and no store is made.
  ASSERT_TRUE(Capture(Options("first.mig")).ok());
  CaptureOptions o = Options("second.mig");
  o.base_store = dir_ / "first.mig";
  o.key = TestKey("fedcba9876543210fedcba9876543210");
  auto wrong = Capture(o);
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(wrong.status().IsWrongKey()) << wrong.status().ToString();
  EXPECT_TRUE(testing::Has(wrong.status().ToString(), "base store"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "second.mig"));

  // An unencrypted base under a key: anyone could have written it.
  CaptureOptions plain = Options("plain.mig");
  plain.encrypt = false;
  plain.key = Key();
  ASSERT_TRUE(Capture(plain).ok());
  CaptureOptions on_plain = Options("third.mig");
  on_plain.base_store = dir_ / "plain.mig";
  auto refused = Capture(on_plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsRefused()) << refused.status().ToString();

  // Missing.
  CaptureOptions missing = Options("fourth.mig");
  missing.base_store = dir_ / "nowhere.mig";
  auto none = Capture(missing);
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().IsNotFound()) << none.status().ToString();

  // A hard-link capture has nothing to take over.
  CaptureOptions hardlink = Options("links");
  hardlink.hardlink = true;
  hardlink.encrypt = false;
  hardlink.key = Key();
  hardlink.base_store = dir_ / "first.mig";
  EXPECT_TRUE(Capture(hardlink).status().IsInvalidArgument());
}

TEST_F(IncrementalCapture, AnUnencryptedChainAndAHardLinkStoreAsBase) {
  // Without a key on either side, an unencrypted base serves.
  CaptureOptions plain = Options("plain.mig");
  plain.encrypt = false;
  plain.key = Key();
  auto first = Capture(plain);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  CaptureOptions again = plain;
  again.store_path = dir_ / "plain2.mig";
  again.base_store = dir_ / "plain.mig";
  auto second = Capture(again);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->base_files, first->files);
  auto r = format::ContainerReader::Open(dir_ / "plain2.mig",
                                         format::KeySource::None());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::CheckStoreAgainstTree(**r, root_).first_mismatch, "");

  // A hard-link store holds links, not blocks.
  CaptureOptions links = Options("links");
  links.hardlink = true;
  links.encrypt = false;
  links.key = Key();
  ASSERT_TRUE(Capture(links).ok());
  CaptureOptions on_links = plain;
  on_links.store_path = dir_ / "plain3.mig";
  on_links.base_store = dir_ / "links";
  auto refused = Capture(on_links);
  EXPECT_TRUE(refused.status().IsInvalidArgument())
      << refused.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "plain3.mig"));
}

// By default a file must have settled for a minute before the base was
// made: this tree is seconds old, so nothing is taken over.
TEST_F(IncrementalCapture, TheDefaultSettlingTimeIsAMinute) {
  ASSERT_TRUE(Capture(Options("first.mig")).ok());
  CaptureOptions o = Options("second.mig");
  o.base_store = dir_ / "first.mig";
  o.base_settle_ns = CaptureOptions().base_settle_ns;
  EXPECT_EQ(o.base_settle_ns, int64_t{60'000'000'000});
  auto second = Capture(o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->base_files, 0u);
  ExpectMatchesTree("second.mig");
}

// Only filesystems whose ctime no program can set back let a file be
// taken over; the test's own directory is one, /proc (unknown) is not.
TEST(ChangeTimeTrust, LinuxFilesystemsAreTrustedOthersAreNot) {
  TempDir dir;
  UniqueFd here(::open(dir.path().c_str(), O_PATH | O_CLOEXEC));
  ASSERT_TRUE(here.valid());
  const fs::ChangeTimeTrust t = fs::ChangeTimeTrustOf(here.get());
  EXPECT_TRUE(t.trusted) << t.filesystem;
  UniqueFd proc(::open("/proc", O_PATH | O_CLOEXEC));
  if (proc.valid()) {
    const fs::ChangeTimeTrust p = fs::ChangeTimeTrustOf(proc.get());
    EXPECT_FALSE(p.trusted);
    EXPECT_EQ(p.filesystem, "0x9fa0");
  }
  EXPECT_FALSE(fs::ChangeTimeTrustOf(-1).trusted);
}

TEST_F(IncrementalCapture, TheCommandLineTakesBaseAndSaysWhatItTookOver) {
  const std::string key = dir_ / "k.key";
  ASSERT_EQ(testing::RunMigstore({"keygen", "--out", key}).exit_code, 0);
  auto first = testing::RunMigstore({"capture", "--root", root_, "--store",
                                     dir_ / "a.mig", "--key-file", key});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto second = testing::RunMigstore({"capture", "--root", root_, "--store",
                                      dir_ / "b.mig", "--key-file", key,
                                      "--base", dir_ / "a.mig", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(testing::Has(second.out, "\"base_files\":")) << second.out;
  auto human = testing::RunMigstore(
      {"capture", "--root", root_, "--store", dir_ / "b.mig", "--overwrite",
       "--key-file", key, "--base", dir_ / "b.mig"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(testing::Has(human.out, "taken from the base store"))
      << human.out;
  auto verify = testing::RunMigstore(
      {"verify", "--store", dir_ / "b.mig", "--key-file", key});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace migstore
