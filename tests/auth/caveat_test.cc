#include <gtest/gtest.h>

#include <array>

#include "registry/auth/scope.h"
#include "registry/auth/token.h"

namespace registry::auth {
namespace {

TEST(CaveatTest, ScopeCaveatText) {
  const std::array scopes = {Scope::kPropose, Scope::kCommit};
  EXPECT_EQ(ScopeCaveat(scopes), "scope = registry:propose registry:commit");
  const std::array one = {Scope::kAdmin};
  EXPECT_EQ(ScopeCaveat(one), "scope = registry:admin");
}

TEST(CaveatTest, ExpiresCaveatIsFlooredSeconds) {
  EXPECT_EQ(ExpiresCaveat(1767225600000), "expires = 1767225600");
  EXPECT_EQ(ExpiresCaveat(1767225600999), "expires = 1767225600");
  EXPECT_EQ(ExpiresCaveat(0), "expires = 0");
}

}  // namespace
}  // namespace registry::auth
