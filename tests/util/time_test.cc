#include "registry/util/time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace registry::util {
namespace {

constexpr std::int64_t kDay = 86'400'000;

TEST(ParseRfc3339Test, Epoch) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Seconds(0), "1970-01-01T00:00:00Z");
}

// Expected values computed independently (Python datetime).
TEST(ParseRfc3339Test, KnownInstants) {
  EXPECT_EQ(ParseRfc3339("2024-02-29T12:34:56.789Z"), 1709210096789);
  EXPECT_EQ(ParseRfc3339("2000-02-29T00:00:00Z"), 951782400000);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ParseRfc3339("1900-03-01T00:00:00Z"), -2203891200000);
  EXPECT_EQ(ParseRfc3339("2038-01-19T03:14:08Z"), 2147483648000);
  EXPECT_EQ(ParseRfc3339("2026-11-26T12:00:00Z"), 1795694400000);
}

TEST(ParseRfc3339Test, FarDates) {
  EXPECT_EQ(ParseRfc3339("9999-12-31T23:59:59.999Z"), 253402300799999);
  EXPECT_EQ(ParseRfc3339("0000-01-01T00:00:00Z"), -62167219200000);
  EXPECT_EQ(FormatRfc3339Millis(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Millis(-62167219200000), "0000-01-01T00:00:00.000Z");
  // Year 0 is a leap year in the proleptic Gregorian calendar (divisible by 400).
  EXPECT_TRUE(ParseRfc3339("0000-02-29T00:00:00Z").has_value());
}

TEST(ParseRfc3339Test, LeapYears) {
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(ParseRfc3339("2000-02-29T00:00:00Z").has_value());  // divisible by 400
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("1900-02-29T00:00:00Z").has_value());  // divisible by 100 only
  EXPECT_FALSE(ParseRfc3339("2100-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2024-02-30T00:00:00Z").has_value());
  EXPECT_EQ(*ParseRfc3339("2024-03-01T00:00:00Z") - *ParseRfc3339("2024-02-28T00:00:00Z"),
            2 * kDay);
  EXPECT_EQ(*ParseRfc3339("2023-03-01T00:00:00Z") - *ParseRfc3339("2023-02-28T00:00:00Z"),
            1 * kDay);
}

TEST(ParseRfc3339Test, DaysInMonth) {
  const char* const kLastDays[] = {"01-31", "02-28", "03-31", "04-30", "05-31", "06-30",
                                   "07-31", "08-31", "09-30", "10-31", "11-30", "12-31"};
  const char* const kFirstInvalid[] = {"01-32", "02-29", "03-32", "04-31", "05-32", "06-31",
                                       "07-32", "08-32", "09-31", "10-32", "11-31", "12-32"};
  for (const char* md : kLastDays) {
    EXPECT_TRUE(ParseRfc3339(std::string("2023-") + md + "T00:00:00Z").has_value()) << md;
  }
  for (const char* md : kFirstInvalid) {
    EXPECT_FALSE(ParseRfc3339(std::string("2023-") + md + "T00:00:00Z").has_value()) << md;
  }
}

TEST(ParseRfc3339Test, Fractions) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.1Z"), 100);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.12Z"), 120);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.123Z"), 123);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.1239Z"), 123);       // truncated, not rounded
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.999999999Z"), 999);  // 9 digits, still truncated
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.000000001Z"), 0);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59.5Z"), -500);
  EXPECT_FALSE(ParseRfc3339("1970-01-01T00:00:00.1234567890Z"));  // 10 digits
  EXPECT_FALSE(ParseRfc3339("1970-01-01T00:00:00.Z"));            // empty fraction
  EXPECT_FALSE(ParseRfc3339("1970-01-01T00:00:00,5Z"));           // comma separator
}

TEST(ParseRfc3339Test, Rejections) {
  const char* const kBad[] = {
      "",
      "2024-01-01",
      "2024-01-01T00:00:00",        // missing Z
      "2024-01-01t00:00:00Z",       // lower-case t
      "2024-01-01T00:00:00z",       // lower-case z
      "2024-01-01 00:00:00Z",       // space instead of T
      "2024-01-01T00:00:00+00:00",  // offsets, even zero, are not UTC-with-Z
      "2024-01-01T00:00:00+01:00",
      "2024-01-01T00:00:00-05:00",
      "2024-01-01T00:00:00Z+01:00",
      "2024-01-01T00:00:00ZZ",
      "2024-01-01T00:00:00Z ",  // trailing bytes
      " 2024-01-01T00:00:00Z",  // leading bytes
      "2024-01-01T00:00:00Zjunk",
      "2024-02-30T00:00:00Z",  // Feb 30
      "2023-02-29T00:00:00Z",  // not a leap year
      "2024-01-01T24:00:00Z",  // hour 24
      "2024-01-01T23:60:00Z",  // minute 60
      "2024-01-01T23:59:60Z",  // leap second: rejected by design
      "2016-12-31T23:59:60Z",  // even on a real leap-second day
      "2024-00-01T00:00:00Z",  // month 0
      "2024-13-01T00:00:00Z",  // month 13
      "2024-01-00T00:00:00Z",  // day 0
      "2024-1-01T00:00:00Z",   // short fields
      "2024-01-1T00:00:00Z",
      "2024-01-01T0:00:00Z",
      "2024-01-01T00:00Z",  // no seconds
      "24-01-01T00:00:00Z",
      "+2024-01-01T00:00:00Z",  // signs and extended years
      "12024-01-01T00:00:00Z",
      "2024/01/01T00:00:00Z",
      "2024-01-01T00.00.00Z",
      "2024-01-01T00:00:00.-1Z",
      "2024-01-01T00:00:00.1 Z",
      "2024-01-01T00:00:00.1",     // fraction without Z
      "２０２４-01-01T00:00:00Z",  // full-width digits
      "2024-01-0aT00:00:00Z",
  };
  for (const char* s : kBad) {
    EXPECT_FALSE(ParseRfc3339(s).has_value()) << "accepted: \"" << s << "\"";
  }
  EXPECT_FALSE(ParseRfc3339(std::string("2024-01-01T00:00:00Z\0", 21)).has_value());
}

TEST(FormatRfc3339Test, MillisAndSeconds) {
  EXPECT_EQ(FormatRfc3339Millis(1709210096789), "2024-02-29T12:34:56.789Z");
  EXPECT_EQ(FormatRfc3339Seconds(1709210096789), "2024-02-29T12:34:56Z");
  EXPECT_EQ(FormatRfc3339Millis(1709210096007), "2024-02-29T12:34:56.007Z");
  // Before the epoch: floor, not truncation towards zero.
  EXPECT_EQ(FormatRfc3339Millis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Seconds(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339Seconds(-1000), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339Seconds(-1001), "1969-12-31T23:59:58Z");
  EXPECT_EQ(FormatRfc3339Millis(-2203891200000), "1900-03-01T00:00:00.000Z");
}

TEST(FormatRfc3339Test, RoundTripsThroughParse) {
  const std::int64_t kSamples[] = {0,
                                   1,
                                   -1,
                                   999,
                                   1000,
                                   1709210096789,
                                   1795694400000,
                                   951868799999,
                                   -62167219200000,
                                   253402300799999,
                                   -2203891200001};
  for (const std::int64_t t : kSamples) {
    EXPECT_EQ(ParseRfc3339(FormatRfc3339Millis(t)), t) << t;
    EXPECT_EQ(ParseRfc3339(FormatRfc3339Seconds(t)), t - (((t % 1000) + 1000) % 1000)) << t;
  }
  // A walk over ~4,000 years in irregular steps exercises every month, leap rule and
  // time of day.
  for (std::int64_t t = -62167219200000; t < 253402300799999; t += 31'557'600'123) {
    ASSERT_EQ(ParseRfc3339(FormatRfc3339Millis(t)), t) << t;
  }
}

// Every day from 0000-01-01 to 9999-12-31, counted by an independent, naive calendar: the
// day-number arithmetic must agree with it for all 3.65 million dates, both ways.
TEST(FormatRfc3339Test, EveryDayAgreesWithNaiveCalendar) {
  auto is_leap = [](int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); };
  const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::int64_t day = *ParseRfc3339("0000-01-01T00:00:00Z") / kDay;
  char buf[32];
  for (int y = 0; y <= 9999; ++y) {
    for (int m = 1; m <= 12; ++m) {
      const int n = m == 2 && is_leap(y) ? 29 : kDays[m - 1];
      for (int d = 1; d <= n; ++d, ++day) {
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT00:00:00Z", y, m, d);
        const auto parsed = ParseRfc3339(buf);
        ASSERT_TRUE(parsed.has_value()) << buf;
        ASSERT_EQ(*parsed, day * kDay) << buf;
        ASSERT_EQ(FormatRfc3339Seconds(day * kDay), buf);
      }
    }
  }
  EXPECT_EQ(day * kDay, 253402300800000);  // 10000-01-01
}

TEST(FormatRfc3339DeathTest, OutsideYearsZeroToNineThousandAborts) {
  EXPECT_DEATH((void)FormatRfc3339Millis(253402300800000), "outside years 0000-9999");
  EXPECT_DEATH((void)FormatRfc3339Seconds(-62167219200001), "outside years 0000-9999");
}

}  // namespace
}  // namespace registry::util
