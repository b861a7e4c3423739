#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "registry/config/config.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace registry::config {
namespace {

util::Error BadDuration(std::string_view text, std::string_view why) {
  return util::Error(util::ErrorCode::kMalformed,
                     "invalid duration \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

util::Result<milliseconds> ParseDuration(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) {
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
      return BadDuration(text, "must not have a sign");
    }
    return BadDuration(text, "expected digits followed by a unit (ms, s, m or h), e.g. \"5s\"");
  }
  std::string_view digits = text.substr(0, i);
  std::string_view unit = text.substr(i);
  if (unit.empty()) return BadDuration(text, "missing unit (ms, s, m or h)");
  if (unit[0] == '.') return BadDuration(text, "fractions are not allowed; use a smaller unit");
  std::int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 3600 * 1000;
  } else {
    return BadDuration(text, "unit must be ms, s, m or h");
  }
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  for (char c : digits) {
    const std::int64_t d = c - '0';
    if (value > (kMax - d) / 10) return BadDuration(text, "too large");
    value = value * 10 + d;
  }
  if (value > kMax / scale) return BadDuration(text, "too large");
  return milliseconds(value * scale);
}

std::string FormatDuration(milliseconds d) {
  const std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms % (3600 * 1000) == 0) return std::to_string(ms / (3600 * 1000)) + "h";
  if (ms % (60 * 1000) == 0) return std::to_string(ms / (60 * 1000)) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace registry::config
