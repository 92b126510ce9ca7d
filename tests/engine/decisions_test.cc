// The restore's decisions (decisions.h), a window's plan kept on the
// scratch file between the restore's two passes: what pass one decided
// comes back to pass two exactly, every field the apply reads, across the
// pieces a large window is cut into; what pass one alone tells (content
// records, reasons, errors) is not kept; and bytes that are not the plan of
// such a window, or a piece damaged on disk, are an error, never items.

#include "engine/src/restore/decisions.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "engine/base/deterministic_random.h"
#include "format/coding.h"
#include "format/spill_file.h"
#include "tests/util/test_util.h"

namespace migstore::restore {
namespace {

using format::SpillFile;
using testing::TempDir;

// Owners at the edges of a varint's lengths, up to the largest id.
constexpr uint32_t kOwners[] = {
    0, 1, 127, 128, 1000, 65534, 65536, UINT32_MAX - 1, UINT32_MAX};

// A window of `count` items as pass one may leave them: every action (in
// turn), the flags and stock reasons and owners drawn at random; a
// destination at the entry's path, absent, short or of several KB; kLinks
// to a leader of the same window (the item before or one far back) or of
// an earlier one; and what is not kept: `content` on kWrites, reasons,
// errors on refusals. The last item links to the first, pieces away.
std::vector<Item> Window(size_t count, const format::Content* content) {
  DeterministicRandom gen(count);
  auto coin = [&] { return gen.Below(2) == 1; };
  auto owner = [&] { return kOwners[gen.Below(std::size(kOwners))]; };
  std::vector<Item> items;
  for (size_t i = 0; i < count; ++i) {
    Item& item = items.emplace_back();
    item.entry = static_cast<uint32_t>(3 * i + gen.Below(3));
    item.action = static_cast<Action>(i % 6);
    item.replace = coin();
    item.renamed = coin();
    item.moved = coin();
    item.leads = coin();
    item.stock_reason = static_cast<Item::StockReason>(gen.Below(3));
    item.uid = owner();
    item.gid = owner();
    switch (gen.Below(4)) {
      case 0:
        item.dest_is_path = true;
        break;
      case 1:  // none: refused before its destination was known
        break;
      case 2:
        item.mutable_detail().dest = "home/u (1)/" + gen.Text(gen.Below(80));
        break;
      default:  // bytes of every value, several KB
        item.mutable_detail().dest = gen.Bytes(2048 + gen.Below(6 * 1024));
        break;
    }
    if (item.action == Action::kLink) {
      if (i > 0 && coin()) {
        item.leader = static_cast<int64_t>(coin() ? i - 1 : gen.Below(i));
      } else {
        item.mutable_detail().leader_dest =
            "home/u/leader " + gen.Text(gen.Below(3000));
      }
    }
    if (item.action == Action::kWrite) item.content = content;
    if (gen.Below(3) == 0) {
      item.mutable_detail().reason = "moved by rule " + std::to_string(i);
    }
    if (item.action == Action::kRefuse) {
      item.mutable_detail().error =
          Status::Refused("unsafe path", std::to_string(i));
    }
  }
  Item& last = items.emplace_back();
  last.entry = static_cast<uint32_t>(3 * count + 5);
  last.action = Action::kLink;
  last.dest_is_path = true;
  last.leader = 0;
  return items;
}

// A window's entry count: one past its largest entry.
size_t EntriesOf(const std::vector<Item>& items) {
  uint32_t most = 0;
  for (const Item& item : items) most = std::max(most, item.entry);
  return size_t{most} + 1;
}

// What SaveDecisions keeps of an item.
struct Kept {
  uint32_t entry = 0, uid = 0, gid = 0;
  Action action = Action::kWrite;
  Item::StockReason stock_reason = Item::StockReason::kNone;
  bool replace = false, renamed = false, moved = false, dest_is_path = false,
       leads = false;
  int64_t leader = -1;
  std::string dest, leader_dest;
  bool operator==(const Kept&) const = default;
};

Kept KeptOf(const Item& item) {
  const ItemDetail none;
  const ItemDetail& d = item.detail != nullptr ? *item.detail : none;
  return {.entry = item.entry,
          .uid = item.uid,
          .gid = item.gid,
          .action = item.action,
          .stock_reason = item.stock_reason,
          .replace = item.replace,
          .renamed = item.renamed,
          .moved = item.moved,
          .dest_is_path = item.dest_is_path,
          .leads = item.leads,
          .leader = item.leader,
          .dest = d.dest,
          .leader_dest = d.leader_dest};
}

// A string's length and its start (destinations run to several KB).
std::string Brief(const std::string& s) {
  return std::to_string(s.size()) + " bytes " +
         ::testing::PrintToString(s.substr(0, 24));
}

void PrintTo(const Kept& k, std::ostream* os) {
  *os << "{entry " << k.entry << ", action " << static_cast<int>(k.action)
      << ", replace " << k.replace << ", renamed " << k.renamed << ", moved "
      << k.moved << ", dest_is_path " << k.dest_is_path << ", leads " << k.leads
      << ", stock " << static_cast<int>(k.stock_reason) << ", uid " << k.uid
      << ", gid " << k.gid << ", leader " << k.leader << ", dest "
      << Brief(k.dest) << ", leader_dest " << Brief(k.leader_dest) << "}";
}

// `got` keeps exactly what `want` decided; the first difference is told.
void ExpectKept(const std::vector<Item>& got, const std::vector<Item>& want) {
  ASSERT_EQ(got.size(), want.size());
  size_t differ = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (KeptOf(got[i]) == KeptOf(want[i])) continue;
    if (differ++ == 0) {
      EXPECT_EQ(KeptOf(got[i]), KeptOf(want[i])) << "item " << i;
    }
  }
  EXPECT_EQ(differ, 0u) << "items that differ";
}

class Decisions : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spill = SpillFile::Create({dir_.path()});
    ASSERT_OK(spill);
    spill_ = std::move(*spill);
  }

  // Saves `items` as a window on their own, and loads them back for a
  // window of `entries` entries.
  Result<std::vector<Item>> SaveAndLoad(const std::vector<Item>& items,
                                        size_t entries) {
    std::vector<SpillFile::Piece> pieces;
    MIGSTORE_RETURN_IF_ERROR(SaveDecisions(items, spill_.get(), &pieces));
    return LoadDecisions(*spill_, pieces, entries);
  }

  // Loads a piece holding `bytes` as a window of `entries` entries.
  Result<std::vector<Item>> LoadBytes(const std::string& bytes,
                                      size_t entries) {
    MIGSTORE_ASSIGN_OR_RETURN(SpillFile::Piece p, spill_->Write(bytes));
    return LoadDecisions(*spill_, {p}, entries);
  }

  TempDir dir_;
  std::unique_ptr<SpillFile> spill_;
};

TEST_F(Decisions, AWindowComesBackAsDecidedAcrossPieces) {
  format::Content content;
  const std::vector<Item> want = Window(3000, &content);

  // The window holds every case the codec tells apart.
  size_t actions[6] = {}, stock[3] = {}, max_owner = 0, long_dest = 0,
         no_dest = 0, refused_no_dest = 0, here = 0, earlier = 0;
  size_t flags[5] = {};
  for (const Item& item : want) {
    ++actions[static_cast<int>(item.action)];
    ++stock[static_cast<int>(item.stock_reason)];
    max_owner += item.uid == UINT32_MAX && item.gid == UINT32_MAX;
    flags[0] += item.replace;
    flags[1] += item.renamed;
    flags[2] += item.moved;
    flags[3] += item.dest_is_path;
    flags[4] += item.leads;
    const std::string dest = KeptOf(item).dest;
    long_dest += dest.size() >= 4096;
    no_dest += !item.dest_is_path && dest.empty();
    refused_no_dest +=
        item.action == Action::kRefuse && !item.dest_is_path && dest.empty();
    here += item.action == Action::kLink && item.leader >= 0;
    earlier += item.action == Action::kLink && item.leader < 0;
  }
  for (size_t n : actions) EXPECT_GT(n, 0u);
  for (size_t n : stock) EXPECT_GT(n, 0u);
  for (size_t n : flags) {
    EXPECT_GT(n, 0u);
    EXPECT_LT(n, want.size());
  }
  EXPECT_GT(max_owner, 0u);
  EXPECT_GT(long_dest, 100u);
  EXPECT_GT(no_dest, 0u);
  EXPECT_GT(refused_no_dest, 0u);
  EXPECT_GT(here, 0u);
  EXPECT_GT(earlier, 0u);

  std::vector<SpillFile::Piece> pieces;
  ASSERT_OK(SaveDecisions(want, spill_.get(), &pieces));
  EXPECT_GE(pieces.size(), 3u) << "a window of several MiB is cut in pieces";
  auto got = LoadDecisions(*spill_, pieces, EntriesOf(want));
  ASSERT_OK(got);
  ExpectKept(*got, want);
  // The last item's leader is the first, pieces before it.
  EXPECT_EQ(got->back().leader, 0);
  // Read again: the pieces are not consumed.
  auto again = LoadDecisions(*spill_, pieces, EntriesOf(want));
  ASSERT_OK(again);
  ExpectKept(*again, want);
}

TEST_F(Decisions, ContentReasonsAndErrorsAreNotKept) {
  format::Content content;
  const std::vector<Item> want = Window(600, &content);
  size_t with_content = 0, with_reason = 0, with_error = 0;
  for (const Item& item : want) {
    with_content += item.content != nullptr;
    with_reason += item.detail != nullptr && !item.detail->reason.empty();
    with_error += !item.error().ok();
  }
  ASSERT_GT(with_content, 0u);
  ASSERT_GT(with_reason, 0u);
  ASSERT_GT(with_error, 0u);

  auto got = SaveAndLoad(want, EntriesOf(want));
  ASSERT_OK(got);
  ExpectKept(*got, want);
  for (size_t i = 0; i < got->size(); ++i) {
    const Item& item = (*got)[i];
    EXPECT_EQ(item.content, nullptr) << i;
    EXPECT_TRUE(item.detail == nullptr || item.detail->reason.empty()) << i;
    EXPECT_OK(item.error());
    // Only a stock reason is told, from the kept stock_reason.
    if (item.stock_reason == Item::StockReason::kNone) {
      EXPECT_EQ(item.reason(), "") << i;
    }
  }
}

// Windows one after another on one scratch file, each with its own
// pieces; an empty window has none.
TEST_F(Decisions, WindowsShareTheScratchFile) {
  format::Content content;
  const std::vector<Item> a = Window(40, &content);
  const std::vector<Item> b = Window(2000, &content);
  std::vector<SpillFile::Piece> pa, pb, none;
  ASSERT_OK(SaveDecisions(a, spill_.get(), &pa));
  ASSERT_OK(SaveDecisions({}, spill_.get(), &none));
  EXPECT_TRUE(none.empty());
  const SpillFile::Piece first = pa.front();
  ASSERT_OK(SaveDecisions(b, spill_.get(), &pb));
  // Appended: a vector holding pieces keeps them.
  ASSERT_OK(SaveDecisions(a, spill_.get(), &pa));
  ASSERT_EQ(pa.size(), 2u);
  EXPECT_EQ(pa.front().offset, first.offset);

  auto got_b = LoadDecisions(*spill_, pb, EntriesOf(b));
  ASSERT_OK(got_b);
  ExpectKept(*got_b, b);
  auto got_a = LoadDecisions(*spill_, {pa.back()}, EntriesOf(a));
  ASSERT_OK(got_a);
  ExpectKept(*got_a, a);
  auto got_none = LoadDecisions(*spill_, none, 0);
  ASSERT_OK(got_none);
  EXPECT_TRUE(got_none->empty());
}

TEST_F(Decisions, AnEntryBeyondTheWindowIsCorruption) {
  format::Content content;
  const std::vector<Item> want = Window(50, &content);
  const size_t entries = EntriesOf(want);
  std::vector<SpillFile::Piece> pieces;
  ASSERT_OK(SaveDecisions(want, spill_.get(), &pieces));
  ASSERT_OK(LoadDecisions(*spill_, pieces, entries));
  for (size_t fewer : {entries - 1, size_t{1}, size_t{0}}) {
    auto got = LoadDecisions(*spill_, pieces, fewer);
    ASSERT_FALSE(got.ok()) << fewer;
    EXPECT_TRUE(got.status().IsCorruption())
        << fewer << ": " << got.status().ToString();
  }
}

TEST_F(Decisions, ALeaderNotPlannedBeforeItsMemberIsCorruption) {
  // Items of a window whose item `member` links to item `leader`.
  auto window = [](size_t member, int64_t leader) {
    std::vector<Item> items(3);
    for (size_t i = 0; i < items.size(); ++i) {
      items[i].entry = static_cast<uint32_t>(i);
      items[i].dest_is_path = true;
    }
    items[member].action = Action::kLink;
    items[member].leader = leader;
    return items;
  };
  auto linked = SaveAndLoad(window(1, 0), 3);
  ASSERT_OK(linked);
  EXPECT_EQ((*linked)[1].leader, 0);
  auto far = SaveAndLoad(window(2, 0), 3);
  ASSERT_OK(far);
  EXPECT_EQ((*far)[2].leader, 0);

  struct Case {
    size_t member;
    int64_t leader;
  };
  for (const Case& c : {Case{0, 0}, Case{0, 1}, Case{1, 1}, Case{1, 2},
                        Case{2, 2}, Case{1, 1000}}) {
    auto got = SaveAndLoad(window(c.member, c.leader), 3);
    ASSERT_FALSE(got.ok()) << "item " << c.member << " led by " << c.leader;
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  }
}

TEST_F(Decisions, BytesThatAreNoPlanAreCorruption) {
  // An item by hand: entry, action and flags, stock reason and leader bit,
  // uid, gid, then (not at its path) the destination.
  auto item = [](uint64_t entry, uint8_t flags, uint8_t more, uint64_t uid) {
    std::string out;
    format::PutVarint(&out, entry);
    out.push_back(static_cast<char>(flags));
    out.push_back(static_cast<char>(more));
    format::PutVarint(&out, uid);
    format::PutVarint(&out, 0);
    format::PutBytes(&out, "dest");
    return out;
  };
  auto good = LoadBytes(item(3, 0, 2, UINT32_MAX), 4);
  ASSERT_OK(good);
  ASSERT_EQ(good->size(), 1u);
  EXPECT_EQ(KeptOf((*good)[0]).dest, "dest");
  EXPECT_EQ((*good)[0].uid, UINT32_MAX);

  const std::string bad[] = {
      item(0, 6, 0, 0),                         // no action 6
      item(0, 7, 0, 0),                         // nor 7
      item(0, 0, 3, 0),                         // no stock reason 3
      item(0, 0, 8, 0),                         // a reserved bit
      item(0, 0, 0x80, 0),                      // another
      item(0, 0, 0, uint64_t{UINT32_MAX} + 1),  // uid too large
      item(4, 0, 0, 0),                         // entry beyond the window
      item(3, 0, 0, 0) + "\x01",                // a partial item after one
  };
  for (const std::string& bytes : bad) {
    auto got = LoadBytes(bytes, 4);
    ASSERT_FALSE(got.ok()) << ::testing::PrintToString(bytes);
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  }

  // A piece cut inside an item, of any kind, anywhere, is an error; cut
  // between items it is the items before the cut.
  format::Content content;
  std::vector<size_t> ends;  // the plain size after each item
  std::string plain;
  for (size_t k = 1; k <= 13; ++k) {
    std::vector<Item> first = Window(12, &content);
    first.resize(k);
    std::vector<SpillFile::Piece> pieces;
    ASSERT_OK(SaveDecisions(first, spill_.get(), &pieces));
    ASSERT_EQ(pieces.size(), 1u);
    ASSERT_OK(spill_->Read(pieces[0], &plain));
    ends.push_back(plain.size());
  }
  const size_t entries = EntriesOf(Window(12, &content));
  for (size_t k = 0; k < ends.size(); ++k) {
    const size_t begin = k == 0 ? 0 : ends[k - 1];
    // Every byte of the fixed fields, then strides through the strings.
    for (size_t n = begin + 1; n < ends[k];
         n += n - begin < 24 ? 1 : 1 + (n - begin) / 4) {
      auto got = LoadBytes(plain.substr(0, n), entries);
      ASSERT_FALSE(got.ok()) << "item " << k << " cut at " << n - begin;
      EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
    }
    auto whole = LoadBytes(plain.substr(0, ends[k]), entries);
    ASSERT_OK(whole);
    EXPECT_EQ(whole->size(), k + 1);
  }
}

TEST_F(Decisions, ADamagedPieceIsAnErrorNeverItems) {
  format::Content content;
  const std::vector<Item> want = Window(3000, &content);
  std::vector<SpillFile::Piece> pieces;
  ASSERT_OK(SaveDecisions(want, spill_.get(), &pieces));
  ASSERT_GE(pieces.size(), 3u);
  const size_t entries = EntriesOf(want);

  // One flipped byte in the middle piece.
  const int fd = spill_->fd_for_testing();
  const off_t at = static_cast<off_t>(pieces[1].offset + pieces[1].length / 2);
  char byte;
  ASSERT_EQ(::pread(fd, &byte, 1, at), 1);
  const char flipped = static_cast<char>(byte ^ 0x20);
  ASSERT_EQ(::pwrite(fd, &flipped, 1, at), 1);
  auto got = LoadDecisions(*spill_, pieces, entries);
  ASSERT_FALSE(got.ok()) << got->size() << " items from a damaged piece";
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  // Mended, the same pieces load: it was the damage.
  ASSERT_EQ(::pwrite(fd, &byte, 1, at), 1);
  auto mended = LoadDecisions(*spill_, pieces, entries);
  ASSERT_OK(mended);
  ExpectKept(*mended, want);

  // The last piece cut short (a full disk, a truncation).
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(pieces.back().offset +
                                               pieces.back().length / 2)),
            0);
  auto cut = LoadDecisions(*spill_, pieces, entries);
  EXPECT_FALSE(cut.ok()) << cut->size() << " items from a truncated piece";
}

}  // namespace
}  // namespace migstore::restore
