#include "registry/util/clock.h"

#include <gtest/gtest.h>

#include <chrono>

namespace registry::util {
namespace {

TEST(SystemClockTest, ReadsUnixMillisecondsNearTheSystemClock) {
  const SystemClock clock;
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const UnixMillis now = clock.NowMillis();
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  EXPECT_GE(now, before);
  EXPECT_LE(now, after);
  // Milliseconds, not seconds or microseconds: somewhere between 2020 and 2100.
  EXPECT_GT(now, 1'577'836'800'000);
  EXPECT_LT(now, 4'102'444'800'000);
}

TEST(SystemClockTest, UsableThroughTheInterface) {
  const SystemClock system;
  const Clock& clock = system;
  EXPECT_GT(clock.NowMillis(), 0);
}

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(1'000);
  EXPECT_EQ(clock.NowMillis(), 1'000);
  EXPECT_EQ(clock.NowMillis(), 1'000);
  clock.Advance(std::chrono::seconds(2));
  EXPECT_EQ(clock.NowMillis(), 3'000);
  clock.Set(-5);
  EXPECT_EQ(clock.NowMillis(), -5);
}

}  // namespace
}  // namespace registry::util
