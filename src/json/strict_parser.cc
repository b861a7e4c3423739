// The reference parser: RFC 8259 grammar restricted to I-JSON (RFC 7493), in plain
// recursive descent. It runs only when simdjson declines an input, so it favours exact
// diagnostics over speed; its recursion is bounded by kMaxDepth.
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "parse_internal.h"
#include "registry/util/check.h"
#include "registry/util/error.h"

namespace registry::json::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// What may follow a number or a literal: otherwise the token runs into garbage ("1x",
// "01", "truex"), which is a syntax error inside the token rather than trailing bytes.
bool IsDelimiter(char c) { return IsWhitespace(c) || c == ',' || c == ']' || c == '}'; }

// Bytes that a string may contain literally (everything but '"', '\' and C0 controls).
constexpr std::array<bool, 256> MakePlainTable() {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 256; ++c) table[c] = true;
  table['"'] = false;
  table['\\'] = false;
  return table;
}
constexpr std::array<bool, 256> kPlain = MakePlainTable();

std::string HexByte(unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{'0', 'x', kHex[c >> 4], kHex[c & 0xF]};
}

// A byte for a message: 'x' when printable ASCII, 0xNN otherwise.
std::string DescribeByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7F) return std::string{'\'', c, '\''};
  return HexByte(u);
}

std::string CodeUnitName(std::uint32_t unit) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s = "U+";
  for (int shift = 12; shift >= 0; shift -= 4) s.push_back(kHex[(unit >> shift) & 0xF]);
  return s;
}

// Untrusted text for a message: at most 64 bytes (cut on a character boundary), control
// characters as \u00xx. The input is valid UTF-8 by the time this runs.
std::string Sanitize(std::string_view s) {
  constexpr std::size_t kMax = 64;
  bool truncated = false;
  if (s.size() > kMax) {
    std::size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut);
    truncated = true;
  }
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out += "\\u00" + HexByte(u).substr(2);
    } else {
      out.push_back(c);
    }
  }
  if (truncated) out += "...";
  return out;
}

// One JSON Pointer (RFC 6901) reference token, sanitized for a message.
std::string PointerToken(std::string_view name) {
  std::string escaped;
  for (char c : name) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped.push_back(c);
    }
  }
  return "/" + Sanitize(escaped);
}

struct Utf8Error {
  std::size_t offset;
  bool surrogate;            // a UTF-8-encoded surrogate (ED A0..BF xx)
  std::uint32_t code_point;  // when `surrogate`
};

// The first ill-formed sequence per Unicode Table 3-7, or nullopt.
std::optional<Utf8Error> FindUtf8Error(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  auto is_cont = [&](std::size_t k) { return k < n && (p[k] & 0xC0) == 0x80; };
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return Utf8Error{i, false, 0};
    }
    if (i + 1 >= n) return Utf8Error{i, false, 0};
    const unsigned char c1 = p[i + 1];
    if (c == 0xED && c1 >= 0xA0 && c1 <= 0xBF && is_cont(i + 2)) {
      const std::uint32_t cp = 0xD000u | ((c1 & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
      return Utf8Error{i, true, cp};
    }
    if (c1 < lo || c1 > hi) return Utf8Error{i, false, 0};
    for (std::size_t k = 2; k < len; ++k) {
      if (!is_cont(i + k)) return Utf8Error{i, false, 0};
    }
    i += len;
  }
  return std::nullopt;
}

void AppendUtf8(std::uint32_t cp, std::string& out) {
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
}

// Four hex digits at [p, p + 4), if all inside [p, end).
bool ReadHex4(const char* p, const char* end, std::uint32_t& out) {
  if (end - p < 4) return false;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = p[i];
    std::uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  out = v;
  return true;
}

// Whether a number token that from_chars called out of range is too large (rather than
// too small, which rounds to zero as in every JSON parser). Out of range means a decimal
// exponent of at least 308 or at most -324, so the sign of the exponent of the first
// significant digit decides. REQUIRES: `token` matches the JSON number grammar.
bool Overflows(std::string_view token) {
  std::size_t i = token[0] == '-' ? 1 : 0;
  std::int64_t int_digits = 0;
  std::int64_t lead = 0;  // decimal exponent of the first non-zero digit
  bool found = false;
  for (; i < token.size() && IsDigit(token[i]); ++i, ++int_digits) {
    if (!found && token[i] != '0') {
      found = true;
      lead = int_digits;  // fixed up below, once int_digits is known
    }
  }
  if (found) lead = int_digits - 1 - lead;
  if (i < token.size() && token[i] == '.') {
    ++i;
    for (std::int64_t j = 1; i < token.size() && IsDigit(token[i]); ++i, ++j) {
      if (!found && token[i] != '0') {
        found = true;
        lead = -j;
      }
    }
  }
  std::int64_t exponent = 0;
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    bool negative = false;
    if (token[i] == '+' || token[i] == '-') negative = token[i++] == '-';
    for (; i < token.size(); ++i) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (token[i] - '0');
    }
    if (negative) exponent = -exponent;
  }
  return found && lead + exponent > 0;
}

class StrictParser {
 public:
  explicit StrictParser(std::string_view in)
      : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()) {}

  ParseOutcome Run() {
    if (const auto bad = FindUtf8Error(std::string_view(begin_, end_ - begin_))) {
      if (bad->surrogate) {
        Fail(ParseErrorKind::kLoneSurrogate, begin_ + bad->offset,
             "surrogate " + CodeUnitName(bad->code_point) + " encoded in UTF-8");
      } else {
        Fail(ParseErrorKind::kInvalidUtf8, begin_ + bad->offset,
             "ill-formed sequence starting with byte " +
                 HexByte(static_cast<unsigned char>(begin_[bad->offset])));
      }
      return Error();
    }
    SkipWhitespace();
    if (p_ == end_) {
      Fail(ParseErrorKind::kEmpty, p_, "no JSON value in the input");
      return Error();
    }
    Value value;
    if (!ParseValue(value, 0)) return Error();
    SkipWhitespace();
    if (p_ != end_) {
      Fail(ParseErrorKind::kTrailingGarbage, p_, DescribeByte(*p_) + " after the JSON value");
      return Error();
    }
    return ParseOutcome{util::Result<Value>(std::move(value))};
  }

 private:
  // Records the error; always returns false so that callers can `return Fail(...)`.
  bool Fail(ParseErrorKind kind, const char* at, std::string detail) {
    kind_ = kind;
    offset_ = static_cast<std::size_t>(at - begin_);
    detail_ = std::move(detail);
    return false;
  }

  ParseOutcome Error() {
    std::string message(ParseErrorKindName(kind_));
    message += ": ";
    message += detail_;
    message += " at byte ";
    message += std::to_string(offset_);
    if (!path_.empty()) {
      message += " (in ";
      for (auto it = path_.rbegin(); it != path_.rend(); ++it) message += *it;
      message += ")";
    }
    return ParseOutcome{util::Error(util::ErrorCode::kMalformed, std::move(message)), kind_};
  }

  void SkipWhitespace() {
    while (p_ < end_ && IsWhitespace(*p_)) ++p_;
  }

  bool UnexpectedEnd(std::string_view where) {
    return Fail(ParseErrorKind::kSyntax, p_, "unexpected end of input in " + std::string(where));
  }

  // `depth` is the nesting depth of the container holding the value (0 at the top).
  bool ParseValue(Value& out, std::size_t depth) {
    if (p_ == end_) return UnexpectedEnd("a value");
    switch (*p_) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        if (!ParseString(s)) return false;
        out = Value(std::move(s));
        return true;
      }
      case 't':
        return ParseLiteral("true", Value(true), out);
      case 'f':
        return ParseLiteral("false", Value(false), out);
      case 'n':
        return ParseLiteral("null", Value(nullptr), out);
      default:
        if (*p_ == '-' || IsDigit(*p_)) return ParseNumber(out);
        return Fail(ParseErrorKind::kSyntax, p_, "unexpected " + DescribeByte(*p_));
    }
  }

  bool CheckDepth(std::size_t depth) {
    if (depth <= kMaxDepth) return true;
    return Fail(ParseErrorKind::kTooDeep, p_,
                "more than " + std::to_string(kMaxDepth) + " nested arrays/objects");
  }

  bool ParseArray(Value& out, std::size_t depth) {
    if (!CheckDepth(depth)) return false;
    ++p_;
    Array elements;
    SkipWhitespace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      out = Value(std::move(elements));
      return true;
    }
    for (;;) {
      elements.emplace_back();
      if (!ParseValue(elements.back(), depth)) {
        path_.push_back(std::string("/").append(std::to_string(elements.size() - 1)));
        return false;
      }
      SkipWhitespace();
      if (p_ == end_) return UnexpectedEnd("an array");
      if (*p_ == ',') {
        ++p_;
        SkipWhitespace();
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        break;
      }
      return Fail(ParseErrorKind::kSyntax, p_,
                  "expected ',' or ']' but found " + DescribeByte(*p_));
    }
    out = Value(std::move(elements));
    return true;
  }

  bool ParseObject(Value& out, std::size_t depth) {
    if (!CheckDepth(depth)) return false;
    ++p_;
    Object members;
    std::vector<const char*> name_positions;
    SkipWhitespace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      out = Value(std::move(members));
      return true;
    }
    for (;;) {
      if (p_ == end_) return UnexpectedEnd("an object");
      if (*p_ != '"') {
        return Fail(ParseErrorKind::kSyntax, p_,
                    "expected a member name but found " + DescribeByte(*p_));
      }
      name_positions.push_back(p_);
      members.emplace_back();
      if (!ParseString(members.back().first)) return false;
      SkipWhitespace();
      if (p_ == end_) return UnexpectedEnd("an object");
      if (*p_ != ':') {
        return Fail(ParseErrorKind::kSyntax, p_,
                    "expected ':' after a member name but found " + DescribeByte(*p_));
      }
      ++p_;
      SkipWhitespace();
      if (!ParseValue(members.back().second, depth)) {
        path_.push_back(PointerToken(members.back().first));
        return false;
      }
      SkipWhitespace();
      if (p_ == end_) return UnexpectedEnd("an object");
      if (*p_ == ',') {
        ++p_;
        SkipWhitespace();
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        break;
      }
      return Fail(ParseErrorKind::kSyntax, p_,
                  "expected ',' or '}' but found " + DescribeByte(*p_));
    }
    const std::size_t dup = FindDuplicateMember(members);
    if (dup != kNoDuplicate) {
      return Fail(ParseErrorKind::kDuplicateMember, name_positions[dup],
                  std::string("\"").append(Sanitize(members[dup].first)).append("\""));
    }
    out = Value(std::move(members));
    return true;
  }

  // REQUIRES: *p_ == '"'. The bytes are valid UTF-8 (checked up front).
  bool ParseString(std::string& out) {
    const char* const open = p_;
    const char* q = p_ + 1;
    for (;;) {
      const char* run = q;
      while (q < end_ && kPlain[static_cast<unsigned char>(*q)]) ++q;
      out.append(run, q);
      if (q == end_) return Fail(ParseErrorKind::kSyntax, open, "unterminated string");
      if (*q == '"') {
        p_ = q + 1;
        return true;
      }
      if (*q != '\\') {
        return Fail(ParseErrorKind::kSyntax, q,
                    "unescaped control character " + CodeUnitName(static_cast<unsigned char>(*q)) +
                        " in a string");
      }
      const char* const escape = q;
      if (++q == end_) return Fail(ParseErrorKind::kSyntax, open, "unterminated string");
      switch (*q++) {
        case '"':
          out.push_back('"');
          continue;
        case '\\':
          out.push_back('\\');
          continue;
        case '/':
          out.push_back('/');
          continue;
        case 'b':
          out.push_back('\b');
          continue;
        case 'f':
          out.push_back('\f');
          continue;
        case 'n':
          out.push_back('\n');
          continue;
        case 'r':
          out.push_back('\r');
          continue;
        case 't':
          out.push_back('\t');
          continue;
        case 'u':
          break;
        default:
          return Fail(ParseErrorKind::kSyntax, escape,
                      "invalid escape \\" + Sanitize(std::string_view(q - 1, 1)));
      }
      std::uint32_t unit;
      if (!ReadHex4(q, end_, unit)) {
        return Fail(ParseErrorKind::kSyntax, escape, "invalid \\u escape");
      }
      q += 4;
      std::uint32_t cp = unit;
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        return Fail(ParseErrorKind::kLoneSurrogate, escape,
                    "low surrogate \\u escape " + CodeUnitName(unit) +
                        " without a high surrogate before it");
      }
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        std::uint32_t low = 0;
        if (end_ - q >= 2 && q[0] == '\\' && q[1] == 'u') {
          if (!ReadHex4(q + 2, end_, low)) {
            return Fail(ParseErrorKind::kSyntax, q, "invalid \\u escape");
          }
        }
        if (low < 0xDC00 || low > 0xDFFF) {
          return Fail(ParseErrorKind::kLoneSurrogate, escape,
                      "high surrogate \\u escape " + CodeUnitName(unit) +
                          " not followed by a low surrogate escape");
        }
        q += 6;
        cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
      }
      AppendUtf8(cp, out);
    }
  }

  bool ParseLiteral(std::string_view word, Value value, Value& out) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return Fail(ParseErrorKind::kSyntax, p_,
                  "invalid literal (expected " + std::string(word) + ")");
    }
    const char* after = p_ + word.size();
    if (after < end_ && !IsDelimiter(*after)) {
      return Fail(ParseErrorKind::kSyntax, after,
                  "unexpected " + DescribeByte(*after) + " after " + std::string(word));
    }
    p_ = after;
    out = std::move(value);
    return true;
  }

  bool ParseNumber(Value& out) {
    const char* const start = p_;
    const char* q = p_;
    const bool negative = *q == '-';
    if (negative) ++q;
    if (q == end_ || !IsDigit(*q)) {
      return Fail(ParseErrorKind::kSyntax, q, "expected a digit in a number");
    }
    if (*q == '0') {
      ++q;
      if (q < end_ && IsDigit(*q)) {
        return Fail(ParseErrorKind::kSyntax, start, "leading zero in a number");
      }
    } else {
      while (q < end_ && IsDigit(*q)) ++q;
    }
    const std::size_t int_digits = static_cast<std::size_t>(q - start) - (negative ? 1 : 0);
    bool integer = true;
    if (q < end_ && *q == '.') {
      integer = false;
      ++q;
      if (q == end_ || !IsDigit(*q)) {
        return Fail(ParseErrorKind::kSyntax, q, "expected a digit after the decimal point");
      }
      while (q < end_ && IsDigit(*q)) ++q;
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      integer = false;
      ++q;
      if (q < end_ && (*q == '+' || *q == '-')) ++q;
      if (q == end_ || !IsDigit(*q)) {
        return Fail(ParseErrorKind::kSyntax, q, "expected a digit in the exponent");
      }
      while (q < end_ && IsDigit(*q)) ++q;
    }
    if (q < end_ && !IsDelimiter(*q)) {
      return Fail(ParseErrorKind::kSyntax, q, "unexpected " + DescribeByte(*q) + " after a number");
    }
    const std::string_view token(start, static_cast<std::size_t>(q - start));
    double d;
    if (integer && int_digits <= 18) {
      // Exact in int64, and int64 -> double rounds correctly; "-0" stays -0.0.
      std::int64_t v = 0;
      for (const char* c = q - int_digits; c < q; ++c) v = v * 10 + (*c - '0');
      d = static_cast<double>(v);
      if (negative) d = -d;
    } else {
      const auto r = std::from_chars(start, q, d);
      if (r.ec == std::errc::result_out_of_range) {
        if (Overflows(token)) {
          return Fail(ParseErrorKind::kNumberOutOfRange, start,
                      Sanitize(token) + " is beyond the range of an IEEE-754 double");
        }
        d = negative ? -0.0 : 0.0;  // underflow rounds to zero
      } else {
        REGISTRY_CHECK(r.ec == std::errc() && r.ptr == q, "from_chars rejected a JSON number");
      }
    }
    p_ = q;
    out = Value(d);
    return true;
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
  ParseErrorKind kind_ = ParseErrorKind::kSyntax;
  std::size_t offset_ = 0;
  std::string detail_;
  std::vector<std::string> path_;  // innermost first, filled while an error unwinds
};

}  // namespace

ParseOutcome StrictParse(std::string_view bytes) { return StrictParser(bytes).Run(); }

}  // namespace registry::json::internal
