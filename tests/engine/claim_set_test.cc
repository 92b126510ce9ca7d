// ClaimSet, the restore plan's table of claimed destinations: exact (a path
// is found only under its own bytes, whatever its hash shares with others),
// complete across the index's growth and the arena's chunks, and small
// (about the path's bytes and 20 more a claim, where a node-based map of
// owned strings takes about 80 more).

#include "engine/src/restore/claim_set.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/base/deterministic_random.h"

namespace migstore::restore {
namespace {

Claim ClaimFor(size_t i) { return static_cast<Claim>(i % 4); }

// A home directory's worth of shared prefixes: "home/u3/Documents/f12345.txt".
std::string UserPath(size_t i) {
  static const char* const kFolders[] = {"Documents", "Pictures", "Desktop",
                                         "AppData/Roaming/Vendor"};
  char buf[96];
  std::snprintf(buf, sizeof(buf), "home/u%zu/%s/f%05zu.txt", i % 97,
                kFolders[(i / 97) % 4], i);
  return buf;
}

TEST(ClaimSetTest, FindSetAdd) {
  ClaimSet set;
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(set.Find("a"), std::nullopt);

  set.Set("a", Claim::kNonDir);
  EXPECT_EQ(set.size(), 1u);
  EXPECT_EQ(set.Find("a"), Claim::kNonDir);

  // Set replaces.
  set.Set("a", Claim::kSymlink);
  EXPECT_EQ(set.size(), 1u);
  EXPECT_EQ(set.Find("a"), Claim::kSymlink);

  // Add inserts once and leaves an existing claim as it is.
  EXPECT_TRUE(set.Add("b", Claim::kParent));
  EXPECT_EQ(set.Find("b"), Claim::kParent);
  EXPECT_FALSE(set.Add("b", Claim::kDir));
  EXPECT_EQ(set.Find("b"), Claim::kParent);
  EXPECT_FALSE(set.Add("a", Claim::kDir));
  EXPECT_EQ(set.Find("a"), Claim::kSymlink);
  EXPECT_EQ(set.size(), 2u);

  // Set after Add replaces.
  set.Set("b", Claim::kDir);
  EXPECT_EQ(set.Find("b"), Claim::kDir);
  EXPECT_EQ(set.size(), 2u);

  // Every claim value is kept as given.
  for (Claim c :
       {Claim::kDir, Claim::kParent, Claim::kNonDir, Claim::kSymlink}) {
    set.Set("c", c);
    EXPECT_EQ(set.Find("c"), c);
  }
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.Find("d"), std::nullopt);
  EXPECT_EQ(set.Find(""), std::nullopt);
}

TEST(ClaimSetTest, EmptyPathIsAKey) {
  ClaimSet set;
  EXPECT_EQ(set.Find(""), std::nullopt);
  EXPECT_EQ(set.Find(std::string_view()), std::nullopt);
  EXPECT_TRUE(set.Add("", Claim::kParent));
  EXPECT_EQ(set.Find(""), Claim::kParent);
  EXPECT_EQ(set.Find(std::string_view()), Claim::kParent);
  EXPECT_FALSE(set.Add(std::string_view(), Claim::kNonDir));
  EXPECT_EQ(set.Find(""), Claim::kParent);
  EXPECT_EQ(set.Find(std::string_view("\0", 1)), std::nullopt);
  EXPECT_EQ(set.Find("a"), std::nullopt);

  set.Set("", Claim::kDir);
  EXPECT_EQ(set.Find(""), Claim::kDir);
  EXPECT_TRUE(set.Add(std::string_view("\0", 1), Claim::kSymlink));
  EXPECT_EQ(set.Find(""), Claim::kDir);
  EXPECT_EQ(set.Find(std::string_view("\0", 1)), Claim::kSymlink);
  EXPECT_EQ(set.size(), 2u);
}

TEST(ClaimSetTest, KeysDifferingInOneByte) {
  const std::vector<std::string> keys = {
      "a",       "a/",
      "a/b",     "a/b/",
      "a/bc",    "a/c",
      "a/a",     "A/b",
      "a/b/c",   "a/b/c/",
      "b/b",     std::string("a/b\0", 4),
      "a/b\xff", std::string("\0a/b", 4),
      "/a/b",    "a//b",
  };
  ClaimSet set;
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(set.Add(keys[i], ClaimFor(i))) << i;
    // Every key so far is found with its own claim, none added later is.
    for (size_t j = 0; j < keys.size(); ++j) {
      EXPECT_EQ(set.Find(keys[j]),
                j <= i ? std::optional<Claim>(ClaimFor(j)) : std::nullopt)
          << i << " " << j;
    }
  }
  EXPECT_EQ(set.size(), keys.size());
  EXPECT_EQ(set.Find("a/b//"), std::nullopt);
  EXPECT_EQ(set.Find("a/bd"), std::nullopt);
  EXPECT_EQ(set.Find("a/"), Claim::kParent);
}

// Paths whose hashes share the bits the index keeps and the home slot of a
// new set, found by trying many: the index cannot tell them apart, only the
// byte comparison can. (This leans on the hash being XXH3-64 with its top
// 20 bits kept; were that to change, the pairs would merely stop colliding.)
uint64_t IndexBits(std::string_view path) {
  const uint64_t h = XXH3_64bits(path.data(), path.size());
  return ((h >> 44) << 4) | (h & 15);
}

void ExpectKeptApart(const std::string& a, const std::string& b) {
  SCOPED_TRACE(::testing::PrintToString(a) + " " + ::testing::PrintToString(b));
  ASSERT_NE(a, b);
  ASSERT_EQ(IndexBits(a), IndexBits(b));
  for (int order = 0; order < 2; ++order) {
    const std::string& first = order == 0 ? a : b;
    const std::string& second = order == 0 ? b : a;
    ClaimSet set;
    ASSERT_TRUE(set.Add(first, Claim::kNonDir));
    EXPECT_EQ(set.Find(second), std::nullopt);
    EXPECT_TRUE(set.Add(second, Claim::kSymlink));
    EXPECT_EQ(set.Find(first), Claim::kNonDir);
    EXPECT_EQ(set.Find(second), Claim::kSymlink);
    set.Set(second, Claim::kDir);
    EXPECT_EQ(set.Find(first), Claim::kNonDir);
    EXPECT_EQ(set.Find(second), Claim::kDir);
    EXPECT_EQ(set.size(), 2u);
  }
}

TEST(ClaimSetTest, SameHashBitsDifferentPaths) {
  std::unordered_map<uint64_t, std::string> seen;
  size_t pairs = 0;
  for (size_t i = 0; pairs < 20 && i < 1'000'000; ++i) {
    std::string p = "d/f" + std::to_string(i);
    auto [it, inserted] = seen.emplace(IndexBits(p), p);
    if (!inserted) {
      ExpectKeptApart(it->second, p);
      ++pairs;
    }
  }
  EXPECT_EQ(pairs, 20u);
}

TEST(ClaimSetTest, SameHashBitsDifferentLastByte) {
  size_t pairs = 0;
  for (size_t i = 0; pairs < 3 && i < 100'000; ++i) {
    const std::string stem = "d/f" + std::to_string(i) + "/";
    std::unordered_map<uint64_t, std::string> seen;
    for (int c = 0; c < 256; ++c) {
      std::string p = stem + static_cast<char>(c);
      auto [it, inserted] = seen.emplace(IndexBits(p), p);
      if (!inserted) {
        ExpectKeptApart(it->second, p);
        ++pairs;
      }
    }
  }
  EXPECT_EQ(pairs, 3u);
}

TEST(ClaimSetTest, SameHashBitsOneAPrefixOfTheOther) {
  const std::string a = "d/f";
  for (uint64_t i = 0; i < (uint64_t{1} << 26); ++i) {
    const std::string b = a + std::to_string(i);
    if (IndexBits(b) == IndexBits(a)) {
      ExpectKeptApart(a, b);
      return;
    }
  }
  FAIL() << "no path found whose hash bits match " << a << "'s";
}

TEST(ClaimSetTest, ManyPathsWithSharedPrefixes) {
  constexpr size_t kCount = 300'000;
  ClaimSet set;
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(set.Add(UserPath(i), ClaimFor(i))) << i;
  }
  EXPECT_EQ(set.size(), kCount);
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(set.Find(UserPath(i)), ClaimFor(i)) << UserPath(i);
  }
  // Others: the next 300,000 of the same shape, and near misses of each.
  for (size_t i = kCount; i < 2 * kCount; ++i) {
    ASSERT_EQ(set.Find(UserPath(i)), std::nullopt) << UserPath(i);
  }
  for (size_t i = 0; i < kCount; i += 7) {
    const std::string p = UserPath(i);
    ASSERT_EQ(set.Find(p + "/"), std::nullopt) << p;
    ASSERT_EQ(set.Find(p.substr(0, p.size() - 1)), std::nullopt) << p;
  }
  EXPECT_EQ(set.size(), kCount);
}

TEST(ClaimSetTest, LongPathsBesideShortOnes) {
  DeterministicRandom gen(21);
  const std::string long_path = "d/" + gen.Text(40'000);
  std::string long_last = long_path;
  long_last.back() ^= 1;
  std::string long_first = long_path;
  long_first.front() = 'e';
  // Longer than the arena's own-chunk threshold, and than a whole chunk.
  const std::string longer = "x/" + gen.Text(100'000);
  const std::string longest = "y/" + gen.Text(3 << 20);

  ClaimSet set;
  std::map<std::string, Claim> want;
  auto add = [&](const std::string& p, Claim c) {
    ASSERT_TRUE(set.Add(p, c)) << p.size();
    want.emplace(p, c);
  };
  add("a", Claim::kDir);
  add(long_path, Claim::kNonDir);
  add("b", Claim::kParent);
  add(longer, Claim::kSymlink);
  add("c", Claim::kNonDir);
  add(longest, Claim::kDir);
  add("d", Claim::kSymlink);
  // Long and short interleaved across many chunks, while chunks grow.
  for (size_t i = 0; i < 60; ++i) {
    add(std::to_string(i) + "/" + gen.Text(1 + gen.Below(50'000)), ClaimFor(i));
    add(UserPath(i), ClaimFor(i + 1));
  }
  EXPECT_EQ(set.size(), want.size());
  for (const auto& [p, c] : want) EXPECT_EQ(set.Find(p), c) << p.size();
  EXPECT_EQ(set.Find(long_last), std::nullopt);
  EXPECT_EQ(set.Find(long_first), std::nullopt);
  EXPECT_EQ(set.Find(long_path.substr(0, long_path.size() - 1)), std::nullopt);
  EXPECT_EQ(set.Find(long_path + "/"), std::nullopt);
  EXPECT_EQ(set.Find(longer.substr(0, 100)), std::nullopt);

  set.Set(long_path, Claim::kParent);
  EXPECT_EQ(set.Find(long_path), Claim::kParent);
  set.Set(longest, Claim::kSymlink);
  EXPECT_EQ(set.Find(longest), Claim::kSymlink);
  EXPECT_EQ(set.Find("a"), Claim::kDir);
  EXPECT_EQ(set.Find("d"), Claim::kSymlink);
}

TEST(ClaimSetTest, GrowthKeepsEverything) {
  constexpr size_t kCount = 20'000;
  ClaimSet set;
  size_t checks = 0;
  size_t path_bytes = 0;
  size_t last_memory = set.memory_bytes();
  for (size_t i = 0; i < kCount; ++i) {
    const std::string p = UserPath(i);
    path_bytes += p.size();
    if (i % 3 == 0) {
      set.Set(p, ClaimFor(i));
    } else {
      ASSERT_TRUE(set.Add(p, ClaimFor(i)));
    }
    ASSERT_EQ(set.size(), i + 1);
    // Whenever the set has taken memory (the index doubled, or a chunk was
    // added), everything so far is still there and nothing else is.
    const size_t memory = set.memory_bytes();
    if (memory != last_memory) {
      ++checks;
      for (size_t j = 0; j <= i; ++j) {
        ASSERT_EQ(set.Find(UserPath(j)), ClaimFor(j)) << i << " " << j;
      }
      ASSERT_EQ(set.Find(UserPath(i + 1)), std::nullopt);
    }
    last_memory = memory;
  }
  // The index has grown from 16 slots to at least 20,000 / 0.75: eleven
  // doublings, each checked above.
  EXPECT_GE(set.memory_bytes(), path_bytes + 32768 * 8);
  EXPECT_GE(checks, 11u);
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(set.Find(UserPath(i)), ClaimFor(i));
  }
}

// A randomized comparison with std::map over short keys from a small
// alphabet (so that keys share prefixes and repeat), the empty key among
// them.
TEST(ClaimSetTest, AgreesWithMap) {
  DeterministicRandom gen(5);
  ClaimSet set;
  std::map<std::string, Claim> want;
  for (int op = 0; op < 200'000; ++op) {
    std::string key(gen.Below(8), 'a');
    for (char& c : key) c = "ab/\0"[gen.Below(4)];
    const Claim claim = ClaimFor(gen.Below(4));
    switch (gen.Below(3)) {
      case 0:
        set.Set(key, claim);
        want[key] = claim;
        break;
      case 1:
        ASSERT_EQ(set.Add(key, claim), want.emplace(key, claim).second);
        break;
      default: {
        auto it = want.find(key);
        ASSERT_EQ(set.Find(key), it == want.end()
                                     ? std::nullopt
                                     : std::optional<Claim>(it->second));
      }
    }
    ASSERT_EQ(set.size(), want.size());
  }
  for (const auto& [k, c] : want) EXPECT_EQ(set.Find(k), c);
}

// A million paths of about 46 bytes: at most the path bytes and 24 more a
// claim (the index's 8-byte slots at most 3/4 and at least 3/8 full, a
// record's length and claim bytes, a chunk's unused tail). A node-based
// std::unordered_map<std::string, Claim> needs a node (a 32-byte string, the
// claim, a next pointer, a cached hash: 56 bytes and malloc's overhead), a
// bucket pointer and a heap copy of any path over 15 bytes: 81 bytes beyond
// the path, measured with glibc.
TEST(ClaimSetTest, MemoryPerClaimAtOneMillion) {
  constexpr size_t kCount = 1'000'000;
  ClaimSet set;
  size_t path_bytes = 0;
  char buf[96];
  for (size_t i = 0; i < kCount; ++i) {
    const int n = std::snprintf(
        buf, sizeof(buf), "home/user%zu/Documents/project%zu/file%06zu.txt",
        i % 50, i / 50 % 1000, i);
    path_bytes += n;
    set.Set(std::string_view(buf, n), ClaimFor(i));
  }
  ASSERT_EQ(set.size(), kCount);
  const double average = static_cast<double>(path_bytes) / kCount;
  EXPECT_GE(average, 40);
  EXPECT_LE(average, 52);

  const size_t memory = set.memory_bytes();
  const double overhead =
      static_cast<double>(memory - path_bytes) / static_cast<double>(kCount);
  std::cout << "ClaimSet at " << kCount << " paths of " << average
            << " bytes on average: " << memory << " bytes held, "
            << static_cast<double>(memory) / kCount << " a claim, " << overhead
            << " beyond the path\n";
  EXPECT_LE(memory, path_bytes + 24 * kCount);

  // Spot checks that the measured set is the real one.
  for (size_t i = 0; i < kCount; i += 997) {
    const int n = std::snprintf(
        buf, sizeof(buf), "home/user%zu/Documents/project%zu/file%06zu.txt",
        i % 50, i / 50 % 1000, i);
    ASSERT_EQ(set.Find(std::string_view(buf, n)), ClaimFor(i));
  }
}

}  // namespace
}  // namespace migstore::restore
