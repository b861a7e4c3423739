// Strict parsing of untrusted bytes into a json::Value (simdjson underneath).
//
// Accepts exactly I-JSON (RFC 7493) as RFC 8785 requires of its input, and rejects with a
// distinct ParseErrorKind: invalid UTF-8 (anywhere, including inside strings), lone
// surrogates (raw or as \u escapes), duplicate member names, numbers that are not finite
// IEEE-754 doubles, nesting deeper than kMaxDepth, trailing bytes after the value, and any
// other syntax error. Thread-safe: each call uses its own parser state (a thread-local
// simdjson parser is reused across calls on the same thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "registry/json/value.h"
#include "registry/util/result.h"

namespace registry::json {

// Deepest nesting accepted: an array or object counts one level, so a scalar at the top is
// depth 0 and `[[1]]` is depth 2.
inline constexpr std::size_t kMaxDepth = 64;

enum class ParseErrorKind : std::uint8_t {
  kSyntax,
  kInvalidUtf8,
  kLoneSurrogate,
  kDuplicateMember,
  kNumberOutOfRange,
  kTooDeep,
  kTrailingGarbage,
  kEmpty,
};

std::string_view ParseErrorKindName(ParseErrorKind kind);

// The detailed outcome of a parse, for tests and fuzzers. `error_kind` is meaningful only
// when the result is an error.
struct ParseOutcome {
  util::Result<Value> result;
  ParseErrorKind error_kind = ParseErrorKind::kSyntax;
};

// Parses `bytes`. Every failure is ErrorCode::kMalformed with a message that starts with
// the kind name, then says where: the byte offset and, inside a container, the JSON Pointer
// of the offending value (e.g. `duplicate member name: "a" at byte 15 (in /items/1)`).
// Member names quoted in messages are truncated and stripped of control characters.
// A surrogate code point encoded directly in UTF-8 (ED A0..BF xx, ill-formed UTF-8) is
// reported as kLoneSurrogate; every other ill-formed byte sequence as kInvalidUtf8.
// Numbers that underflow (1e-400) round to zero as in every JSON parser; only magnitudes
// beyond the largest double are kNumberOutOfRange.
//
// Cost: simdjson validates and builds a tape, then one pass builds the Value. Inputs up to
// 2 MiB reuse a thread-local simdjson parser; larger ones use a parser freed after the
// call. Rejected input, and the rare valid input simdjson cannot represent exactly
// (integers beyond 64 bits, -0), are re-parsed by a slower portable parser that is the
// reference for what is accepted.
ParseOutcome ParseDetailed(std::string_view bytes);

// Same as ParseDetailed(bytes).result.
util::Result<Value> Parse(std::string_view bytes);

}  // namespace registry::json
