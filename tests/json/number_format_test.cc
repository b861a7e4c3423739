#include "registry/json/number_format.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>

#include "registry/json/parse.h"

namespace registry::json {
namespace {

TEST(NumberFormatTest, Zeros) {
  EXPECT_EQ(FormatEs6Number(0.0), "0");
  EXPECT_EQ(FormatEs6Number(-0.0), "0");
}

TEST(NumberFormatTest, Integers) {
  EXPECT_EQ(FormatEs6Number(1), "1");
  EXPECT_EQ(FormatEs6Number(-1), "-1");
  EXPECT_EQ(FormatEs6Number(56.0), "56");
  EXPECT_EQ(FormatEs6Number(9007199254740991.0), "9007199254740991");
  EXPECT_EQ(FormatEs6Number(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(FormatEs6Number(-9007199254740994.0), "-9007199254740994");
  EXPECT_EQ(FormatEs6Number(18446744073709551616.0), "18446744073709552000");
  EXPECT_EQ(FormatEs6Number(1e20), "100000000000000000000");
  EXPECT_EQ(FormatEs6Number(123e18), "123000000000000000000");
}

TEST(NumberFormatTest, ExponentFormFromTenToThe21) {
  EXPECT_EQ(FormatEs6Number(1e21), "1e+21");
  EXPECT_EQ(FormatEs6Number(-1e21), "-1e+21");
  EXPECT_EQ(FormatEs6Number(1.5e21), "1.5e+21");
  EXPECT_EQ(FormatEs6Number(1e30), "1e+30");
  EXPECT_EQ(FormatEs6Number(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
}

TEST(NumberFormatTest, Fractions) {
  EXPECT_EQ(FormatEs6Number(0.5), "0.5");
  EXPECT_EQ(FormatEs6Number(4.5), "4.5");
  EXPECT_EQ(FormatEs6Number(-4.5), "-4.5");
  EXPECT_EQ(FormatEs6Number(0.1), "0.1");
  EXPECT_EQ(FormatEs6Number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatEs6Number(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(FormatEs6Number(333333333.33333329), "333333333.3333333");
  EXPECT_EQ(FormatEs6Number(123456789012.5), "123456789012.5");
  EXPECT_EQ(FormatEs6Number(0.002), "0.002");
}

TEST(NumberFormatTest, SmallNumbersSwitchToExponentBelowTenToTheMinus6) {
  EXPECT_EQ(FormatEs6Number(0.000001), "0.000001");
  EXPECT_EQ(FormatEs6Number(0.0000015), "0.0000015");
  EXPECT_EQ(FormatEs6Number(1e-7), "1e-7");
  EXPECT_EQ(FormatEs6Number(1.5e-7), "1.5e-7");
  EXPECT_EQ(FormatEs6Number(-1.5e-7), "-1.5e-7");
  EXPECT_EQ(FormatEs6Number(1e-27), "1e-27");
  EXPECT_EQ(FormatEs6Number(5e-324), "5e-324");
  EXPECT_EQ(FormatEs6Number(-5e-324), "-5e-324");
  EXPECT_EQ(FormatEs6Number(2.2250738585072014e-308), "2.2250738585072014e-308");
}

TEST(NumberFormatTest, AppendsWithoutClearing) {
  std::string out = "[";
  AppendEs6Number(1.5, out);
  out.push_back(',');
  AppendEs6Number(-0.0, out);
  EXPECT_EQ(out, "[1.5,0");
}

TEST(NumberFormatDeathTest, NonFiniteAborts) {
  EXPECT_DEATH(FormatEs6Number(std::numeric_limits<double>::infinity()), "finite|infinity");
  EXPECT_DEATH(FormatEs6Number(std::numeric_limits<double>::quiet_NaN()), "finite|infinity");
}

// RFC 8785's 100,000 ES6 reference cases: `hex-ieee,expected`.
TEST(NumberFormatTest, Es6HundredThousandVectors) {
  std::ifstream in(REGISTRY_VECTORS_DIR "/jcs/es6-numbers-100k.txt");
  ASSERT_TRUE(in.is_open()) << "missing " REGISTRY_VECTORS_DIR "/jcs/es6-numbers-100k.txt";
  std::string line;
  std::size_t lines = 0;
  std::size_t failures = 0;
  std::string formatted;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t comma = line.find(',');
    ASSERT_NE(comma, std::string::npos) << line;
    std::uint64_t bits = 0;
    const auto r = std::from_chars(line.data(), line.data() + comma, bits, 16);
    ASSERT_TRUE(r.ec == std::errc() && r.ptr == line.data() + comma) << line;
    const double d = std::bit_cast<double>(bits);
    const std::string expected = line.substr(comma + 1);
    ++lines;
    formatted.clear();
    AppendEs6Number(d, formatted);
    if (formatted != expected) {
      if (++failures <= 20) ADD_FAILURE() << line << ": formatted as " << formatted;
      continue;
    }
    // The expected text parses back to the same double (sign of zero aside: "0" is +0).
    auto parsed = Parse(expected);
    if (!parsed.ok()) {
      if (++failures <= 20) ADD_FAILURE() << line << ": " << parsed.error().message();
      continue;
    }
    const double back = parsed->as_number();
    const bool same = d == 0 ? back == 0 : std::bit_cast<std::uint64_t>(back) == bits;
    if (!same && ++failures <= 20) ADD_FAILURE() << line << ": parses back as " << back;
  }
  EXPECT_EQ(lines, 100000u);
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace registry::json
