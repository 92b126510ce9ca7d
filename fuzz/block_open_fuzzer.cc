// Opens arbitrary bytes as a block frame, encrypted and not, at the block
// number the first byte names. Properties: no crash; a frame that opens
// yields exactly the plain size its header declares.

#include <string>

#include "format/block_codec.h"
#include "fuzz/fuzz_target.h"

using namespace migstore::format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const StoreId kId = {1, 2,  3,  4,  5,  6,  7,  8,
                              9, 10, 11, 12, 13, 14, 15, 16};
  static const BlockCodec kPlain(kId, SecretBytes());
  static const BlockCodec kSealed(kId, SecretBytes::Copy(std::string(32, 'k')));
  std::string_view frame(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (const BlockCodec* codec : {&kPlain, &kSealed}) {
    std::string plain;
    FrameHeader h;
    if (codec->Open(data[0], frame, &plain, &h).ok())
      FUZZ_ASSERT(plain.size() == h.plain_len);
  }
  return 0;
}
