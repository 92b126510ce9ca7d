// Encoding of catalog records into block contents (docs/format.md "Catalog
// segment", "Content segment", "Profile"). Decoders treat their input as
// untrusted: every count and length is checked against format/limits.h, and
// any inconsistency is Corruption naming what was wrong.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_FORMAT_CATALOG_CODEC_H_
#define MIGSTORE_FORMAT_CATALOG_CODEC_H_

#include <string>
#include <string_view>
#include <vector>

#include "format/catalog.h"
#include "format/coding.h"
#include "migstore/result.h"

namespace migstore::format {

// Checks an entry before it is written: path length and bytes, mode bits,
// and that its fields fit its type (docs/format.md "Entry") and where the
// catalog's contents live. The reader applies the same rules to what it
// decodes.
Status ValidateEntry(const Entry& e,
                     ContentLocation location = ContentLocation::kInContainer);

// An entry is its path, prefix-compressed against the previous entry of the
// same segment, then its body (every other field). The writer keeps bodies
// encoded until it sorts the catalog.
void EncodeEntryBody(const Entry& e, std::string* out);
void EncodeEntryPath(std::string_view path, std::string_view prev_path,
                     std::string* out);

// A catalog segment: a count, then the entries, which must be sorted
// strictly by (profile, path).
std::string EncodeCatalogSegment(const std::vector<Entry>& entries);
Result<std::vector<Entry>> DecodeCatalogSegment(
    std::string_view plain,
    ContentLocation location = ContentLocation::kInContainer);

// A content segment: a count, then the records.
void EncodeContent(const Content& c, std::string* out);
Result<std::vector<Content>> DecodeContentSegment(std::string_view plain);

void EncodeProfile(const Profile& p, std::string* out);
// Decodes one profile from *d; false (and d failed) when malformed.
bool DecodeProfile(Decoder* d, Profile* p);

}  // namespace migstore::format

#endif  // MIGSTORE_FORMAT_CATALOG_CODEC_H_
