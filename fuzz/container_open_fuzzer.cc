// Opens arbitrary bytes as a store (unencrypted, then with a fixed key file
// secret) and reads everything it lets through: every catalog segment, every
// content, every data byte. Properties: no crash, no unbounded allocation;
// an opened store's catalog is internally consistent, and a hard-link
// group's members pass the group check only when they share content.

#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <string>

#include "format/container_reader.h"
#include "fuzz/fuzz_target.h"

namespace {

using migstore::Status;
using migstore::format::BlockCache;
using migstore::format::ContainerReader;
using migstore::format::KeySource;
using migstore::format::SecretBytes;

void ReadEverything(const ContainerReader& r) {
  const auto& x = r.index();
  BlockCache cache;
  // The first member of each hard-link group: a member the group check
  // lets through has its content and size.
  std::map<uint64_t, migstore::format::Entry> first_of_group;
  for (size_t i = 0; i < x.catalog_segments.size(); ++i) {
    auto entries = r.ReadCatalogSegment(i);
    if (!entries.ok()) continue;
    FUZZ_ASSERT(entries->size() == x.catalog_segments[i].entry_count);
    for (const auto& e : *entries) {
      FUZZ_ASSERT(e.profile <= x.profiles.size());
      if (e.link_group != 0) {
        auto [it, first] = first_of_group.emplace(e.link_group, e);
        if (!first &&
            ContainerReader::CheckLinkGroupMember(it->second, e).ok()) {
          FUZZ_ASSERT(it->second.content == e.content &&
                      it->second.size == e.size);
        }
      }
      if (!e.content) continue;
      FUZZ_ASSERT(*e.content < x.content_count);
      auto c = r.ReadContentFor(e);
      if (!c.ok()) continue;
      FUZZ_ASSERT(c->size == e.size);
      uint64_t seen = 0;
      Status s = r.ReadContentData(
          *c,
          [&](std::string_view piece) {
            seen += piece.size();
            return Status::OK();
          },
          &cache);
      if (s.ok()) FUZZ_ASSERT(seen == c->stored_size());
      // The in-memory path (sparse reassembly included) for small files.
      if (c->size <= (1 << 20)) {
        auto bytes = r.ReadFileBytes(*c, &cache);
        if (bytes.ok()) FUZZ_ASSERT(bytes->size() == c->size);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("store", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (int mode = 0; mode < 2; ++mode) {
    KeySource key =
        mode == 0
            ? KeySource::None()
            : KeySource::KeyFileSecret(SecretBytes::Copy(std::string(32, 'k')));
    auto r = ContainerReader::Open(path, key);
    if (r.ok()) ReadEverything(**r);
  }
  close(fd);
  return 0;
}
