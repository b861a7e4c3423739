#include "registry/util/check.h"

#include <gtest/gtest.h>

namespace registry::util {
namespace {

TEST(CheckTest, PassingCheckDoesNothing) {
  int evaluated = 0;
  REGISTRY_CHECK(++evaluated == 1, "evaluated once");
  EXPECT_EQ(evaluated, 1);
}

TEST(CheckDeathTest, FailingCheckPrintsConditionLocationAndMessage) {
  const int x = 2;
  EXPECT_DEATH(REGISTRY_CHECK(x == 3, "x must be three"),
               "check_test\\.cc:[0-9]+: REGISTRY_CHECK failed: x == 3: x must be three");
}

TEST(CheckDeathTest, CheckFailedAbortsEvenWithNullMessage) {
  EXPECT_DEATH(CheckFailed("cond", "file.cc", 7, nullptr), "file.cc:7: .*cond");
}

}  // namespace
}  // namespace registry::util
