// Minting and attenuating capability tokens: macaroons (libmacaroons, V1 serialization, which
// is URL-safe base64 without padding) carrying first-party caveats
//
//   "scope = registry:propose registry:commit"   (one or more scope names, single spaces)
//   "expires = 1767225600"                       (Unix seconds; valid while now < expires)
//
// Anyone holding a token can attenuate it by appending further caveats; every caveat must hold
// at verification, so an added scope caveat can only narrow the scopes (see verifier.h).
//
// Tokens are bearer secrets: never log them. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "registry/auth/root_key.h"
#include "registry/auth/scope.h"
#include "registry/util/clock.h"
#include "registry/util/result.h"

namespace registry::auth {

inline constexpr std::string_view kDefaultLocation = "svc-registry";

// Longer tokens are rejected before any parsing (a token with dozens of caveats fits easily).
inline constexpr std::size_t kMaxTokenBytes = 8192;

// Identifier and location are bounded well below libmacaroons' own limit.
inline constexpr std::size_t kMaxIdentifierBytes = 1024;

// The caveat texts Mint writes (exposed for tests and tools).
std::string ScopeCaveat(std::span<const Scope> scopes);
std::string ExpiresCaveat(util::UnixMillis expires);

// A serialized macaroon minted from `key` with one scope caveat listing `scopes` and, when
// `expires` is given, an expiry caveat at floor(expires / 1000) seconds.
// REQUIRES: !scopes.empty(); *expires >= 0; identifier and location at most
// kMaxIdentifierBytes each. Violations abort (they are programming errors, not input).
std::string Mint(const RootKey& key, std::span<const Scope> scopes,
                 std::optional<util::UnixMillis> expires, std::string_view identifier,
                 std::string_view location = kDefaultLocation);

// `token` with the first-party caveat `predicate` appended. kMalformed if `token` is longer
// than kMaxTokenBytes or does not deserialize, or `predicate` is empty or longer than
// kMaxIdentifierBytes. The result only
// verifies where `predicate` is understood and satisfied.
util::Result<std::string> AddCaveat(std::string_view token, std::string_view predicate);

// `token` narrowed to at most `scopes` (appends ScopeCaveat(scopes)).
// REQUIRES: !scopes.empty().
util::Result<std::string> Attenuate(std::string_view token, std::span<const Scope> scopes);

}  // namespace registry::auth
