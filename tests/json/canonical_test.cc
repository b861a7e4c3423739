#include "registry/json/canonical.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "registry/json/parse.h"

namespace registry::json {
namespace {

std::string Utf8(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

std::u16string Utf16(const std::vector<std::uint32_t>& cps) {
  std::u16string out;
  for (std::uint32_t cp : cps) {
    if (cp >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

TEST(CanonicalTest, Scalars) {
  EXPECT_EQ(Canonicalize(Value()), "null");
  EXPECT_EQ(Canonicalize(Value(true)), "true");
  EXPECT_EQ(Canonicalize(Value(false)), "false");
  EXPECT_EQ(Canonicalize(Value(-0.0)), "0");
  EXPECT_EQ(Canonicalize(Value(1e21)), "1e+21");
  EXPECT_EQ(Canonicalize(Value("x")), "\"x\"");
}

TEST(CanonicalTest, ContainersHaveNoWhitespace) {
  EXPECT_EQ(Canonicalize(Value(Array{})), "[]");
  EXPECT_EQ(Canonicalize(Value(Object{})), "{}");
  EXPECT_EQ(Canonicalize(Value(Array{Value(1), Value("a"), Value(Array{}), Value(Object{})})),
            "[1,\"a\",[],{}]");
  EXPECT_EQ(Canonicalize(MakeObject({{"b", Value(Array{Value(nullptr)})}, {"a", Value(Object{})}})),
            "{\"a\":{},\"b\":[null]}");
}

TEST(CanonicalTest, ShortEscapes) {
  EXPECT_EQ(Canonicalize(Value("\"\\\b\f\n\r\t")), R"("\"\\\b\f\n\r\t")");
}

TEST(CanonicalTest, OtherControlCharactersUseLowerCaseHex) {
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') continue;
    char expected[16];
    std::snprintf(expected, sizeof(expected), "\"\\u%04x\"", c);
    EXPECT_EQ(Canonicalize(Value(std::string(1, static_cast<char>(c)))), expected) << c;
  }
  EXPECT_EQ(Canonicalize(Value("\x1f")), "\"\\u001f\"");
  EXPECT_EQ(Canonicalize(Value("\x0b")), "\"\\u000b\"");
}

TEST(CanonicalTest, EverythingElseIsLiteral) {
  // Solidus, DEL, U+0080, U+2028/2029, U+FFFF, supplementary: all verbatim UTF-8.
  const std::string s = "/\x7f" + Utf8(0x80) + Utf8(0x2028) + Utf8(0x2029) + Utf8(0xFFFF) +
                        Utf8(0x1F602) + "</script>";
  EXPECT_EQ(Canonicalize(Value(s)), "\"" + s + "\"");
}

TEST(CanonicalTest, RunsOfSafeBytesAroundEscapes) {
  EXPECT_EQ(Canonicalize(Value(std::string("ab\0cd\ne", 7))), "\"ab\\u0000cd\\ne\"");
  EXPECT_EQ(Canonicalize(Value("\n")), "\"\\n\"");
  EXPECT_EQ(Canonicalize(Value("\n\n")), "\"\\n\\n\"");
  EXPECT_EQ(Canonicalize(Value("")), "\"\"");
  std::string out = "prefix:";
  AppendCanonicalString("a\"b", out);
  EXPECT_EQ(out, "prefix:\"a\\\"b\"");
}

TEST(CanonicalTest, MembersSortByUtf16NotUtf8) {
  // U+E000 is EE 80 80 in UTF-8 and 0xE000 in UTF-16; U+1F600 is F0 9F 98 80 in UTF-8 and
  // D83D DE00 in UTF-16. Byte order puts U+E000 first; UTF-16 order puts U+1F600 first.
  const std::string pua = Utf8(0xE000);
  const std::string emoji = Utf8(0x1F600);
  const std::string fffd = Utf8(0xFFFD);
  const Value v =
      MakeObject({{pua, Value(1)}, {fffd, Value(3)}, {emoji, Value(2)}, {"z", Value(0)}});
  EXPECT_EQ(Canonicalize(v), "{\"z\":0,\"" + emoji + "\":2,\"" + pua + "\":1,\"" + fffd + "\":3}");
  EXPECT_TRUE(Utf16Less(emoji, pua));
  EXPECT_FALSE(Utf16Less(pua, emoji));
  EXPECT_TRUE(Utf16Less(Utf8(0x10FFFF), Utf8(0xE000)));
  EXPECT_TRUE(Utf16Less(Utf8(0x10000), Utf8(0xFFFF)));
  EXPECT_TRUE(Utf16Less(Utf8(0xD7FF), Utf8(0x10000)));  // below the surrogates: plain order
  EXPECT_TRUE(Utf16Less(Utf8(0x10000), Utf8(0x10001)));
  EXPECT_TRUE(Utf16Less(Utf8(0xE000), Utf8(0xFFFF)));
}

TEST(CanonicalTest, Utf16LessBasics) {
  EXPECT_FALSE(Utf16Less("", ""));
  EXPECT_TRUE(Utf16Less("", "a"));
  EXPECT_FALSE(Utf16Less("a", ""));
  EXPECT_TRUE(Utf16Less("A", "a"));
  EXPECT_TRUE(Utf16Less("1", "10"));
  EXPECT_TRUE(Utf16Less("10", "111"));
  EXPECT_TRUE(Utf16Less("abcdefgh1", "abcdefgh2"));
  EXPECT_TRUE(Utf16Less("abcdefghijklmnop", "abcdefghijklmnopq"));
  EXPECT_FALSE(Utf16Less("abcdefghijklmnop", "abcdefghijklmnop"));
  EXPECT_TRUE(Utf16Less("peach",
                        "p\xc3\xa9"
                        "ch\xc3\xa9"));
  EXPECT_TRUE(
      Utf16Less("p\xc3\xa9"
                "ch\xc3\xa9",
                "p\xc3\xaa"
                "che"));
}

// Utf16Less against a brute-force reference (convert to UTF-16, compare code units) on
// random strings drawn from the boundaries that matter.
TEST(CanonicalTest, Utf16LessMatchesUtf16Comparison) {
  const std::vector<std::uint32_t> pool = {
      0x00,   0x41,   0x7F,    0x80,    0x7FF,    0x800, 0xD7FF, 0xE000, 0xEFFF, 0xF000,
      0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF, 0x61,  0xE9,   0x20AC, 0xFB33, 0x1D11E};
  std::mt19937 rng(8785);
  auto random_string = [&](std::vector<std::uint32_t>& cps) {
    cps.clear();
    const int len = std::uniform_int_distribution<int>(0, 5)(rng);
    for (int i = 0; i < len; ++i) {
      cps.push_back(pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)]);
    }
    std::string s;
    for (std::uint32_t cp : cps) s += Utf8(cp);
    return s;
  };
  std::vector<std::uint32_t> a_cps;
  std::vector<std::uint32_t> b_cps;
  for (int i = 0; i < 20000; ++i) {
    const std::string a = random_string(a_cps);
    std::string b = random_string(b_cps);
    if (i % 4 == 0) {  // share a prefix often, to reach the interesting positions
      b = a + b;
      b_cps.insert(b_cps.begin(), a_cps.begin(), a_cps.end());
    }
    EXPECT_EQ(Utf16Less(a, b), Utf16(a_cps) < Utf16(b_cps)) << i;
  }
}

TEST(CanonicalTest, SortsNestedObjectsAndKeepsArrayOrder) {
  const Value v = MakeObject(
      {{"b", Value(Array{MakeObject({{"y", Value(1)}, {"x", Value(2)}}), Value(3)})},
       {"a", MakeObject({{"d", MakeObject({{"f", Value(1)}, {"e", Value(2)}})}, {"c", Value()}})}});
  EXPECT_EQ(Canonicalize(v), R"({"a":{"c":null,"d":{"e":2,"f":1}},"b":[{"x":2,"y":1},3]})");
}

TEST(CanonicalTest, LargeObjectSorted) {
  Object members;
  std::vector<std::string> names;
  for (int i = 0; i < 2000; ++i) names.push_back("k" + std::to_string(i));
  std::mt19937 rng(1);
  std::shuffle(names.begin(), names.end(), rng);
  for (const auto& n : names) members.emplace_back(n, Value(1));
  const std::string canonical = Canonicalize(Value(std::move(members)));
  std::sort(names.begin(), names.end());
  std::string expected = "{";
  for (const auto& n : names) expected += "\"" + n + "\":1,";
  expected.back() = '}';
  EXPECT_EQ(canonical, expected);
}

TEST(CanonicalTest, AppendCanonicalAppends) {
  std::string out = "x";
  AppendCanonical(MakeObject({{"b", Value(1)}, {"a", Value(2)}}), out);
  AppendCanonical(Value(Array{Value(true)}), out);
  EXPECT_EQ(out, "x{\"a\":2,\"b\":1}[true]");
}

TEST(CanonicalTest, FromParsedInput) {
  auto v = Parse(R"( { "b" : [ 1.0 , -0 , 1E3, 0.10 ], "a" : "\u00e9\/" } )");
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(Canonicalize(*v), "{\"a\":\"\xc3\xa9/\",\"b\":[1,0,1000,0.1]}");
}

}  // namespace
}  // namespace registry::json
