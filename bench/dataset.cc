#include "bench/dataset.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "engine/base/deterministic_random.h"

namespace migstore::bench {
namespace {

namespace fs = std::filesystem;

// A kind of file in a profile: where it goes, how it is named, how many of
// the files and bytes it takes, and whether its bytes compress.
struct Kind {
  const char* folder;  // below the profile
  const char* extension;
  double file_share;
  double byte_share;
  enum Content { kText, kRandom, kMixed } content;
};

// Linux folders; the Windows layout maps them (WindowsFolder below).
constexpr Kind kKinds[] = {
    {"Documents/notes", ".txt", 0.40, 0.05, Kind::kText},
    {"Documents/projects/src", ".c", 0.14, 0.03, Kind::kText},
    {".config/app", ".conf", 0.10, 0.01, Kind::kText},
    {"Documents/office", ".docx", 0.10, 0.12, Kind::kRandom},
    {"Pictures/camera", ".jpg", 0.12, 0.33, Kind::kRandom},
    {"Music", ".mp3", 0.04, 0.14, Kind::kRandom},
    {"Downloads", ".bin", 0.02, 0.24, Kind::kMixed},
    {"Desktop", ".md", 0.05, 0.02, Kind::kText},
    {".local/share/app", ".db", 0.03, 0.06, Kind::kMixed},
};
// Left out by the built-in rules: caches, thumbnails, trash.
constexpr const char* kJunkFolders[] = {".cache/thumbnails", ".cache/browser",
                                        ".local/share/Trash/files"};

std::string WindowsFolder(std::string_view linux_folder) {
  if (linux_folder.rfind(".config", 0) == 0) {
    return "AppData/Roaming" + std::string(linux_folder.substr(7));
  }
  if (linux_folder.rfind(".local/share/Trash", 0) == 0)
    return "AppData/Local/Temp/trash";
  if (linux_folder.rfind(".local/share", 0) == 0) {
    return "AppData/Local" + std::string(linux_folder.substr(12));
  }
  if (linux_folder.rfind(".cache", 0) == 0) {
    return "AppData/Local/Temp" + std::string(linux_folder.substr(6));
  }
  return std::string(linux_folder);
}

class Writer {
 public:
  Writer(std::string root, DatasetStats* stats)
      : root_(std::move(root)), stats_(stats) {}

  Status Dir(const std::string& rel) {
    std::error_code ec;
    if (fs::create_directories(root_ + "/" + rel, ec)) ++stats_->directories;
    if (ec) return Status::IOError("cannot create " + rel, ec.message());
    return Status::OK();
  }

  Status File(const std::string& rel, std::string_view data, int64_t mtime_s,
              mode_t mode = 0644) {
    size_t slash = rel.rfind('/');
    if (slash != std::string::npos)
      MIGSTORE_RETURN_IF_ERROR(Dir(rel.substr(0, slash)));
    const std::string path = root_ + "/" + rel;
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return Status::FromErrno("cannot create " + rel, errno);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t w = ::write(fd, data.data() + done, data.size() - done);
      if (w < 0) {
        int err = errno;
        ::close(fd);
        return Status::FromErrno("cannot write " + rel, err);
      }
      done += static_cast<size_t>(w);
    }
    ::close(fd);
    MIGSTORE_RETURN_IF_ERROR(Touch(rel, mtime_s));
    ++stats_->files;
    stats_->bytes += data.size();
    return Status::OK();
  }

  // A sparse file: `logical` bytes, data only in the given islands.
  Status Sparse(const std::string& rel, uint64_t logical,
                const std::vector<std::pair<uint64_t, std::string>>& islands,
                int64_t mtime_s) {
    const std::string path = root_ + "/" + rel;
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno("cannot create " + rel, errno);
    bool ok = ::ftruncate(fd, static_cast<off_t>(logical)) == 0;
    for (const auto& [offset, data] : islands) {
      ok = ok &&
           ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)) ==
               static_cast<ssize_t>(data.size());
    }
    ::close(fd);
    if (!ok) return Status::IOError("cannot write " + rel);
    MIGSTORE_RETURN_IF_ERROR(Touch(rel, mtime_s));
    ++stats_->files;
    stats_->bytes += logical;
    return Status::OK();
  }

  Status Touch(const std::string& rel, int64_t mtime_s) {
    struct timespec times[2] = {{mtime_s, 0}, {mtime_s, 123456789}};
    if (::utimensat(AT_FDCWD, (root_ + "/" + rel).c_str(), times,
                    AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno("cannot set times of " + rel, errno);
    }
    return Status::OK();
  }

  Status Symlink(const std::string& rel, const std::string& target) {
    if (::symlink(target.c_str(), (root_ + "/" + rel).c_str()) != 0) {
      return Status::FromErrno("cannot make symlink " + rel, errno);
    }
    return Status::OK();
  }

 private:
  std::string root_;
  DatasetStats* stats_;
};

std::string Content(DeterministicRandom* gen, Kind::Content c, size_t n) {
  switch (c) {
    case Kind::kText:
      return gen->Text(n);
    case Kind::kRandom:
      return gen->Bytes(n);
    case Kind::kMixed: {
      std::string half = gen->Text(n / 2);
      return half + gen->Bytes(n - half.size());
    }
  }
  return {};
}

// A size around `mean`: uniform over [0.2, 1.8] × mean, at least 1 byte.
size_t SizeAround(DeterministicRandom* gen, double mean) {
  double f = 0.2 + 1.6 * static_cast<double>(gen->Below(1 << 20)) / (1 << 20);
  return std::max<size_t>(1, static_cast<size_t>(mean * f));
}

Status SystemFiles(Writer* w, const DatasetSpec& spec,
                   const std::vector<std::string>& users, int64_t t0) {
  if (spec.layout == "linux") {
    std::string passwd =
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/"
        "sbin/nologin\n";
    std::string group = "root:x:0:\ndaemon:x:1:\n";
    for (size_t i = 0; i < users.size(); ++i) {
      std::string id = std::to_string(1000 + i);
      passwd += users[i] + ":x:" + id + ":" + id + "::/home/" + users[i] +
                ":/bin/bash\n";
      group += users[i] + ":x:" + id + ":\n";
    }
    MIGSTORE_RETURN_IF_ERROR(w->File("etc/passwd", passwd, t0));
    MIGSTORE_RETURN_IF_ERROR(w->File("etc/group", group, t0));
    return w->File("etc/hostname", "demo-pc\n", t0);
  }
  MIGSTORE_RETURN_IF_ERROR(w->Dir("Windows/System32"));
  MIGSTORE_RETURN_IF_ERROR(w->File("Users/Public/Documents/shared-notice.txt",
                                   "For everyone on this PC.\n", t0));
  return w->File("ProgramData/Microsoft/Windows/Start Menu/Programs/Tool.lnk",
                 std::string(512, 'L'), t0);
}

}  // namespace

Status SpecForPreset(const std::string& name, DatasetSpec* spec) {
  *spec = DatasetSpec();
  if (name == "demo") {
    spec->bytes = 20ull << 20;
    spec->files = 2000;
  } else if (name == "ci") {
    spec->bytes = 50ull << 20;
    spec->files = 5000;
  } else if (name == "bench") {
    spec->bytes = 1200ull << 20;
    spec->files = 60000;
    spec->users = 4;
  } else if (name == "medium") {
    spec->bytes = 2048ull << 20;
    spec->files = 80000;
    spec->users = 5;
  } else if (name == "files") {
    spec->bytes = 100ull << 20;
    spec->files = 1000000;
    spec->users = 4;
    spec->sparse_image = false;
  } else {
    return Status::InvalidArgument("unknown dataset preset " + name,
                                   "use demo, ci, bench, medium or files");
  }
  return Status::OK();
}

Status GenerateDataset(const std::string& root, const DatasetSpec& spec,
                       DatasetStats* stats) {
  if (spec.layout != "linux" && spec.layout != "windows") {
    return Status::InvalidArgument("layout must be linux or windows");
  }
  if (spec.users < 1 || spec.files < 10)
    return Status::InvalidArgument("dataset too small");
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Status::IOError("cannot create " + root, ec.message());
  if (!fs::is_empty(root, ec))
    return Status::InvalidArgument(root, "is not empty");
  DatasetStats local;
  if (stats == nullptr) stats = &local;
  *stats = DatasetStats();
  Writer w(root, stats);
  DeterministicRandom gen(spec.seed);
  const int64_t t0 = 1700000000;  // 2023-11-14: every time is deterministic

  static const char* const kNames[] = {"alice", "bob",   "carol", "dave",
                                       "erin",  "frank", "grace", "heidi"};
  std::vector<std::string> users;
  for (int i = 0; i < spec.users; ++i) {
    users.push_back(std::string(kNames[i % 8]) +
                    (i >= 8 ? std::to_string(i) : ""));
  }
  MIGSTORE_RETURN_IF_ERROR(SystemFiles(&w, spec, users, t0));
  const bool win = spec.layout == "windows";
  auto home = [&](size_t u) { return (win ? "Users/" : "home/") + users[u]; };
  auto folder = [&](const char* f) {
    return win ? WindowsFolder(f) : std::string(f);
  };

  // Files shared between profiles (the same installer, photo or document).
  std::vector<std::pair<std::string, std::string>>
      shared;  // (relative name, bytes)
  const double junk_share = spec.caches ? 0.05 : 0;
  const uint64_t per_user_files =
      spec.files / static_cast<uint64_t>(users.size());
  const double per_user_bytes =
      static_cast<double>(spec.bytes) / static_cast<double>(users.size());

  for (size_t u = 0; u < users.size(); ++u) {
    const std::string h = home(u);
    if (win) {
      MIGSTORE_RETURN_IF_ERROR(
          w.File(h + "/NTUSER.DAT", gen.Bytes(256 * 1024), t0 + 86400));
    } else {
      MIGSTORE_RETURN_IF_ERROR(
          w.File(h + "/.bashrc", "export EDITOR=vi\nalias ll='ls -l'\n", t0));
      MIGSTORE_RETURN_IF_ERROR(
          w.File(h + "/.gitconfig", "[user]\n\tname = " + users[u] + "\n", t0));
      MIGSTORE_RETURN_IF_ERROR(
          w.File(h + "/.ssh/id_ed25519", gen.Bytes(400), t0, 0600));
      MIGSTORE_RETURN_IF_ERROR(w.Symlink(h + "/.ssh/current", "id_ed25519"));
    }
    uint64_t made = 0;
    for (const Kind& k : kKinds) {
      const uint64_t count = std::max<uint64_t>(
          1, static_cast<uint64_t>(static_cast<double>(per_user_files) *
                                   k.file_share * (1 - junk_share)));
      const double mean =
          per_user_bytes * k.byte_share / static_cast<double>(count);
      // A folder holds up to 500 files, as real ones do.
      for (uint64_t i = 0; i < count; ++i, ++made) {
        char name[64];
        std::snprintf(name, sizeof(name), "/d%03llu/file-%05llu%s",
                      static_cast<unsigned long long>(i / 500),
                      static_cast<unsigned long long>(i), k.extension);
        const std::string rel = folder(k.folder) + name;
        std::string data;
        // In later profiles, one file in ten of the compressed kinds is a
        // copy of the first profile's.
        if (spec.duplicates && u > 0 && k.content == Kind::kRandom &&
            i % 10 == 0 && i / 10 < shared.size()) {
          data = shared[i / 10].second;
        } else {
          data = Content(&gen, k.content, SizeAround(&gen, mean));
          if (spec.duplicates && u == 0 && k.content == Kind::kRandom &&
              i % 10 == 0) {
            shared.emplace_back(rel, data);
          }
        }
        MIGSTORE_RETURN_IF_ERROR(
            w.File(h + "/" + rel, data,
                   t0 + static_cast<int64_t>(gen.Below(86400 * 365))));
      }
    }
    if (spec.caches) {
      const uint64_t junk = static_cast<uint64_t>(
          static_cast<double>(per_user_files) * junk_share);
      for (uint64_t i = 0; i < junk; ++i) {
        const char* f = kJunkFolders[i % 3];
        MIGSTORE_RETURN_IF_ERROR(
            w.File(h + "/" + folder(f) + "/cache-" + std::to_string(i),
                   gen.Bytes(SizeAround(&gen, 8192)), t0));
      }
    }
    if (spec.odd_names) {
      const std::string d = h + "/" + folder("Documents/odd");
      MIGSTORE_RETURN_IF_ERROR(
          w.File(d + "/caf\xe9 latin-1.txt", "not UTF-8\n", t0));
      MIGSTORE_RETURN_IF_ERROR(
          w.File(d + "/line\nbreak.txt", "newline in the name\n", t0));
      MIGSTORE_RETURN_IF_ERROR(
          w.File(d + "/r\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93.txt", "UTF-8\n", t0));
      MIGSTORE_RETURN_IF_ERROR(w.File(d + "/ spaces  .txt", "spaces\n", t0));
      std::string deep = d + "/deep";
      while (deep.size() < 1500)
        deep += "/level-" + std::to_string(deep.size());
      MIGSTORE_RETURN_IF_ERROR(w.File(deep + "/bottom.txt", "deep\n", t0));
      MIGSTORE_RETURN_IF_ERROR(w.Symlink(d + "/dangling", "no/such/target"));
      MIGSTORE_RETURN_IF_ERROR(w.Symlink(d + "/absolute", "/etc/hostname"));
    }
    if (spec.sparse_image && u == 0) {
      MIGSTORE_RETURN_IF_ERROR(w.Sparse(
          h + "/" + folder("Documents") + "/disk.img", 256ull << 20,
          {{1 << 20, gen.Bytes(1 << 20)}, {200ull << 20, gen.Text(1 << 20)}},
          t0));
    }
  }
  return Status::OK();
}

}  // namespace migstore::bench
