// The entry point every fuzz target defines (libFuzzer's), and the rule that
// holds in all of them: any input may be rejected, none may crash, hang,
// leak, or allocate without bound. A target checks its own properties with
// FUZZ_ASSERT, which stays on in release builds.
//
// Each target is built two ways (fuzz/CMakeLists.txt): with libFuzzer when
// MIGSTORE_BUILD_FUZZERS is on (clang), and always with replay_main.cc, which
// feeds it every file of its seed corpus under ctest.

#ifndef MIGSTORE_FUZZ_FUZZ_TARGET_H_
#define MIGSTORE_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define FUZZ_ASSERT(cond)                                               \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::fprintf(stderr, "%s:%d: FUZZ_ASSERT(%s) failed\n", __FILE__, \
                   __LINE__, #cond);                                    \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

#endif  // MIGSTORE_FUZZ_FUZZ_TARGET_H_
