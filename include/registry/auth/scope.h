// Scope: the capabilities a token can carry (SPEC §6). Each scope names one write-plane
// action; reads need no token. The wire form is the string used in a macaroon's
// `scope = ...` caveat, e.g. "registry:propose". Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace registry::auth {

enum class Scope : std::uint8_t {
  kPropose,  // "registry:propose": POST /registry/proposals
  kApprove,  // "registry:approve": POST /registry/approvals/{id}
  kCommit,   // "registry:commit":  POST /registry/commit/{id}
  kAdmin,    // "registry:admin":   POST /admin/freeze, /admin/thaw
};

inline constexpr std::array<Scope, 4> kAllScopes = {Scope::kPropose, Scope::kApprove,
                                                    Scope::kCommit, Scope::kAdmin};

// The wire name, e.g. "registry:commit".
std::string_view ScopeName(Scope scope);

// The scope whose wire name is exactly `name` (case-sensitive), or nullopt.
std::optional<Scope> ParseScope(std::string_view name);

}  // namespace registry::auth
