// UTF-8 helpers for the note formats: validity as Go's utf8.ValidString decides it, and
// white space as Go's unicode.IsSpace does (the note package rejects key names with any).
// Pure; thread-safe. Private to src/tlog.
#pragma once

#include <cstddef>
#include <string_view>

namespace registry::tlog::internal {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view s);

// The code point starting at s[i]; advances i past it. REQUIRES: IsValidUtf8(s), i < size.
char32_t DecodeUtf8(std::string_view s, std::size_t& i);

// Unicode White_Space (Go's unicode.IsSpace).
bool IsUnicodeSpace(char32_t cp);

}  // namespace registry::tlog::internal
