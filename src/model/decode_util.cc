#include "decode_util.h"

#include <algorithm>
#include <cmath>

#include "registry/util/time.h"

namespace registry::model::internal {

using util::Error;
using util::ErrorCode;

Error FieldError(std::string_view path, std::string_view message) {
  std::string text(path);
  text += ": ";
  text += message;
  return Error(ErrorCode::kMalformed, std::move(text));
}

std::string Join(std::string_view path, std::string_view member) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += member;
  return out;
}

std::string Index(std::string_view path, std::size_t i) {
  std::string out(path);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

util::Status CheckObject(const json::Value& value, std::string_view path,
                         std::initializer_list<std::string_view> allowed) {
  if (!value.is_object()) {
    return FieldError(
        path, std::string("must be an object, got ") + std::string(json::TypeName(value.type())));
  }
  for (const auto& [name, member] : value.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return FieldError(Join(path, name), "unknown member");
    }
  }
  return util::Status::Ok();
}

util::Result<std::string> RequiredString(const json::Value& obj, std::string_view path,
                                         std::string_view name) {
  const json::Value* v = obj.Find(name);
  if (v == nullptr) return FieldError(Join(path, name), "required");
  if (!v->is_string()) return FieldError(Join(path, name), "must be a string");
  return v->as_string();
}

util::Result<std::optional<std::string>> OptionalString(const json::Value& obj,
                                                        std::string_view path,
                                                        std::string_view name) {
  const json::Value* v = obj.Find(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return FieldError(Join(path, name), "must be a string");
  return std::optional<std::string>(v->as_string());
}

util::Result<std::uint64_t> RequiredUint(const json::Value& obj, std::string_view path,
                                         std::string_view name, std::uint64_t min,
                                         std::uint64_t max) {
  const json::Value* v = obj.Find(name);
  if (v == nullptr) return FieldError(Join(path, name), "required");
  if (!v->is_number()) return FieldError(Join(path, name), "must be an integer");
  std::optional<std::int64_t> i = v->AsSafeInteger();
  if (!i.has_value()) return FieldError(Join(path, name), "must be an integer");
  if (*i < 0 || static_cast<std::uint64_t>(*i) < min || static_cast<std::uint64_t>(*i) > max) {
    return FieldError(Join(path, name),
                      "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<std::uint64_t>(*i);
}

std::size_t CodePointCount(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    // Count every byte that is not a UTF-8 continuation byte.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

util::Result<std::optional<std::string>> OptionalTimestamp(const json::Value& obj,
                                                           std::string_view path,
                                                           std::string_view name) {
  REGISTRY_ASSIGN_OR_RETURN(std::optional<std::string> s, OptionalString(obj, path, name));
  if (s.has_value() && !util::ParseRfc3339(*s).has_value()) {
    return FieldError(Join(path, name),
                      "must be an RFC 3339 UTC timestamp (e.g. "
                      "2026-01-02T03:04:05Z)");
  }
  return s;
}

}  // namespace registry::model::internal
