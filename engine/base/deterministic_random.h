// DeterministicRandom: a seeded SplitMix64 stream for generated test data,
// benchmark datasets and the self-check, so every run sees the same bytes.
// Not for keys, nonces or salts: those come from format/secret.h.
//
// Thread safety: one object per thread.

#ifndef MIGSTORE_ENGINE_BASE_DETERMINISTIC_RANDOM_H_
#define MIGSTORE_ENGINE_BASE_DETERMINISTIC_RANDOM_H_

#include <cstdint>
#include <cstring>
#include <string>

namespace migstore {

class DeterministicRandom {
 public:
  explicit DeterministicRandom(uint64_t seed) : s_(seed) {}

  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). REQUIRES: n > 0
  uint64_t Below(uint64_t n) { return Next() % n; }

  // n incompressible bytes.
  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t v = Next();
      std::memcpy(out.data() + i, &v, 8);
    }
    for (; i < n; ++i) out[i] = static_cast<char>(Next());
    return out;
  }

  // n bytes of word-like text: compresses well, is not one repeated pattern.
  std::string Text(size_t n) {
    static const char* const kWords[] = {"profile ",  "migration ", "document ",
                                         "settings ", "user ",      "restore ",
                                         "capture ",  "the ",       "of ",
                                         "and ",      "store ",     "\n"};
    constexpr size_t kCount = sizeof(kWords) / sizeof(kWords[0]);
    std::string out;
    out.reserve(n + 16);
    while (out.size() < n) out += kWords[Below(kCount)];
    out.resize(n);
    return out;
  }

 private:
  uint64_t s_;
};

}  // namespace migstore

#endif  // MIGSTORE_ENGINE_BASE_DETERMINISTIC_RANDOM_H_
