// Opens arbitrary bytes as a block frame, unencrypted and under each
// cipher, at the block number the first byte names, whole and as an
// incremental capture's copy does (OpenEncoded, then SealEncoded into
// another store). Properties: no crash; a frame that opens yields exactly
// the plain size its header declares; one that opens also opens encoded,
// and its copy opens in the other store to the same bytes.

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
  static const BlockCodec kAes(kId, SecretBytes::Copy(std::string(32, 'k')),
                               BlockCipher::kAes256Gcm);
  static const StoreId kOtherId = {16, 15, 14, 13, 12, 11, 10, 9,
                                   8,  7,  6,  5,  4,  3,  2,  1};
  static const BlockCodec kOther(kOtherId, SecretBytes());
  std::string_view frame(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (const BlockCodec* codec : {&kPlain, &kSealed, &kAes}) {
    std::string plain, encoded, copy, again;
    FrameHeader h, eh;
    const bool opened = codec->Open(data[0], frame, &plain, &h).ok();
    const bool encoded_ok =
        codec->OpenEncoded(data[0], frame, &encoded, &eh).ok();
    if (!opened) continue;
    FUZZ_ASSERT(plain.size() == h.plain_len);
    FUZZ_ASSERT(encoded_ok);
    FUZZ_ASSERT(eh.codec == h.codec && eh.plain_len == h.plain_len);
    kOther.SealEncoded(7, eh, encoded, &copy);
    FUZZ_ASSERT(kOther.Open(7, copy, &again).ok());
    FUZZ_ASSERT(again == plain);
  }
  return 0;
}
