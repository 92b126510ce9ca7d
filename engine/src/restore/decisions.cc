#include "engine/src/restore/decisions.h"

#include <string>

#include "format/coding.h"

namespace migstore::restore {
namespace {

// The first byte: the action in the low three bits, then the flags.
constexpr uint8_t kReplace = 1 << 3;
constexpr uint8_t kRenamed = 1 << 4;
constexpr uint8_t kMoved = 1 << 5;
constexpr uint8_t kDestIsPath = 1 << 6;
constexpr uint8_t kLeads = 1 << 7;
// The second byte: the stock reason in the low two bits, then whether a
// kLink's leader is an item of the same window.
constexpr uint8_t kLeaderHere = 1 << 2;

// A piece is written once this much is gathered (well under the scratch
// file's largest piece, limits::kMaxIndexPlain).
constexpr size_t kPieceBytes = size_t{1} << 20;

// A destination's bound when read back: a mapped or moved one may be
// longer than a stored path, never longer than a path the kernel takes.
constexpr size_t kMaxDest = size_t{1} << 16;

void Encode(const Item& item, std::string* out) {
  format::PutVarint(out, item.entry);
  out->push_back(static_cast<char>(
      static_cast<uint8_t>(item.action) | (item.replace ? kReplace : 0) |
      (item.renamed ? kRenamed : 0) | (item.moved ? kMoved : 0) |
      (item.dest_is_path ? kDestIsPath : 0) | (item.leads ? kLeads : 0)));
  out->push_back(static_cast<char>(static_cast<uint8_t>(item.stock_reason) |
                                   (item.leader >= 0 ? kLeaderHere : 0)));
  format::PutVarint(out, item.uid);
  format::PutVarint(out, item.gid);
  if (!item.dest_is_path) {
    format::PutBytes(out, item.detail != nullptr ? item.detail->dest : "");
  }
  if (item.action == Action::kLink) {
    if (item.leader >= 0) {
      format::PutVarint(out, static_cast<uint64_t>(item.leader));
    } else {
      format::PutBytes(out, item.detail->leader_dest);
    }
  }
}

// False when the bytes are not an item of a window of `entries` entries
// whose items so far are `items`.
bool Decode(format::Decoder* d, size_t entries, size_t items, Item* item) {
  item->entry = static_cast<uint32_t>(d->VarintAtMost(entries - 1));
  const uint8_t flags = d->U8();
  const uint8_t more = d->U8();
  item->uid = static_cast<uint32_t>(d->VarintAtMost(UINT32_MAX));
  item->gid = static_cast<uint32_t>(d->VarintAtMost(UINT32_MAX));
  if (!d->ok() || (flags & 7) > static_cast<uint8_t>(Action::kRefuse) ||
      (more & 3) > static_cast<uint8_t>(Item::StockReason::kSameFolder) ||
      (more & ~(kLeaderHere | 3)) != 0) {
    return false;
  }
  item->action = static_cast<Action>(flags & 7);
  item->replace = (flags & kReplace) != 0;
  item->renamed = (flags & kRenamed) != 0;
  item->moved = (flags & kMoved) != 0;
  item->dest_is_path = (flags & kDestIsPath) != 0;
  item->leads = (flags & kLeads) != 0;
  item->stock_reason = static_cast<Item::StockReason>(more & 3);
  if (!item->dest_is_path) {
    std::string_view dest = d->Bytes(kMaxDest);
    if (!dest.empty()) item->mutable_detail().dest = std::string(dest);
  }
  if (item->action == Action::kLink) {
    if ((more & kLeaderHere) != 0) {
      // A leader is planned before its members.
      if (items == 0) return false;
      item->leader = static_cast<int64_t>(d->VarintAtMost(items - 1));
    } else {
      item->mutable_detail().leader_dest = std::string(d->Bytes(kMaxDest));
    }
  }
  return d->ok();
}

}  // namespace

Status SaveDecisions(const std::vector<Item>& items, format::SpillFile* spill,
                     std::vector<format::SpillFile::Piece>* pieces) {
  std::string buf;
  for (size_t i = 0; i <= items.size(); ++i) {
    if (i < items.size()) Encode(items[i], &buf);
    if (buf.size() >= kPieceBytes || (i == items.size() && !buf.empty())) {
      MIGSTORE_ASSIGN_OR_RETURN(format::SpillFile::Piece p, spill->Write(buf));
      pieces->push_back(p);
      buf.clear();
    }
  }
  return Status::OK();
}

Result<std::vector<Item>> LoadDecisions(
    const format::SpillFile& spill,
    const std::vector<format::SpillFile::Piece>& pieces, size_t entries) {
  std::vector<Item> items;
  std::string plain;
  for (const format::SpillFile::Piece& p : pieces) {
    MIGSTORE_RETURN_IF_ERROR(spill.Read(p, &plain));
    format::Decoder d(plain);
    while (!d.empty()) {
      Item& item = items.emplace_back();
      if (entries == 0 || !Decode(&d, entries, items.size() - 1, &item)) {
        return Status::Corruption(
            "the restore's scratch file does not hold the plan it was given");
      }
    }
  }
  return items;
}

}  // namespace migstore::restore
