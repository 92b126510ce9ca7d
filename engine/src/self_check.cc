#include "migstore/self_check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>

#include "engine/base/deterministic_random.h"
#include "engine/base/unique_fd.h"
#include "format/container_reader.h"
#include "format/memory_store.h"
#include "migstore/result.h"

namespace migstore {
namespace {

using format::ContainerReader;
using format::Entry;
using format::EntryType;
using format::KeySource;
using format::MemoryFile;
using format::MemoryStore;
using format::SecretBytes;

// A small store with every kind of thing the format carries.
MemoryStore SampleStore() {
  DeterministicRandom gen(20261122);
  MemoryStore s;
  s.properties = {{"creator", "migstore self-check"}, {"layout", "linux"}};
  for (const char* name : {"alice", "bob"}) {
    format::Profile p;
    p.name = name;
    p.home = std::string("home/") + name;
    p.layout = format::Layout::kLinux;
    p.uid = p.gid = static_cast<uint32_t>(s.profiles.size() + 1001);
    p.folders = {{"DOCUMENTS", p.home + "/Documents"}};
    s.profiles.push_back(std::move(p));
  }
  s.owner_names = {{1001, "alice"}, {1002, "bob"}};
  s.group_names = {{1001, "alice"}, {1002, "bob"}};

  std::string photo = gen.Bytes(300 * 1024);
  s.files.push_back(format::MakeDir(1, "home/alice"));
  s.files.push_back(format::MakeFile(1, "home/alice/Documents/notes.txt",
                                     gen.Text(200 * 1024)));
  s.files.push_back(
      format::MakeFile(1, "home/alice/Pictures/photo.jpg", photo));
  s.files.push_back(format::MakeFile(1, "home/alice/big.bin",
                                     gen.Text(5 << 20) + gen.Bytes(4 << 20)));
  s.files.push_back(format::MakeFile(1, std::string("home/alice/caf\xe9\n.txt"),
                                     "non-UTF-8 name\n"));
  s.files.push_back(format::MakeFile(1, "home/alice/empty", ""));
  s.files.push_back(
      format::MakeSymlink(1, "home/alice/link", "Documents/notes.txt"));
  s.files.push_back(format::MakeFifo(1, "home/alice/pipe"));
  MemoryFile disk =
      format::MakeFile(1, "home/alice/disk.img", std::string(64 << 20, '\0'));
  std::string island = gen.Bytes(100000);
  disk.data.replace(4096, island.size(), island);
  disk.data.replace(40 << 20, island.size(), island);
  disk.sparse_ranges = {{4096, island.size()}, {40 << 20, island.size()}};
  s.files.push_back(std::move(disk));
  s.files.push_back(
      format::MakeFile(2, "home/bob/photo-copy.jpg", photo));  // dedup
  s.files.back().entry.set_xattrs({{"user.origin", "camera"}});
  format::NormalizeMemoryStore(&s);
  return s;
}

Status Expect(bool cond, const std::string& what) {
  return cond ? Status::OK() : Status::Corruption("self-check", what);
}

Status RoundTrip(const std::string& path, const KeySource& write_key,
                 const KeySource& read_key, const format::KdfParams& kdf) {
  MemoryStore want = SampleStore();
  format::MemoryWriteOptions opts;
  opts.writer.kdf = kdf;
  opts.writer.overwrite = true;
  MIGSTORE_RETURN_IF_ERROR(
      format::WriteMemoryStore(path, write_key, want, opts));
  MIGSTORE_ASSIGN_OR_RETURN(auto reader, ContainerReader::Open(path, read_key));
  MIGSTORE_ASSIGN_OR_RETURN(MemoryStore got, format::ReadMemoryStore(*reader));
  format::NormalizeMemoryStore(&got);
  MIGSTORE_RETURN_IF_ERROR(
      Expect(got == want, "read back differs from what was written"));
  // The two identical photos share one content.
  size_t with_data = 0;
  for (const MemoryFile& f : want.files) {
    with_data += f.entry.type == EntryType::kFile && f.entry.size > 0 ? 1 : 0;
  }
  return Expect(reader->index().content_count == with_data - 1,
                "identical files were not stored once");
}

Status FlipByte(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  UniqueFd owned(fd);
  unsigned char c;
  if (::pread(fd, &c, 1, static_cast<off_t>(offset)) != 1)
    return Status::IOError("pread");
  c ^= 0x40;
  if (::pwrite(fd, &c, 1, static_cast<off_t>(offset)) != 1)
    return Status::IOError("pwrite");
  return Status::OK();
}

// Damages one data block and checks that exactly the files using it fail.
Status DamageStaysLocal(const std::string& path, const KeySource& key) {
  uint64_t victim = 0;
  {
    MIGSTORE_ASSIGN_OR_RETURN(auto r, ContainerReader::Open(path, key));
    victim = r->block_offset(1) + r->index().blocks[1].frame_len / 2;
  }
  MIGSTORE_RETURN_IF_ERROR(FlipByte(path, victim));
  MIGSTORE_ASSIGN_OR_RETURN(auto r, ContainerReader::Open(path, key));
  size_t lost = 0, intact = 0;
  for (uint64_t id = 0; id < r->index().content_count; ++id) {
    MIGSTORE_ASSIGN_OR_RETURN(format::Content c, r->ReadContent(id));
    bool uses_victim = false;
    for (const format::Chunk& ch : c.chunks) uses_victim |= ch.block == 1;
    Status s =
        r->ReadContentData(c, [](std::string_view) { return Status::OK(); });
    if (uses_victim) {
      MIGSTORE_RETURN_IF_ERROR(
          Expect(s.IsCorruption(), "a damaged block was read as good"));
      ++lost;
    } else {
      MIGSTORE_RETURN_IF_ERROR(
          s.WithContext("an undamaged file failed to read"));
      ++intact;
    }
  }
  return Expect(lost > 0 && intact > 0,
                "the damage test did not split files as planned");
}

Status TruncationRefused(const std::string& path, const KeySource& key) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::IOError("stat " + path, ec.message());
  if (::truncate(path.c_str(), static_cast<off_t>(size - 1)) != 0) {
    return Status::FromErrno("truncate " + path, errno);
  }
  auto r = ContainerReader::Open(path, key);
  return Expect(!r.ok() && r.status().IsCorruption(),
                "a truncated store was opened");
}

}  // namespace

SelfCheckReport RunSelfCheck(const std::string& scratch_parent) {
  SelfCheckReport report;
  std::string parent = scratch_parent;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string templ = parent + "/migstore-self-check-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    report.steps.push_back(
        {"make a scratch directory",
         Status::FromErrno("cannot create a directory in " + parent, errno),
         0});
    return report;
  }
  const std::string dir = templ;
  auto step = [&](std::string name, const std::function<Status()>& fn) {
    auto start = std::chrono::steady_clock::now();
    Status s = fn();
    std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    report.steps.push_back({std::move(name), std::move(s), took.count()});
  };

  const std::string key_secret = format::RandomHex(16);  // 32 bytes as text
  auto key_file = [&] {
    return KeySource::KeyFileSecret(SecretBytes::Copy(key_secret));
  };
  auto password = [] {
    return KeySource::Password(SecretBytes::Copy("correct horse battery"));
  };

  step("unencrypted store: write, read back every byte", [&] {
    return RoundTrip(dir + "/plain.mig", KeySource::None(), KeySource::None(),
                     format::KdfParams::Default());
  });
  step("key-file store: write, read back every byte", [&] {
    return RoundTrip(dir + "/keyfile.mig", key_file(), key_file(),
                     format::KdfParams::Default());
  });
  step("password store (Argon2id, 256 MiB): write, read back", [&] {
    return RoundTrip(dir + "/password.mig", password(), password(),
                     format::KdfParams::Default());
  });
  step("a wrong key file is refused", [&] {
    auto r = ContainerReader::Open(
        dir + "/keyfile.mig",
        KeySource::KeyFileSecret(SecretBytes::Random(format::kKeySize)));
    return Expect(!r.ok() && r.status().IsWrongKey(),
                  "a wrong key opened the store");
  });
  step("a damaged block is caught and costs only its files",
       [&] { return DamageStaysLocal(dir + "/keyfile.mig", key_file()); });
  step("a truncated store is refused", [&] {
    return TruncationRefused(dir + "/plain.mig", KeySource::None());
  });

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return report;
}

}  // namespace migstore
