#include "macaroon_ptr.h"

#include <macaroons.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "v1_format.h"

namespace registry::auth::internal {

MacaroonPtr Deserialize(std::string_view token) {
  const std::optional<std::string> canonical = CanonicalV1Token(token);
  if (!canonical) return nullptr;
  macaroon_returncode err = MACAROON_SUCCESS;
  return MacaroonPtr(macaroon_deserialize(canonical->c_str(), &err));
}

std::optional<std::string> Serialize(const macaroon& m) {
  std::string buf(macaroon_serialize_size_hint(&m), '\0');
  macaroon_returncode err = MACAROON_SUCCESS;
  if (macaroon_serialize(&m, buf.data(), buf.size(), &err) != 0) return std::nullopt;
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

}  // namespace registry::auth::internal
