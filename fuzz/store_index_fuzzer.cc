// Decodes arbitrary bytes as an index block: the first 8 bytes (little-
// endian) are the span of blocks before the index, the rest the index's
// plain contents. Property: what decodes re-encodes to the same meaning.

#include "format/coding.h"
#include "format/store_index.h"
#include "fuzz/fuzz_target.h"

using namespace migstore::format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const char* p = reinterpret_cast<const char*>(data);
  const uint64_t span = DecodeFixed64(p);
  auto x = DecodeStoreIndex(std::string_view(p + 8, size - 8), span);
  if (x.ok()) {
    auto again = DecodeStoreIndex(EncodeStoreIndex(*x), span);
    FUZZ_ASSERT(again.ok() && *again == *x);
  }
  return 0;
}
