#include "engine/src/fs/change_time.h"

#include <sys/statfs.h>

#include <cstdint>
#include <cstdio>

namespace migstore::fs {
namespace {

struct Known {
  uint32_t magic;
  const char* name;
  bool trusted;
};

// Magic numbers from linux/magic.h and the filesystems' sources.
constexpr Known kKnown[] = {
    {0xEF53, "ext4", true},         {0x58465342, "xfs", true},
    {0x9123683E, "btrfs", true},    {0x01021994, "tmpfs", true},
    {0xF2F52010, "f2fs", true},     {0x2FC12FC1, "zfs", true},
    {0xCA451A4E, "bcachefs", true}, {0x794C7630, "overlay", true},
    {0x3153464A, "jfs", true},      {0x52654973, "reiserfs", true},
    {0x4D44, "vfat", false},        {0x2011BAB0, "exfat", false},
    {0x5346544E, "ntfs", false},    {0x7366746E, "ntfs3", false},
    {0x65735546, "fuse", false},    {0x6969, "nfs", false},
    {0xFF534D42, "cifs", false},    {0xFE534D42, "smb2", false},
    {0x517B, "smb", false},         {0x01021997, "9p", false},
    {0x00C36400, "ceph", false},    {0x9660, "iso9660", false},
    {0x15013346, "udf", false},     {0x73717368, "squashfs", false},
};

}  // namespace

ChangeTimeTrust ChangeTimeTrustOf(int fd) {
  struct statfs st {};
  if (::fstatfs(fd, &st) != 0) return {false, "unknown"};
  const auto magic = static_cast<uint32_t>(st.f_type);
  for (const Known& k : kKnown) {
    if (k.magic == magic) return {k.trusted, k.name};
  }
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%x", magic);
  return {false, hex};
}

}  // namespace migstore::fs
