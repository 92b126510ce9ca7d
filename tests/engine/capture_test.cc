// Capture on real generated trees: what is taken, that every byte and bit
// of metadata arrives, deduplication, sparse files, hard links, odd names,
// symlinks, fifos, the store's own path, errors and cancellation.

#include "migstore/capture.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <thread>

#include "bench/dataset.h"
#include "engine/src/capture/plan.h"
#include "engine/src/capture/walk.h"
#include "format/container_reader.h"
#include "format/memory_store.h"
#include "migstore/restore.h"
#include "tests/util/store_check.h"
#include "tests/util/test_util.h"

namespace migstore {
namespace {

using testing::TempDir;
using testing::TmpfsMount;
using testing::WriteFile;

// A linux root with users alice (1000) and bob (1001) and nothing else.
void MakeLinuxRoot(const std::string& root) {
  std::filesystem::create_directories(root + "/etc");
  WriteFile(
      root + "/etc/passwd",
      "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
      "bob:x:1001:1001::/home/bob:/bin/sh\n");
  WriteFile(root + "/etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\n");
  std::filesystem::create_directories(root + "/home/alice");
  std::filesystem::create_directories(root + "/home/bob");
}

void Put(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  WriteFile(path, data);
}

CaptureOptions Options(const TempDir& dir, const std::string& root) {
  CaptureOptions o;
  o.root = root;
  o.store_path = dir / "store.mig";
  o.encrypt = false;
  o.threads = 2;
  return o;
}

std::unique_ptr<format::ContainerReader> OpenStore(
    const std::string& path,
    const format::KeySource& key = format::KeySource::None()) {
  auto r = format::ContainerReader::Open(path, key);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST(Capture, ADemoTreeArrivesWholeWithTheBuiltInRules) {
  TempDir dir;
  const std::string root = dir / "root";
  bench::DatasetSpec spec;
  ASSERT_OK(bench::SpecForPreset("demo", &spec));
  ASSERT_OK(bench::GenerateDataset(root, spec));
  CaptureOptions o = Options(dir, root);
  auto report = Capture(o);
  ASSERT_OK(report);
  EXPECT_EQ(report->layout, "linux");
  ASSERT_EQ(report->users.size(), 3u);
  EXPECT_TRUE(report->errors.empty());
  EXPECT_GT(report->files, 1500u);
  EXPECT_GT(report->duplicate_files, 5u)
      << "later profiles share files with the first";
  EXPECT_EQ(report->sparse_files, 1u);

  auto r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  testing::StoreCheck check = testing::CheckStoreAgainstTree(*r, root);
  EXPECT_EQ(check.first_mismatch, "");
  EXPECT_EQ(check.files, report->files);
  EXPECT_EQ(check.sparse_contents, 1u);
  // The built-in rules take documents, settings and keys, not caches.
  EXPECT_TRUE(check.paths.count("home/alice/.ssh/id_ed25519"));
  EXPECT_TRUE(check.paths.count("home/alice/.ssh/current"));
  EXPECT_TRUE(check.paths.count("home/bob/.bashrc"));
  EXPECT_TRUE(check.paths.count("home/carol/Documents/odd/line\nbreak.txt"));
  for (const std::string& p : check.paths) {
    EXPECT_EQ(p.find(".cache/"), std::string::npos) << p;
    EXPECT_EQ(p.find("Trash"), std::string::npos) << p;
  }
  // The sparse image costs its data, not its 256 MiB.
  EXPECT_LT(report->store_size, 64u << 20);
  EXPECT_EQ(r->property("host"), "demo-pc");
  EXPECT_EQ(r->index().profiles.size(), 3u);
  // Files are owned by whoever ran the generator; root has a name there.
  if (::geteuid() == 0) {
    ASSERT_NE(r->owner_name(0), nullptr);
    EXPECT_EQ(*r->owner_name(0), "root");
  }
}

TEST(Capture, TimesBeyondTheYear2262AreClampedAndComeBackThere) {
  // ext4 holds times to 2446, tmpfs further; a store's nanoseconds reach
  // 2262-04-11. The conversion used to overflow.
  TempDir dir;
  const std::string root = dir / "root";
  MakeLinuxRoot(root);
  const std::string file = root + "/home/alice/Documents/future.txt";
  Put(file, "from the future\n");
  constexpr int64_t k2300 = 10413792000;  // 2300-01-01, in seconds
  const struct timespec times[2] = {{k2300 + 100, 5}, {k2300, 7}};
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  if (st.st_mtim.tv_sec != k2300)
    GTEST_SKIP() << "this filesystem cannot hold the year 2300";
  CaptureOptions o = Options(dir, root);
  ASSERT_OK(Capture(o));
  auto r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  auto e = r->FindEntry(1, "home/alice/Documents/future.txt");
  ASSERT_OK(e);
  ASSERT_TRUE(e->has_value());
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ((*e)->mtime_ns, kMax);
  EXPECT_EQ((*e)->atime_ns, kMax);

  RestoreOptions ro;
  ro.store_path = o.store_path;
  ro.target = dir / "t";
  ASSERT_OK(Restore(ro));
  ASSERT_EQ(::stat((dir / "t/home/alice/Documents/future.txt").c_str(), &st),
            0);
  EXPECT_EQ(st.st_mtim.tv_sec, kMax / 1000000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, kMax % 1000000000);
}

TEST(Capture, TextPackedAfterAnIncompressibleFileIsStillCompressed) {
  // Small files share blocks in path order. Here each block holds one
  // directory: first the random bytes of a file whose name does not say it
  // is compressed, then as many bytes of text.
  TempDir dir;
  const std::string root = dir / "root";
  MakeLinuxRoot(root);
  CaptureOptions o = Options(dir, root);
  o.block_size = 256 << 10;
  DeterministicRandom gen(7);
  uint64_t noise = 0, text = 0;
  for (int i = 10; i < 40; ++i) {
    const std::string d = root + "/home/alice/Documents/d" + std::to_string(i);
    const std::string n = gen.Bytes(o.block_size / 2);
    Put(d + "/a-noise.dat", n);
    noise += n.size();
    const std::string t = gen.Text(o.block_size / 2);
    Put(d + "/b-text.txt", t);
    text += t.size();
  }
  auto report = Capture(o);
  ASSERT_OK(report);
  EXPECT_EQ(report->files, 60u);
  // The text compresses to well under half; stored raw it would not.
  EXPECT_LT(report->store_size, noise + text / 2);
}

TEST(Capture, AWindowsVolumeWithTheStockMigUserXml) {
  TempDir dir;
  const std::string root = dir / "root";
  bench::DatasetSpec spec;
  ASSERT_OK(bench::SpecForPreset("demo", &spec));
  spec.layout = "windows";
  spec.files = 400;
  spec.bytes = 4 << 20;
  ASSERT_OK(bench::GenerateDataset(root, spec));
  CaptureOptions o = Options(dir, root);
  o.rules_files = {testing::SourcePath("tests/golden/usmt-xml/MigUser.xml")};
  auto report = Capture(o);
  ASSERT_OK(report);
  EXPECT_EQ(report->layout, "windows");
  ASSERT_EQ(report->users.size(), 3u);
  auto r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  testing::StoreCheck check = testing::CheckStoreAgainstTree(*r, root);
  EXPECT_EQ(check.first_mismatch, "");
  bool documents = false, pictures = false, temp = false, public_docs = false;
  for (const std::string& p : check.paths) {
    documents |= p.rfind("Users/alice/Documents/notes/", 0) == 0;
    pictures |= p.rfind("Users/bob/Pictures/camera/", 0) == 0;
    temp |= p.find("AppData/Local/Temp") != std::string::npos;
    public_docs |= p == "Users/Public/Documents/shared-notice.txt";
  }
  EXPECT_TRUE(documents);
  EXPECT_TRUE(pictures);
  EXPECT_TRUE(public_docs) << "MigUser.xml takes the common documents";
  EXPECT_FALSE(temp) << "MigUser.xml does not take temporary files";
  EXPECT_EQ(r->index().profiles.size(), 3u);
  EXPECT_EQ(r->index().profiles[0].layout, format::Layout::kWindows);
}

// A tree with every awkward thing a profile can hold.
class CaptureEdges : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    MakeLinuxRoot(root_);
    const std::string a = root_ + "/home/alice";
    Put(a + "/Documents/a.txt", "alpha\n");
    Put(a + "/Documents/empty", "");
    Put(a + "/Documents/big.bin", gen_.Text(300000) + gen_.Bytes(300000));
    Put(a + "/Documents/photo.jpg", gen_.Bytes(100000));
    Put(root_ + "/home/bob/copy-of-photo.jpg",
        testing::ReadFile(a + "/Documents/photo.jpg"));
    Put(a + "/Documents/caf\xe9.txt", "latin-1");
    Put(a + "/Documents/new\nline", "newline");
    std::string deep = a + "/deep";
    while (deep.size() - root_.size() < 3900)
      deep += "/" + std::string(200, 'd');
    Put(deep + "/f", "deep");
    ASSERT_EQ(::link((a + "/Documents/a.txt").c_str(),
                     (a + "/hardlink-to-a").c_str()),
              0);
    ASSERT_EQ(::symlink("no/such", (a + "/dangling").c_str()), 0);
    ASSERT_EQ(::symlink("/etc/passwd", (a + "/absolute").c_str()), 0);
    ASSERT_EQ(::symlink("loop-b", (a + "/loop-a").c_str()), 0);
    ASSERT_EQ(::symlink("loop-a", (a + "/loop-b").c_str()), 0);
    ASSERT_EQ(::symlink("Documents", (a + "/docs-link").c_str()), 0);
    ASSERT_EQ(::mkfifo((a + "/pipe").c_str(), 0640), 0);
    ASSERT_EQ(::setxattr((a + "/Documents/a.txt").c_str(), "user.origin",
                         "camera", 6, 0),
              0);
    int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/sock", a.c_str());
    sock_ok_ = ::bind(sock, reinterpret_cast<struct sockaddr*>(&addr),
                      sizeof(addr)) == 0;
    ::close(sock);
    // A sparse file larger than the block size.
    int fd = ::open((a + "/disk.img").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 50 << 20), 0);
    std::string island = gen_.Bytes(70000);
    ASSERT_EQ(::pwrite(fd, island.data(), island.size(), 30 << 20), 70000);
    ::close(fd);
    WriteFile(dir_ / "all.rules", "include %USERPROFILE%\n");
  }

  CaptureOptions Opts() {
    CaptureOptions o = Options(dir_, root_);
    o.rules_files = {dir_ / "all.rules"};
    o.block_size = 64 * 1024;  // so big.bin and disk.img are "large"
    return o;
  }

  TempDir dir_;
  std::string root_;
  DeterministicRandom gen_{17};
  bool sock_ok_ = false;
};

// The walk lists xattrs with listxattrat(2) where the kernel has it (6.13)
// and through /proc/self/fd before: both must take the same xattrs.
TEST_F(CaptureEdges, XattrsArriveThroughEitherKernelInterface) {
  for (bool procfs : {false, true}) {
    capture::UseProcfsXattrsForTesting(procfs);
    CaptureOptions o = Opts();
    o.overwrite = true;
    auto report = Capture(o);
    capture::UseProcfsXattrsForTesting(false);
    ASSERT_OK(report);
    auto r = OpenStore(o.store_path);
    ASSERT_NE(r, nullptr);
    auto a = r->FindEntry(1, "home/alice/Documents/a.txt");
    ASSERT_OK(a);
    ASSERT_TRUE(a->has_value());
    const auto& xattrs = (*a)->xattrs();
    ASSERT_EQ(xattrs.size(), 1u) << (procfs ? "procfs" : "listxattrat");
    EXPECT_EQ(xattrs[0].name, "user.origin");
    EXPECT_EQ(xattrs[0].value, "camera");
    EXPECT_EQ(testing::CheckStoreAgainstTree(*r, root_).first_mismatch, "");
  }
}

TEST_F(CaptureEdges, EverythingArrivesExactly) {
  CaptureOptions o = Opts();
  auto report = Capture(o);
  ASSERT_OK(report);
  EXPECT_TRUE(report->errors.empty()) << report->errors[0].status.ToString();
  auto r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  testing::StoreCheck check = testing::CheckStoreAgainstTree(*r, root_);
  EXPECT_EQ(check.first_mismatch, "");
  for (const char* p :
       {"home/alice/Documents/empty", "home/alice/Documents/caf\xe9.txt",
        "home/alice/Documents/new\nline", "home/alice/dangling",
        "home/alice/absolute", "home/alice/loop-a", "home/alice/docs-link",
        "home/alice/pipe", "home/alice/disk.img", "home/alice/hardlink-to-a"}) {
    EXPECT_TRUE(check.paths.count(p)) << p;
  }
  size_t longest = 0;
  for (const std::string& p : check.paths)
    longest = std::max(longest, p.size());
  EXPECT_GT(longest, 3900u);
  // The socket is left out with a note; nothing follows the symlinked dir.
  EXPECT_FALSE(check.paths.count("home/alice/sock"));
  if (sock_ok_) {
    bool noted = false;
    for (const FileNote& n : report->notes)
      noted |= n.path == "home/alice/sock";
    EXPECT_TRUE(noted);
  }
  EXPECT_FALSE(check.paths.count("home/alice/docs-link/a.txt"));
  // Hard links share a content and a group; the copy of the photo is stored
  // once.
  auto a = r->FindEntry(1, "home/alice/Documents/a.txt");
  auto h = r->FindEntry(1, "home/alice/hardlink-to-a");
  ASSERT_OK(a);
  ASSERT_OK(h);
  ASSERT_TRUE(a->has_value() && h->has_value());
  EXPECT_NE((*a)->link_group, 0u);
  EXPECT_EQ((*a)->link_group, (*h)->link_group);
  EXPECT_EQ((*a)->content, (*h)->content);
  EXPECT_EQ(report->hardlinked_files, 2u);
  auto photo = r->FindEntry(1, "home/alice/Documents/photo.jpg");
  auto copy = r->FindEntry(2, "home/bob/copy-of-photo.jpg");
  ASSERT_OK(photo);
  ASSERT_OK(copy);
  ASSERT_TRUE(photo->has_value() && copy->has_value());
  EXPECT_EQ((*photo)->content, (*copy)->content);
  // The large sparse file is stored sparse.
  auto disk = r->FindEntry(1, "home/alice/disk.img");
  ASSERT_OK(disk);
  auto c = r->ReadContentFor(**disk);
  ASSERT_OK(c);
  EXPECT_TRUE(c->sparse);
  EXPECT_LT(c->stored_size(), 200000u);
}

// A capture a few entries at a time (docs/design.md, "Bounded memory")
// makes the store a capture of the whole tree at once makes: duplicates
// found across windows, hard links and large copies kept together.
TEST_F(CaptureEdges, WindowsOfAFewEntriesMakeTheSameStore) {
  for (int i = 0; i < 12; ++i) {
    Put(root_ + "/home/alice/w" + std::to_string(i % 4) + "/copy" +
            std::to_string(i),
        "the same small file, twelve times\n");
    Put(root_ + "/home/bob/w/" + std::to_string(i), gen_.Text(100 + i));
  }
  CaptureOptions whole = Opts();
  auto a = Capture(whole);
  ASSERT_OK(a);
  CaptureOptions windows = Opts();
  windows.store_path = dir_ / "windows.mig";
  windows.window_entries = 2;
  auto b = Capture(windows);
  ASSERT_OK(b);
  EXPECT_TRUE(b->errors.empty());
  EXPECT_EQ(b->files, a->files);
  EXPECT_EQ(b->directories, a->directories);
  EXPECT_EQ(b->duplicate_files, a->duplicate_files);
  EXPECT_GE(b->duplicate_files, 11u + 1u);  // the copies and the photo's
  EXPECT_EQ(b->hardlinked_files, a->hardlinked_files);
  EXPECT_EQ(b->stored_bytes, a->stored_bytes);

  auto ra = OpenStore(whole.store_path);
  auto rb = OpenStore(windows.store_path);
  ASSERT_NE(ra, nullptr);
  ASSERT_NE(rb, nullptr);
  EXPECT_EQ(testing::CheckStoreAgainstTree(*rb, root_).first_mismatch, "");
  auto sa = format::ReadMemoryStore(*ra);
  auto sb = format::ReadMemoryStore(*rb);
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  EXPECT_EQ(sa->profiles, sb->profiles);
  EXPECT_EQ(sa->owner_names, sb->owner_names);
  ASSERT_EQ(sa->files.size(), sb->files.size());
  // Which entries share a content, and which a link group, is the same.
  std::map<uint64_t, uint64_t> content_a_of_b, group_a_of_b;
  for (size_t i = 0; i < sa->files.size(); ++i) {
    format::Entry ea = sa->files[i].entry, eb = sb->files[i].entry;
    EXPECT_EQ(sa->files[i].data, sb->files[i].data) << ea.path;
    if (eb.content) {
      ASSERT_TRUE(ea.content.has_value()) << ea.path;
      auto [it, fresh] = content_a_of_b.try_emplace(*eb.content, *ea.content);
      EXPECT_EQ(it->second, *ea.content) << ea.path;
    }
    if (eb.link_group != 0) {
      auto [it, fresh] = group_a_of_b.try_emplace(eb.link_group, ea.link_group);
      EXPECT_EQ(it->second, ea.link_group) << ea.path;
    }
    EXPECT_EQ(ea.link_group != 0, eb.link_group != 0) << ea.path;
    ea.content = eb.content;
    ea.link_group = eb.link_group;
    ea.atime_ns = eb.atime_ns;  // the first capture read them
    EXPECT_EQ(ea, eb) << ea.path;
  }
  EXPECT_EQ(ra->index().content_count, rb->index().content_count);
}

// The duplicate table is bounded (CaptureOptions::dedup_memory): at its
// smallest it forgets a file seen 3,000 distinct files ago, so that far
// copy is stored again, while a file copied every few dozen files stays
// known; the store is right either way.
TEST_F(CaptureEdges, ASmallDuplicateTableForgetsOnlyFarCopies) {
  const std::string b = root_ + "/home/bob/many";
  const std::string first(40, 'F');
  Put(b + "/a-first.txt", first);
  for (int i = 0; i < 3000; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/m/%05d.txt", i);
    std::string data = "distinct small file number " + std::to_string(i);
    data.resize(40, '.');
    Put(b + name, i % 50 == 0 ? std::string(40, 'C') : data);
  }
  Put(b + "/z-far-copy.txt", first);

  CaptureOptions roomy = Opts();
  auto a = Capture(roomy);
  ASSERT_OK(a);
  CaptureOptions tight = Opts();
  tight.store_path = dir_ / "tight.mig";
  tight.dedup_memory = 48 * 1024;  // generations of 1,024 slots
  auto t = Capture(tight);
  ASSERT_OK(t);
  EXPECT_TRUE(t->errors.empty());
  // The 59 later copies of "C", and the far copy only with room.
  EXPECT_EQ(a->duplicate_files, t->duplicate_files + 1);
  EXPECT_GE(t->duplicate_files, 59u);
  for (const std::string& store : {roomy.store_path, tight.store_path}) {
    auto r = OpenStore(store);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(testing::CheckStoreAgainstTree(*r, root_).first_mismatch, "")
        << store;
  }

  CaptureOptions too_small = Opts();
  too_small.store_path = dir_ / "none.mig";
  too_small.dedup_memory = 1000;
  EXPECT_TRUE(Capture(too_small).status().IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(too_small.store_path));
}

// The walk's threads count small-file sizes into one table at once: a size
// two threads each saw once is shared, one seen once is not, and the ends
// of the range (0 and a whole block) have their own bits.
TEST(SmallSizes, TellSharedSizesCountedFromManyThreads) {
  constexpr size_t kBlock = 64 * 1024;
  capture::SmallSizes sizes(kBlock);
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t) {
    threads.emplace_back([&sizes, t] {
      // Each thread adds its own quarter once, and every size divisible by
      // 7 once: those are seen four times in all.
      for (uint64_t s = 0; s <= kBlock; ++s) {
        if (s % 4 == t && s % 7 != 0) sizes.Add(s);
        if (s % 7 == 0) sizes.Add(s);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (uint64_t s = 0; s <= kBlock; ++s)
    ASSERT_EQ(sizes.Shared(s), s % 7 == 0) << s;
  EXPECT_FALSE(sizes.Shared(kBlock + 1000));  // beyond the table: never

  capture::SmallSizes once(kBlock);
  once.Add(kBlock);
  once.Add(0);
  EXPECT_FALSE(once.Shared(kBlock));
  EXPECT_FALSE(once.Shared(0));
  once.Add(kBlock);
  EXPECT_TRUE(once.Shared(kBlock));
}

TEST_F(CaptureEdges, TheStoreNeverCapturesItself) {
  CaptureOptions o = Opts();
  o.store_path = root_ + "/home/alice/Documents/store.mig";
  auto first = Capture(o);
  ASSERT_OK(first);
  o.overwrite = true;  // now an old store lies in the captured tree
  auto second = Capture(o);
  ASSERT_OK(second);
  auto r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  auto e = r->FindEntry(1, "home/alice/Documents/store.mig");
  ASSERT_OK(e);
  EXPECT_FALSE(e->has_value());
  for (const std::string& name :
       testing::ListDir(root_ + "/home/alice/Documents")) {
    EXPECT_EQ(name.find("migtmp"), std::string::npos) << name;
  }
}

TEST_F(CaptureEdges, AnExistingStoreIsKeptUnlessOverwriteIsAsked) {
  CaptureOptions o = Opts();
  WriteFile(o.store_path, "precious");
  auto r = Capture(o);
  EXPECT_TRUE(r.status().IsAlreadyExists()) << r.status().ToString();
  EXPECT_EQ(testing::ReadFile(o.store_path), "precious");
  o.overwrite = true;
  ASSERT_OK(Capture(o));
  EXPECT_NE(OpenStore(o.store_path), nullptr);
}

TEST_F(CaptureEdges, EncryptionNeedsAKeyOrAnExplicitNo) {
  CaptureOptions o = Opts();
  o.encrypt = true;
  auto no_key = Capture(o);
  EXPECT_TRUE(no_key.status().IsInvalidArgument());
  EXPECT_NE(no_key.status().ToString().find("--no-encrypt"), std::string::npos);
  auto pw = Key::FromPassword("pw");
  ASSERT_OK(pw);
  o.key = *pw;
  o.kdf_opslimit = 1;
  o.kdf_memlimit = 8192;
  ASSERT_OK(Capture(o));
  EXPECT_TRUE(
      format::ContainerReader::Open(o.store_path, format::KeySource::None())
          .status()
          .IsWrongKey());
  auto r =
      OpenStore(o.store_path,
                format::KeySource::Password(format::SecretBytes::Copy("pw")));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(testing::CheckStoreAgainstTree(*r, root_).first_mismatch, "");
  o.encrypt = false;
  EXPECT_TRUE(Capture(o).status().IsInvalidArgument())
      << "a key with --no-encrypt";
}

class Canceller : public CaptureObserver {
 public:
  bool ShouldCancel() override { return ++polls_ > 1; }
  int polls_ = 0;
};

TEST_F(CaptureEdges, CancellingLeavesNothingBehind) {
  CaptureOptions o = Opts();
  Canceller c;
  auto r = Capture(o, &c);
  EXPECT_TRUE(r.status().IsCancelled()) << r.status().ToString();
  EXPECT_TRUE(testing::ListDir(dir_.path()) ==
              (std::vector<std::string>{"all.rules", "root"}));
}

class Recorder : public CaptureObserver {
 public:
  void OnProgress(const CaptureProgress& p) override {
    phases.insert(p.phase);
    last = p;
  }
  void OnEntryStored(const std::string& path) override {
    stored.push_back(path);
  }
  std::set<std::string> phases;
  CaptureProgress last;
  std::vector<std::string> stored;
};

TEST_F(CaptureEdges, TheObserverSeesPhasesProgressAndEveryEntry) {
  Recorder rec;
  auto report = Capture(Opts(), &rec);
  ASSERT_OK(report);
  EXPECT_TRUE(rec.phases.count("Scanning"));
  EXPECT_TRUE(rec.phases.count("Saving"));
  EXPECT_EQ(rec.last.files_done, rec.last.files_total);
  EXPECT_EQ(rec.stored.size(), report->files + report->directories +
                                   report->symlinks + report->fifos);
}

// True when `b` is a state the busy file held at one moment: the writer
// rewrites it front to back in 4 KiB steps, so a moment's state is a prefix
// of one version over the rest of the version before.
bool AMomentsState(const std::string& b) {
  size_t cut = b.find_first_not_of(b[0]);
  if (cut == std::string::npos) return true;
  char next = b[0], prev = b[cut];
  bool consecutive = prev + 1 == next || (prev == 'z' && next == 'a');
  return cut % 4096 == 0 && consecutive &&
         b.find_first_not_of(prev, cut) == std::string::npos;
}

// Small files of the same size and bytes are stored once; the same size
// with other bytes, or the same bytes laid out in other data ranges, is not
// a duplicate (the dedup registry keeps digests, not values: it may only
// miss a duplicate, never make one).
TEST(Capture, SmallDuplicatesAreStoredOnceAndOnlyTrueOnes) {
  TempDir dir;
  const std::string root = dir / "root";
  MakeLinuxRoot(root);
  const std::string a = root + "/home/alice/";
  const std::string b = root + "/home/bob/";
  DeterministicRandom gen(23);
  const std::string same = gen.Bytes(3000);
  for (int i = 0; i < 150; ++i) {
    Put(a + "same/" + std::to_string(i), same);
    Put(b + "other/" + std::to_string(i), gen.Bytes(3000));  // same size
  }
  Put(b + "same-too", same);
  // Three sparse files holding the same 4 KiB of data: two at offset 0,
  // one at 16 KiB.
  auto sparse = [&](const std::string& path, off_t at) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 32 * 1024), 0);
    ASSERT_EQ(::pwrite(fd, same.data(), 3000, at), 3000);
    ::close(fd);
  };
  sparse(a + "holes-1", 0);
  sparse(a + "holes-2", 0);
  sparse(a + "holes-3", 16 * 1024);
  WriteFile(dir / "all.rules", "include %USERPROFILE%\n");
  CaptureOptions o = Options(dir, root);
  o.rules_files = {dir / "all.rules"};
  auto report = Capture(o);
  ASSERT_OK(report);
  auto r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(testing::CheckStoreAgainstTree(*r, root).first_mismatch, "");
  auto content = [&](uint32_t profile, const std::string& path) {
    auto e = r->FindEntry(profile, path);
    EXPECT_TRUE(e.ok() && e->has_value()) << path;
    return e.ok() && e->has_value() ? (*e)->content : std::nullopt;
  };
  const auto first = content(1, "home/alice/same/0");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(content(1, "home/alice/same/149"), first);
  EXPECT_EQ(content(2, "home/bob/same-too"), first);
  EXPECT_NE(content(2, "home/bob/other/0"), content(2, "home/bob/other/1"));
  EXPECT_NE(content(2, "home/bob/other/0"), first);
  const auto holes = content(1, "home/alice/holes-1");
  EXPECT_EQ(content(1, "home/alice/holes-2"), holes);
  EXPECT_NE(content(1, "home/alice/holes-3"), holes);
  // 149 + 1 copies of `same`, and holes-2 (holes-3 has other bytes where
  // the filesystem keeps no holes, other ranges where it does).
  EXPECT_EQ(report->duplicate_files, 151u);
  auto c = r->ReadContent(*holes);
  ASSERT_OK(c);
  EXPECT_EQ(c->sparse, c->stored_size() < 32u * 1024);
}

TEST(Capture, AFileThatKeepsChangingIsStoredAsOneMomentOrReported) {
  TempDir dir;
  const std::string root = dir / "root";
  MakeLinuxRoot(root);
  const std::string busy = root + "/home/alice/busy.log";
  // Each version is 256 KiB of one repeated byte: a torn read would mix two.
  Put(busy, std::string(256 * 1024, 'a'));
  for (int i = 0; i < 200; ++i)
    Put(root + "/home/alice/f" + std::to_string(i), "x");
  WriteFile(dir / "all.rules", "include %USERPROFILE%\n");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (char v = 'a'; !stop.load();
         v = v == 'z' ? 'a' : static_cast<char>(v + 1)) {
      int fd = ::open(busy.c_str(), O_WRONLY);
      std::string data(256 * 1024, v);
      if (fd >= 0) {
        for (size_t at = 0; at < data.size(); at += 4096) {
          if (::pwrite(fd, data.data() + at, 4096, static_cast<off_t>(at)) < 0)
            break;
        }
        ::close(fd);
      }
    }
  });
  CaptureOptions o = Options(dir, root);
  o.rules_files = {dir / "all.rules"};
  o.continue_on_error = true;
  auto report = Capture(o);
  stop = true;
  writer.join();
  ASSERT_OK(report);
  auto r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  auto e = r->FindEntry(1, "home/alice/busy.log");
  ASSERT_OK(e);
  if (e->has_value()) {
    auto c = r->ReadContentFor(**e);
    ASSERT_OK(c);
    auto bytes = r->ReadFileBytes(*c);
    ASSERT_OK(bytes);
    EXPECT_TRUE(AMomentsState(*bytes))
        << "bytes from different moments were stored";
  } else {
    ASSERT_EQ(report->errors.size(), 1u);
    EXPECT_EQ(report->errors[0].path, "home/alice/busy.log");
  }
}

TEST(Capture, MountPointsBelowAProfileAreNotCrossedUnlessAsked) {
  TempDir dir;
  const std::string root = dir / "root";
  MakeLinuxRoot(root);
  Put(root + "/home/alice/a.txt", "on the root filesystem");
  TmpfsMount mnt(root + "/home/alice/usb");
  if (!mnt.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(mnt.error())
                 << "): mount points are only tested where the test may mount";
  }
  Put(root + "/home/alice/usb/b.txt", "on another filesystem");
  WriteFile(dir / "all.rules", "include %USERPROFILE%\n");
  CaptureOptions o = Options(dir, root);
  o.rules_files = {dir / "all.rules"};
  auto report = Capture(o);
  ASSERT_OK(report);
  bool noted = false;
  for (const FileNote& n : report->notes) {
    noted |= n.path == "home/alice/usb" &&
             n.what.find("mount point") != std::string::npos;
  }
  EXPECT_TRUE(noted);
  auto r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->FindEntry(1, "home/alice/a.txt")->has_value());
  EXPECT_TRUE(r->FindEntry(1, "home/alice/usb")->has_value())
      << "the mount point itself stays";
  EXPECT_FALSE(r->FindEntry(1, "home/alice/usb/b.txt")->has_value());

  o.cross_mounts = true;
  o.overwrite = true;
  ASSERT_OK(Capture(o));
  r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->FindEntry(1, "home/alice/usb/b.txt")->has_value());

  // A tmpfs is local: --local-only still enters it (network and removable
  // filesystems are told apart in locality_test).
  o.local_only = true;
  ASSERT_OK(Capture(o));
  r = OpenStore(o.store_path);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->FindEntry(1, "home/alice/usb/b.txt")->has_value());
}

TEST(Capture, RulesAndOptionsAreChecked) {
  TempDir dir;
  const std::string root = dir / "root";
  MakeLinuxRoot(root);
  CaptureOptions o = Options(dir, root);
  o.rules_files = {dir / "missing.rules"};
  EXPECT_FALSE(Capture(o).ok());
  WriteFile(dir / "bad.rules", "include %NOPE%/x\n");
  o.rules_files = {dir / "bad.rules"};
  auto bad = Capture(o);
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().ToString().find("bad.rules:1:"), std::string::npos)
      << bad.status().ToString();
  o.rules_files.clear();
  o.level = 40;
  EXPECT_TRUE(Capture(o).status().IsInvalidArgument());
  o.level = 3;
  o.root = dir / "no-such-root";
  EXPECT_FALSE(Capture(o).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "store.mig"));
}

// What an estimate and a capture (or two estimates) both count.
template <typename A, typename B>
void ExpectSameCounts(const A& a, const B& b) {
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(a.directories, b.directories);
  EXPECT_EQ(a.symlinks, b.symlinks);
  EXPECT_EQ(a.fifos, b.fifos);
  EXPECT_EQ(a.bytes, b.bytes);
}

TEST(Estimate, CountsWhatACaptureWouldTakeAndWritesNothing) {
  TempDir dir;
  const std::string root = dir / "root";
  bench::DatasetSpec spec;
  ASSERT_OK(bench::SpecForPreset("demo", &spec));
  ASSERT_OK(bench::GenerateDataset(root, spec));
  CaptureOptions o = Options(dir, root);
  auto est = Estimate(o);
  ASSERT_OK(est);
  EXPECT_FALSE(std::filesystem::exists(o.store_path));
  auto cap = Capture(o);
  ASSERT_OK(cap);
  ExpectSameCounts(*est, *cap);
  EXPECT_GT(est->sampled_bytes, 0u);
  EXPECT_LT(est->compression_ratio, 1.0);
  // Within a factor of two either way (dedup is not estimated: it only helps).
  EXPECT_LT(cap->store_size, est->estimated_store_size * 2);
  EXPECT_GT(cap->store_size * 2, est->estimated_store_size / 2);

  // A few entries at a time through the walk's sorted runs, as a capture
  // of millions of files goes: the same counts.
  CaptureOptions windows = o;
  windows.window_entries = 7;
  auto few = Estimate(windows);
  ASSERT_OK(few);
  ExpectSameCounts(*few, *est);
  EXPECT_EQ(few->data_bytes, est->data_bytes);
  EXPECT_GT(few->sampled_bytes, 0u);
  EXPECT_LT(few->compression_ratio, 1.0);
}

}  // namespace
}  // namespace migstore
