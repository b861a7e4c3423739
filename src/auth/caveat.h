// Parsing of the first-party caveats the registry understands (internal to the auth module;
// the formats are documented in include/registry/auth/token.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace registry::auth::internal {

inline constexpr std::string_view kScopePrefix = "scope = ";
inline constexpr std::string_view kExpiresPrefix = "expires = ";

// Bit (1 << static_cast<int>(scope)) for each scope.
using ScopeMask = std::uint8_t;

struct ParsedCaveat {
  enum class Kind { kScope, kExpires };
  Kind kind;
  ScopeMask scopes = 0;             // kScope: the scopes listed (at least one)
  std::int64_t expires_millis = 0;  // kExpires: N * 1000
};

// The caveat, or nullopt if it is not well formed: a scope list must be one or more known
// scope names separated by single spaces; an expiry must be 1 to 15 decimal digits.
std::optional<ParsedCaveat> ParseCaveat(std::string_view predicate);

}  // namespace registry::auth::internal
