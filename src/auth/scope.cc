#include "registry/auth/scope.h"

#include <optional>
#include <string_view>

#include "registry/util/check.h"

namespace registry::auth {

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kPropose:
      return "registry:propose";
    case Scope::kApprove:
      return "registry:approve";
    case Scope::kCommit:
      return "registry:commit";
    case Scope::kAdmin:
      return "registry:admin";
  }
  REGISTRY_CHECK(false, "unknown Scope value");
}

std::optional<Scope> ParseScope(std::string_view name) {
  for (Scope s : kAllScopes) {
    if (ScopeName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace registry::auth
