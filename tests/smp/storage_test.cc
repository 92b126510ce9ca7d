// Store bytes at the state migration point (engine/src/smp/storage.h): an
// upload written to the partial at the offsets a resuming client sends,
// published only when its length and SHA-256 are right, read back, removed;
// ids that are not the service's refused, and nothing written outside the
// storage folder. Then the same for an object-store location, against a
// real S3-compatible server (tests/util/s3_server.h): parts, the count
// rebuilt by a fresh Storage (a restart), the read-back at publish, S3's
// part-size rule, and the start-up check.

#include "engine/src/smp/storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "engine/src/store/s3_client.h"
#include "format/store_io.h"
#include "migstore/smp_server.h"
#include "tests/util/s3_server.h"
#include "tests/util/test_util.h"

namespace migstore::smp {
namespace {

using testing::Has;
using testing::ListDir;
using testing::Sha256Hex;
using testing::TempDir;

constexpr char kId[] = "0123456789abcdef0123456789abcdef";

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
  EXPECT_TRUE(
      storage_->OpenCommitted(folder_, kId, data.size()).status().IsNotFound());

  ASSERT_OK(storage_->Publish(folder_, kId, data.size(), Sha256Hex(data)));
  EXPECT_EQ(ListDir(folder_),
            std::vector<std::string>{std::string(kId) + ".mig"});
  EXPECT_EQ(*storage_->PartialSize(folder_, kId), 0u);
  Result<std::unique_ptr<format::StoreSource>> bytes =
      storage_->OpenCommitted(folder_, kId, data.size());
  ASSERT_OK(bytes);
  EXPECT_EQ((*bytes)->size(), data.size());
  std::string back(data.size(), '\0');
  ASSERT_OK((*bytes)->ReadAt(0, back.size(), back.data()));
  EXPECT_EQ(back, data);
  // A file that is not the size the database recorded is not served.
  EXPECT_TRUE(storage_->OpenCommitted(folder_, kId, data.size() - 1)
                  .status()
                  .IsCorruption());
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
  EXPECT_TRUE(
      storage_->OpenCommitted(folder_, kId, data.size()).status().IsNotFound());
  EXPECT_EQ(*storage_->PartialSize(folder_, kId), data.size());

  // A hash in capitals is the same hash.
  std::string upper = Sha256Hex(data);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  ASSERT_OK(storage_->Publish(folder_, kId, data.size(), upper));
  ASSERT_OK(storage_->OpenCommitted(folder_, kId, data.size()));
}

// Two nodes on one shared folder (or one node before and after a restart)
// each see only the chunks they wrote: the commit reads back what neither
// saw whole, and takes or refuses it by its bytes.
TEST_F(StorageTest, AnUploadTwoNodesWroteIsCheckedByItsBytes) {
  Result<Storage> other = Storage::Open({{folder_, 10, 0}});
  ASSERT_OK(other);
  const std::string a = Bytes(1 << 20, 1), b = Bytes(3000, 2),
                    c = Bytes(1 << 19, 3);
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, a));
  ASSERT_OK(other->WritePartial(folder_, kId, a.size(), b));
  ASSERT_OK(storage_->WritePartial(folder_, kId, a.size() + b.size(), c));
  const std::string all = a + b + c;
  std::string wrong = all;
  wrong[a.size() + 10] ^= 1;  // in the chunk this node did not see
  EXPECT_TRUE(storage_->Publish(folder_, kId, all.size(), Sha256Hex(wrong))
                  .IsCorruption());
  ASSERT_OK(storage_->Publish(folder_, kId, all.size(), Sha256Hex(all)));

  // A node that restarted mid-upload (a fresh Storage) continues and
  // commits what the one before it began.
  constexpr char kOther[] = "fedcba9876543210fedcba9876543210";
  ASSERT_OK(storage_->WritePartial(folder_, kOther, 0, a));
  Result<Storage> restarted = Storage::Open({{folder_, 10, 0}});
  ASSERT_OK(restarted);
  ASSERT_OK(restarted->WritePartial(folder_, kOther, a.size(), c));
  EXPECT_TRUE(
      restarted->Publish(folder_, kOther, a.size() + c.size(), Sha256Hex(a))
          .IsCorruption());
  ASSERT_OK(restarted->Publish(folder_, kOther, a.size() + c.size(),
                               Sha256Hex(a + c)));
  Result<std::unique_ptr<format::StoreSource>> src =
      restarted->OpenCommitted(folder_, kOther, a.size() + c.size());
  ASSERT_OK(src);
  std::string back(a.size() + c.size(), '\0');
  ASSERT_OK((*src)->ReadAt(0, back.size(), back.data()));
  EXPECT_TRUE(back == a + c);
}

TEST_F(StorageTest, PublishWithNothingUploaded) {
  Status s = storage_->Publish(folder_, kId, 0, Sha256Hex(""));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  // An empty upload is a store of no bytes.
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, ""));
  ASSERT_OK(storage_->Publish(folder_, kId, 0, Sha256Hex("")));
  Result<std::unique_ptr<format::StoreSource>> bytes =
      storage_->OpenCommitted(folder_, kId, 0);
  ASSERT_OK(bytes);
  EXPECT_EQ((*bytes)->size(), 0u);
}

TEST_F(StorageTest, ACommitSentAgainChecksThePublishedFile) {
  // The server died (or the client's commit request timed out) between
  // the rename and the database's record: the commit, sent again, finds no
  // partial but the committed file, and checks it.
  const std::string data = Bytes(300000, 8);
  const std::string committed = folder_ + "/" + kId + ".mig";
  ASSERT_OK(storage_->WritePartial(folder_, kId, 0, data));
  ASSERT_OK(storage_->Publish(folder_, kId, data.size(), Sha256Hex(data)));
  ASSERT_OK(storage_->Publish(folder_, kId, data.size(), Sha256Hex(data)));
  // Also on a node that did not write it (a restart, another node).
  Result<Storage> restarted = Storage::Open({{folder_, 10, 0}});
  ASSERT_OK(restarted);
  ASSERT_OK(restarted->Publish(folder_, kId, data.size(), Sha256Hex(data)));

  // A length or hash that is not the file's is refused as at the first
  // commit; the file is kept (it may be a capture committed before the
  // capture was run again) and still commits with the right ones.
  std::string other = data;
  other[12345] ^= 1;
  Status wrong_hash =
      storage_->Publish(folder_, kId, data.size(), Sha256Hex(other));
  EXPECT_TRUE(wrong_hash.IsCorruption()) << wrong_hash.ToString();
  EXPECT_TRUE(Has(wrong_hash.ToString(), "SHA-256")) << wrong_hash.ToString();
  Status wrong_size =
      storage_->Publish(folder_, kId, data.size() + 1, Sha256Hex(data));
  EXPECT_TRUE(wrong_size.IsCorruption()) << wrong_size.ToString();
  EXPECT_EQ(testing::ReadFile(committed), data);
  EXPECT_EQ(ListDir(folder_),
            std::vector<std::string>{std::string(kId) + ".mig"});
  ASSERT_OK(storage_->Publish(folder_, kId, data.size(), Sha256Hex(data)));
  ASSERT_OK(storage_->OpenCommitted(folder_, kId, data.size()));

  // A link planted at the committed name is not followed.
  ASSERT_OK(storage_->Remove(folder_, kId));
  const std::string outside = dir_ / "victim";
  testing::WriteFile(outside, data);
  ASSERT_EQ(::symlink(outside.c_str(), committed.c_str()), 0);
  EXPECT_FALSE(
      storage_->Publish(folder_, kId, data.size(), Sha256Hex(data)).ok());
  ASSERT_EQ(::unlink(committed.c_str()), 0);
  ASSERT_EQ(::unlink(outside.c_str()), 0);
  // Nothing published, nothing uploaded.
  EXPECT_TRUE(storage_->Publish(folder_, kId, data.size(), Sha256Hex(data))
                  .IsInvalidArgument());
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
  EXPECT_TRUE(
      storage_->OpenCommitted(folder_, kId, data.size()).status().IsNotFound());
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
        storage_->OpenCommitted(folder_, id, 1).status().IsInvalidArgument())
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

// --- object-store locations -------------------------------------------------

TEST(ObjectLocationTest, NamesAreTakenApartAndCheckedAsParsed) {
  Result<ObjectLocationName> n = ParseObjectLocation("s3://my-bucket/smp/a//");
  ASSERT_OK(n);
  EXPECT_EQ(n->name, "s3://my-bucket/smp/a");
  EXPECT_EQ(n->bucket, "my-bucket");
  EXPECT_EQ(n->KeyOf(kId), std::string("smp/a/") + kId + ".mig");
  Result<ObjectLocationName> root = ParseObjectLocation("s3://my-bucket");
  ASSERT_OK(root);
  EXPECT_EQ(root->KeyOf(kId), std::string(kId) + ".mig");
  EXPECT_TRUE(
      ParseObjectLocation("s3://No_Such/x").status().IsInvalidArgument());
  EXPECT_TRUE(ParseObjectLocation("s3://b-1/" + std::string(1000, 'p'))
                  .status()
                  .IsInvalidArgument());

  // As `serve --storage` reads them: one spelling, and no min-free.
  Result<SmpStorageFolder> given =
      ParseSmpStorageFolder("s3://my-bucket/smp/,max-clients=7");
  ASSERT_OK(given);
  EXPECT_EQ(given->path, "s3://my-bucket/smp");
  EXPECT_EQ(given->max_clients, 7);
  Status min_free =
      ParseSmpStorageFolder("s3://my-bucket/smp,min-free=1G").status();
  EXPECT_TRUE(min_free.IsInvalidArgument()) << min_free.ToString();
  EXPECT_TRUE(Has(min_free.ToString(), "min-free")) << min_free.ToString();
  EXPECT_TRUE(Storage::Open({{"s3://my-bucket/smp", 1, 1 << 20}})
                  .status()
                  .IsInvalidArgument());
}

// S3 wants every part but the last to be at least this.
constexpr size_t kPart = size_t{5} << 20;

// One server for the suite (moto takes seconds to start); its settings are
// put in this process's environment, where the server reads them.
class ObjectStorageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = testing::S3TestServer::Start(&why_not_).release();
    if (server_ != nullptr && !server_->tracks_uploads()) {
      why_not_ = server_->kind() +
                 " does not list an upload's parts, which resuming needs";
      delete server_;
      server_ = nullptr;
    }
    if (server_ == nullptr) return;
    for (const std::string& e : server_->Env()) {
      const size_t eq = e.find('=');
      ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << why_not_;
    // A bucket per test, so nothing one leaves behind is another's; the
    // location is the bucket itself, with no prefix, because moto 5.2
    // checks a signed query holding '/' (the listing of a prefixed key's
    // uploads) against the query decoded, where AWS encodes it as %2F, and
    // refuses the request (docs/design.md, "Test servers").
    static int buckets = 0;
    bucket_ = "smp-storage-" + std::to_string(++buckets);
    client_ = std::make_unique<store::S3Client>(server_->Config());
    ASSERT_OK(client_->CreateBucket(bucket_));
    location_ = "s3://" + bucket_;
    Result<Storage> storage = OpenStorage();
    ASSERT_OK(storage);
    storage_.emplace(std::move(storage).value());
  }

  Result<Storage> OpenStorage() const {
    return Storage::Open({{location_, 10, 0}});
  }
  store::S3Location Object() const {
    return {bucket_, std::string(kId) + ".mig"};
  }
  // Whether the object is there (its size must then be `size`).
  bool Published(uint64_t size) const {
    Result<std::optional<uint64_t>> st = client_->Stat(Object());
    EXPECT_OK(st);
    if (!st.ok() || !st->has_value()) return false;
    EXPECT_EQ(**st, size);
    return true;
  }
  size_t UnfinishedUploads() const {
    auto listed = client_->ListMultipartUploads(bucket_, Object().key);
    EXPECT_OK(listed);
    return listed.ok() ? listed->size() : 0;
  }
  // Writes `data` in chunks of `chunk` bytes from 0; the count after each.
  void Upload(const Storage& s, std::string_view data, size_t chunk,
              uint64_t from = 0) const {
    for (uint64_t at = from; at < data.size(); at += chunk) {
      Result<uint64_t> n =
          s.WritePartial(location_, kId, at, data.substr(at, chunk));
      ASSERT_OK(n);
      EXPECT_EQ(*n, std::min<uint64_t>(at + chunk, data.size()));
    }
  }

  static inline testing::S3TestServer* server_ = nullptr;
  static inline std::string why_not_;
  std::string bucket_;
  std::string location_;
  std::unique_ptr<store::S3Client> client_;
  std::optional<Storage> storage_;
};

TEST_F(ObjectStorageTest, AnUploadInPartsIsPublishedAndReadBackInRanges) {
  const std::string data = Bytes(2 * kPart + 1000, 11);
  EXPECT_EQ(*storage_->PartialSize(location_, kId), 0u);
  Upload(*storage_, data, kPart);
  EXPECT_EQ(*storage_->PartialSize(location_, kId), data.size());
  EXPECT_EQ(UnfinishedUploads(), 1u);
  // Nothing under the key before it is published.
  EXPECT_FALSE(Published(0));

  ASSERT_OK(storage_->Publish(location_, kId, data.size(), Sha256Hex(data)));
  EXPECT_TRUE(Published(data.size()));
  EXPECT_EQ(UnfinishedUploads(), 0u);
  EXPECT_EQ(*storage_->PartialSize(location_, kId), 0u);

  Result<std::unique_ptr<format::StoreSource>> bytes =
      storage_->OpenCommitted(location_, kId, data.size());
  ASSERT_OK(bytes);
  EXPECT_EQ((*bytes)->size(), data.size());
  // The head, across the boundary of two parts, the very end, and all.
  const std::vector<std::pair<uint64_t, size_t>> ranges = {
      {0, 100}, {kPart - 10, 20}, {data.size() - 1, 1}, {0, data.size()}};
  for (const auto& [offset, n] : ranges) {
    std::string got(n, '\0');
    ASSERT_OK((*bytes)->ReadAt(offset, n, got.data()));
    EXPECT_EQ(got, data.substr(offset, n)) << offset;
  }
  std::string past(2, '\0');
  EXPECT_TRUE((*bytes)->ReadAt(data.size() - 1, 2, past.data()).IsCorruption());
}

TEST_F(ObjectStorageTest, TheCountIsRebuiltFromTheObjectStoreAfterARestart) {
  const std::string data = Bytes(3 * kPart + 5, 12);
  Upload(*storage_, std::string_view(data).substr(0, 2 * kPart), kPart);

  // A fresh Storage, as after kill -9: it knows nothing but what S3 holds.
  Result<Storage> restarted = OpenStorage();
  ASSERT_OK(restarted);
  EXPECT_EQ(*restarted->PartialSize(location_, kId), 2 * kPart);
  for (uint64_t wrong : {uint64_t{1}, uint64_t{kPart}, 2 * kPart + 1}) {
    Result<uint64_t> n = restarted->WritePartial(location_, kId, wrong, "x");
    ASSERT_FALSE(n.ok()) << wrong;
    EXPECT_TRUE(n.status().IsInvalidArgument()) << n.status().ToString();
    EXPECT_TRUE(Has(n.status().ToString(), std::to_string(2 * kPart)))
        << n.status().ToString();
  }
  Upload(*restarted, std::string_view(data).substr(0, 3 * kPart), kPart,
         2 * kPart);
  // The first Storage's own count is behind now (as a node's is when
  // another took chunks of the upload): it asks the object store again.
  Upload(*storage_, data, kPart, 3 * kPart);
  EXPECT_EQ(UnfinishedUploads(), 1u);
  ASSERT_OK(restarted->Publish(location_, kId, data.size(), Sha256Hex(data)));
  Result<std::unique_ptr<format::StoreSource>> bytes =
      storage_->OpenCommitted(location_, kId, data.size());
  ASSERT_OK(bytes);
  std::string back(data.size(), '\0');
  ASSERT_OK((*bytes)->ReadAt(0, back.size(), back.data()));
  EXPECT_TRUE(back == data);
}

TEST_F(ObjectStorageTest, WritingAtZeroStartsOver) {
  Upload(*storage_, Bytes(2 * kPart, 13), kPart);
  const std::string second = Bytes(1000, 14);
  Result<uint64_t> n = storage_->WritePartial(location_, kId, 0, second);
  ASSERT_OK(n);
  EXPECT_EQ(*n, second.size());
  // The old upload was aborted, not left to be billed.
  EXPECT_EQ(UnfinishedUploads(), 1u);
  EXPECT_EQ(*OpenStorage()->PartialSize(location_, kId), second.size());
  ASSERT_OK(
      storage_->Publish(location_, kId, second.size(), Sha256Hex(second)));
  EXPECT_TRUE(Published(second.size()));
}

TEST_F(ObjectStorageTest, PublishChecksWhatTheObjectStoreHolds) {
  const std::string data = Bytes(kPart + 700, 15);
  Upload(*storage_, data, kPart);

  // A wrong length is seen before anything is completed: the upload stays
  // for the client to resend.
  Status short_size =
      storage_->Publish(location_, kId, data.size() - 1, Sha256Hex(data));
  EXPECT_TRUE(short_size.IsCorruption()) << short_size.ToString();
  EXPECT_FALSE(Published(0));
  EXPECT_EQ(*storage_->PartialSize(location_, kId), data.size());

  // A wrong hash is seen in the object read back: it is deleted, so it is
  // never served, and the client starts over.
  std::string other = data;
  other[kPart + 3] ^= 1;
  Status wrong_hash =
      storage_->Publish(location_, kId, data.size(), Sha256Hex(other));
  EXPECT_TRUE(wrong_hash.IsCorruption()) << wrong_hash.ToString();
  EXPECT_TRUE(Has(wrong_hash.ToString(), "SHA-256")) << wrong_hash.ToString();
  EXPECT_FALSE(Published(0));
  EXPECT_EQ(UnfinishedUploads(), 0u);
  EXPECT_EQ(*storage_->PartialSize(location_, kId), 0u);
  Result<std::unique_ptr<format::StoreSource>> bytes =
      storage_->OpenCommitted(location_, kId, data.size());
  ASSERT_OK(bytes);
  char byte;
  EXPECT_TRUE((*bytes)->ReadAt(0, 1, &byte).IsNotFound());

  // Nothing uploaded now.
  EXPECT_TRUE(storage_->Publish(location_, kId, data.size(), Sha256Hex(data))
                  .IsInvalidArgument());
}

TEST_F(ObjectStorageTest, ACommitSentAgainChecksThePublishedObject) {
  // The server died between completing the upload and recording it: the
  // client's commit, sent again, finds the object and checks it.
  const std::string data = Bytes(3000, 16);
  Upload(*storage_, data, data.size());
  ASSERT_OK(storage_->Publish(location_, kId, data.size(), Sha256Hex(data)));
  ASSERT_OK(storage_->Publish(location_, kId, data.size(), Sha256Hex(data)));
  EXPECT_TRUE(Published(data.size()));
  EXPECT_TRUE(storage_->Publish(location_, kId, data.size(), Sha256Hex("x"))
                  .IsCorruption());
  EXPECT_FALSE(Published(0));
}

TEST_F(ObjectStorageTest, APartUnderFiveMiBThatIsNotTheLastIsRefused) {
  const std::string data = Bytes(3 << 20, 17);
  Upload(*storage_, data, 1 << 20);
  Status s = storage_->Publish(location_, kId, data.size(), Sha256Hex(data));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(Has(s.ToString(), "part 1")) << s.ToString();
  EXPECT_TRUE(Has(s.ToString(), "5 MiB")) << s.ToString();
  EXPECT_FALSE(Published(0));
}

TEST_F(ObjectStorageTest, AnEmptyUploadIsAnEmptyObject) {
  ASSERT_OK(storage_->WritePartial(location_, kId, 0, ""));
  ASSERT_OK(storage_->Publish(location_, kId, 0, Sha256Hex("")));
  EXPECT_TRUE(Published(0));
  EXPECT_EQ(UnfinishedUploads(), 0u);
}

TEST_F(ObjectStorageTest, RemoveTakesTheObjectAndItsUploadAndMayRunTwice) {
  const std::string data = Bytes(100, 18);
  Upload(*storage_, data, data.size());
  ASSERT_OK(storage_->Publish(location_, kId, data.size(), Sha256Hex(data)));
  Upload(*storage_, data, data.size());  // a new upload, unfinished
  ASSERT_EQ(UnfinishedUploads(), 1u);
  ASSERT_OK(storage_->Remove(location_, kId));
  EXPECT_FALSE(Published(0));
  EXPECT_EQ(UnfinishedUploads(), 0u);
  EXPECT_OK(storage_->Remove(location_, kId));
  // Ids are checked for this kind too.
  EXPECT_TRUE(storage_->Remove(location_, "../x").IsInvalidArgument());
}

TEST_F(ObjectStorageTest, OpenSaysWhyALocationCannotBeUsed) {
  const std::string secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  const auto open_with_secret = [&](const char* value) {
    ::setenv("AWS_SECRET_ACCESS_KEY", value, 1);
    Status s = OpenStorage().status();
    ::setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
    return s;
  };
  if (server_->checks_signatures()) {
    Status wrong = open_with_secret("not-the-secret");
    EXPECT_TRUE(wrong.IsUnavailable()) << wrong.ToString();
    EXPECT_TRUE(Has(wrong.ToString(), location_)) << wrong.ToString();
    EXPECT_TRUE(Has(wrong.ToString(), "credentials")) << wrong.ToString();
  }
  Status none = open_with_secret("");
  EXPECT_TRUE(none.IsUnavailable()) << none.ToString();
  EXPECT_TRUE(Has(none.ToString(), "AWS_SECRET_ACCESS_KEY")) << none.ToString();

  Status no_bucket =
      Storage::Open({{"s3://no-such-bucket/smp", 1, 0}}).status();
  EXPECT_TRUE(no_bucket.IsUnavailable()) << no_bucket.ToString();
  EXPECT_TRUE(Has(no_bucket.ToString(), "no such bucket"))
      << no_bucket.ToString();
}

}  // namespace
}  // namespace migstore::smp
