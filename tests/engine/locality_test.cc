// fs/locality.h: which filesystems capture --local-only (ScanState
// /localonly) keeps out. Network filesystems by their statfs magic; the
// machine's own directories are local. (A real NFS or SMB mount, or a
// removable disk, cannot be made by a test here.)

#include "engine/src/fs/locality.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/util/test_util.h"

namespace migstore::fs {
namespace {

TEST(Locality, NetworkFilesystemsAreToldByTheirMagic) {
  for (uint64_t network : {0x6969ull, 0xFF534D42ull, 0xFE534D42ull, 0x517Bull,
                           0x01021997ull, 0x00C36400ull}) {
    EXPECT_TRUE(IsNetworkFilesystem(network)) << std::hex << network;
  }
  for (uint64_t local :
       {0xEF53ull /* ext4 */, 0x01021994ull /* tmpfs */,
        0x58465342ull /* xfs */, 0x9123683Eull /* btrfs */,
        0x65735546ull /* FUSE: ntfs-3g too */, 0x5346544Eull /* ntfs */}) {
    EXPECT_FALSE(IsNetworkFilesystem(local)) << std::hex << local;
  }
}

TEST(Locality, ThisMachinesDirectoriesAreLocal) {
  testing::TempDir dir;
  int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(LocalityOf(fd), Locality::kLocal);
  ::close(fd);
  EXPECT_STREQ(LocalityName(Locality::kNetwork), "network");
  EXPECT_STREQ(LocalityName(Locality::kRemovable), "removable");
}

}  // namespace
}  // namespace migstore::fs
