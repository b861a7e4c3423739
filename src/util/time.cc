#include "registry/util/time.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "registry/util/check.h"

// Calendar arithmetic on the proleptic Gregorian calendar, after Howard Hinnant's
// "chrono-Compatible Low-Level Date Algorithms" (days_from_civil / civil_from_days). No
// timegm, no locale, no TZ: the registry only ever speaks UTC.
//
// Decisions worth knowing:
// - Leap seconds: "SS" = 60 is rejected. RFC 3339 allows it only at the end of a month in
//   which one was inserted, Unix time cannot represent it, and no signer needs it.
// - Fractions: 1 to 9 digits; digits beyond milliseconds are truncated (never rounded), so
//   parsing never moves a time across a second boundary.
// - Years 0000-9999 are accepted (the RFC 3339 range). Formatting REQUIRES a time in that
//   range and aborts otherwise: a time outside it can only come from a bug, since every
//   parsed time and every clock reading lies inside it.

namespace registry::util {
namespace {

constexpr std::int64_t kMillisPerSecond = 1000;
constexpr std::int64_t kMillisPerDay = 86'400'000;

// Days since 1970-01-01 of the civil date y-m-d. REQUIRES 1 <= m <= 12, 1 <= d <= 31.
constexpr std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct CivilDate {
  std::int64_t year;
  unsigned month;  // [1, 12]
  unsigned day;    // [1, 31]
};

// The civil date `z` days after 1970-01-01 (inverse of DaysFromCivil).
constexpr CivilDate CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;                             // [1, 31]
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;                                // [1, 12]
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(2000, 3, 1) == 11017);
static_assert(CivilFromDays(11017).year == 2000 && CivilFromDays(11017).month == 3);

constexpr bool IsLeapYear(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned DaysInMonth(std::int64_t y, unsigned m) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

constexpr std::int64_t kMinMillis = DaysFromCivil(0, 1, 1) * kMillisPerDay;
constexpr std::int64_t kEndMillis = DaysFromCivil(10000, 1, 1) * kMillisPerDay;  // exclusive

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` ASCII digits at `pos`; nullopt if any is not a digit.
std::optional<unsigned> ReadDigits(std::string_view s, std::size_t pos, std::size_t n) {
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

// Writes `v` as exactly `n` zero-padded decimal digits at `out`.
void WriteDigits(char* out, unsigned v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

std::string Format(UnixMillis t, bool with_millis) {
  REGISTRY_CHECK(t >= kMinMillis && t < kEndMillis, "FormatRfc3339: time outside years 0000-9999");
  // Floor division, so that times before 1970 land on the right day.
  std::int64_t days = t / kMillisPerDay;
  std::int64_t ms_of_day = t % kMillisPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMillisPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  const auto secs = static_cast<unsigned>(ms_of_day / kMillisPerSecond);
  const auto ms = static_cast<unsigned>(ms_of_day % kMillisPerSecond);

  // "YYYY-MM-DDTHH:MM:SS.mmmZ"
  char buf[24];
  WriteDigits(buf, static_cast<unsigned>(date.year), 4);
  buf[4] = '-';
  WriteDigits(buf + 5, date.month, 2);
  buf[7] = '-';
  WriteDigits(buf + 8, date.day, 2);
  buf[10] = 'T';
  WriteDigits(buf + 11, secs / 3600, 2);
  buf[13] = ':';
  WriteDigits(buf + 14, secs / 60 % 60, 2);
  buf[16] = ':';
  WriteDigits(buf + 17, secs % 60, 2);
  if (!with_millis) {
    buf[19] = 'Z';
    return std::string(buf, 20);
  }
  buf[19] = '.';
  WriteDigits(buf + 20, ms, 3);
  buf[23] = 'Z';
  return std::string(buf, 24);
}

}  // namespace

std::optional<UnixMillis> ParseRfc3339(std::string_view text) {
  // Fixed layout up to the seconds: "YYYY-MM-DDTHH:MM:SS" is 19 bytes, then 'Z' or a fraction.
  constexpr std::size_t kSecondsEnd = 19;
  if (text.size() < kSecondsEnd + 1) return std::nullopt;
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const auto year = ReadDigits(text, 0, 4);
  const auto month = ReadDigits(text, 5, 2);
  const auto day = ReadDigits(text, 8, 2);
  const auto hour = ReadDigits(text, 11, 2);
  const auto minute = ReadDigits(text, 14, 2);
  const auto second = ReadDigits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12) return std::nullopt;
  if (*day < 1 || *day > DaysInMonth(*year, *month)) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;

  std::size_t pos = kSecondsEnd;
  unsigned millis = 0;
  if (text[pos] == '.') {
    ++pos;
    const std::size_t frac_begin = pos;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (pos - frac_begin < 3) millis = millis * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    const std::size_t frac_digits = pos - frac_begin;
    if (frac_digits < 1 || frac_digits > 9) return std::nullopt;
    for (std::size_t i = frac_digits; i < 3; ++i) millis *= 10;
  }
  // Exactly one upper-case 'Z', and nothing after it.
  if (pos + 1 != text.size() || text[pos] != 'Z') return std::nullopt;

  const std::int64_t days = DaysFromCivil(*year, *month, *day);
  const std::int64_t secs_of_day = *hour * 3600 + *minute * 60 + *second;
  return days * kMillisPerDay + secs_of_day * kMillisPerSecond + millis;
}

std::string FormatRfc3339Millis(UnixMillis t) { return Format(t, /*with_millis=*/true); }

std::string FormatRfc3339Seconds(UnixMillis t) { return Format(t, /*with_millis=*/false); }

}  // namespace registry::util
