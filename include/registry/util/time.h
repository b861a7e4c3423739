// RFC 3339 timestamps in UTC, as the data model uses them (created_at, expiry, signed_at,
// committed_at, expires_at). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "registry/util/clock.h"

namespace registry::util {

// Parses an RFC 3339 UTC timestamp: "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (upper-case T and Z;
// no numeric offsets, since the spec asks for UTC). Checks field ranges, including the
// day of the month. Returns nullopt on any deviation. Fractions beyond milliseconds are
// truncated.
std::optional<UnixMillis> ParseRfc3339(std::string_view text);

// Formats as "YYYY-MM-DDTHH:MM:SS.mmmZ" (always three fraction digits).
std::string FormatRfc3339Millis(UnixMillis t);

// Formats as "YYYY-MM-DDTHH:MM:SSZ" (whole seconds, truncated).
std::string FormatRfc3339Seconds(UnixMillis t);

}  // namespace registry::util
