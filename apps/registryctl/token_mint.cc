#include "token_mint.h"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>

#include "registry/util/check.h"
#include "registry/util/hex.h"

namespace registry::ctl {

util::Result<std::vector<auth::Scope>> ParseScopes(const std::vector<std::string>& names) {
  std::vector<auth::Scope> scopes;
  for (const std::string& raw : names) {
    if (raw == "all") {
      scopes.assign(auth::kAllScopes.begin(), auth::kAllScopes.end());
      continue;
    }
    std::optional<auth::Scope> scope = auth::ParseScope(raw);
    if (!scope.has_value()) scope = auth::ParseScope("registry:" + raw);
    if (!scope.has_value()) {
      return util::Error(util::ErrorCode::kMalformed,
                         "--scope: unknown scope \"" + raw +
                             "\" (expected propose, approve, commit, admin or all)");
    }
    if (std::find(scopes.begin(), scopes.end(), *scope) == scopes.end()) scopes.push_back(*scope);
  }
  if (scopes.empty()) return util::Error(util::ErrorCode::kMalformed, "--scope: no scope given");
  return scopes;
}

std::string RandomTokenId() {
  std::array<std::uint8_t, 8> raw{};
  std::size_t got = 0;
  while (got < raw.size()) {
    ssize_t n = ::getrandom(raw.data() + got, raw.size() - got, 0);
    REGISTRY_CHECK(n > 0 || errno == EINTR, "getrandom failed");
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  return "registryctl-" + util::HexEncode(raw);
}

}  // namespace registry::ctl
