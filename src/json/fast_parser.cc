// The fast path of json::Parse: simdjson's DOM parser (a fully validating parser: UTF-8,
// grammar, escapes, lone surrogate escapes, finite numbers), then one walk of its tape that
// builds the owned Value and makes the I-JSON checks simdjson does not: duplicate member
// names and our depth limit. Anything it declines goes to StrictParse.
#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "parse_internal.h"

namespace registry::json::internal {
namespace {

namespace dom = simdjson::dom;

// Inputs up to this size reuse the thread's parser and buffer; bigger ones (the rare
// multi-megabyte payload) get their own, freed after the call, so that one big request
// does not pin several times its size on every thread that ever served one.
constexpr std::size_t kRetainBytes = std::size_t{2} << 20;

struct ParserState {
  dom::parser parser;
  std::unique_ptr<char[]> buffer;  // input copy plus SIMDJSON_PADDING bytes
  std::size_t capacity = 0;

  // Copies `bytes` into the padded buffer simdjson needs; returns its start.
  const char* Load(std::string_view bytes) {
    const std::size_t needed = bytes.size() + simdjson::SIMDJSON_PADDING;
    if (capacity < needed) {
      buffer.reset(new char[needed]);
      capacity = needed;
    }
    if (!bytes.empty()) std::memcpy(buffer.get(), bytes.data(), bytes.size());
    std::memset(buffer.get() + bytes.size(), 0, simdjson::SIMDJSON_PADDING);
    return buffer.get();
  }
};

class TreeBuilder {
 public:
  // `depth` is the nesting depth of the container holding `element` (0 at the top).
  bool Build(dom::element element, std::size_t depth, Value& out) {
    switch (element.type()) {
      case dom::element_type::ARRAY: {
        if (depth + 1 > kMaxDepth) return false;
        dom::array array;
        if (element.get_array().get(array) != simdjson::SUCCESS) return false;
        Array elements;
        elements.reserve(array.size());
        for (dom::element child : array) {
          elements.emplace_back();
          if (!Build(child, depth + 1, elements.back())) return false;
        }
        out = Value(std::move(elements));
        return true;
      }
      case dom::element_type::OBJECT: {
        if (depth + 1 > kMaxDepth) return false;
        dom::object object;
        if (element.get_object().get(object) != simdjson::SUCCESS) return false;
        Object members;
        members.reserve(object.size());
        for (dom::key_value_pair field : object) {
          members.emplace_back(std::string(field.key), Value());
          if (!Build(field.value, depth + 1, members.back().second)) return false;
        }
        if (FindDuplicateMember(members) != kNoDuplicate) return false;
        out = Value(std::move(members));
        return true;
      }
      case dom::element_type::STRING: {
        std::string_view s;
        if (element.get_string().get(s) != simdjson::SUCCESS) return false;
        out = Value(s);
        return true;
      }
      case dom::element_type::INT64: {
        std::int64_t v;
        if (element.get_int64().get(v) != simdjson::SUCCESS) return false;
        // simdjson reads "-0" as the integer 0 and loses its sign; see FastParse.
        if (v == 0) saw_integer_zero_ = true;
        out = Value(static_cast<double>(v));  // correctly rounded, as a double parse would
        return true;
      }
      case dom::element_type::UINT64: {
        std::uint64_t v;
        if (element.get_uint64().get(v) != simdjson::SUCCESS) return false;
        out = Value(static_cast<double>(v));
        return true;
      }
      case dom::element_type::DOUBLE: {
        double d;
        if (element.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d)) return false;
        out = Value(d);
        return true;
      }
      case dom::element_type::BOOL: {
        bool b;
        if (element.get_bool().get(b) != simdjson::SUCCESS) return false;
        out = Value(b);
        return true;
      }
      case dom::element_type::NULL_VALUE:
        out = Value(nullptr);
        return true;
    }
    return false;
  }

  bool saw_integer_zero() const { return saw_integer_zero_; }

 private:
  bool saw_integer_zero_ = false;
};

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Whether the text may hold the number token -0 (with no fraction or exponent, which
// simdjson would have parsed as a double): "-0" where a value can start (after '[', ',',
// ':' or at the start, whitespace aside) and followed by where a value can end. Text
// inside strings rarely looks like that ("zone-0" does not); when it does, the false
// positive only costs a slower parse, never a wrong result.
bool MayContainNegativeIntegerZero(std::string_view bytes) {
  // memmem: glibc's two-byte search is far faster than find()'s memchr on '-', which is
  // common in ids and region names.
  const char* const begin = bytes.data();
  const char* const end = bytes.data() + bytes.size();
  for (const void* hit = memmem(begin, bytes.size(), "-0", 2); hit != nullptr;
       hit = memmem(static_cast<const char*>(hit) + 1,
                    static_cast<std::size_t>(end - static_cast<const char*>(hit) - 1), "-0", 2)) {
    const std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hit) - begin);
    if (i + 2 < bytes.size()) {
      const char next = bytes[i + 2];
      if (!(IsJsonWhitespace(next) || next == ',' || next == ']' || next == '}')) continue;
    }
    std::size_t before = i;
    while (before > 0 && IsJsonWhitespace(bytes[before - 1])) --before;
    if (before == 0) return true;
    const char prev = bytes[before - 1];
    if (prev == '[' || prev == ',' || prev == ':') return true;
  }
  return false;
}

}  // namespace

std::optional<Value> FastParse(std::string_view bytes) {
  thread_local ParserState thread_state;
  std::unique_ptr<ParserState> own_state;
  ParserState* state = &thread_state;
  if (bytes.size() > kRetainBytes) {
    own_state = std::make_unique<ParserState>();
    state = own_state.get();
  }
  const char* padded = state->Load(bytes);
  dom::element root;
  if (state->parser.parse(padded, bytes.size(), /*realloc_if_needed=*/false).get(root) !=
      simdjson::SUCCESS) {
    return std::nullopt;
  }
  TreeBuilder builder;
  Value value;
  if (!builder.Build(root, 0, value)) return std::nullopt;
  // An integer zero in the tree might have been "-0": a double parse of that text gives
  // -0.0, which simdjson cannot tell us, so the strict parser redoes such inputs.
  if (builder.saw_integer_zero() && MayContainNegativeIntegerZero(bytes)) return std::nullopt;
  return value;
}

}  // namespace registry::json::internal
