// TokenVerifier: checks the `Authorization` header of a write request against the root key
// (SPEC §6). Owns a copy of the root key.
//
// Verify accepts exactly "Bearer <token>" ("bearer" in any case, one space). The token's HMAC
// chain must verify under the root key and every first-party caveat must be understood:
//   - "scope = <names>": the required scope must be among <names> in EVERY scope caveat (so
//     attenuation narrows); a token with no scope caveat grants nothing;
//   - "expires = <N>": N a decimal integer, valid while now < N * 1000 (ms).
// Any other caveat, a third-party caveat, a bad signature or a malformed token is rejected.
//
// Outcomes:
//   kUnauthorized "invalid token"   – missing/malformed header, bad token, unknown caveat;
//   kUnauthorized "token expired"   – a valid token past its expiry;
//   kForbidden "token lacks scope registry:commit" – valid, unexpired, scope not granted.
// Messages never contain the token. Tokens pass a strict V1 format check before libmacaroons
// parses them (its 0.3 parser loops forever on some malformed input); tokens longer than
// kMaxTokenBytes are refused unread.
//
// Thread-safety: Verify is const and safe to call concurrently (libmacaroons state is
// per call).
#pragma once

#include <string_view>
#include <utility>

#include "registry/auth/root_key.h"
#include "registry/auth/scope.h"
#include "registry/auth/token.h"
#include "registry/util/clock.h"
#include "registry/util/result.h"

namespace registry::auth {

class TokenVerifier {
 public:
  explicit TokenVerifier(RootKey key) : key_(std::move(key)) {}

  // OK iff `authorization_header_value` carries a valid, unexpired token granting `required`
  // at wall time `now`.
  util::Status Verify(std::string_view authorization_header_value, Scope required,
                      util::UnixMillis now) const;

 private:
  RootKey key_;
};

}  // namespace registry::auth
