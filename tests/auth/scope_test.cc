#include "registry/auth/scope.h"

#include <gtest/gtest.h>

namespace registry::auth {
namespace {

TEST(ScopeTest, NamesRoundTrip) {
  EXPECT_EQ(ScopeName(Scope::kPropose), "registry:propose");
  EXPECT_EQ(ScopeName(Scope::kApprove), "registry:approve");
  EXPECT_EQ(ScopeName(Scope::kCommit), "registry:commit");
  EXPECT_EQ(ScopeName(Scope::kAdmin), "registry:admin");
  for (Scope s : kAllScopes) EXPECT_EQ(ParseScope(ScopeName(s)), s);
}

TEST(ScopeTest, ParseIsStrict) {
  EXPECT_FALSE(ParseScope("").has_value());
  EXPECT_FALSE(ParseScope("propose").has_value());
  EXPECT_FALSE(ParseScope("Registry:propose").has_value());
  EXPECT_FALSE(ParseScope("registry:propose ").has_value());
  EXPECT_FALSE(ParseScope("registry:read").has_value());
}

}  // namespace
}  // namespace registry::auth
