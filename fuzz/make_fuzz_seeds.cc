// Writes the seed corpora of fuzz/corpus/ from the golden stores. Run by hand:
//
//   build/fuzz/make_fuzz_seeds tests/golden fuzz/corpus
//
// Seeds are committed and small; the fuzzers grow their own corpora from them.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "format/block_codec.h"
#include "format/catalog_codec.h"
#include "format/coding.h"
#include "format/container_reader.h"
#include "format/memory_store.h"

namespace fs = std::filesystem;
using namespace migstore;
using namespace migstore::format;

namespace {

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

void Put(const fs::path& dir, const std::string& name,
         const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

KeySource FuzzKey() {
  return KeySource::KeyFileSecret(SecretBytes::Copy(std::string(32, 'k')));
}

int Run(const fs::path& golden, const fs::path& corpus) {
  const fs::path plain = golden / "valid" / "plain.mig";
  auto reader = ContainerReader::Open(plain, KeySource::None());
  if (!reader.ok()) {
    std::fprintf(stderr, "%s\n", reader.status().ToString().c_str());
    return 1;
  }
  // An encrypted twin under the key the container fuzzer tries.
  auto store = ReadMemoryStore(**reader);
  MemoryWriteOptions opts;
  opts.block_size = 1024;
  opts.writer.overwrite = true;
  const fs::path sealed = corpus / "sealed.tmp";
  if (!store.ok() || !WriteMemoryStore(sealed, FuzzKey(), *store, opts).ok())
    return 1;
  auto sealed_reader = ContainerReader::Open(sealed, FuzzKey());
  if (!sealed_reader.ok()) return 1;

  const fs::path open_dir = corpus / "container_open_fuzzer";
  for (const char* sub : {"valid", "invalid"}) {
    for (const auto& e : fs::directory_iterator(golden / sub)) {
      if (e.path().extension() == ".mig")
        Put(open_dir, std::string(sub) + "-" + e.path().filename().string(),
            Slurp(e.path()));
    }
  }
  Put(open_dir, "sealed-with-fuzz-key.mig", Slurp(sealed));

  const StoreIndex& x = (*reader)->index();
  auto index_seed = [](const ContainerReader& r) {
    std::string seed;
    PutFixed64(&seed, r.block_count() == 0
                          ? 0
                          : r.block_offset(r.block_count() - 1) +
                                r.index().blocks.back().frame_len -
                                kHeaderSize);
    return seed + EncodeStoreIndex(r.index());
  };
  Put(corpus / "store_index_fuzzer", "plain-index", index_seed(**reader));
  Put(corpus / "store_index_fuzzer", "sealed-index",
      index_seed(**sealed_reader));
  for (uint64_t b = 0; b < (*reader)->block_count(); ++b) {
    std::string plain_block;
    if (!(*reader)->ReadBlock(b, &plain_block).ok()) return 1;
    if (x.blocks[b].type != static_cast<uint8_t>(BlockType::kData)) {
      Put(corpus / "catalog_segment_fuzzer", "block-" + std::to_string(b),
          plain_block);
    }
  }
  for (auto* r : {&*reader, &*sealed_reader}) {
    std::string file = Slurp((*r)->encrypted() ? sealed : plain);
    for (uint64_t b = 0; b < (*r)->block_count(); ++b) {
      std::string seed(1, static_cast<char>(b));
      seed +=
          file.substr((*r)->block_offset(b), (*r)->index().blocks[b].frame_len);
      Put(corpus / "block_open_fuzzer",
          std::string((*r)->encrypted() ? "sealed" : "plain") + "-block-" +
              std::to_string(b),
          seed);
    }
  }
  fs::remove(sealed);
  // Frames that open under block_open_fuzzer's own store id and key, one
  // per cipher, compressed and stored, so it explores past authentication.
  const StoreId fuzz_id = {1, 2,  3,  4,  5,  6,  7,  8,
                           9, 10, 11, 12, 13, 14, 15, 16};
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "migstore seed line " + std::to_string(i) + "\n";
  const std::string bytes = "\x01\x7f\xc3\x10 not worth compressing";
  for (BlockCipher cipher :
       {BlockCipher::kXChaCha20Poly1305, BlockCipher::kAes256Gcm}) {
    const BlockCodec codec(fuzz_id, SecretBytes::Copy(std::string(32, 'k')),
                           cipher);
    int n = 0;
    for (const std::string* content :
         std::initializer_list<const std::string*>{&text, &bytes}) {
      const uint64_t number = static_cast<uint64_t>(3 + n);
      std::string seed(1, static_cast<char>(number));
      seed += codec.Seal(number, BlockType::kData, *content, SealOptions{});
      Put(corpus / "block_open_fuzzer",
          std::string(CipherName(cipher)) + "-block-" + std::to_string(n++),
          seed);
    }
  }
  std::printf("seeds written under %s\n", corpus.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_fuzz_seeds GOLDEN_DIR CORPUS_DIR\n");
    return 11;
  }
  return Run(argv[1], argv[2]);
}
