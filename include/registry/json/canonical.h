// RFC 8785 (JSON Canonicalization Scheme) serialization of a json::Value.
//
// Object members are sorted by the UTF-16 code units of their names, strings use the JCS
// escaping rules (only ", \, and control characters are escaped; \b \t \n \f \r short forms,
// others as \u00xx lower-case), numbers use ECMAScript Number.prototype.toString, and there
// is no whitespace. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "registry/json/value.h"

namespace registry::json {

// Appends the canonical form of `value` to `out`.
// REQUIRES: every number in `value` is finite (true of any Value from Parse()).
void AppendCanonical(const Value& value, std::string& out);

// The canonical form of `value`.
std::string Canonicalize(const Value& value);

// Appends `s` as a JCS string literal, quotes included. REQUIRES: `s` is valid UTF-8.
void AppendCanonicalString(std::string_view s, std::string& out);

// Whether member name `a` sorts before `b` in JCS order: by UTF-16 code units, which differs
// from UTF-8 byte order only between U+E000..U+FFFF and supplementary characters.
// REQUIRES: both are valid UTF-8.
bool Utf16Less(std::string_view a, std::string_view b);

}  // namespace registry::json
