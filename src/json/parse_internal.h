// Internals of json::Parse, shared by the parser's two halves and by their tests and fuzz
// target. Not part of the public API: only src/json, tests/json and fuzz/ include it.
//
// Parse runs FastParse (simdjson's DOM, then the checks simdjson does not make) and, when it
// declines, StrictParse: a portable recursive-descent parser of exactly the accepted
// language, which either finds the first error (its kind, byte offset and path) or, for the
// few valid inputs simdjson cannot represent (integers beyond 64 bits, -0), builds the value.
// StrictParse is the definition of what is accepted; FastParse MUST only ever accept a
// subset of it, with an identical value (tests and the fuzz target check this).
// Thread-safe: FastParse keeps its simdjson state thread-local.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "registry/json/parse.h"
#include "registry/json/value.h"

namespace registry::json::internal {

// Index of the first member (in input order) whose name equals an earlier member's name, or
// npos. Small objects compare pairwise; large ones sort an index vector.
inline constexpr std::size_t kNoDuplicate = static_cast<std::size_t>(-1);
std::size_t FindDuplicateMember(const Object& members);

// The value, if simdjson accepts `bytes` and the result passes the I-JSON checks simdjson
// does not make (duplicate names, depth); nullopt when the input must go to StrictParse,
// which is every rejected input and a few valid ones.
std::optional<Value> FastParse(std::string_view bytes);

// The strict reference parser. Slower than FastParse but exact, with precise diagnostics.
ParseOutcome StrictParse(std::string_view bytes);

}  // namespace registry::json::internal
