// The struct_size rule of the C API (migstore.h, "Options and result
// structs"): read only the bytes the caller has, default the rest, refuse
// fields this library does not know unless they are zero; write only the
// bytes the caller has room for.
//
// Thread safety: pure functions.

#ifndef MIGSTORE_ENGINE_SRC_C_API_SIZED_STRUCT_H_
#define MIGSTORE_ENGINE_SRC_C_API_SIZED_STRUCT_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "migstore/status.h"

namespace migstore::c_api {

// The end of a struct's first version: where its last version-1 field ends.
// It stays put when fields are appended, so callers built against the first
// header keep working.
#define MIGSTORE_C_V1_END(type, last_field) \
  (offsetof(type, last_field) + sizeof(type::last_field))

// Copies the caller's *in into *out, which starts zeroed: fields past the
// caller's struct_size keep their zero defaults. InvalidArgument when `in` is
// null, its struct_size is below `v1_end`, or it carries non-zero bytes past
// the end of this library's version of T.
template <typename T>
Status ReadSized(const T* in, size_t v1_end, std::string_view what, T* out) {
  static_assert(offsetof(T, struct_size) == 0);
  *out = T{};
  if (in == nullptr) return Status::InvalidArgument(what, "is NULL");
  const size_t n = in->struct_size;
  if (n < v1_end) {
    return Status::InvalidArgument(
        what, "struct_size " + std::to_string(n) +
                  " is smaller than the first version of the struct (" +
                  std::to_string(v1_end) + " bytes)");
  }
  std::memcpy(out, in, std::min(n, sizeof(T)));
  const auto* bytes = reinterpret_cast<const unsigned char*>(in);
  for (size_t i = sizeof(T); i < n; ++i) {
    if (bytes[i] != 0) {
      return Status::InvalidArgument(
          what, "sets fields this version of the library does not know");
    }
  }
  out->struct_size = sizeof(T);
  return Status::OK();
}

// InvalidArgument when a result struct the caller passed is too small to
// hold the first version; a null result is allowed (not wanted).
template <typename T>
Status CheckResultSize(const T* out, size_t v1_end, std::string_view what) {
  if (out == nullptr || out->struct_size >= v1_end) return Status::OK();
  return Status::InvalidArgument(
      what, "struct_size " + std::to_string(out->struct_size) +
                " is smaller than the first version of the struct");
}

// Writes `full` into the caller's *out, as much of it as out->struct_size
// says there is room for (nothing when it has no room past struct_size
// itself); struct_size stays the caller's.
template <typename T>
void WriteSized(const T& full, T* out) {
  static_assert(offsetof(T, struct_size) == 0);
  if (out == nullptr || out->struct_size <= sizeof(size_t)) return;
  const size_t n = out->struct_size;
  std::memcpy(reinterpret_cast<unsigned char*>(out) + sizeof(size_t),
              reinterpret_cast<const unsigned char*>(&full) + sizeof(size_t),
              std::min(n, sizeof(T)) - sizeof(size_t));
}

}  // namespace migstore::c_api

#endif  // MIGSTORE_ENGINE_SRC_C_API_SIZED_STRUCT_H_
