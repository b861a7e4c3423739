// Owning handles for libmacaroons objects (internal to the auth module).
#pragma once

#include <macaroons.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace registry::auth::internal {

struct MacaroonDeleter {
  void operator()(macaroon* m) const { macaroon_destroy(m); }
};
struct VerifierDeleter {
  void operator()(macaroon_verifier* v) const { macaroon_verifier_destroy(v); }
};

using MacaroonPtr = std::unique_ptr<macaroon, MacaroonDeleter>;
using VerifierPtr = std::unique_ptr<macaroon_verifier, VerifierDeleter>;

// The macaroon serialized in `token` (untrusted bytes), or nullptr. The token is checked by
// CanonicalV1Token (v1_format.h) before libmacaroons sees it.
MacaroonPtr Deserialize(std::string_view token);

// The V1 serialization of `m`, or nullopt if libmacaroons fails (out of memory).
std::optional<std::string> Serialize(const macaroon& m);

}  // namespace registry::auth::internal
