// Helpers for strict DTO decoding: every member of an object must be one the schema
// names, and each error message names the offending field by its path.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "registry/json/value.h"
#include "registry/util/result.h"

namespace registry::model::internal {

util::Error FieldError(std::string_view path, std::string_view message);

std::string Join(std::string_view path, std::string_view member);
std::string Index(std::string_view path, std::size_t i);

// Checks that `value` is an object whose member names are all in `allowed`.
util::Status CheckObject(const json::Value& value, std::string_view path,
                         std::initializer_list<std::string_view> allowed);

// Member accessors. Required ones fail when the member is absent; optional ones return
// nullopt when absent. All fail on a wrong type, naming the field.
util::Result<std::string> RequiredString(const json::Value& obj, std::string_view path,
                                         std::string_view name);
util::Result<std::optional<std::string>> OptionalString(const json::Value& obj,
                                                        std::string_view path,
                                                        std::string_view name);
// An integer in [min, max] (a JSON number with no fraction).
util::Result<std::uint64_t> RequiredUint(const json::Value& obj, std::string_view path,
                                         std::string_view name, std::uint64_t min,
                                         std::uint64_t max);

// True when every byte of `s` is in the character class given by `allowed(c)`.
template <typename Pred>
bool AllOf(std::string_view s, Pred allowed) {
  for (char c : s) {
    if (!allowed(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

inline bool IsLowerAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
inline bool IsAlnum(unsigned char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// Number of Unicode code points in valid UTF-8 `s` (the spec's "chars").
std::size_t CodePointCount(std::string_view s);

// An RFC 3339 UTC timestamp string member, validated.
util::Result<std::optional<std::string>> OptionalTimestamp(const json::Value& obj,
                                                           std::string_view path,
                                                           std::string_view name);

}  // namespace registry::model::internal
