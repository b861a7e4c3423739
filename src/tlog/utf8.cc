#include "utf8.h"

namespace registry::tlog::internal {

namespace {

// Length of the sequence a lead byte starts, 0 for a byte that cannot lead one.
std::size_t SequenceLength(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const std::size_t n = SequenceLength(b0);
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    if (n >= 3) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      if (b0 == 0xe0 && b1 < 0xa0) return false;  // overlong
      if (b0 == 0xed && b1 > 0x9f) return false;  // surrogate
      if (b0 == 0xf0 && b1 < 0x90) return false;  // overlong
      if (b0 == 0xf4 && b1 > 0x8f) return false;  // beyond U+10FFFF
    }
    i += n;
  }
  return true;
}

char32_t DecodeUtf8(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const std::size_t n = SequenceLength(b0);
  char32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1f) : n == 3 ? (b0 & 0x0f) : (b0 & 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  }
  i += n;
  return cp;
}

bool IsUnicodeSpace(char32_t cp) {
  switch (cp) {
    case U'\t':
    case U'\n':
    case U'\v':
    case U'\f':
    case U'\r':
    case U' ':
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200a;
  }
}

}  // namespace registry::tlog::internal
