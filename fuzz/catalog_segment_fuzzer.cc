// Decodes arbitrary bytes as a catalog segment (of a container and of a
// store with external content) and as a content segment.
// Property: whatever decodes re-encodes to bytes that decode to the same
// records (the encoding is canonical for what it accepts).

#include <string>

#include "format/catalog_codec.h"
#include "format/coding.h"
#include "fuzz/fuzz_target.h"

using namespace migstore::format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (ContentLocation where :
       {ContentLocation::kInContainer, ContentLocation::kExternal}) {
    auto entries = DecodeCatalogSegment(in, where);
    if (entries.ok()) {
      for (const Entry& e : *entries) FUZZ_ASSERT(ValidateEntry(e, where).ok());
      auto again = DecodeCatalogSegment(EncodeCatalogSegment(*entries), where);
      FUZZ_ASSERT(again.ok() && *again == *entries);
    }
  }
  auto contents = DecodeContentSegment(in);
  if (contents.ok()) {
    std::string out;
    PutVarint(&out, contents->size());
    for (const Content& c : *contents) EncodeContent(c, &out);
    auto again = DecodeContentSegment(out);
    FUZZ_ASSERT(again.ok() && *again == *contents);
  }
  return 0;
}
