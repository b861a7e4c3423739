// Property tests over random JSON values (seeded, so failures reproduce):
//  - canonical(parse(canonical(v))) == canonical(v);
//  - any textual form of v (member order, whitespace, escapes, number spelling) parses to a
//    value with the same canonical form, and so does a copy with shuffled members;
//  - on random mutations of valid text, the parser never crashes, simdjson's fast path and
//    the strict parser agree, and accepted input canonicalizes idempotently.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "parse_internal.h"
#include "registry/json/canonical.h"
#include "registry/json/number_format.h"
#include "registry/json/parse.h"

namespace registry::json {
namespace {

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
    case Type::kArray:
      return std::equal(a.as_array().begin(), a.as_array().end(), b.as_array().begin(),
                        b.as_array().end(), Identical);
    case Type::kObject:
      return std::equal(a.as_object().begin(), a.as_object().end(), b.as_object().begin(),
                        b.as_object().end(), [](const Member& x, const Member& y) {
                          return x.first == y.first && Identical(x.second, y.second);
                        });
  }
  return false;
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

// Decodes valid UTF-8 (as produced by the generator) into code points.
std::vector<std::uint32_t> CodePoints(std::string_view s) {
  std::vector<std::uint32_t> cps;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    cps.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return cps;
}

class RandomJson {
 public:
  explicit RandomJson(std::uint32_t seed) : rng_(seed) {}

  std::mt19937& rng() { return rng_; }

  Value Generate(int depth) {
    const int pick = Uniform(0, depth >= 5 ? 5 : 9);
    switch (pick) {
      case 0:
        return Value();
      case 1:
        return Value(Uniform(0, 1) == 1);
      case 2:
      case 3:
        return Value(Number());
      case 4:
      case 5:
        return Value(String());
      case 6:
      case 7: {
        Array elements;
        const int n = Uniform(0, 6);
        for (int i = 0; i < n; ++i) elements.push_back(Generate(depth + 1));
        return Value(std::move(elements));
      }
      default: {
        Object members;
        const int n = Uniform(0, 8);
        for (int i = 0; i < n; ++i) {
          std::string name = String();
          const bool taken = std::any_of(members.begin(), members.end(),
                                         [&](const Member& m) { return m.first == name; });
          if (!taken) members.emplace_back(std::move(name), Generate(depth + 1));
        }
        return Value(std::move(members));
      }
    }
  }

  // A textual form of `v`: members shuffled, random whitespace, random escapes, random
  // spelling of numbers. Parses back to `v` up to member order.
  void Emit(const Value& v, std::string& out) {
    Whitespace(out);
    switch (v.type()) {
      case Type::kNull:
        out += "null";
        break;
      case Type::kBool:
        out += v.as_bool() ? "true" : "false";
        break;
      case Type::kNumber:
        EmitNumber(v.as_number(), out);
        break;
      case Type::kString:
        EmitString(v.as_string(), out);
        break;
      case Type::kArray: {
        out.push_back('[');
        bool first = true;
        for (const Value& e : v.as_array()) {
          if (!first) out.push_back(',');
          first = false;
          Emit(e, out);
        }
        Whitespace(out);
        out.push_back(']');
        break;
      }
      case Type::kObject: {
        std::vector<const Member*> order;
        for (const Member& m : v.as_object()) order.push_back(&m);
        std::shuffle(order.begin(), order.end(), rng_);
        out.push_back('{');
        bool first = true;
        for (const Member* m : order) {
          if (!first) out.push_back(',');
          first = false;
          Whitespace(out);
          EmitString(m->first, out);
          Whitespace(out);
          out.push_back(':');
          Emit(m->second, out);
        }
        Whitespace(out);
        out.push_back('}');
        break;
      }
    }
    Whitespace(out);
  }

  // A deep copy with every object's members in a new random order.
  Value Shuffled(const Value& v) {
    if (v.is_array()) {
      Array elements;
      for (const Value& e : v.as_array()) elements.push_back(Shuffled(e));
      return Value(std::move(elements));
    }
    if (v.is_object()) {
      Object members;
      for (const Member& m : v.as_object()) members.emplace_back(m.first, Shuffled(m.second));
      std::shuffle(members.begin(), members.end(), rng_);
      return Value(std::move(members));
    }
    return v;
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  double Number() {
    switch (Uniform(0, 7)) {
      case 0:
        return Uniform(-1000, 1000);
      case 1:
        return static_cast<double>(std::uniform_int_distribution<std::int64_t>()(rng_));
      case 2:
        return Uniform(-100000, 100000) / 100.0;
      case 3: {
        for (;;) {  // any finite bit pattern, subnormals included
          const double d =
              std::bit_cast<double>(std::uniform_int_distribution<std::uint64_t>()(rng_));
          if (std::isfinite(d)) return d;
        }
      }
      case 4:
        return std::pow(10.0, Uniform(-9, 23)) * (Uniform(0, 1) ? 1 : -1);
      case 5:
        return 18446744073709551616.0 * Uniform(1, 1000);
      case 6:
        return Uniform(0, 1) ? -0.0 : 0.0;
      default:
        return std::ldexp(static_cast<double>(Uniform(1, 1 << 20)), Uniform(-1074, 1000));
    }
  }

  std::string String() {
    static const std::vector<std::pair<std::uint32_t, std::uint32_t>> kRanges = {
        {'a', 'z'},          {'0', '9'},   {0x00, 0x1F},     {'"', '"'},         {'\\', '\\'},
        {'/', '/'},          {0x7F, 0x7F}, {0x80, 0x7FF},    {0x800, 0xD7FF},    {0xE000, 0xFFFF},
        {0x10000, 0x10FFFF}, {'A', 'Z'},   {0x2028, 0x2029}, {0x1F600, 0x1F64F},
    };
    std::string s;
    const int len = Uniform(0, 8);
    for (int i = 0; i < len; ++i) {
      const auto& [lo, hi] = kRanges[static_cast<std::size_t>(Uniform(0, kRanges.size() - 1))];
      AppendUtf8(std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng_), s);
    }
    return s;
  }

  void Whitespace(std::string& out) {
    static constexpr char kWs[] = {' ', '\t', '\n', '\r'};
    if (Uniform(0, 3) != 0) return;
    const int n = Uniform(1, 3);
    for (int i = 0; i < n; ++i) out.push_back(kWs[Uniform(0, 3)]);
  }

  void EmitNumber(double d, std::string& out) {
    char buf[64];
    switch (Uniform(0, 3)) {
      case 0:
        AppendEs6Number(d, out);
        if (d == 0 && std::signbit(d)) out.insert(out.size() - 1, "-");
        return;
      case 1: {
        const auto r = std::to_chars(buf, buf + sizeof(buf), d);  // shortest, may be "1e+30"
        out.append(buf, r.ptr);
        return;
      }
      case 2:
        std::snprintf(buf, sizeof(buf), "%.17E", d);  // upper-case exponent, trailing digits
        out += buf;
        return;
      default:
        std::snprintf(buf, sizeof(buf), "%.25g", d);
        out += buf;
        return;
    }
  }

  void EmitString(std::string_view s, std::string& out) {
    static constexpr char kHexLower[] = "0123456789abcdef";
    static constexpr char kHexUpper[] = "0123456789ABCDEF";
    auto escape_unit = [&](std::uint32_t unit) {
      const char* hex = Uniform(0, 1) ? kHexLower : kHexUpper;
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out.push_back(hex[(unit >> shift) & 0xF]);
    };
    out.push_back('"');
    for (std::uint32_t cp : CodePoints(s)) {
      const bool must_escape = cp < 0x20 || cp == '"' || cp == '\\';
      if (!must_escape && Uniform(0, 3) != 0) {
        AppendUtf8(cp, out);
        continue;
      }
      const char* short_form = nullptr;
      switch (cp) {
        case '"':
          short_form = "\\\"";
          break;
        case '\\':
          short_form = "\\\\";
          break;
        case '/':
          short_form = "\\/";
          break;
        case '\b':
          short_form = "\\b";
          break;
        case '\f':
          short_form = "\\f";
          break;
        case '\n':
          short_form = "\\n";
          break;
        case '\r':
          short_form = "\\r";
          break;
        case '\t':
          short_form = "\\t";
          break;
        default:
          break;
      }
      if (short_form != nullptr && Uniform(0, 1) == 0) {
        out += short_form;
      } else if (cp >= 0x10000) {
        escape_unit(0xD800 + ((cp - 0x10000) >> 10));
        escape_unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        escape_unit(cp);
      }
    }
    out.push_back('"');
  }

  std::mt19937 rng_;
};

TEST(JsonPropertyTest, CanonicalFormIsStableAcrossSpellingsAndOrders) {
  RandomJson gen(20240601);
  for (int i = 0; i < 1000; ++i) {
    SCOPED_TRACE(i);
    const Value v = gen.Generate(0);
    const std::string canonical = Canonicalize(v);

    // canonical(parse(canonical(v))) == canonical(v), and the re-parse is v up to order.
    auto reparsed = Parse(canonical);
    ASSERT_TRUE(reparsed.ok()) << reparsed.error().message() << "\n" << canonical;
    EXPECT_EQ(Canonicalize(*reparsed), canonical);
    EXPECT_EQ(Canonicalize(gen.Shuffled(*reparsed)), canonical);

    // A copy with every object's members reordered has the same canonical form.
    EXPECT_EQ(Canonicalize(gen.Shuffled(v)), canonical);

    // Any spelling of v parses to the same canonical form, on both parser paths.
    std::string text;
    gen.Emit(v, text);
    const ParseOutcome outcome = ParseDetailed(text);
    ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message() << "\n" << text;
    EXPECT_EQ(Canonicalize(outcome.result.value()), canonical) << text;
    const ParseOutcome strict = internal::StrictParse(text);
    ASSERT_TRUE(strict.result.ok()) << strict.result.error().message();
    EXPECT_TRUE(Identical(strict.result.value(), outcome.result.value())) << text;
  }
}

TEST(JsonPropertyTest, MutatedInputNeverCrashesAndBothPathsAgree) {
  RandomJson gen(7493);
  static constexpr char kInteresting[] = {'{', '}', '[', ']', '"', '\\', ',', ':', '-',  '0',
                                          '1', 'e', '.', ' ', 'u', 'd',  'n', 't', '\0', '\x7f'};
  int accepted = 0;
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    SCOPED_TRACE(i);
    std::string text;
    gen.Emit(gen.Generate(0), text);
    const int mutations = gen.Uniform(1, 3);
    for (int m = 0; m < mutations; ++m) {
      const std::size_t at =
          text.empty()
              ? 0
              : static_cast<std::size_t>(gen.Uniform(0, static_cast<int>(text.size()) - 1));
      switch (gen.Uniform(0, 4)) {
        case 0:
          if (!text.empty()) text[at] = static_cast<char>(gen.Uniform(0, 255));
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at),
                      kInteresting[gen.Uniform(0, sizeof(kInteresting) - 1)]);
          break;
        case 2:
          if (!text.empty()) text.erase(at, 1);
          break;
        case 3:
          text.insert(at, text.substr(at, static_cast<std::size_t>(gen.Uniform(1, 8))));
          break;
        default:
          text.resize(at);
          break;
      }
    }
    const ParseOutcome outcome = ParseDetailed(text);
    const std::optional<Value> fast = internal::FastParse(text);
    const ParseOutcome strict = internal::StrictParse(text);
    ASSERT_EQ(outcome.result.ok(), strict.result.ok());
    if (fast.has_value()) {
      ASSERT_TRUE(strict.result.ok())
          << "simdjson accepted, strict parser rejected: " << strict.result.error().message();
      EXPECT_TRUE(Identical(*fast, strict.result.value()));
    }
    if (!outcome.result.ok()) {
      ++rejected;
      EXPECT_EQ(outcome.error_kind, strict.error_kind);
      EXPECT_EQ(outcome.result.error().message(), strict.result.error().message());
      continue;
    }
    ++accepted;
    const std::string canonical = Canonicalize(outcome.result.value());
    auto again = Parse(canonical);
    ASSERT_TRUE(again.ok()) << again.error().message();
    EXPECT_EQ(Canonicalize(*again), canonical);
    EXPECT_EQ(Canonicalize(gen.Shuffled(*again)), canonical);
  }
  // Both outcomes must be well represented for the property to mean anything.
  EXPECT_GT(accepted, 200);
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace registry::json
