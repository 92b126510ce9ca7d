// ListStore: the summary, users and entries of a store, streamed.

#include "migstore/listing.h"

#include <gtest/gtest.h>

#include "format/memory_store.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

namespace migstore {
namespace {

TEST(ListStore, ReportsUsersAndEveryEntryInCatalogOrder) {
  testing::TempDir dir;
  format::MemoryStore store = testing::RichStore();
  ASSERT_OK(format::WriteMemoryStore(dir / "s.mig", format::KeySource::None(),
                                     store, testing::QuickOptions()));
  StoreSummary summary;
  std::vector<StoreEntry> entries;
  ASSERT_OK(ListStore(dir / "s.mig", Key(), &summary, [&](const StoreEntry& e) {
    entries.push_back(e);
    return Status::OK();
  }));
  EXPECT_EQ(summary.format_version, 1);
  EXPECT_EQ(summary.encryption, "none");
  EXPECT_EQ(summary.entries, store.files.size());
  ASSERT_EQ(summary.users.size(), 2u);
  EXPECT_EQ(summary.users[0].name, "alice");
  EXPECT_EQ(summary.users[0].layout, "linux");
  EXPECT_EQ(summary.users[1].sid, "S-1-5-21-1-2-3-1002");
  EXPECT_EQ(summary.users[1].layout, "windows");
  ASSERT_EQ(entries.size(), store.files.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const format::Entry& want = store.files[i].entry;
    const StoreEntry& got = entries[i];
    EXPECT_EQ(got.path, want.path);
    EXPECT_EQ(got.user,
              want.profile == 0 ? "" : store.profiles[want.profile - 1].name);
    EXPECT_EQ(got.size, want.size);
    EXPECT_EQ(got.mode, want.mode);
    EXPECT_EQ(got.mtime_ns, want.mtime_ns);
    EXPECT_EQ(got.symlink_target, want.symlink_target());
    EXPECT_EQ(got.xattrs, want.xattrs().size());
    EXPECT_EQ(got.link_group, want.link_group);
  }
  auto find = [&](const std::string& path) -> const StoreEntry& {
    for (const StoreEntry& e : entries) {
      if (e.path == path) return e;
    }
    ADD_FAILURE() << path;
    return entries[0];
  };
  EXPECT_STREQ(find("home/alice").type, "dir");
  EXPECT_STREQ(find("home/alice/link").type, "symlink");
  EXPECT_STREQ(find("home/alice/fifo").type, "fifo");
  EXPECT_STREQ(find("home/bob/attrs.txt").type, "file");
  EXPECT_EQ(find("home/bob/attrs.txt").owner, "bob");
  EXPECT_EQ(find("home/alice/text.txt").owner,
            "");  // uid 1000 has no name here
}

TEST(ListStore, StopsWhenTheCallbackSaysSoAndReportsOpenErrors) {
  testing::TempDir dir;
  ASSERT_OK(format::WriteMemoryStore(dir / "s.mig", format::KeySource::None(),
                                     testing::GoldenStore(),
                                     testing::QuickOptions()));
  StoreSummary summary;
  int seen = 0;
  Status s = ListStore(dir / "s.mig", Key(), &summary, [&](const StoreEntry&) {
    return ++seen == 3 ? Status::Cancelled("enough") : Status::OK();
  });
  EXPECT_TRUE(s.IsCancelled());
  EXPECT_EQ(seen, 3);
  auto none = [](const StoreEntry&) { return Status::OK(); };
  EXPECT_TRUE(
      ListStore(dir / "missing.mig", Key(), &summary, none).IsNotFound());
  EXPECT_TRUE(ListStore(dir.path(), Key(), &summary, none).IsNotAStore());
}

}  // namespace
}  // namespace migstore
