// Result<T>: a value of type T, or the non-OK Status that explains why there
// is none. The return type of every fallible migstore call that produces a
// value. Also the two macros the implementation uses to pass errors up.
//
// Thread safety: a Result is a value, like Status.

#ifndef MIGSTORE_RESULT_H_
#define MIGSTORE_RESULT_H_

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "migstore/status.h"

namespace migstore {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>,
                "Result<Status> makes no sense; return Status");

 public:
  // Implicit on purpose, so `return value;` and `return status;` both work.
  Result(T value) : v_(std::in_place_index<1>, std::move(value)) {}  // NOLINT
  // REQUIRES: !status.ok(). A Result must never claim an error and hold none.
  Result(Status status)
      : v_(std::in_place_index<0>, std::move(status)) {  // NOLINT
    assert(!std::get<0>(v_).ok() && "a Result needs a value or an error");
  }

  bool ok() const { return v_.index() == 1; }

  // The error; an OK status when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<0>(v_); }

  // REQUIRES: ok()
  T& value() & {
    assert(ok());
    return std::get<1>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<1>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<1>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace migstore

#define MIGSTORE_CONCAT_INNER_(a, b) a##b
#define MIGSTORE_CONCAT_(a, b) MIGSTORE_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define MIGSTORE_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::migstore::Status migstore_status_ = (expr);        \
    if (!migstore_status_.ok()) return migstore_status_; \
  } while (0)

// `MIGSTORE_ASSIGN_OR_RETURN(auto x, Compute());` declares x from the value of
// a Result, or returns its error from the enclosing function. It expands to
// several statements: under an `if`, always use braces.
#define MIGSTORE_ASSIGN_OR_RETURN(lhs, expr)                      \
  auto MIGSTORE_CONCAT_(migstore_result_, __LINE__) = (expr);     \
  if (!MIGSTORE_CONCAT_(migstore_result_, __LINE__).ok())         \
    return MIGSTORE_CONCAT_(migstore_result_, __LINE__).status(); \
  lhs = std::move(MIGSTORE_CONCAT_(migstore_result_, __LINE__)).value()

#endif  // MIGSTORE_RESULT_H_
