#include "caveat.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "registry/auth/scope.h"
#include "registry/auth/token.h"
#include "registry/util/check.h"
#include "registry/util/clock.h"

namespace registry::auth {

std::string ScopeCaveat(std::span<const Scope> scopes) {
  REGISTRY_CHECK(!scopes.empty(), "ScopeCaveat needs at least one scope");
  std::string out(internal::kScopePrefix);
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    if (i > 0) out += ' ';
    out += ScopeName(scopes[i]);
  }
  return out;
}

std::string ExpiresCaveat(util::UnixMillis expires) {
  REGISTRY_CHECK(expires >= 0, "token expiry before the epoch");
  // Floor: a token never outlives the requested instant.
  return std::string(internal::kExpiresPrefix) + std::to_string(expires / 1000);
}

namespace internal {
namespace {

// 15 digits keep N * 1000 far from int64 overflow (and cover the next 30 million years).
constexpr std::size_t kMaxExpiryDigits = 15;

std::optional<ScopeMask> ParseScopeList(std::string_view list) {
  ScopeMask mask = 0;
  while (true) {
    const std::size_t space = list.find(' ');
    const std::string_view name = list.substr(0, space);
    const std::optional<Scope> scope = ParseScope(name);
    if (!scope) return std::nullopt;  // also rejects empty names (double or trailing spaces)
    mask |= static_cast<ScopeMask>(1u << static_cast<unsigned>(*scope));
    if (space == std::string_view::npos) return mask;
    list.remove_prefix(space + 1);
  }
}

std::optional<std::int64_t> ParseExpirySeconds(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxExpiryDigits) return std::nullopt;
  std::int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

std::optional<ParsedCaveat> ParseCaveat(std::string_view predicate) {
  if (predicate.starts_with(kScopePrefix)) {
    const std::optional<ScopeMask> mask = ParseScopeList(predicate.substr(kScopePrefix.size()));
    if (!mask) return std::nullopt;
    return ParsedCaveat{.kind = ParsedCaveat::Kind::kScope, .scopes = *mask};
  }
  if (predicate.starts_with(kExpiresPrefix)) {
    const std::optional<std::int64_t> seconds =
        ParseExpirySeconds(predicate.substr(kExpiresPrefix.size()));
    if (!seconds) return std::nullopt;
    return ParsedCaveat{.kind = ParsedCaveat::Kind::kExpires, .expires_millis = *seconds * 1000};
  }
  return std::nullopt;
}

}  // namespace internal
}  // namespace registry::auth
