#include "registry/crypto/base64.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace registry::crypto {
namespace {

std::string AsString(const std::vector<std::uint8_t>& v) { return std::string(v.begin(), v.end()); }

struct Vector {
  std::string_view plain;
  std::string_view encoded;
};

// RFC 4648 §10.
constexpr Vector kRfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64Test, Rfc4648Vectors) {
  for (const Vector& v : kRfc4648) {
    SCOPED_TRACE(v.encoded);
    EXPECT_EQ(Base64Encode(v.plain), v.encoded);
    const std::vector<std::uint8_t> bytes(v.plain.begin(), v.plain.end());
    EXPECT_EQ(Base64Encode(bytes), v.encoded);
    const auto decoded = Base64Decode(v.encoded);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(AsString(*decoded), v.plain);
  }
}

TEST(Base64Test, UsesStandardAlphabet) {
  const std::vector<std::uint8_t> bytes = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  const auto decoded = Base64Decode("+/+/");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, bytes);
}

TEST(Base64Test, RoundTripsAllLengths) {
  std::vector<std::uint8_t> bytes;
  for (int len = 0; len < 100; ++len) {
    const std::string encoded = Base64Encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    const auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<std::uint8_t>(len * 37 + 11));
  }
}

TEST(Base64Test, KeyAndSignatureSizes) {
  const auto key = Base64Decode("+3SwUToksBJAUvXPagZhnLqrAmbF6miY5Bqlo8UnKZw=");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 32u);
  const auto sig = Base64Decode(
      "mXbU6nYeycCs1AxISYR+mLfD4RtVKws+MU9UMg6tcDr0NNq1mAAb+5kgg/rYcLd8JeS5YyJfgb9o8QahshjnBA==");
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(sig->size(), 64u);
}

TEST(Base64Test, RejectsEverythingNotStrict) {
  const std::string_view kBad[] = {
      "Zg",      // missing padding
      "Zg=",     // short padding
      "Zm8",     // missing padding
      "Zg===",   // too much padding
      "Zm9v=",   //
      "Zg==\n",  // trailing newline
      " Zg==",   // leading space
      "Zm 9v",   // inner space
      "Zm9v\r\nYmFy", "Zm9v\tYmFy",
      "Zh==",  // non-canonical: low bits of the last digit set
      "Zm9=",  // non-canonical
      "Zm9vYh==",
      "Zm-v",  // url-safe alphabet
      "Zm_v",
      "Zm9v!mFy",  // invalid characters
      "Zm9v*===",     "Zm9v\x80mFy",
      "Zg==Zg==",  // data after padding
      "Zg==A",     // trailing garbage after padding
      "Zg==AAAA",     "Zm9vYmFy=",
      "=Zg=",  // padding in front
      "Z=g=",         "====",        "A===",
  };
  for (const std::string_view s : kBad) {
    EXPECT_FALSE(Base64Decode(s).has_value()) << "accepted: \"" << s << "\"";
  }
  EXPECT_FALSE(Base64Decode(std::string_view("Zg==\0", 5)).has_value());
  EXPECT_FALSE(Base64Decode(std::string_view("Zm9\0", 4)).has_value());
}

TEST(Base64Test, EmptyDecodesToEmpty) {
  const auto decoded = Base64Decode("");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->empty());
}

}  // namespace
}  // namespace registry::crypto
