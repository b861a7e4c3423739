#include "registry/auth/token.h"

#include <macaroons.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "caveat.h"
#include "macaroon_ptr.h"
#include "registry/util/check.h"
#include "registry/util/error.h"

namespace registry::auth {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

internal::MacaroonPtr WithCaveat(const macaroon& m, std::string_view predicate) {
  macaroon_returncode err = MACAROON_SUCCESS;
  return internal::MacaroonPtr(
      macaroon_add_first_party_caveat(&m, Bytes(predicate), predicate.size(), &err));
}

}  // namespace

std::string Mint(const RootKey& key, std::span<const Scope> scopes,
                 std::optional<util::UnixMillis> expires, std::string_view identifier,
                 std::string_view location) {
  REGISTRY_CHECK(!scopes.empty(), "Mint needs at least one scope");
  REGISTRY_CHECK(identifier.size() <= kMaxIdentifierBytes, "token identifier too long");
  REGISTRY_CHECK(location.size() <= kMaxIdentifierBytes, "token location too long");

  macaroon_returncode err = MACAROON_SUCCESS;
  internal::MacaroonPtr m(macaroon_create(Bytes(location), location.size(), key.bytes().data(),
                                          key.bytes().size(), Bytes(identifier), identifier.size(),
                                          &err));
  REGISTRY_CHECK(m != nullptr, "macaroon_create failed");
  m = WithCaveat(*m, ScopeCaveat(scopes));
  REGISTRY_CHECK(m != nullptr, "macaroon_add_first_party_caveat failed");
  if (expires) {
    m = WithCaveat(*m, ExpiresCaveat(*expires));
    REGISTRY_CHECK(m != nullptr, "macaroon_add_first_party_caveat failed");
  }
  std::optional<std::string> token = internal::Serialize(*m);
  REGISTRY_CHECK(token.has_value(), "macaroon_serialize failed");
  return std::move(*token);
}

util::Result<std::string> AddCaveat(std::string_view token, std::string_view predicate) {
  if (predicate.empty() || predicate.size() > kMaxIdentifierBytes) {
    return util::Error(util::ErrorCode::kMalformed, "caveat must be 1 to 1024 bytes");
  }
  if (token.size() > kMaxTokenBytes)
    return util::Error(util::ErrorCode::kMalformed, "invalid token");
  internal::MacaroonPtr m = internal::Deserialize(token);
  if (m == nullptr) return util::Error(util::ErrorCode::kMalformed, "invalid token");
  internal::MacaroonPtr narrowed = WithCaveat(*m, predicate);
  if (narrowed == nullptr) {
    return util::Error(util::ErrorCode::kMalformed, "cannot add caveat to token");
  }
  std::optional<std::string> out = internal::Serialize(*narrowed);
  if (!out) return util::Error(util::ErrorCode::kInternal, "macaroon_serialize failed");
  return std::move(*out);
}

util::Result<std::string> Attenuate(std::string_view token, std::span<const Scope> scopes) {
  return AddCaveat(token, ScopeCaveat(scopes));
}

}  // namespace registry::auth
