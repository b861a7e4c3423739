#include "registry/auth/verifier.h"

#include <macaroons.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "caveat.h"
#include "macaroon_ptr.h"
#include "registry/util/error.h"

namespace registry::auth {
namespace {

constexpr std::string_view kScheme = "bearer";

util::Error InvalidToken() { return util::Error(util::ErrorCode::kUnauthorized, "invalid token"); }

// The token after "Bearer ", or nullopt.
std::optional<std::string_view> BearerToken(std::string_view header) {
  if (header.size() <= kScheme.size() + 1) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  if (header[kScheme.size()] != ' ') return std::nullopt;
  return header.substr(kScheme.size() + 1);
}

// What the caveats of one token require, accumulated while libmacaroons walks them. Every
// caveat must hold, so scope lists intersect and the earliest expiry wins.
struct CaveatSummary {
  bool has_scope = false;
  internal::ScopeMask scopes = 0xff;
  std::int64_t expires_millis = std::numeric_limits<std::int64_t>::max();
};

// libmacaroons general checker: 0 means "satisfied". Well-formed caveats are accepted here
// and judged after the signature has verified, so that a wrong scope (403) can be told from
// an expired token (401); anything else fails verification.
int CollectCaveat(void* summary_ptr, const unsigned char* pred, std::size_t pred_size) {
  auto* summary = static_cast<CaveatSummary*>(summary_ptr);
  const std::optional<internal::ParsedCaveat> caveat =
      internal::ParseCaveat(std::string_view(reinterpret_cast<const char*>(pred), pred_size));
  if (!caveat) return -1;
  switch (caveat->kind) {
    case internal::ParsedCaveat::Kind::kScope:
      summary->has_scope = true;
      summary->scopes &= caveat->scopes;
      return 0;
    case internal::ParsedCaveat::Kind::kExpires:
      if (caveat->expires_millis < summary->expires_millis) {
        summary->expires_millis = caveat->expires_millis;
      }
      return 0;
  }
  return -1;
}

}  // namespace

util::Status TokenVerifier::Verify(std::string_view authorization_header_value, Scope required,
                                   util::UnixMillis now) const {
  const std::optional<std::string_view> token = BearerToken(authorization_header_value);
  if (!token || token->size() > kMaxTokenBytes) {
    return InvalidToken();
  }
  const internal::MacaroonPtr m = internal::Deserialize(*token);
  if (m == nullptr) return InvalidToken();

  // One verifier per call: the checker's state lives on this stack frame, so concurrent
  // calls share nothing.
  const internal::VerifierPtr verifier(macaroon_verifier_create());
  if (verifier == nullptr) return util::Error(util::ErrorCode::kInternal, "out of memory");
  CaveatSummary summary;
  macaroon_returncode err = MACAROON_SUCCESS;
  if (macaroon_verifier_satisfy_general(verifier.get(), &CollectCaveat, &summary, &err) != 0) {
    return util::Error(util::ErrorCode::kInternal, "macaroon verifier setup failed");
  }
  const auto& key = key_.bytes();
  if (macaroon_verify(verifier.get(), m.get(), key.data(), key.size(), nullptr, 0, &err) != 0) {
    return InvalidToken();
  }

  if (now >= summary.expires_millis) {
    return util::Error(util::ErrorCode::kUnauthorized, "token expired");
  }
  const auto bit = static_cast<internal::ScopeMask>(1u << static_cast<unsigned>(required));
  if (!summary.has_scope || (summary.scopes & bit) == 0) {
    return util::Error(util::ErrorCode::kForbidden,
                       "token lacks scope " + std::string(ScopeName(required)));
  }
  return util::Status::Ok();
}

}  // namespace registry::auth
