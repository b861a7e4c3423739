// libFuzzer target: arbitrary bytes as an Authorization header value, and as the token after
// "Bearer ", through TokenVerifier::Verify (and AddCaveat, which deserializes the same way).
// Verify must never crash, and must answer only OK, Unauthorized or Forbidden (never an
// internal error). Tokens minted under the fixed fuzz key may be given as seeds.
//
// Not wired into CMake. Build by hand with clang, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/auth \
//     fuzz/token_fuzz.cc src/auth/*.cc src/util/*.cc src/crypto/base64.cc \
//     src/crypto/ed25519.cc -lmacaroons -lsodium -o token_fuzz
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "registry/auth/root_key.h"
#include "registry/auth/scope.h"
#include "registry/auth/token.h"
#include "registry/auth/verifier.h"
#include "registry/util/check.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace {

registry::auth::RootKey FuzzKey() {
  std::array<std::uint8_t, registry::auth::kRootKeySize> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(7 * i + 3);
  return registry::auth::RootKey(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const registry::auth::TokenVerifier verifier(FuzzKey());
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr registry::util::UnixMillis kNow = 1'767'225'600'000;

  for (registry::auth::Scope scope : registry::auth::kAllScopes) {
    const registry::util::Status raw = verifier.Verify(input, scope, kNow);
    const registry::util::Status bearer =
        verifier.Verify("Bearer " + std::string(input), scope, kNow);
    for (const registry::util::Status* s : {&raw, &bearer}) {
      REGISTRY_CHECK(s->ok() || s->error().code() == registry::util::ErrorCode::kUnauthorized ||
                         s->error().code() == registry::util::ErrorCode::kForbidden,
                     "unexpected error class from Verify");
    }
  }
  (void)registry::auth::AddCaveat(input, "scope = registry:propose");
  return 0;
}
