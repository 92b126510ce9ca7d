// Writes the golden stores of tests/golden/. Run by hand, never by CI:
//
//   build/tests/make_golden_stores tests/golden
//
// Golden stores are frozen. The valid ones prove that today's reader still
// reads what an earlier writer wrote; regenerating them would prove nothing.
// Run this only to add stores for a new format version (into new files),
// or to rebuild the invalid ones from a valid one.

#include <cstdio>
#include <string>

#include "format/coding.h"
#include "format/container_reader.h"
#include "format/header.h"
#include "format/keys.h"
#include "format/memory_store.h"
#include "tests/util/store_samples.h"
#include "tests/util/test_util.h"

#include <xxhash.h>

namespace migstore {
namespace {

using format::KeySource;
using format::SecretBytes;

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "make_golden_stores: %s: %s\n", what.c_str(),
               s.ToString().c_str());
  return 1;
}

void Patch(std::string* bytes, size_t offset, char value) {
  (*bytes)[offset] = value;
}

void ResealHeader(std::string* bytes) {
  format::EncodeFixed64(bytes->data() + format::header::kChecksum,
                        XXH3_64bits(bytes->data(), format::header::kChecksum));
}

int Main(const std::string& dir) {
  const std::string valid = dir + "/valid", invalid = dir + "/invalid";
  format::MemoryStore store = testing::GoldenStore();
  format::MemoryWriteOptions opts = testing::QuickOptions();
  opts.block_size = 1024;
  opts.writer.overwrite = true;

  Status s = format::WriteMemoryStore(valid + "/plain.mig", KeySource::None(),
                                      store, opts);
  if (!s.ok()) return Fail("plain.mig", s);
  s = format::WriteNewKeyFile(valid + "/keyfile.key", true);
  if (!s.ok()) return Fail("keyfile.key", s);
  auto key = KeySource::FromKeyFile(valid + "/keyfile.key");
  if (!key.ok()) return Fail("keyfile.key", key.status());
  s = format::WriteMemoryStore(valid + "/keyfile.mig", *key, store, opts);
  if (!s.ok()) return Fail("keyfile.mig", s);
  s = format::WriteMemoryStore(
      valid + "/password.mig",
      KeySource::Password(SecretBytes::Copy("golden password")), store, opts);
  if (!s.ok()) return Fail("password.mig", s);
  testing::WriteFile(valid + "/golden-store.txt",
                     testing::DescribeStore(store));

  // Invalid stores, each made from plain.mig by one defect.
  const std::string plain = testing::ReadFile(valid + "/plain.mig");
  auto reader =
      format::ContainerReader::Open(valid + "/plain.mig", KeySource::None());
  if (!reader.ok()) return Fail("reopen", reader.status());
  const format::StoreIndex& x = (*reader)->index();
  const uint64_t catalog =
      (*reader)->block_offset(x.catalog_segments.at(0).block) + 30;
  const uint64_t index_at = plain.size() - format::kTrailerSize - 20;

  testing::WriteFile(invalid + "/truncated.mig",
                     plain.substr(0, plain.size() - 100));
  std::string b = plain;
  Patch(&b, 1, 'X');
  testing::WriteFile(invalid + "/bad-magic.mig", b);
  b = plain;
  Patch(&b, static_cast<size_t>(catalog), static_cast<char>(b[catalog] ^ 0x01));
  testing::WriteFile(invalid + "/damaged-catalog.mig", b);
  b = plain;
  Patch(&b, static_cast<size_t>(index_at),
        static_cast<char>(b[index_at] ^ 0x80));
  testing::WriteFile(invalid + "/damaged-index.mig", b);
  b = plain;
  Patch(&b, format::header::kVersion, 2);
  ResealHeader(&b);
  testing::WriteFile(invalid + "/future-version.mig", b);
  b = plain;
  Patch(&b, format::header::kRequiredFeatures, 1);
  ResealHeader(&b);
  testing::WriteFile(invalid + "/unknown-feature.mig", b);
  testing::WriteFile(invalid + "/not-a-store.mig",
                     "PK\x03\x04 this is a zip file, not a store\n");
  s = format::WriteNewKeyFile(invalid + "/wrong.key", true);
  if (!s.ok()) return Fail("wrong.key", s);
  testing::WriteFile(invalid + "/empty.key", "");
  std::printf("golden stores written under %s\n", dir.c_str());
  return 0;
}

}  // namespace
}  // namespace migstore

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(
        stderr,
        "usage: make_golden_stores DIR  (DIR holds valid/ and invalid/)\n");
    return 11;
  }
  return migstore::Main(argv[1]);
}
