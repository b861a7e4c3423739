#include "registry/json/value.h"

#include <cmath>

#include "registry/util/check.h"

namespace registry::json {

bool Value::as_bool() const {
  REGISTRY_CHECK(is_bool(), "json::Value::as_bool() on a non-boolean");
  return std::get<bool>(v_);
}

double Value::as_number() const {
  REGISTRY_CHECK(is_number(), "json::Value::as_number() on a non-number");
  return std::get<double>(v_);
}

const std::string& Value::as_string() const {
  REGISTRY_CHECK(is_string(), "json::Value::as_string() on a non-string");
  return std::get<std::string>(v_);
}

const Array& Value::as_array() const {
  REGISTRY_CHECK(is_array(), "json::Value::as_array() on a non-array");
  return std::get<Array>(v_);
}

Array& Value::as_array() {
  REGISTRY_CHECK(is_array(), "json::Value::as_array() on a non-array");
  return std::get<Array>(v_);
}

const Object& Value::as_object() const {
  REGISTRY_CHECK(is_object(), "json::Value::as_object() on a non-object");
  return std::get<Object>(v_);
}

Object& Value::as_object() {
  REGISTRY_CHECK(is_object(), "json::Value::as_object() on a non-object");
  return std::get<Object>(v_);
}

const Value* Value::Find(std::string_view name) const {
  const Object* object = std::get_if<Object>(&v_);
  if (object == nullptr) return nullptr;
  // Descriptor-sized objects: a linear scan beats any index we could build per lookup.
  for (const Member& member : *object) {
    if (member.first == name) return &member.second;
  }
  return nullptr;
}

std::optional<std::int64_t> Value::AsSafeInteger() const {
  const double* d = std::get_if<double>(&v_);
  if (d == nullptr) return std::nullopt;
  constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1
  // The range test comes first so that the cast below is always defined; NaN fails it.
  if (!(*d >= -kMaxSafe && *d <= kMaxSafe)) return std::nullopt;
  if (std::trunc(*d) != *d) return std::nullopt;
  return static_cast<std::int64_t>(*d);  // -0.0 becomes 0
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kObject:
      return "object";
  }
  return "unknown";
}

}  // namespace registry::json
