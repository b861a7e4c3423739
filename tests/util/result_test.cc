#include "registry/util/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace registry::util {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Error(ErrorCode::kMalformed, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  REGISTRY_ASSIGN_OR_RETURN(const int half, Half(x));
  REGISTRY_ASSIGN_OR_RETURN(const int quarter, Half(half));
  return quarter;
}

Status CheckEven(int x) {
  REGISTRY_RETURN_IF_ERROR(Half(x));
  return Status::Ok();
}

TEST(ResultTest, ValueAndError) {
  const Result<int> ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  const Result<int> bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(bad.error().message(), "odd");
}

TEST(ResultTest, MacrosPropagate) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_TRUE(CheckEven(2).ok());
  const Status s = CheckEven(1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kMalformed);
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<std::string>> r(std::make_unique<std::string>("x"));
  std::unique_ptr<std::string> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, "x");
}

TEST(ResultDeathTest, WrongAccessAborts) {
  EXPECT_DEATH((void)Half(3).value(), "Result::value\\(\\) on an error");
  EXPECT_DEATH((void)Half(2).error(), "Result::error\\(\\) on a value");
  EXPECT_DEATH((void)Status::Ok().error(), "Status::error\\(\\) on success");
}

}  // namespace
}  // namespace registry::util
