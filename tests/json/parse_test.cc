#include "registry/json/parse.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "parse_internal.h"
#include "registry/json/canonical.h"

namespace registry::json {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 120)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out.push_back(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    }
  }
  if (s.size() > 120) out += "...";
  return out;
}

// Same tree, numbers compared bit for bit (so -0.0 differs from 0.0).
bool Identical(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kNull:
      return true;
    case Type::kBool:
      return a.as_bool() == b.as_bool();
    case Type::kNumber:
      return std::bit_cast<std::uint64_t>(a.as_number()) ==
             std::bit_cast<std::uint64_t>(b.as_number());
    case Type::kString:
      return a.as_string() == b.as_string();
    case Type::kArray: {
      const Array& x = a.as_array();
      const Array& y = b.as_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!Identical(x[i], y[i])) return false;
      }
      return true;
    }
    case Type::kObject: {
      const Object& x = a.as_object();
      const Object& y = b.as_object();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i].first != y[i].first || !Identical(x[i].second, y[i].second)) return false;
      }
      return true;
    }
  }
  return false;
}

// The two halves of the parser agree: the fast path accepts only what the strict parser
// accepts, with the identical value.
AssertionResult PathsAgree(std::string_view in) {
  const std::optional<Value> fast = internal::FastParse(in);
  const ParseOutcome strict = internal::StrictParse(in);
  if (fast.has_value() && !strict.result.ok()) {
    return AssertionFailure() << "simdjson accepted what the strict parser rejects: "
                              << strict.result.error().message();
  }
  if (fast.has_value() && !Identical(*fast, strict.result.value())) {
    return AssertionFailure() << "paths disagree on the value: " << Canonicalize(*fast) << " vs "
                              << Canonicalize(strict.result.value());
  }
  return AssertionSuccess();
}

AssertionResult Rejects(std::string_view in, ParseErrorKind kind) {
  const ParseOutcome outcome = ParseDetailed(in);
  if (outcome.result.ok()) {
    return AssertionFailure() << "accepted " << Printable(in) << " as "
                              << Canonicalize(outcome.result.value());
  }
  const util::Error& error = outcome.result.error();
  if (outcome.error_kind != kind) {
    return AssertionFailure() << Printable(in) << ": got kind "
                              << ParseErrorKindName(outcome.error_kind) << " (" << error.message()
                              << "), want " << ParseErrorKindName(kind);
  }
  if (error.code() != util::ErrorCode::kMalformed) {
    return AssertionFailure() << Printable(in) << ": wrong error code";
  }
  if (error.message().rfind(std::string(ParseErrorKindName(kind)) + ": ", 0) != 0 ||
      error.message().find(" at byte ") == std::string::npos) {
    return AssertionFailure() << Printable(in) << ": message " << error.message();
  }
  if (Parse(in).ok()) return AssertionFailure() << "Parse and ParseDetailed disagree";
  if (internal::FastParse(in).has_value()) {
    return AssertionFailure() << Printable(in) << ": fast path accepted it";
  }
  return AssertionSuccess();
}

Value MustParse(std::string_view in) {
  auto result = Parse(in);
  EXPECT_TRUE(result.ok()) << Printable(in) << ": " << result.error().message();
  EXPECT_TRUE(PathsAgree(in)) << Printable(in);
  return result.ok() ? std::move(result).value() : Value();
}

std::string Nested(std::size_t depth, std::string_view open, std::string_view inner,
                   std::string_view close) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += open;
  s += inner;
  for (std::size_t i = 0; i < depth; ++i) s += close;
  return s;
}

// ---------------------------------------------------------------------------------------
// Accepted input

TEST(ParseTest, Scalars) {
  EXPECT_TRUE(MustParse("null").is_null());
  EXPECT_EQ(MustParse("true"), Value(true));
  EXPECT_EQ(MustParse("false"), Value(false));
  EXPECT_EQ(MustParse("0"), Value(0));
  EXPECT_EQ(MustParse("-12.5e1"), Value(-125));
  EXPECT_EQ(MustParse("\"str\""), Value("str"));
  EXPECT_EQ(MustParse(" \t\r\n 7 \t\r\n "), Value(7));
}

TEST(ParseTest, ContainersKeepInputOrder) {
  const Value v = MustParse(R"({"b":[1,"x",null,true,{}],"a":{"z":[],"y":-1}})");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.as_object().size(), 2u);
  EXPECT_EQ(v.as_object()[0].first, "b");
  EXPECT_EQ(v.as_object()[1].first, "a");
  EXPECT_EQ(
      v,
      MakeObject({{"b", Value(Array{Value(1), Value("x"), Value(), Value(true), Value(Object{})})},
                  {"a", MakeObject({{"z", Value(Array{})}, {"y", Value(-1)}})}}));
}

TEST(ParseTest, StringEscapes) {
  EXPECT_EQ(MustParse(R"("\"\\\/\b\f\n\r\t")"), Value("\"\\/\b\f\n\r\t"));
  EXPECT_EQ(MustParse(R"("\u0041\u00e9\u20AC")"), Value("A\xc3\xa9\xe2\x82\xac"));
  EXPECT_EQ(MustParse(R"("\ud83d\ude02")"), Value("\xf0\x9f\x98\x82"));
  EXPECT_EQ(MustParse(R"("\uD83D\uDE02")"), Value("\xf0\x9f\x98\x82"));
  EXPECT_EQ(MustParse(R"("\udbff\udfff")"), Value("\xf4\x8f\xbf\xbf"));
  EXPECT_EQ(MustParse(R"("\uffff")"), Value("\xef\xbf\xbf"));
  EXPECT_EQ(MustParse("\"\xf0\x9f\x98\x82\x7f\""), Value("\xf0\x9f\x98\x82\x7f"));
}

TEST(ParseTest, NulIsValidWhenEscaped) {
  EXPECT_EQ(MustParse(R"("a\u0000b")"), Value(std::string("a\0b", 3)));
  const Value v = MustParse(R"({"\u0000":1,"":2})");
  ASSERT_EQ(v.as_object().size(), 2u);
  EXPECT_EQ(v.as_object()[0].first, std::string(1, '\0'));
}

TEST(ParseTest, NegativeZeroKeepsItsSign) {
  for (const char* in : {"-0", "-0.0", "-0e0", "-0E+5", "[-0]", "{\"a\":-0}", "[1,-0 ]"}) {
    const Value v = MustParse(in);
    const Value& n = v.is_number()  ? v
                     : v.is_array() ? v.as_array().back()
                                    : v.as_object().front().second;
    EXPECT_TRUE(std::signbit(n.as_number())) << in;
    EXPECT_EQ(n.AsSafeInteger(), 0) << in;
  }
  // "-0" inside a string and a plain 0 elsewhere: 0 stays positive.
  const Value v = MustParse(R"(["n-0", 0, "x-0"])");
  EXPECT_FALSE(std::signbit(v.as_array()[1].as_number()));
  EXPECT_EQ(v.as_array()[0], Value("n-0"));
}

TEST(ParseTest, IntegersBeyond64BitsAreDoubles) {
  EXPECT_EQ(MustParse("18446744073709551615").as_number(), 18446744073709551616.0);
  EXPECT_EQ(MustParse("18446744073709551616").as_number(), 18446744073709551616.0);
  EXPECT_EQ(MustParse("-9223372036854775808").as_number(), -9223372036854775808.0);
  EXPECT_EQ(MustParse("-9223372036854775809").as_number(), -9223372036854775808.0);
  EXPECT_EQ(MustParse("100000000000000000000").as_number(), 1e20);
  EXPECT_EQ(MustParse("123456789012345678901234567890").as_number(),
            123456789012345678901234567890.0);
  EXPECT_EQ(MustParse("[1, 99999999999999999999999999999999999999]").as_array()[1].as_number(),
            1e38);
  std::string big = "1" + std::string(308, '0');  // 1e308, as 309 digits
  EXPECT_EQ(MustParse(big).as_number(), 1e308);
  EXPECT_EQ(Canonicalize(MustParse("{\"n\":18446744073709551616}")),
            "{\"n\":18446744073709552000}");
}

TEST(ParseTest, IntegersRoundLikeADoubleParse) {
  EXPECT_EQ(MustParse("9007199254740993").as_number(), 9007199254740992.0);  // ties to even
  EXPECT_EQ(MustParse("9007199254740995").as_number(), 9007199254740996.0);
  EXPECT_EQ(MustParse("-9007199254740993").as_number(), -9007199254740992.0);
  EXPECT_EQ(MustParse("9223372036854775807").as_number(), 9223372036854775808.0);
  EXPECT_EQ(MustParse("12345678901234567").as_number(), 12345678901234568.0);
}

TEST(ParseTest, NumberEdgesInRange) {
  EXPECT_EQ(MustParse("1.7976931348623157e308").as_number(), 1.7976931348623157e308);
  EXPECT_EQ(MustParse("-1.7976931348623157e308").as_number(), -1.7976931348623157e308);
  EXPECT_EQ(MustParse("5e-324").as_number(), 5e-324);
  EXPECT_EQ(MustParse("2.4703282292062328e-324").as_number(), 5e-324);
  EXPECT_EQ(MustParse("0e99999").as_number(), 0.0);
  EXPECT_EQ(MustParse("0.1").as_number(), 0.1);
  EXPECT_EQ(MustParse("1E2").as_number(), 100.0);
  EXPECT_EQ(MustParse("1e+2").as_number(), 100.0);
  EXPECT_EQ(MustParse("1e-2").as_number(), 0.01);
  // Underflow rounds to zero (keeping the sign), as in every JSON parser; not an error.
  EXPECT_EQ(MustParse("1e-400").as_number(), 0.0);
  EXPECT_TRUE(std::signbit(MustParse("-1e-400").as_number()));
  EXPECT_EQ(MustParse("2e-324").as_number(), 0.0);
  EXPECT_EQ(MustParse("0.00000000001e-99999999999999999999").as_number(), 0.0);
}

TEST(ParseTest, WhitespaceEverywhere) {
  const Value v = MustParse(" \n{ \"a\" \t: [ 1 ,\r\n2 ] , \"b\" : { } } \n");
  EXPECT_EQ(Canonicalize(v), "{\"a\":[1,2],\"b\":{}}");
}

TEST(ParseTest, SimilarNamesAreNotDuplicates) {
  const Value v = MustParse(R"({"a":1,"A":2,"a\u0000":3,"\u00e9":4,"e\u0301":5,"":6,"a ":7})");
  EXPECT_EQ(v.as_object().size(), 7u);
  const Value same_elsewhere = MustParse(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})");
  EXPECT_EQ(same_elsewhere.as_object().size(), 2u);
}

TEST(ParseTest, LargeObjectWithoutDuplicates) {
  std::string in = "{";
  for (int i = 0; i < 5000; ++i) in += "\"m" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  in.back() = '}';
  const Value v = MustParse(in);
  EXPECT_EQ(v.as_object().size(), 5000u);
  EXPECT_EQ(v.Find("m4999")->as_number(), 4999);
}

TEST(ParseTest, DepthLimitEdgesAccepted) {
  EXPECT_TRUE(MustParse(Nested(kMaxDepth, "[", "", "]")).is_array());
  EXPECT_TRUE(MustParse(Nested(kMaxDepth, "[", "1", "]")).is_array());
  EXPECT_TRUE(MustParse(Nested(kMaxDepth - 1, "{\"a\":", "{}", "}")).is_object());
  EXPECT_TRUE(MustParse(Nested(kMaxDepth - 1, "{\"a\":", "[]", "}")).is_object());
  EXPECT_TRUE(MustParse(Nested(kMaxDepth / 2, "[{\"k\":", "0", "}]")).is_array());
}

TEST(ParseTest, InputsBeyondTheRetainedBufferSize) {
  // Over 2 MiB: the fast path uses a parser of its own for the call instead of the
  // thread's; the result is the same as the strict parser's, and small inputs still work
  // afterwards.
  std::string big = "[";
  for (int i = 0; big.size() < (3u << 20); ++i) {
    big += "{\"id\":\"node-" + std::to_string(i) + "\",\"w\":" + std::to_string(i * 0.5) + "},";
  }
  big.back() = ']';
  const Value v = MustParse(big);
  EXPECT_GT(v.as_array().size(), 50000u);
  EXPECT_TRUE(Rejects(big + "x", ParseErrorKind::kTrailingGarbage));
  EXPECT_EQ(MustParse("[1]"), Value(Array{Value(1)}));
}

TEST(ParseTest, ConcurrentCallsAreIndependent) {
  // Each thread reuses its own simdjson parser; results must not bleed across threads.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 300; ++i) {
        const std::string in = "{\"t\":" + std::to_string(t) + ",\"i\":[" + std::to_string(i) +
                               std::string(static_cast<std::size_t>(i % 7), ' ') + "]}";
        auto v = Parse(in);
        if (!v.ok() || Canonicalize(*v) !=
                           "{\"i\":[" + std::to_string(i) + "],\"t\":" + std::to_string(t) + "}") {
          ++failures;
        }
        if (Parse("{\"a\":1,\"a\":2}").ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------------------------------
// Rejected input, one test per kind

TEST(ParseRejectTest, Empty) {
  for (const char* in : {"", " ", "\n", "\t\r\n ", "          "}) {
    EXPECT_TRUE(Rejects(in, ParseErrorKind::kEmpty));
  }
}

TEST(ParseRejectTest, InvalidUtf8) {
  const std::vector<std::string> cases = {
      "\"\xff\"",                  // never valid
      "\"\xc0\xaf\"",              // overlong '/'
      "\"\xe0\x80\xaf\"",          // overlong, 3 bytes
      "\"\xf0\x80\x80\xaf\"",      // overlong, 4 bytes
      "\"\xf4\x90\x80\x80\"",      // above U+10FFFF
      "\"\xf8\x88\x80\x80\x80\"",  // 5-byte form
      "\"\xc3\"",                  // truncated
      "\"\xe2\x82\"",              // truncated
      "\"\x80\"",                  // stray continuation
      "\"\xed\xa0\"",              // truncated surrogate
      "{\"k\xfe\":1}",             // in a member name
      "[1]\xff",                   // outside strings, in trailing bytes
      "\xff",
      "[\"ok\", \"\xc3\x28\"]",
  };
  for (const std::string& in : cases) EXPECT_TRUE(Rejects(in, ParseErrorKind::kInvalidUtf8));
}

TEST(ParseRejectTest, LoneSurrogateEscapes) {
  const std::vector<std::string> cases = {
      R"("\ud800")",       R"("\udc00")",         R"("\ud800\u0041")", R"("\ud800x")",
      R"("\udbff\udbff")", R"("\udfff\ud800")",   R"("a\ud800")",      R"("\uDBFF")",
      R"({"\ud800":1})",   R"(["ok","\udc00z"])", R"("\ud800\n")",     R"("\ud800\\udc00")",
  };
  for (const std::string& in : cases) EXPECT_TRUE(Rejects(in, ParseErrorKind::kLoneSurrogate));
}

TEST(ParseRejectTest, RawSurrogateBytes) {
  // A surrogate code point encoded in UTF-8 (ill-formed UTF-8, reported as a surrogate).
  const std::vector<std::string> cases = {
      "\"\xed\xa0\x80\"",              // U+D800
      "\"\xed\xbf\xbf\"",              // U+DFFF
      "\"\xed\xa0\xbd\xed\xb8\x80\"",  // CESU-8 pair
      "{\"\xed\xb0\x80\":1}",
  };
  for (const std::string& in : cases) EXPECT_TRUE(Rejects(in, ParseErrorKind::kLoneSurrogate));
}

TEST(ParseRejectTest, DuplicateMemberNames) {
  const std::vector<std::string> cases = {
      R"({"a":1,"a":2})",
      R"({"a":1,"\u0061":2})",
      R"({"a":1,"b":2,"a":1})",
      R"({"":1,"":2})",
      R"({"\u0000":1,"\u0000":2})",
      R"({"x":{"b":1,"b":[]}})",
      R"([{"a":1,"a":1}])",
      R"({"\ud83d\ude02":1,")"
      "\xf0\x9f\x98\x82"
      R"(":2})",
      R"({"a":{"c":{"d":0,"d":0}},"b":1})",
  };
  for (const std::string& in : cases) EXPECT_TRUE(Rejects(in, ParseErrorKind::kDuplicateMember));

  // A large object (sorted-index path), the duplicate at the very end.
  std::string large = "{";
  for (int i = 0; i < 1000; ++i) large += "\"m" + std::to_string(i) + "\":0,";
  large += "\"m17\":1}";
  EXPECT_TRUE(Rejects(large, ParseErrorKind::kDuplicateMember));

  // At the deepest accepted level.
  EXPECT_TRUE(Rejects(Nested(kMaxDepth - 1, "[", R"({"a":1,"a":2})", "]"),
                      ParseErrorKind::kDuplicateMember));
}

TEST(ParseRejectTest, NumbersOutOfRange) {
  const std::vector<std::string> cases = {
      "1e400",
      "-1e400",
      "[1e309]",
      "1.8e308",
      R"({"a":-1.7976931348623159e308})",
      "1" + std::string(400, '0'),
      "-1" + std::string(309, '0') + ".5",
      "1e99999999999999999999999",
      "0.000001e315",
  };
  for (const std::string& in : cases) {
    EXPECT_TRUE(Rejects(in, ParseErrorKind::kNumberOutOfRange));
  }
}

TEST(ParseRejectTest, TooDeep) {
  const std::vector<std::string> cases = {
      Nested(kMaxDepth + 1, "[", "", "]"),
      Nested(kMaxDepth + 1, "[", "1", "]"),
      Nested(kMaxDepth, "{\"a\":", "{}", "}"),  // 65 objects
      Nested(kMaxDepth, "{\"a\":", "[]", "}"),  // 64 objects + 1 array
      Nested(kMaxDepth + 1, "{\"a\":", "0", "}"),
      Nested(2000, "[", "", "]"),  // beyond simdjson's own limit too
      Nested(100, "[", "", ""),    // unclosed, but too deep first
      Nested(kMaxDepth / 2 + 1, "[{\"k\":", "0", "}]"),
  };
  for (const std::string& in : cases) EXPECT_TRUE(Rejects(in, ParseErrorKind::kTooDeep));
}

TEST(ParseRejectTest, TrailingBytes) {
  const std::vector<std::string> cases = {
      "{} x", "1 2",        "{}}", "[1]]", "\"a\"\"b\"", "null null", std::string("{}\0", 3),
      "[] ,", "true false", "0 0", "{}{}", "[1] [2]",    "\"a\" :",
  };
  for (const std::string& in : cases) EXPECT_TRUE(Rejects(in, ParseErrorKind::kTrailingGarbage));
}

TEST(ParseRejectTest, Syntax) {
  const std::vector<std::string> cases = {
      "NaN",
      "-NaN",
      "Infinity",
      "-Infinity",
      "01",
      "-01",
      "00",
      "0123",
      "'a'",
      "{'a':1}",
      "[1,]",
      R"({"a":1,})",
      "[,1]",
      "[1 2]",
      R"({"a" 1})",
      R"({"a":})",
      "{1:2}",
      "\"\x01\"",
      "\"a\tb\"",
      "\"a\nb\"",
      R"("\x")",
      R"("\u12")",
      R"("\u12G4")",
      R"("\U0041")",
      "tru",
      "nul",
      "True",
      "NULL",
      "1.",
      ".5",
      "+1",
      "-",
      "1e",
      "1e+",
      "0x10",
      "[",
      "{",
      "\"abc",
      "[1",
      R"({"a":1)",
      "\xef\xbb\xbf{}",
      "[1}",
      "{]",
      "1x",
      "truex",
      "[nullx]",
      "\x0b 1",
      "\xc2\xa0 1",
      "[1,,2]",
      R"({"a"::1})",
      "[-]",
      "[1e]",
      "1.e1",
      "-.5",
      std::string("\0", 1),
      std::string("[\0]", 3),
      "[\"a\":1]",
      R"({"a","b"})",
      "}",
      "]",
      R"(["\ud800\u12"])",
      "[1.5.3]",
      "--1",
      "1e5e5",
  };
  for (const std::string& in : cases) EXPECT_TRUE(Rejects(in, ParseErrorKind::kSyntax));
}

// ---------------------------------------------------------------------------------------
// Messages

TEST(ParseMessageTest, SayWhatAndWhere) {
  auto message = [](std::string_view in) { return ParseDetailed(in).result.error().message(); };
  EXPECT_EQ(message(R"({"a":1,"a":2})"), "duplicate member name: \"a\" at byte 7");
  EXPECT_EQ(message(R"({"x":[0,{"b":1,"b":1}]})"),
            "duplicate member name: \"b\" at byte 15 (in /x/1)");
  EXPECT_EQ(message(R"({"a/b~":[1e400]})"),
            "number out of range: 1e400 is beyond the range of an IEEE-754 double at byte 9 "
            "(in /a~1b~0/0)");
  EXPECT_EQ(message("{} x"), "trailing bytes: 'x' after the JSON value at byte 3");
  EXPECT_EQ(message(""), "empty input: no JSON value in the input at byte 0");
  EXPECT_EQ(message("[1,]"), "syntax error: unexpected ']' at byte 3 (in /1)");
  EXPECT_EQ(message("\"\xff\""),
            "invalid UTF-8: ill-formed sequence starting with byte 0xff at byte 1");
  EXPECT_EQ(message(R"(["\ud800"])"),
            "lone surrogate: high surrogate \\u escape U+D800 not followed by a low surrogate "
            "escape at byte 2 (in /0)");
  EXPECT_EQ(message(Nested(kMaxDepth + 1, "[", "", "]")).rfind("nesting too deep: ", 0), 0u);
  EXPECT_NE(message(Nested(kMaxDepth + 1, "[", "", "]")).find("at byte 64"), std::string::npos);
}

TEST(ParseMessageTest, UntrustedNamesAreSanitizedAndTruncated) {
  const std::string name(200, 'n');
  const std::string in = "{\"" + name + "\":1,\"" + name + "\":2}";
  const std::string m = ParseDetailed(in).result.error().message();
  EXPECT_LT(m.size(), 150u);
  EXPECT_NE(m.find("..."), std::string::npos);
  const std::string ctl = ParseDetailed(R"({"\n\u0001":1,"\n\u0001":2})").result.error().message();
  EXPECT_NE(ctl.find("\\u000a\\u0001"), std::string::npos) << ctl;
}

TEST(ParseErrorKindTest, NamesAreDistinct) {
  const std::vector<ParseErrorKind> kinds = {
      ParseErrorKind::kSyntax,           ParseErrorKind::kInvalidUtf8,
      ParseErrorKind::kLoneSurrogate,    ParseErrorKind::kDuplicateMember,
      ParseErrorKind::kNumberOutOfRange, ParseErrorKind::kTooDeep,
      ParseErrorKind::kTrailingGarbage,  ParseErrorKind::kEmpty};
  std::set<std::string_view> names;
  for (ParseErrorKind k : kinds) names.insert(ParseErrorKindName(k));
  EXPECT_EQ(names.size(), kinds.size());
}

// ---------------------------------------------------------------------------------------
// The parser's internals

TEST(FindDuplicateMemberTest, SmallAndLargeObjects) {
  EXPECT_EQ(internal::FindDuplicateMember({}), internal::kNoDuplicate);
  EXPECT_EQ(internal::FindDuplicateMember({{"a", Value()}}), internal::kNoDuplicate);
  EXPECT_EQ(internal::FindDuplicateMember({{"a", Value()}, {"b", Value()}, {"a", Value()}}), 2u);
  for (std::size_t n : {5u, 16u, 17u, 300u}) {
    Object members;
    for (std::size_t i = 0; i < n; ++i) members.emplace_back("k" + std::to_string(i), Value());
    EXPECT_EQ(internal::FindDuplicateMember(members), internal::kNoDuplicate) << n;
    members.emplace_back("k3", Value());
    members.emplace_back("k1", Value());
    members.emplace_back("k3", Value());
    EXPECT_EQ(internal::FindDuplicateMember(members), n) << n;  // the first repeat
  }
}

TEST(ParsePathsTest, SimdjsonDeclinesWhatItCannotRepresent) {
  // Valid input the fast path hands to the strict parser, which accepts it.
  for (const char* in : {"-0", "[-0]", "18446744073709551616", "-9223372036854775809"}) {
    EXPECT_FALSE(internal::FastParse(in).has_value()) << in;
    EXPECT_TRUE(internal::StrictParse(in).result.ok()) << in;
  }
  // And the common case stays on the fast path.
  for (const char* in : {"0", "{\"a\":[1,2.5,\"x-0\",true,null]}", "-1", "-0.5",
                         "{\"zone\":\"eu-0\",\"n\":0,\"m\":\"a-0 \"}"}) {
    EXPECT_TRUE(internal::FastParse(in).has_value()) << in;
  }
  // A string that looks like "-0" in number position costs a strict parse, not a wrong value.
  const char* lookalike = R"(["a,-0,b", 0])";
  EXPECT_FALSE(internal::FastParse(lookalike).has_value());
  const Value v = MustParse(lookalike);
  EXPECT_FALSE(std::signbit(v.as_array()[1].as_number()));
}

}  // namespace
}  // namespace registry::json
