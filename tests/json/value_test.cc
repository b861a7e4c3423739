#include "registry/json/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

namespace registry::json {
namespace {

TEST(ValueTest, ConstructorsPickTheRightType) {
  EXPECT_EQ(Value().type(), Type::kNull);
  EXPECT_EQ(Value(nullptr).type(), Type::kNull);
  EXPECT_EQ(Value(true).type(), Type::kBool);
  EXPECT_EQ(Value(1.5).type(), Type::kNumber);
  EXPECT_EQ(Value(7).type(), Type::kNumber);
  EXPECT_EQ(Value(std::int64_t{-7}).type(), Type::kNumber);
  EXPECT_EQ(Value(std::uint64_t{7}).type(), Type::kNumber);
  EXPECT_EQ(Value("s").type(), Type::kString);
  EXPECT_EQ(Value(std::string_view("s")).type(), Type::kString);
  EXPECT_EQ(Value(std::string("s")).type(), Type::kString);
  EXPECT_EQ(Value(Array{}).type(), Type::kArray);
  EXPECT_EQ(Value(Object{}).type(), Type::kObject);
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value(false).is_bool());
  EXPECT_TRUE(Value(0).is_number());
  EXPECT_TRUE(Value("").is_string());
  EXPECT_TRUE(Value(Array{}).is_array());
  EXPECT_TRUE(Value(Object{}).is_object());
  EXPECT_FALSE(Value("x").is_object());
}

TEST(ValueTest, TypedAccess) {
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_EQ(Value(std::int64_t{-9007199254740991}).as_number(), -9007199254740991.0);
  EXPECT_EQ(Value(std::uint64_t{18446744073709551615u}).as_number(), 18446744073709551616.0);
  EXPECT_EQ(Value("abc").as_string(), "abc");
  Value array(Array{Value(1), Value("two")});
  ASSERT_EQ(array.as_array().size(), 2u);
  array.as_array().push_back(Value(nullptr));
  EXPECT_EQ(array.as_array().size(), 3u);
  Value object = MakeObject({{"a", Value(1)}});
  object.as_object().emplace_back("b", Value(2));
  EXPECT_EQ(object.as_object().size(), 2u);
}

TEST(ValueDeathTest, TypeMismatchAborts) {
  EXPECT_DEATH((void)Value(1).as_string(), "as_string");
  EXPECT_DEATH((void)Value("x").as_number(), "as_number");
  EXPECT_DEATH((void)Value().as_bool(), "as_bool");
  EXPECT_DEATH((void)Value(Object{}).as_array(), "as_array");
  const Value array(Array{});
  EXPECT_DEATH((void)array.as_object(), "as_object");
}

TEST(ValueTest, FindReturnsTheNamedMember) {
  const Value object = MakeObject({{"kind", Value("node")}, {"id", Value("n1")}, {"", Value(0)}});
  ASSERT_NE(object.Find("kind"), nullptr);
  EXPECT_EQ(object.Find("kind")->as_string(), "node");
  ASSERT_NE(object.Find("id"), nullptr);
  EXPECT_EQ(object.Find("id")->as_string(), "n1");
  ASSERT_NE(object.Find(""), nullptr);
  EXPECT_EQ(object.Find("")->as_number(), 0);
  EXPECT_EQ(object.Find("missing"), nullptr);
  EXPECT_EQ(object.Find("Kind"), nullptr);
  EXPECT_EQ(object.Find("kin"), nullptr);
  // Names may hold NUL bytes; the lookup compares all of them.
  const Value with_nul = MakeObject({{std::string("a\0b", 3), Value(1)}});
  EXPECT_NE(with_nul.Find(std::string_view("a\0b", 3)), nullptr);
  EXPECT_EQ(with_nul.Find("a"), nullptr);
}

TEST(ValueTest, FindOnNonObjectsIsNull) {
  EXPECT_EQ(Value().Find("a"), nullptr);
  EXPECT_EQ(Value("a").Find("a"), nullptr);
  EXPECT_EQ(Value(Array{Value("a")}).Find("a"), nullptr);
}

TEST(ValueTest, AsSafeIntegerEdges) {
  constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1
  EXPECT_EQ(Value(kMaxSafe).AsSafeInteger(), std::int64_t{9007199254740991});
  EXPECT_EQ(Value(-kMaxSafe).AsSafeInteger(), std::int64_t{-9007199254740991});
  EXPECT_EQ(Value(9007199254740992.0).AsSafeInteger(), std::nullopt);   // 2^53
  EXPECT_EQ(Value(-9007199254740992.0).AsSafeInteger(), std::nullopt);  // -2^53
  EXPECT_EQ(Value(1e300).AsSafeInteger(), std::nullopt);
  EXPECT_EQ(Value(1.5).AsSafeInteger(), std::nullopt);
  EXPECT_EQ(Value(-0.5).AsSafeInteger(), std::nullopt);
  EXPECT_EQ(Value(5e-324).AsSafeInteger(), std::nullopt);
  const auto negative_zero = Value(-0.0).AsSafeInteger();
  ASSERT_TRUE(negative_zero.has_value());
  EXPECT_EQ(*negative_zero, 0);
  EXPECT_EQ(Value(0).AsSafeInteger(), 0);
  EXPECT_EQ(Value(42).AsSafeInteger(), 42);
  EXPECT_EQ(Value(-42.0).AsSafeInteger(), -42);
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()).AsSafeInteger(), std::nullopt);
  EXPECT_EQ(Value(std::numeric_limits<double>::quiet_NaN()).AsSafeInteger(), std::nullopt);
  EXPECT_EQ(Value("1").AsSafeInteger(), std::nullopt);
  EXPECT_EQ(Value(true).AsSafeInteger(), std::nullopt);
  EXPECT_EQ(Value().AsSafeInteger(), std::nullopt);
}

TEST(ValueTest, EqualityIsDeepAndOrderSensitive) {
  EXPECT_EQ(Value(1), Value(1.0));
  EXPECT_NE(Value(1), Value("1"));
  EXPECT_NE(Value(), Value(false));
  EXPECT_EQ(Value(Array{Value(1), Value("a")}), Value(Array{Value(1), Value("a")}));
  EXPECT_NE(Value(Array{Value(1), Value("a")}), Value(Array{Value("a"), Value(1)}));
  EXPECT_EQ(MakeObject({{"a", Value(1)}, {"b", Value(Array{})}}),
            MakeObject({{"a", Value(1)}, {"b", Value(Array{})}}));
  EXPECT_NE(MakeObject({{"a", Value(1)}}), MakeObject({{"a", Value(2)}}));
  EXPECT_NE(MakeObject({{"a", Value(1)}}), MakeObject({{"b", Value(1)}}));
}

TEST(ValueTest, TypeNames) {
  EXPECT_EQ(TypeName(Type::kNull), "null");
  EXPECT_EQ(TypeName(Type::kBool), "boolean");
  EXPECT_EQ(TypeName(Type::kNumber), "number");
  EXPECT_EQ(TypeName(Type::kString), "string");
  EXPECT_EQ(TypeName(Type::kArray), "array");
  EXPECT_EQ(TypeName(Type::kObject), "object");
}

}  // namespace
}  // namespace registry::json
