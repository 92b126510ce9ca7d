// Store bytes at the state migration point (engine/src/smp/storage.h): an
// upload written to the partial at the offsets a resuming client sends,
// published only when its length and SHA-256 are right, read back, removed;
// ids that are not the service's refused, and nothing written outside the
// storage folder.

#include "engine/src/smp/storage.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "format/file_io.h"
#include "tests/util/test_util.h"

namespace migstore::smp {
namespace {

using testing::Has;
using testing::ListDir;
using testing::TempDir;

constexpr char kId[] = "0123456789abcdef0123456789abcdef";

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// Bytes that differ from offset to offset, so a chunk written at the wrong
// place shows.
std::string Bytes(size_t n, unsigned seed) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 8)) & 0xff);
  return out;
}

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The storage folder is one level down: its parent shows anything
    // written beside it.
    folder_ = dir_ / "store-a";
    ASSERT_EQ(::mkdir(folder_.c_str(), 0700), 0);
    Result<Storage> storage = Storage::Open({{folder_, 10, 0}});
    ASSERT_OK(storage);
    storage_.emplace(std::move(storage).value());
  }
  void TearDown() override {
    // Nothing but the storage folder ever appears beside it.
    EXPECT_EQ(ListDir(dir_.path()), std::vector<std::string>{"store-a"});
  }

  TempDir dir_;
  std::string folder_;
  std::optional<Storage> storage_;
};

TEST_F(StorageTest, OpenChecksTheFolders) {
  EXPECT_TRUE(Storage::Open({}).status().IsInvalidArgument());
  EXPECT_TRUE(
      Storage::Open({{"relative/path", 1, 0}}).status().IsInvalidArgument());
  EXPECT_FALSE(Storage::Open({{folder_ + "/missing", 1, 0}}).ok());
  testing::WriteFile(folder_ + "/file", "x");
  EXPECT_TRUE(
      Storage::Open({{folder_ + "/file", 1, 0}}).status().IsInvalidArgument());
  ASSERT_EQ(::unlink((folder_ + "/file").c_str()), 0);
  // The probe leaves nothing behind.
  EXPECT_TRUE(ListDir(folder_).empty());
  Result<uint64_t> free_bytes = storage_->FreeBytes(folder_);
  ASSERT_OK(free_bytes);
  EXPECT_GT(*free_bytes, 0u);
}

TEST_F(StorageTest, AnUploadInChunksIsPublishedAndReadBack) {
  const std::string data = Bytes(300000, 1);
  EXPECT_EQ(*storage_->PartialSize(folder_, kId), 0u);
  uint64_t at = 0;
  for (size_t chunk : {100000u, 1u, 0u, 199999u}) {
    Result<uint64_t> size = storage_->WritePartial(
        folder_, kId, at, std::string_view(data).substr(at, chunk));
    ASSERT_OK(size);
    at += chunk;
    EXPECT_EQ(*size, at);
    EXPECT_EQ(*storage_->PartialSize(folder_, kId), at);
  }
  ASSERT_EQ(at, data.size());
  // Not readable before it is published.
  EXPECT_TRUE(storage_->OpenCommitted(folder_, kId).status().IsNotFound());

  ASSERT_OK(storage_->Publish(folder_, kId, data.size(), Sha256Hex(data)));
  EXPECT_EQ(ListDir(folder_),
            std::vector<std::string>{std::string(kId) + ".mig"});
  EXPECT_EQ(*storage_->PartialSize(folder_, kId), 0u);
  Result<StoreBytes> bytes = storage_->OpenCommitted(folder_, kId);
  ASSERT_OK(bytes);
  EXPECT_EQ(bytes->size, data.size());
  std::string back(data.size(), '\0');
  Result<size_t> got =
      format::PreadFull(bytes->fd.get(), 0, back.size(), back.data(), "store");
  ASSERT_OK(got);
  EXPECT_EQ(*got, data.size());
  EXPECT_EQ(back, data);
  // Kept from other users.
  struct stat st;
  ASSERT_EQ(::stat((folder_ + "/" + kId + ".mig").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
}

TEST_F(StorageTest, WritingAtZeroStartsOver) {
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, Bytes(5000, 1)));
  const std::string second = Bytes(1000, 2);
  Result<uint64_t> size = storage_->WritePartial(folder_, kId, 0, second);
  ASSERT_OK(size);
  EXPECT_EQ(*size, second.size());
  ASSERT_OK(storage_->Publish(folder_, kId, second.size(), Sha256Hex(second)));
  EXPECT_EQ(testing::ReadFile(folder_ + "/" + kId + ".mig"), second);
}

TEST_F(StorageTest, AWriteAnywhereButTheEndIsRefused) {
  const std::string data = Bytes(1000, 3);
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, data));
  for (uint64_t wrong : {1ull, 999ull, 1001ull, 1ull << 40}) {
    Result<uint64_t> size = storage_->WritePartial(folder_, kId, wrong, "x");
    ASSERT_FALSE(size.ok()) << wrong;
    EXPECT_TRUE(size.status().IsInvalidArgument()) << size.status().ToString();
    // It says where to resume.
    EXPECT_TRUE(Has(size.status().ToString(), "1000"))
        << size.status().ToString();
  }
  // The partial is as it was.
  EXPECT_EQ(*storage_->PartialSize(folder_, kId), data.size());
  EXPECT_EQ(testing::ReadFile(folder_ + "/" + kId + ".mig.part"), data);
  // A first write must start at 0.
  constexpr char kFresh[] = "fedcba9876543210fedcba9876543210";
  EXPECT_TRUE(storage_->WritePartial(folder_, kFresh, 5, "x")
                  .status()
                  .IsInvalidArgument());
  EXPECT_EQ(*storage_->PartialSize(folder_, kFresh), 0u);
}

TEST_F(StorageTest, PublishChecksSizeAndHash) {
  const std::string data = Bytes(4096, 4);
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, data));

  Status short_size =
      storage_->Publish(folder_, kId, data.size() - 1, Sha256Hex(data));
  EXPECT_TRUE(short_size.IsCorruption()) << short_size.ToString();
  Status long_size =
      storage_->Publish(folder_, kId, data.size() + 1, Sha256Hex(data));
  EXPECT_TRUE(long_size.IsCorruption()) << long_size.ToString();
  std::string other = data;
  other[2000] ^= 1;
  Status wrong_hash =
      storage_->Publish(folder_, kId, data.size(), Sha256Hex(other));
  EXPECT_TRUE(wrong_hash.IsCorruption()) << wrong_hash.ToString();
  Status not_hex = storage_->Publish(folder_, kId, data.size(), "");
  EXPECT_TRUE(not_hex.IsCorruption()) << not_hex.ToString();

  // Each refusal kept the partial, for the client to resend or commit.
  EXPECT_TRUE(storage_->OpenCommitted(folder_, kId).status().IsNotFound());
  EXPECT_EQ(*storage_->PartialSize(folder_, kId), data.size());

  // A hash in capitals is the same hash.
  std::string upper = Sha256Hex(data);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  ASSERT_OK(storage_->Publish(folder_, kId, data.size(), upper));
  ASSERT_OK(storage_->OpenCommitted(folder_, kId));
}

TEST_F(StorageTest, PublishWithNothingUploaded) {
  Status s = storage_->Publish(folder_, kId, 0, Sha256Hex(""));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  // An empty upload is a store of no bytes.
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, ""));
  ASSERT_OK(storage_->Publish(folder_, kId, 0, Sha256Hex("")));
  Result<StoreBytes> bytes = storage_->OpenCommitted(folder_, kId);
  ASSERT_OK(bytes);
  EXPECT_EQ(bytes->size, 0u);
}

TEST_F(StorageTest, ANewUploadReplacesAPublishedOne) {
  // A capture run again before release.
  const std::string first = Bytes(2000, 5), second = Bytes(700, 6);
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, first));
  ASSERT_OK(storage_->Publish(folder_, kId, first.size(), Sha256Hex(first)));
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, second));
  ASSERT_OK(storage_->Publish(folder_, kId, second.size(), Sha256Hex(second)));
  EXPECT_EQ(testing::ReadFile(folder_ + "/" + kId + ".mig"), second);
  EXPECT_EQ(ListDir(folder_).size(), 1u);
}

TEST_F(StorageTest, RemoveTakesBothFilesAndMayRunTwice) {
  const std::string data = Bytes(100, 7);
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, data));
  ASSERT_OK(storage_->Publish(folder_, kId, data.size(), Sha256Hex(data)));
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, data));  // a new upload
  ASSERT_EQ(ListDir(folder_).size(), 2u);
  ASSERT_OK(storage_->Remove(folder_, kId));
  EXPECT_TRUE(ListDir(folder_).empty());
  EXPECT_OK(storage_->Remove(folder_, kId));
  EXPECT_TRUE(storage_->OpenCommitted(folder_, kId).status().IsNotFound());
}

TEST_F(StorageTest, IdsThatAreNotTheServicesAreRefused) {
  // Also the bytes a traversal would land on: a file beside the folder.
  const std::vector<std::string> bad = {
      "../x",
      "../0123456789abcdef0123456789abcd",
      "0123456789ABCDEF0123456789ABCDEF",
      "0123456789abcdef0123456789abcde",
      "0123456789abcdef0123456789abcdef0",
      "0123456789abcdef/123456789abcdef",
      std::string("0123456789abcdef\0"
                  "123456789abcdef",
                  32),
      "",
      "/etc/passwd",
  };
  for (const std::string& id : bad) {
    EXPECT_FALSE(Storage::IsStoreId(id)) << id;
    EXPECT_TRUE(storage_->WritePartial(folder_, id, 0, "x")
                    .status()
                    .IsInvalidArgument())
        << id;
    EXPECT_TRUE(storage_->PartialSize(folder_, id).status().IsInvalidArgument())
        << id;
    EXPECT_TRUE(
        storage_->Publish(folder_, id, 1, Sha256Hex("x")).IsInvalidArgument())
        << id;
    EXPECT_TRUE(
        storage_->OpenCommitted(folder_, id).status().IsInvalidArgument())
        << id;
    EXPECT_TRUE(storage_->Remove(folder_, id).IsInvalidArgument()) << id;
  }
  EXPECT_TRUE(Storage::IsStoreId(kId));
  EXPECT_TRUE(ListDir(folder_).empty());
}

TEST_F(StorageTest, APartialThatIsASymlinkIsNotFollowed) {
  // Something planted in the folder cannot make a write land elsewhere.
  const std::string outside = dir_ / "victim";
  testing::WriteFile(outside, "keep");
  const std::string partial = folder_ + "/" + kId + ".mig.part";
  ASSERT_EQ(::symlink(outside.c_str(), partial.c_str()), 0);
  EXPECT_FALSE(storage_->WritePartial(folder_, kId, 0, "overwritten").ok());
  EXPECT_FALSE(storage_->Publish(folder_, kId, 4, Sha256Hex("keep")).ok());
  EXPECT_EQ(testing::ReadFile(outside), "keep");
  ASSERT_EQ(::unlink(partial.c_str()), 0);
  ASSERT_EQ(::unlink(outside.c_str()), 0);
}

}  // namespace
}  // namespace migstore::smp
