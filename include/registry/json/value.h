// json::Value: an owned JSON value tree, the result of parsing untrusted bytes strictly.
//
// Numbers are IEEE-754 doubles (I-JSON, RFC 7493); object members keep their input order
// (the canonical serializer sorts them); member names are unique (the parser rejects
// duplicates). A Value owns all its memory and is safe to read from several threads once
// built.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace registry::json {

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

enum class Type : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

class Value {
 public:
  Value() : v_(nullptr) {}
  Value(std::nullptr_t) : v_(nullptr) {}                  // NOLINT
  Value(bool b) : v_(b) {}                                // NOLINT
  Value(double d) : v_(d) {}                              // NOLINT
  Value(int i) : v_(static_cast<double>(i)) {}            // NOLINT
  Value(std::int64_t i) : v_(static_cast<double>(i)) {}   // NOLINT
  Value(std::uint64_t i) : v_(static_cast<double>(i)) {}  // NOLINT
  Value(std::string s) : v_(std::move(s)) {}              // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}       // NOLINT
  Value(const char* s) : v_(std::string(s)) {}            // NOLINT
  Value(Array a) : v_(std::move(a)) {}                    // NOLINT
  Value(Object o) : v_(std::move(o)) {}                   // NOLINT

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // Typed access. REQUIRES: the value has that type (checked; a mismatch aborts).
  bool as_bool() const;
  double as_number() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // The member named `name` of an object, or nullptr (also when this is not an object).
  const Value* Find(std::string_view name) const;

  // Integral value if this is a number with no fractional part in [-(2^53-1), 2^53-1].
  std::optional<std::int64_t> AsSafeInteger() const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v_;
};

// Builds an object from an initializer list, for encoders and tests.
inline Value MakeObject(std::initializer_list<Member> members) { return Value(Object(members)); }

// Human-readable name of a type ("object", "string", ...), for error messages.
std::string_view TypeName(Type type);

}  // namespace registry::json
