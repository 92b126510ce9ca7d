// Times as a store records them: signed nanoseconds since the Unix epoch in
// 64 bits (docs/format.md, "Catalog"), which reach from 1677-09-21 to
// 2262-04-11. Filesystems hold times beyond both ends (ext4 to 2446, tmpfs
// and xfs further); such a time is clamped to the nearest end, where the
// multiplication used to overflow (undefined behaviour, a garbage time).
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_BASE_TIME_NS_H_
#define MIGSTORE_ENGINE_BASE_TIME_NS_H_

#include <sys/stat.h>

#include <cstdint>
#include <limits>

namespace migstore {

inline constexpr int64_t kNanosPerSecond = 1000000000;

// sec + nsec / 1e9 seconds since the epoch, clamped into int64 nanoseconds.
inline int64_t NanosFrom(int64_t sec, int64_t nsec) {
  int64_t ns = 0;
  if (__builtin_mul_overflow(sec, kNanosPerSecond, &ns) ||
      __builtin_add_overflow(ns, nsec, &ns)) {
    return sec < 0 ? std::numeric_limits<int64_t>::min()
                   : std::numeric_limits<int64_t>::max();
  }
  return ns;
}

inline int64_t NanosFrom(const struct timespec& t) {
  return NanosFrom(t.tv_sec, t.tv_nsec);
}

inline int64_t MtimeNanos(const struct stat& st) {
  return NanosFrom(st.st_mtim);
}

// The other way, for utimensat: nanoseconds since the epoch as a timespec
// whose tv_nsec is in [0, 1e9) also before 1970.
inline struct timespec TimespecFrom(int64_t ns) {
  struct timespec t;
  t.tv_sec = static_cast<time_t>(ns / kNanosPerSecond);
  t.tv_nsec = static_cast<long>(ns % kNanosPerSecond);
  if (t.tv_nsec < 0) {
    t.tv_nsec += kNanosPerSecond;
    t.tv_sec -= 1;
  }
  return t;
}

}  // namespace migstore

#endif  // MIGSTORE_ENGINE_BASE_TIME_NS_H_
