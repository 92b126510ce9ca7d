// Reads arbitrary bytes as the description of one user's profile tree
// (files of any content, directories, symlinks with any target, hard links,
// sparse files, fifos, odd names and modes, extended attributes, set
// times), builds it on disk under a linux-layout root, captures it with the
// store options the first byte picks (encrypted or not, compressed or not,
// container or hard-link store, block size, threads), and restores it.
// Properties: capture and restore succeed without a single file error; the
// store verifies; the restored profile equals the source in every byte and
// every bit of metadata tree_compare.h checks; a second restore into the
// same target finds everything already there and changes nothing; the
// source is unchanged by all of it.
//
// The description is a byte program (Program below); whatever the bytes,
// it builds a valid tree of at most kMaxOps entries and kMaxBytes of data,
// so every input is a meaningful round trip.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "migstore/capture.h"
#include "migstore/delete_store.h"
#include "migstore/key.h"
#include "migstore/restore.h"
#include "migstore/verify.h"
#include "tests/util/tree_compare.h"

using namespace migstore;

namespace {

constexpr int kMaxOps = 48;
constexpr size_t kMaxBytes = size_t{1} << 20;

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  uint8_t Next() { return at_ < size_ ? data_[at_++] : 0; }
  uint32_t Next16() { return uint32_t{Next()} << 8 | Next(); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

// Builds the tree one op at a time below `home`. Each op is a byte whose
// low three bits pick what it makes; the bytes after it are its arguments.
class Program {
 public:
  Program(Bytes* in, std::string home) : in_(in), home_(std::move(home)) {
    dirs_.push_back("");
  }

  void Run() {
    for (int op = 0; op < kMaxOps && !in_->done(); ++op) Step();
    // Folders' times last, deepest first: making their entries moved them.
    std::sort(dir_times_.begin(), dir_times_.end(),
              [](const auto& a, const auto& b) {
                return a.first.size() > b.first.size();
              });
    for (const auto& [path, t] : dir_times_) SetTime(path, t);
  }

 private:
  void Step() {
    const uint8_t op = in_->Next();
    switch (op & 7) {
      case 0:
        MakeFile();
        break;
      case 1:
        MakeDir();
        break;
      case 2:  // back up one folder
        if (dirs_.size() > 1) dirs_.pop_back();
        break;
      case 3:
        MakeSymlink();
        break;
      case 4:
        MakeHardLink();
        break;
      case 5:
        MakeSparse();
        break;
      case 6:
        MakeFifo();
        break;
      case 7:
        Touch(op >> 3);
        break;
    }
  }

  // A name of 1 to 32 bytes (or, rarely, 200 to 255), of any bytes but '/'
  // and NUL; never "." or "..". Empty when the place is taken.
  std::string NewPath() {
    const uint8_t b = in_->Next();
    size_t len = b >= 240 ? 200 + (b - 240) * 55 / 15 : 1 + b % 32;
    std::string name;
    for (size_t i = 0; i < len; ++i) {
      char c = static_cast<char>(in_->Next());
      if (c == '/') c = '\\';
      if (c == '\0') c = 'a' + static_cast<char>(i % 26);
      name.push_back(c);
    }
    if (name == "." || name == "..") name += "n";
    std::string path = Here() + name;
    struct stat st;
    if (::lstat((home_ + "/" + path).c_str(), &st) == 0) return "";
    return path;
  }
  std::string Here() const {
    return dirs_.back().empty() ? "" : dirs_.back() + "/";
  }
  std::string Full(const std::string& rel) const { return home_ + "/" + rel; }

  // Content: zeros, text, noise, or an earlier file's bytes (whole, or with
  // one byte changed), so dedup and compression both have work.
  std::string Content() {
    size_t len = std::min<size_t>(in_->Next16() * 3, kMaxBytes - bytes_);
    const uint8_t kind = in_->Next();
    std::string data;
    switch (kind % 5) {
      case 0:
        data.assign(len, '\0');
        break;
      case 1:
        while (data.size() < len) data += "migstore round trip line\n";
        data.resize(len);
        break;
      case 2: {
        uint64_t x = 0x9e3779b97f4a7c15ull ^ in_->Next();
        data.resize(len);
        for (char& c : data) {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          c = static_cast<char>(x);
        }
        break;
      }
      default:
        if (!files_.empty()) {
          std::ifstream f(Full(files_[in_->Next() % files_.size()]),
                          std::ios::binary);
          data.assign(std::istreambuf_iterator<char>(f), {});
          if (kind % 5 == 4 && !data.empty()) data[len % data.size()] ^= 1;
          data.resize(std::min(data.size(), kMaxBytes - bytes_));
        }
    }
    bytes_ += data.size();
    return data;
  }

  void MakeFile() {
    std::string rel = NewPath();
    std::string data = Content();
    if (rel.empty()) return;
    int fd = ::open(Full(rel).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    FUZZ_ASSERT(fd >= 0);
    FUZZ_ASSERT(::write(fd, data.data(), data.size()) ==
                static_cast<ssize_t>(data.size()));
    ::close(fd);
    files_.push_back(rel);
    last_ = rel;
  }

  void MakeSparse() {
    std::string rel = NewPath();
    const off_t hole = off_t{in_->Next()} * 65536 + in_->Next16();
    std::string data = Content();
    if (rel.empty()) return;
    int fd = ::open(Full(rel).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    FUZZ_ASSERT(fd >= 0);
    if (data.empty()) {
      FUZZ_ASSERT(::ftruncate(fd, hole) == 0);  // all hole
    } else {
      FUZZ_ASSERT(::pwrite(fd, data.data(), data.size(), hole) ==
                  static_cast<ssize_t>(data.size()));
      // And a hole at the end, sometimes.
      if (in_->Next() & 1) FUZZ_ASSERT(::ftruncate(fd, hole * 2 + 70000) == 0);
    }
    ::close(fd);
    files_.push_back(rel);
    last_ = rel;
  }

  void MakeDir() {
    std::string rel = NewPath();
    if (rel.empty() || dirs_.size() > 12) return;
    FUZZ_ASSERT(::mkdir(Full(rel).c_str(), 0755) == 0);
    dirs_.push_back(rel);
    last_ = rel;
  }

  // Any target: dangling, absolute, through "..", pointing at itself.
  void MakeSymlink() {
    std::string rel = NewPath();
    std::string target;
    for (size_t n = 1 + in_->Next() % 40; n > 0; --n) {
      char c = static_cast<char>(in_->Next());
      target.push_back(c == '\0' ? '.' : c);
    }
    if (rel.empty()) return;
    FUZZ_ASSERT(::symlink(target.c_str(), Full(rel).c_str()) == 0);
    last_ = rel;
  }

  void MakeHardLink() {
    std::string rel = NewPath();
    const uint8_t which = in_->Next();
    if (rel.empty() || files_.empty()) return;
    const std::string& to = files_[which % files_.size()];
    FUZZ_ASSERT(::link(Full(to).c_str(), Full(rel).c_str()) == 0);
    last_ = rel;
  }

  void MakeFifo() {
    std::string rel = NewPath();
    if (rel.empty()) return;
    FUZZ_ASSERT(::mkfifo(Full(rel).c_str(), 0640) == 0);
    last_ = rel;
  }

  // The last entry made gets a mode, an extended attribute or a time.
  void Touch(uint8_t what) {
    if (last_.empty()) return;
    const std::string path = Full(last_);
    struct stat st;
    FUZZ_ASSERT(::lstat(path.c_str(), &st) == 0);
    switch (what % 3) {
      case 0:
        if (S_ISLNK(st.st_mode)) break;
        // The owner keeps read (and search on folders): a capture that is
        // not root must still read everything.
        FUZZ_ASSERT(::chmod(path.c_str(),
                            (in_->Next16() & 07777) |
                                (S_ISDIR(st.st_mode) ? 0700 : 0400)) == 0);
        break;
      case 1: {
        if (S_ISLNK(st.st_mode)) break;
        std::string name = "user.f" + std::to_string(in_->Next() % 4);
        std::string value(in_->Next() % 64, static_cast<char>(in_->Next()));
        // Refused where the filesystem has no user xattrs: nothing to check.
        ::setxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0);
        break;
      }
      case 2: {
        const int64_t t = int64_t{in_->Next16()} * 86400 * 1000000000 / 7 +
                          in_->Next16() * 1000003;
        if (S_ISDIR(st.st_mode)) {
          dir_times_.emplace_back(last_, t);
        } else {
          SetTime(last_, t);
        }
        break;
      }
    }
  }

  void SetTime(const std::string& rel, int64_t ns) {
    struct timespec t[2] = {{ns / 1000000000, ns % 1000000000},
                            {ns / 1000000000, ns % 1000000000}};
    FUZZ_ASSERT(
        ::utimensat(AT_FDCWD, Full(rel).c_str(), t, AT_SYMLINK_NOFOLLOW) == 0);
  }

  Bytes* in_;
  std::string home_;
  std::vector<std::string> dirs_;   // the folder stack; "" is home
  std::vector<std::string> files_;  // regular files, for links and copies
  std::vector<std::pair<std::string, int64_t>> dir_times_;
  std::string last_;
  size_t bytes_ = 0;
};

// Everything below `path`, read-only folders (a hard-link store's) too.
void RemoveAll(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec))
      ::chmod(it->path().c_str(), 0700);
  }
  ::chmod(path.c_str(), 0700);
  std::filesystem::remove_all(path, ec);
  FUZZ_ASSERT(!ec);
}

// The scratch directory of this process, removed at exit. (The string
// lives in its own static, made before the exit handler is registered, so
// it outlives the handler.)
std::string& WorkDirName() {
  static std::string dir;
  return dir;
}

const std::string& WorkDir() {
  std::string& dir = WorkDirName();
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/migstore-fuzz-XXXXXX";
    FUZZ_ASSERT(::mkdtemp(templ.data()) != nullptr);
    dir = templ;
    std::atexit([] { RemoveAll(WorkDirName()); });
  }
  return dir;
}

Key FuzzKey() {
  static const Key key = [] {
    Result<Key> k = Key::FromKeySecret(std::string(32, '\x5a'));
    FUZZ_ASSERT(k.ok());
    return *k;
  }();
  return key;
}

void CheckNoErrors(const std::vector<FileIssue>& errors) {
  for (const FileIssue& e : errors)
    std::fprintf(stderr, "%s: %s\n", e.path.c_str(),
                 e.status.ToString().c_str());
  FUZZ_ASSERT(errors.empty());
}

void CheckSame(const std::string& src, const std::string& dst) {
  std::string diff = testing::CompareTrees(src, dst);
  if (!diff.empty()) std::fprintf(stderr, "differs: %s\n", diff.c_str());
  FUZZ_ASSERT(diff.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const uint8_t flags = in.Next();
  const std::string root = WorkDir() + "/root", dst = WorkDir() + "/dst",
                    store = WorkDir() + "/store", rules = WorkDir() + "/rules";
  RemoveAll(root);
  RemoveAll(dst);
  RemoveAll(store);
  const std::string home = root + "/home/alice";
  std::filesystem::create_directories(home);
  std::filesystem::create_directories(root + "/etc");
  std::ofstream(root + "/etc/passwd")
      << "alice:x:1000:1000::/home/alice:/bin/bash\n";
  std::ofstream(rules) << "include %USERPROFILE%\n";
  Program(&in, home).Run();
  const auto before = testing::SnapshotTree(root);

  CaptureOptions c;
  c.root = root;
  c.store_path = store;
  c.rules_files = {rules};
  c.hardlink = flags & 4;
  c.encrypt = !c.hardlink && (flags & 1);
  if (c.encrypt) c.key = FuzzKey();
  c.compress = flags & 2;
  c.block_size = size_t{64} << 10 << (flags >> 3 & 3) * 2;  // 64K to 4M
  c.threads = 1 + (flags >> 5 & 1);
  Result<CaptureReport> captured = Capture(c);
  if (!captured.ok())
    std::fprintf(stderr, "capture: %s\n", captured.status().ToString().c_str());
  FUZZ_ASSERT(captured.ok());
  CheckNoErrors(captured->errors);

  VerifyOptions v;
  v.store_path = store;
  v.key = c.key;
  Result<VerifyReport> verified = Verify(v);
  FUZZ_ASSERT(verified.ok() && verified->intact());

  RestoreOptions r;
  r.store_path = store;
  r.key = c.key;
  r.target = dst;
  r.threads = c.threads;
  for (int run = 0; run < 2; ++run) {
    Result<RestoreReport> restored = Restore(r);
    if (!restored.ok())
      std::fprintf(stderr, "restore: %s\n",
                   restored.status().ToString().c_str());
    FUZZ_ASSERT(restored.ok());
    CheckNoErrors(restored->errors);
    if (run == 0) FUZZ_ASSERT(restored->files == captured->files);
    // The second run finds it all there: no conflict, nothing rewritten.
    if (run == 1)
      FUZZ_ASSERT(restored->renamed == 0 && restored->overwritten == 0);
    CheckSame(home, dst + "/home/alice");
  }
  FUZZ_ASSERT(
      testing::CompareSnapshots(before, testing::SnapshotTree(root)).empty());
  return 0;
}
