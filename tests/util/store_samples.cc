#include "tests/util/store_samples.h"

#include <cstdio>

#include "engine/base/deterministic_random.h"
#include "format/hash.h"

namespace migstore::testing {

using format::EntryType;
using format::MemoryFile;
using format::MemoryStore;

format::Profile MakeProfile(std::string name, std::string home, uint32_t uid) {
  format::Profile p;
  p.name = std::move(name);
  p.home = std::move(home);
  p.layout = format::Layout::kLinux;
  p.uid = p.gid = uid;
  p.last_use_ns = 1699999999000000000LL;
  p.folders = {{"DOCUMENTS", p.home + "/Documents"},
               {"DESKTOP", p.home + "/Desktop"}};
  return p;
}

MemoryStore RichStore() {
  DeterministicRandom gen(42);
  MemoryStore s;
  s.properties = {{"creator", "tests"}, {"host", "test-host"}};
  s.profiles = {MakeProfile("alice", "home/alice", 1001),
                MakeProfile("bob", "home/bob", 1002)};
  s.profiles[1].layout = format::Layout::kWindows;
  s.profiles[1].sid = "S-1-5-21-1-2-3-1002";
  s.owner_names = {{0, "root"}, {1001, "alice"}, {1002, "bob"}};
  s.group_names = {{1001, "alice"}, {1002, "bob"}};

  std::string shared = gen.Bytes(5000);
  s.files.push_back(MakeDir(1, "home/alice"));
  s.files.push_back(MakeFile(1, "home/alice/text.txt", gen.Text(20000)));
  s.files.push_back(MakeFile(1, "home/alice/random.bin", gen.Bytes(10000)));
  s.files.push_back(MakeFile(1, "home/alice/shared.bin", shared));
  s.files.push_back(
      MakeFile(1, std::string("home/alice/caf\xe9\xff.txt"), "latin-1 name"));
  s.files.push_back(MakeFile(1, "home/alice/line\nbreak", "newline in name"));
  s.files.push_back(MakeFile(1, "home/alice/empty", ""));
  s.files.push_back(MakeSymlink(1, "home/alice/link", "../bob/\xfe target"));
  s.files.push_back(MakeFifo(1, "home/alice/fifo"));
  // A path of exactly 4095 bytes (PATH_MAX - 1), no component over 255.
  std::string deep = "home/alice";
  while (4095 - deep.size() > 256) deep += "/" + std::string(200, 'd');
  deep += "/" + std::string(4095 - deep.size() - 1, 'f');
  s.files.push_back(MakeFile(1, deep, "deep"));
  MemoryFile sparse =
      MakeFile(1, "home/alice/sparse.img", std::string(1 << 20, '\0'));
  std::string island = gen.Bytes(3000);
  sparse.data.replace(8192, island.size(), island);
  sparse.data.replace(900000, island.size(), island);
  sparse.sparse_ranges = {{8192, island.size()}, {900000, island.size()}};
  s.files.push_back(std::move(sparse));
  MemoryFile holes =
      MakeFile(1, "home/alice/all-holes.img", std::string(70000, '\0'));
  holes.sparse_ranges = std::vector<format::DataRange>{};
  s.files.push_back(std::move(holes));
  MemoryFile attrs = MakeFile(2, "home/bob/attrs.txt", "with xattrs");
  attrs.entry.set_xattrs({{"user.comment", std::string("binary\0value", 12)},
                          {"system.posix_acl_access", gen.Bytes(28)}});
  attrs.entry.atime_ns = -1;  // before the epoch
  attrs.entry.ctime_ns = 1700000000999999999LL;
  attrs.entry.btime_ns = 1600000000000000001LL;
  attrs.entry.attributes = 0x20;
  attrs.entry.mode = 04755;
  attrs.entry.uid = 1002;
  attrs.entry.gid = 1002;
  s.files.push_back(std::move(attrs));
  s.files.push_back(MakeFile(2, "home/bob/shared-copy.bin", shared));
  MemoryFile l1 = MakeFile(2, "home/bob/hardlink-a", "linked");
  l1.entry.link_group = 7;
  MemoryFile l2 = l1;
  l2.entry.path = "home/bob/hardlink-b";
  s.files.push_back(std::move(l1));
  s.files.push_back(std::move(l2));
  s.files.push_back(MakeDir(format::kNoProfile, "ProgramData"));
  format::NormalizeMemoryStore(&s);
  return s;
}

MemoryStore GoldenStore() {
  DeterministicRandom gen(7);
  MemoryStore s;
  s.properties = {{"creator", "migstore golden v1"}};
  s.profiles = {MakeProfile("alice", "home/alice", 1001)};
  s.owner_names = {{1001, "alice"}};
  s.group_names = {{1001, "alice"}};
  std::string doc = gen.Text(1500);
  s.files.push_back(MakeDir(1, "home/alice"));
  s.files.push_back(MakeFile(1, "home/alice/doc.txt", doc));
  s.files.push_back(MakeFile(1, "home/alice/copy of doc.txt", doc));
  s.files.push_back(MakeFile(1, "home/alice/noise.bin", gen.Bytes(600)));
  s.files.push_back(
      MakeFile(1, std::string("home/alice/caf\xe9\n.txt"), "odd name"));
  s.files.push_back(MakeSymlink(1, "home/alice/link", "doc.txt"));
  s.files.push_back(MakeFifo(1, "home/alice/fifo"));
  MemoryFile sparse =
      MakeFile(1, "home/alice/sparse", std::string(100000, '\0'));
  sparse.data.replace(50000, 5, "isle!");
  sparse.sparse_ranges = {{50000, 5}};
  s.files.push_back(std::move(sparse));
  s.files.back().entry.set_xattrs({{"user.note", "kept"}});
  format::NormalizeMemoryStore(&s);
  return s;
}

namespace {

std::string Escape(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Hex(const format::Hash128& h) {
  std::string out;
  char buf[3];
  for (unsigned char c : h) {
    std::snprintf(buf, sizeof(buf), "%02x", c);
    out += buf;
  }
  return out;
}

}  // namespace

std::string DescribeStore(const MemoryStore& s) {
  std::string out;
  for (const auto& [k, v] : s.properties)
    out += "property " + Escape(k) + "=" + Escape(v) + "\n";
  for (const format::Profile& p : s.profiles) {
    out += "profile " + Escape(p.name) + " home=" + Escape(p.home) +
           " layout=" + std::to_string(static_cast<int>(p.layout)) +
           " uid=" + std::to_string(p.uid) + " gid=" + std::to_string(p.gid) +
           " sid=" + Escape(p.sid) +
           " last_use=" + std::to_string(p.last_use_ns);
    for (const auto& [k, v] : p.folders)
      out += " " + Escape(k) + "=" + Escape(v);
    out += "\n";
  }
  for (const auto& [id, n] : s.owner_names)
    out += "owner " + std::to_string(id) + "=" + Escape(n) + "\n";
  for (const auto& [id, n] : s.group_names)
    out += "group " + std::to_string(id) + "=" + Escape(n) + "\n";
  for (const MemoryFile& f : s.files) {
    const format::Entry& e = f.entry;
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", e.mode);
    out += "entry " + std::to_string(e.profile) + " " + Escape(e.path) +
           " type=" + std::to_string(static_cast<int>(e.type)) +
           " mode=" + mode + " uid=" + std::to_string(e.uid) +
           " gid=" + std::to_string(e.gid) +
           " mtime=" + std::to_string(e.mtime_ns) +
           " size=" + std::to_string(e.size);
    if (e.atime_ns) out += " atime=" + std::to_string(*e.atime_ns);
    if (e.ctime_ns) out += " ctime=" + std::to_string(*e.ctime_ns);
    if (e.btime_ns) out += " btime=" + std::to_string(*e.btime_ns);
    if (e.attributes) out += " attributes=" + std::to_string(*e.attributes);
    if (e.link_group) out += " link=" + std::to_string(e.link_group);
    if (e.type == EntryType::kSymlink)
      out += " target=" + Escape(e.symlink_target());
    for (const format::Xattr& x : e.xattrs())
      out += " xattr:" + Escape(x.name) + "=" + Escape(x.value);
    if (e.type == EntryType::kFile)
      out += " data=" + Hex(format::HashBytes(f.data));
    if (f.sparse_ranges) {
      out += " ranges=";
      for (const format::DataRange& r : *f.sparse_ranges) {
        out += std::to_string(r.offset) + "+" + std::to_string(r.length) + ",";
      }
    }
    out += "\n";
  }
  return out;
}

format::MemoryWriteOptions QuickOptions() {
  format::MemoryWriteOptions o;
  o.writer.kdf = format::KdfParams::Fast();
  o.block_size = 4096;
  return o;
}

}  // namespace migstore::testing
