#include "registry/json/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <system_error>

#include "registry/util/check.h"

namespace registry::json {

void AppendEs6Number(double d, std::string& out) {
  REGISTRY_CHECK(std::isfinite(d), "AppendEs6Number: NaN or infinity has no JSON form");
  // ES6: both zeros print as "0".
  if (d == 0) {
    out.push_back('0');
    return;
  }
  // Integers below 2^53 are exact, and their shortest round-trip digits are the integer
  // itself (the spacing of doubles there is at most 1), so the integer path is exact.
  if (std::fabs(d) < 9007199254740992.0 && std::trunc(d) == d) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), static_cast<std::int64_t>(d));
    out.append(buf, r.ptr);
    return;
  }

  // Shortest round-trip digits (the closest of the shortest, as ES6 asks), in the form
  // "[-]d[.ddd]e(+|-)xx", which we re-lay out per ES2019 7.1.12.1 Number::toString.
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  REGISTRY_CHECK(r.ec == std::errc(), "AppendEs6Number: to_chars failed");
  const char* p = buf;
  if (*p == '-') {
    out.push_back('-');
    ++p;
  }
  char digits[24];
  int k = 0;  // number of significant digits
  digits[k++] = *p++;
  if (*p == '.') {
    ++p;
    while (*p != 'e') digits[k++] = *p++;
  }
  ++p;  // 'e'
  const bool negative_exponent = *p == '-';
  ++p;  // sign
  int exponent = 0;
  while (p < r.ptr) exponent = exponent * 10 + (*p++ - '0');
  if (negative_exponent) exponent = -exponent;
  // ES6's n: the value is 0.d1d2...dk x 10^n.
  const int n = exponent + 1;

  if (k <= n && n <= 21) {
    out.append(digits, k);
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, n);
    out.push_back('.');
    out.append(digits + n, k - n);
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(digits, k);
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits + 1, k - 1);
    }
    out.push_back('e');
    const int e = n - 1;
    out.push_back(e < 0 ? '-' : '+');
    char ebuf[8];
    const auto er = std::to_chars(ebuf, ebuf + sizeof(ebuf), std::abs(e));
    out.append(ebuf, er.ptr);
  }
}

std::string FormatEs6Number(double d) {
  std::string out;
  AppendEs6Number(d, out);
  return out;
}

}  // namespace registry::json
