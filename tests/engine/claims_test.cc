// Claims, the restore plan's claimed destinations held in memory up to a
// budget and in sorted runs on a scratch file beyond it: it answers as one
// map would, newest claim first, whatever was written out; it holds about
// its budget whatever the number of claims; and a scratch file that cannot
// be made or that reads back damaged is an error, never a wrong answer
// taken for a right one.

#include "engine/src/restore/claims.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/deterministic_random.h"
#include "tests/util/test_util.h"

namespace migstore::restore {
namespace {

// "home/u3/Documents/f00012.txt": the folders of a few homes.
std::string PathOf(size_t i) {
  static const char* const kFolders[] = {"Documents", "Pictures", "Desktop",
                                         "AppData/Roaming/Vendor"};
  char buf[96];
  std::snprintf(buf, sizeof(buf), "home/u%zu/%s/f%05zu.txt", i / 4000,
                kFolders[(i / 1000) % 4], i);
  return buf;
}

TEST(ClaimsTest, WithoutABudgetNothingIsWrittenOut) {
  Claims claims(0);
  for (size_t i = 0; i < 20000; ++i) claims.Set(PathOf(i), Claim::kNonDir);
  EXPECT_EQ(claims.runs(), 0u);
  EXPECT_EQ(claims.Find(PathOf(7)), Claim::kNonDir);
  EXPECT_EQ(claims.Find("home/u0/none"), std::nullopt);
  EXPECT_OK(claims.status());
}

// The planner's own pattern, in catalog order: claim an entry, then the
// folders above it until one is already claimed; ask about each entry
// first. Every answer is the reference map's, over many runs.
TEST(ClaimsTest, AnswersAsOneMapAcrossRuns) {
  testing::TempDir dir;
  Claims claims(16 << 10, {dir.path()});
  std::map<std::string, Claim> want;
  auto claim_path = [&](const std::string& path, Claim c) {
    claims.Set(path, c);
    want[path] = c;
    for (std::string_view a = path; a.find('/') != std::string_view::npos;) {
      a = a.substr(0, a.rfind('/'));
      const bool added = claims.Add(a, Claim::kParent);
      EXPECT_EQ(added, want.count(std::string(a)) == 0) << a;
      if (!added) break;
      want[std::string(a)] = Claim::kParent;
    }
  };
  for (size_t i = 0; i < 12000; ++i) {
    const std::string p = PathOf(i);
    ASSERT_EQ(claims.Find(p), std::nullopt) << p;
    claim_path(p, i % 7 == 0 ? Claim::kSymlink : Claim::kNonDir);
  }
  EXPECT_GE(claims.runs(), 10u);
  // A folder made to hold entries becomes a directory entry's; a renamed
  // entry's claim lands in a range written long ago.
  claims.Set("home/u0/Documents", Claim::kDir);
  want["home/u0/Documents"] = Claim::kDir;
  claim_path("home/u0/Documents/f00001 (1).txt", Claim::kNonDir);
  // Both then written out in a run newer than the claims they replace or
  // sit among.
  const size_t runs = claims.runs();
  for (size_t i = 12000; i < 14000; ++i) claim_path(PathOf(i), Claim::kNonDir);
  ASSERT_GT(claims.runs(), runs + 2);

  for (const auto& [path, c] : want) {
    ASSERT_EQ(claims.Find(path), c) << path;
  }
  // Paths never claimed: before, between and after the runs' ranges.
  for (const std::string& p :
       {std::string("a"), std::string("home/u0/Documents/f00001 (2).txt"),
        std::string("home/u1/Music"), std::string("home/u2/Desktop/x"),
        std::string("zzz"), std::string("")}) {
    EXPECT_EQ(claims.Find(p), std::nullopt) << p;
  }
  EXPECT_OK(claims.status());
}

// What keeps lookups cheap: paths never claimed that fall inside the runs'
// ranges are turned away by the filters, scattered as a mapped user's or a
// rename's would be, so few of them read a piece.
TEST(ClaimsTest, TheFiltersSpareMostReads) {
  testing::TempDir dir;
  Claims claims(16 << 10, {dir.path()});
  for (size_t i = 0; i < 12000; ++i) claims.Set(PathOf(i), Claim::kNonDir);
  ASSERT_GE(claims.runs(), 10u);
  // In catalog order, past every run: no read at all.
  const size_t before = claims.pieces_read();
  EXPECT_EQ(claims.Find("home/u9/Documents/f99999.txt"), std::nullopt);
  EXPECT_EQ(claims.pieces_read(), before);
  DeterministicRandom rnd(7);
  const size_t lookups = 4000;
  for (size_t k = 0; k < lookups; ++k) {
    // Beside a claimed path: "...f01234.txt~", in a run's range.
    const std::string p = PathOf(rnd.Below(12000)) + "~";
    ASSERT_EQ(claims.Find(p), std::nullopt) << p;
  }
  std::printf("%zu lookups of unclaimed paths in range: %zu pieces read\n",
              lookups, claims.pieces_read() - before);
  EXPECT_LT(claims.pieces_read() - before, lookups / 50);
  EXPECT_OK(claims.status());
}

// Claims in random order (a mapped user, rename candidates): the runs'
// ranges overlap and every run may have to be asked.
TEST(ClaimsTest, AnswersAsOneMapInRandomOrder) {
  testing::TempDir dir;
  Claims claims(8 << 10, {dir.path()});
  std::map<std::string, Claim> want;
  DeterministicRandom rnd(21);
  for (size_t k = 0; k < 8000; ++k) {
    const std::string p = PathOf(rnd.Below(20000));
    const Claim c = static_cast<Claim>(rnd.Below(4));
    if (rnd.Below(2) == 0) {
      claims.Set(p, c);
      want[p] = c;
    } else {
      const bool added = claims.Add(p, c);
      ASSERT_EQ(added, want.count(p) == 0) << p;
      if (added) want[p] = c;
    }
  }
  EXPECT_GE(claims.runs(), 10u);
  for (size_t i = 0; i < 20000; ++i) {
    const std::string p = PathOf(i);
    const auto it = want.find(p);
    ASSERT_EQ(claims.Find(p), it == want.end()
                                  ? std::nullopt
                                  : std::optional<Claim>(it->second))
        << p;
  }
  EXPECT_OK(claims.status());
}

// The point of it: memory near the budget whatever the count, where the
// set alone grows with every claim.
TEST(ClaimsTest, HoldsAboutItsBudget) {
  testing::TempDir dir;
  const size_t budget = 256 << 10;
  Claims claims(budget, {dir.path()});
  ClaimSet all;
  for (size_t i = 0; i < 200000; ++i) {
    const std::string p = PathOf(i);
    claims.Set(p, Claim::kNonDir);
    all.Set(p, Claim::kNonDir);
  }
  std::printf(
      "200,000 claims: %zu bytes in memory with a %zu-byte budget "
      "(%zu runs), %zu in one set\n",
      claims.memory_bytes(), budget, claims.runs(), all.memory_bytes());
  // The runs keep a filter (12 bits a path) and a path a 16 KiB piece.
  EXPECT_LT(claims.memory_bytes(), budget + 200000 * 2 + 64 * 1024);
  EXPECT_LT(claims.memory_bytes() * 8, all.memory_bytes());
  EXPECT_EQ(claims.Find(PathOf(123456)), Claim::kNonDir);
  EXPECT_OK(claims.status());
}

TEST(ClaimsTest, AScratchFileThatCannotBeMadeIsAnError) {
  testing::TempDir dir;
  Claims claims(4 << 10, {dir / "missing"});
  for (size_t i = 0; i < 1000; ++i) claims.Set(PathOf(i), Claim::kNonDir);
  EXPECT_TRUE(claims.status().IsIOError()) << claims.status().ToString();
  // What is still in memory answers; the plan is abandoned anyway.
  EXPECT_EQ(claims.Find(PathOf(999)), Claim::kNonDir);
}

TEST(ClaimsTest, ADamagedScratchFileIsCorruptionNotAnAnswer) {
  testing::TempDir dir;
  Claims claims(4 << 10, {dir.path()});
  for (size_t i = 0; i < 3000; ++i) claims.Set(PathOf(i), Claim::kNonDir);
  ASSERT_GE(claims.runs(), 2u);
  ASSERT_OK(claims.status());
  // Every byte of the file flipped: whichever piece is read fails its seal.
  const int fd = claims.spill_for_testing()->fd_for_testing();
  const off_t size = ::lseek(fd, 0, SEEK_END);
  std::string bytes(static_cast<size_t>(size), '\0');
  ASSERT_EQ(::pread(fd, bytes.data(), bytes.size(), 0), size);
  for (char& c : bytes) c = static_cast<char>(~c);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), 0), size);

  EXPECT_EQ(claims.Find(PathOf(5)), std::nullopt);
  EXPECT_TRUE(claims.status().IsCorruption()) << claims.status().ToString();
}

}  // namespace
}  // namespace migstore::restore
