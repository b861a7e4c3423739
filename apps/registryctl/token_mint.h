// Helpers shared by `token` and `init` for minting capability tokens: parsing scope names as
// an operator types them, and a random token identifier. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "registry/auth/scope.h"
#include "registry/util/result.h"

namespace registry::ctl {

// "propose", "registry:propose", ... (each at most once), or "all" for every scope.
// kMalformed naming the unknown name otherwise, or when `names` is empty.
util::Result<std::vector<auth::Scope>> ParseScopes(const std::vector<std::string>& names);

// "registryctl-" + 16 random hex digits.
std::string RandomTokenId();

}  // namespace registry::ctl
