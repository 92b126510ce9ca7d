// Decodes arbitrary bytes as an index block. Property: what decodes
// re-encodes to the same bytes' meaning.

#include "format/store_index.h"
#include "fuzz/fuzz_target.h"

using namespace migstore::format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto x = DecodeStoreIndex(std::string_view(reinterpret_cast<const char*>(data), size));
  if (x.ok()) {
    auto again = DecodeStoreIndex(EncodeStoreIndex(*x));
    FUZZ_ASSERT(again.ok() && *again == *x);
  }
  return 0;
}
