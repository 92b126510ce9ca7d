#include "format/catalog_codec.h"

#include <algorithm>

#include "format/limits.h"

namespace migstore::format {
namespace {

// Presence bits of an entry's optional fields (docs/format.md "Entry").
enum EntryField : uint64_t {
  kHasContent = 1 << 0,
  kHasLinkGroup = 1 << 1,
  kHasXattrs = 1 << 2,
  kHasTarget = 1 << 3,
  kHasAtime = 1 << 4,
  kHasCtime = 1 << 5,
  kHasBtime = 1 << 6,
  kHasAttributes = 1 << 7,
  kHasInode = 1 << 8,  // external content only
};
constexpr uint64_t kKnownEntryFields = (1 << 9) - 1;

constexpr uint64_t kContentSparse = 1;

Status Bad(std::string_view what) {
  return Status::Corruption("catalog", what);
}

size_t SharedPrefix(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// Checks the combinations of fields that only make sense together.
Status CheckEntryShape(const Entry& e, uint64_t fields,
                       ContentLocation location) {
  const bool external = location == ContentLocation::kExternal;
  if ((fields & kHasInode) != 0 && (!external || e.type != EntryType::kFile)) {
    return Bad("an inode number outside a file of an external-content store");
  }
  if (e.path.empty() || e.path.size() > limits::kMaxPathBytes) {
    return Bad("entry path is empty or too long");
  }
  if (e.path.find('\0') != std::string::npos)
    return Bad("entry path holds a NUL byte");
  if (e.mode > limits::kMaxMode) return Bad("entry mode has bits beyond 07777");
  switch (e.type) {
    case EntryType::kFile:
      if (external && (fields & kHasContent) != 0) {
        return Bad("a content reference in an external-content store");
      }
      if (!external && ((fields & kHasContent) != 0) != (e.size > 0)) {
        return Bad("a file's content reference does not match its size");
      }
      if ((fields & kHasTarget) != 0)
        return Bad("a file with a symlink target");
      break;
    case EntryType::kSymlink:
      if ((fields & kHasTarget) == 0 || e.symlink_target().empty()) {
        return Bad("a symlink without a target");
      }
      if (e.symlink_target().find('\0') != std::string::npos) {
        return Bad("symlink target holds a NUL byte");
      }
      if (e.size != e.symlink_target().size())
        return Bad("symlink size is not its target's");
      [[fallthrough]];
    case EntryType::kDirectory:
    case EntryType::kFifo:
      if ((fields & (kHasContent | kHasLinkGroup)) != 0) {
        return Bad("content or link group on an entry that is not a file");
      }
      if (e.type != EntryType::kSymlink &&
          ((fields & kHasTarget) != 0 || e.size != 0)) {
        return Bad("a directory or fifo with a size or target");
      }
      break;
    default:
      return Bad("unknown entry type");
  }
  return Status::OK();
}

uint64_t FieldsOf(const Entry& e) {
  uint64_t f = 0;
  if (e.content) f |= kHasContent;
  if (e.link_group != 0) f |= kHasLinkGroup;
  if (!e.xattrs().empty()) f |= kHasXattrs;
  if (e.type == EntryType::kSymlink) f |= kHasTarget;
  if (e.atime_ns) f |= kHasAtime;
  if (e.ctime_ns) f |= kHasCtime;
  if (e.btime_ns) f |= kHasBtime;
  if (e.attributes) f |= kHasAttributes;
  if (e.inode) f |= kHasInode;
  return f;
}

Status DecodeEntry(Decoder* d, std::string* path, Entry* e,
                   ContentLocation location) {
  uint64_t shared = d->VarintAtMost(path->size());
  std::string_view suffix = d->Bytes(limits::kMaxPathBytes);
  if (!d->ok()) return Bad("truncated entry path");
  path->resize(static_cast<size_t>(shared));
  path->append(suffix);
  e->path = *path;
  e->profile = static_cast<uint32_t>(d->VarintAtMost(limits::kMaxProfiles));
  e->type = static_cast<EntryType>(d->U8());
  uint64_t fields = d->Varint();
  if ((fields & ~kKnownEntryFields) != 0)
    return Bad("unknown entry field bits");
  e->mode = static_cast<uint32_t>(d->VarintAtMost(limits::kMaxMode));
  e->uid = static_cast<uint32_t>(d->VarintAtMost(UINT32_MAX));
  e->gid = static_cast<uint32_t>(d->VarintAtMost(UINT32_MAX));
  e->mtime_ns = d->SignedVarint();
  e->size = d->VarintAtMost(limits::kMaxFileSize);
  if (fields & kHasContent) e->content = d->Varint();
  if (fields & kHasLinkGroup) {
    e->link_group = d->Varint();
    if (e->link_group == 0) return Bad("link group 0 written explicitly");
  }
  if (fields & kHasXattrs) {
    uint64_t n = d->VarintAtMost(limits::kMaxXattrsPerEntry);
    if (n == 0) return Bad("an empty xattr list written explicitly");
    size_t total = 0;
    for (uint64_t i = 0; i < n && d->ok(); ++i) {
      Xattr x;
      x.name = d->Bytes(limits::kMaxXattrName);
      x.value = d->Bytes(limits::kMaxXattrValue);
      if (d->ok() && x.name.empty()) return Bad("an xattr without a name");
      total += x.name.size() + x.value.size();
      if (total > limits::kMaxXattrBytesPerEntry)
        return Bad("xattrs too large in total");
      e->mutable_xattrs().push_back(std::move(x));
    }
  }
  if (fields & kHasTarget)
    e->set_symlink_target(std::string(d->Bytes(limits::kMaxSymlinkTarget)));
  if (fields & kHasAtime) e->atime_ns = d->SignedVarint();
  if (fields & kHasCtime) e->ctime_ns = d->SignedVarint();
  if (fields & kHasBtime) e->btime_ns = d->SignedVarint();
  if (fields & kHasAttributes)
    e->attributes = static_cast<uint32_t>(d->VarintAtMost(UINT32_MAX));
  if (fields & kHasInode) e->inode = d->Varint();
  if (!d->ok()) return Bad("truncated or malformed entry");
  return CheckEntryShape(*e, fields, location);
}

}  // namespace

// A restore holds every entry of a store at once: a million of them.
static_assert(sizeof(Entry) <= 176, "an Entry must stay small");

uint64_t Content::stored_size() const {
  uint64_t n = 0;
  for (const Chunk& c : chunks) n += c.length;
  return n;
}

Status ValidateEntry(const Entry& e, ContentLocation location) {
  if (e.link_group != 0 && e.type != EntryType::kFile) {
    return Bad("a link group on an entry that is not a file");
  }
  if (e.symlink_target().size() > limits::kMaxSymlinkTarget) {
    return Bad("symlink target too long");
  }
  if (e.type != EntryType::kSymlink && !e.symlink_target().empty()) {
    return Bad("a symlink target on an entry that is not a symlink");
  }
  if (e.xattrs().size() > limits::kMaxXattrsPerEntry)
    return Bad("too many xattrs");
  size_t xattr_bytes = 0;
  for (const Xattr& x : e.xattrs()) {
    if (x.name.empty() || x.name.size() > limits::kMaxXattrName ||
        x.value.size() > limits::kMaxXattrValue) {
      return Bad("xattr name or value out of range");
    }
    xattr_bytes += x.name.size() + x.value.size();
  }
  if (xattr_bytes > limits::kMaxXattrBytesPerEntry)
    return Bad("xattrs too large in total");
  if (e.size > limits::kMaxFileSize) return Bad("file size out of range");
  return CheckEntryShape(e, FieldsOf(e), location);
}

void EncodeEntryPath(std::string_view path, std::string_view prev_path,
                     std::string* out) {
  size_t shared = SharedPrefix(prev_path, path);
  PutVarint(out, shared);
  PutBytes(out, path.substr(shared));
}

void EncodeEntryBody(const Entry& e, std::string* out) {
  PutVarint(out, e.profile);
  out->push_back(static_cast<char>(e.type));
  uint64_t fields = FieldsOf(e);
  PutVarint(out, fields);
  PutVarint(out, e.mode);
  PutVarint(out, e.uid);
  PutVarint(out, e.gid);
  PutSignedVarint(out, e.mtime_ns);
  PutVarint(out, e.size);
  if (fields & kHasContent) PutVarint(out, *e.content);
  if (fields & kHasLinkGroup) PutVarint(out, e.link_group);
  if (fields & kHasXattrs) {
    PutVarint(out, e.xattrs().size());
    for (const Xattr& x : e.xattrs()) {
      PutBytes(out, x.name);
      PutBytes(out, x.value);
    }
  }
  if (fields & kHasTarget) PutBytes(out, e.symlink_target());
  if (fields & kHasAtime) PutSignedVarint(out, *e.atime_ns);
  if (fields & kHasCtime) PutSignedVarint(out, *e.ctime_ns);
  if (fields & kHasBtime) PutSignedVarint(out, *e.btime_ns);
  if (fields & kHasAttributes) PutVarint(out, *e.attributes);
  if (fields & kHasInode) PutVarint(out, *e.inode);
}

std::string EncodeCatalogSegment(const std::vector<Entry>& entries) {
  std::string out;
  PutVarint(&out, entries.size());
  std::string_view prev;
  for (const Entry& e : entries) {
    EncodeEntryPath(e.path, prev, &out);
    EncodeEntryBody(e, &out);
    prev = e.path;
  }
  return out;
}

Result<std::vector<Entry>> DecodeCatalogSegment(std::string_view plain,
                                                ContentLocation location) {
  Decoder d(plain);
  uint64_t n = d.VarintAtMost(limits::kMaxEntriesPerSegment);
  if (!d.ok()) return Bad("segment count is missing or too large");
  // Each entry takes at least 9 bytes, so a count beyond that is a lie; no
  // reserve() from it either, memory grows only with what decodes.
  if (n > plain.size() / 9) return Bad("segment count exceeds its bytes");
  std::vector<Entry> entries;
  std::string path;
  size_t path_bytes = 0, xattrs = 0;
  for (uint64_t i = 0; i < n; ++i) {
    Entry e;
    MIGSTORE_RETURN_IF_ERROR(DecodeEntry(&d, &path, &e, location));
    // Prefix compression lets a few bytes stand for a long path: bound what
    // the segment expands to, not only what it occupies.
    path_bytes += e.path.size();
    xattrs += e.xattrs().size();
    if (path_bytes > limits::kMaxPathBytesPerSegment ||
        xattrs > limits::kMaxXattrsPerSegment) {
      return Bad("segment expands beyond the limits");
    }
    if (!entries.empty() &&
        !EntryKeyLess(entries.back().profile, entries.back().path, e.profile,
                      e.path)) {
      return Bad(
          "entries are not in strictly increasing (profile, path) order");
    }
    entries.push_back(std::move(e));
  }
  if (!d.empty())
    return Bad("trailing bytes after the last entry of a segment");
  return entries;
}

void EncodeContent(const Content& c, std::string* out) {
  PutVarint(out, c.size);
  out->append(reinterpret_cast<const char*>(c.hash.data()), c.hash.size());
  PutVarint(out, c.sparse ? kContentSparse : 0);
  if (c.sparse) {
    PutVarint(out, c.ranges.size());
    uint64_t end = 0;
    for (const DataRange& r : c.ranges) {
      PutVarint(out, r.offset - end);
      PutVarint(out, r.length);
      end = r.offset + r.length;
    }
  }
  PutVarint(out, c.chunks.size());
  for (const Chunk& ch : c.chunks) {
    PutVarint(out, ch.block);
    PutVarint(out, ch.offset);
    PutVarint(out, ch.length);
  }
}

Result<std::vector<Content>> DecodeContentSegment(std::string_view plain) {
  Decoder d(plain);
  uint64_t n = d.VarintAtMost(limits::kMaxContentsPerSegment);
  // A record takes at least 19 bytes (size, hash, flags, chunk count).
  if (!d.ok() || n > plain.size() / 19)
    return Bad("content segment count is malformed");
  std::vector<Content> out;
  size_t pieces = 0;
  for (uint64_t i = 0; i < n; ++i) {
    Content c;
    c.size = d.VarintAtMost(limits::kMaxFileSize);
    std::string_view hash = d.Raw(c.hash.size());
    if (d.ok()) std::copy(hash.begin(), hash.end(), c.hash.begin());
    uint64_t flags = d.Varint();
    if ((flags & ~kContentSparse) != 0) return Bad("unknown content flag bits");
    c.sparse = (flags & kContentSparse) != 0;
    uint64_t expected_stored = c.size;
    if (c.sparse) {
      uint64_t nr = d.VarintAtMost(
          std::min<uint64_t>(limits::kMaxRangesPerContent, d.remaining()));
      uint64_t end = 0;
      expected_stored = 0;
      for (uint64_t r = 0; r < nr && d.ok(); ++r) {
        uint64_t gap = d.VarintAtMost(limits::kMaxFileSize);
        uint64_t len = d.VarintAtMost(limits::kMaxFileSize);
        // Ranges are disjoint and ascending; only the first may start at 0.
        if (len == 0 || (r > 0 && gap == 0))
          return Bad("empty or touching data ranges");
        uint64_t offset = end + gap;
        if (offset > c.size || len > c.size - offset)
          return Bad("data range past the end");
        c.ranges.push_back({offset, len});
        end = offset + len;
        expected_stored += len;
      }
    }
    uint64_t nc = d.VarintAtMost(
        std::min<uint64_t>(limits::kMaxChunksPerContent, d.remaining()));
    for (uint64_t k = 0; k < nc && d.ok(); ++k) {
      Chunk ch;
      ch.block = d.VarintAtMost(limits::kMaxBlocks);
      ch.offset = static_cast<uint32_t>(d.VarintAtMost(limits::kMaxBlockPlain));
      ch.length = static_cast<uint32_t>(d.VarintAtMost(limits::kMaxBlockPlain));
      if (d.ok() && ch.length == 0) return Bad("an empty chunk");
      c.chunks.push_back(ch);
    }
    if (!d.ok()) return Bad("truncated or malformed content record");
    pieces += c.ranges.size() + c.chunks.size();
    if (pieces > limits::kMaxPiecesPerContentSegment)
      return Bad("content segment too large");
    if (c.stored_size() != expected_stored) {
      return Bad("content chunks do not add up to its stored size");
    }
    out.push_back(std::move(c));
  }
  if (!d.empty()) return Bad("trailing bytes after the last content record");
  return out;
}

void EncodeProfile(const Profile& p, std::string* out) {
  PutBytes(out, p.name);
  PutBytes(out, p.home);
  out->push_back(static_cast<char>(p.layout));
  PutVarint(out, p.uid);
  PutVarint(out, p.gid);
  PutBytes(out, p.sid);
  PutSignedVarint(out, p.last_use_ns);
  PutVarint(out, p.folders.size());
  for (const auto& [key, path] : p.folders) {
    PutBytes(out, key);
    PutBytes(out, path);
  }
}

bool DecodeProfile(Decoder* d, Profile* p) {
  p->name = d->Bytes(limits::kMaxNameBytes);
  p->home = d->Bytes(limits::kMaxPathBytes);
  uint8_t layout = d->U8();
  if (layout > static_cast<uint8_t>(Layout::kWindows)) d->Fail();
  p->layout = static_cast<Layout>(layout);
  p->uid = static_cast<uint32_t>(d->VarintAtMost(UINT32_MAX));
  p->gid = static_cast<uint32_t>(d->VarintAtMost(UINT32_MAX));
  p->sid = d->Bytes(limits::kMaxNameBytes);
  p->last_use_ns = d->SignedVarint();
  uint64_t n = d->VarintAtMost(limits::kMaxFoldersPerProfile);
  for (uint64_t i = 0; i < n && d->ok(); ++i) {
    std::string key(d->Bytes(limits::kMaxNameBytes));
    std::string path(d->Bytes(limits::kMaxPathBytes));
    p->folders.emplace_back(std::move(key), std::move(path));
  }
  return d->ok();
}

}  // namespace migstore::format
