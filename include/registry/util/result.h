// Result<T>: the value of a fallible call, or the Error that stopped it.
//
// The registry does not throw on the request path or across module boundaries (STYLE.md);
// every fallible function returns a [[nodiscard]] Result<T> (or Status for no value).
// Accessing value() of an error, or error() of a value, is a programming error and aborts.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "registry/util/check.h"
#include "registry/util/error.h"

namespace registry::util {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    REGISTRY_CHECK(ok(), "Result::value() on an error");
    return std::get<0>(v_);
  }
  const T& value() const& {
    REGISTRY_CHECK(ok(), "Result::value() on an error");
    return std::get<0>(v_);
  }
  T&& value() && {
    REGISTRY_CHECK(ok(), "Result::value() on an error");
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    REGISTRY_CHECK(!ok(), "Result::error() on a value");
    return std::get<1>(v_);
  }
  Error&& error() && {
    REGISTRY_CHECK(!ok(), "Result::error() on a value");
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

// Status: success or an Error, for calls with no value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    REGISTRY_CHECK(!ok(), "Status::error() on success");
    return *error_;
  }
  Error&& error() && {
    REGISTRY_CHECK(!ok(), "Status::error() on success");
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

}  // namespace registry::util

// Propagates an error out of the enclosing function returning Result<U> or Status.
#define REGISTRY_RETURN_IF_ERROR(expr)            \
  do {                                            \
    auto _registry_status = (expr);               \
    if (!_registry_status.ok()) {                 \
      return std::move(_registry_status).error(); \
    }                                             \
  } while (false)

#define REGISTRY_CONCAT_INNER(a, b) a##b
#define REGISTRY_CONCAT(a, b) REGISTRY_CONCAT_INNER(a, b)

// REGISTRY_ASSIGN_OR_RETURN(auto x, Call()); binds the value or returns the error.
#define REGISTRY_ASSIGN_OR_RETURN(lhs, expr) \
  REGISTRY_ASSIGN_OR_RETURN_IMPL(REGISTRY_CONCAT(_registry_result_, __LINE__), lhs, expr)
#define REGISTRY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) {                                     \
    return std::move(tmp).error();                     \
  }                                                    \
  lhs = std::move(tmp).value()
