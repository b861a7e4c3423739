#include "registry/util/hex.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace registry::util {
namespace {

TEST(HexTest, EncodesLowerCase) {
  const std::vector<std::uint8_t> bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
  EXPECT_EQ(HexEncode(bytes), "00017f80abcdefff");
  EXPECT_EQ(HexEncode({}), "");
}

TEST(HexTest, RoundTripsEveryByteValue) {
  std::vector<std::uint8_t> bytes(256);
  for (int i = 0; i < 256; ++i) bytes[i] = static_cast<std::uint8_t>(i);
  const std::string hex = HexEncode(bytes);
  ASSERT_EQ(hex.size(), 512u);
  const auto decoded = HexDecode(hex);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, bytes);
}

TEST(HexTest, DecodesBothCases) {
  const auto lower = HexDecode("deadbeef");
  const auto upper = HexDecode("DEADBEEF");
  const auto mixed = HexDecode("DeAdBeEf");
  const std::vector<std::uint8_t> want = {0xde, 0xad, 0xbe, 0xef};
  ASSERT_TRUE(lower && upper && mixed);
  EXPECT_EQ(*lower, want);
  EXPECT_EQ(*upper, want);
  EXPECT_EQ(*mixed, want);
}

TEST(HexTest, EmptyDecodesToEmpty) {
  const auto decoded = HexDecode("");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->empty());
}

TEST(HexTest, RejectsOddLengthAndForeignCharacters) {
  EXPECT_FALSE(HexDecode("a"));
  EXPECT_FALSE(HexDecode("abc"));
  EXPECT_FALSE(HexDecode("0g"));
  EXPECT_FALSE(HexDecode("g0"));
  EXPECT_FALSE(HexDecode("0x00"));
  EXPECT_FALSE(HexDecode(" 00"));
  EXPECT_FALSE(HexDecode("00 "));
  EXPECT_FALSE(HexDecode("0-"));
  EXPECT_FALSE(HexDecode("@0"));  // the byte before 'A'
  EXPECT_FALSE(HexDecode("`0"));  // the byte before 'a'
  EXPECT_FALSE(HexDecode("/0"));  // the byte before '0'
  EXPECT_FALSE(HexDecode(":0"));  // the byte after '9'
  EXPECT_FALSE(HexDecode(std::string_view("0\0", 2)));
  EXPECT_FALSE(HexDecode("\xc3\xa9"));
}

}  // namespace
}  // namespace registry::util
