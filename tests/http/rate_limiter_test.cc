#include "rate_limiter.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace registry::http::internal {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(HttpRateLimiterTest, DisabledAlwaysAdmits) {
  RateLimiter r(0);
  EXPECT_FALSE(r.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(r.TryAcquire(0));
}

TEST(HttpRateLimiterTest, BurstOfOneSecondThenSteadyRate) {
  RateLimiter r(4);
  ASSERT_TRUE(r.enabled());
  const std::int64_t t0 = 100 * kSecond;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(r.TryAcquire(t0)) << i;
  EXPECT_FALSE(r.TryAcquire(t0));
  // One token comes back every 250 ms.
  EXPECT_FALSE(r.TryAcquire(t0 + kSecond / 4 - 1));
  EXPECT_TRUE(r.TryAcquire(t0 + kSecond / 4));
  EXPECT_FALSE(r.TryAcquire(t0 + kSecond / 4));
  // Idle time refills the bucket, but never beyond one second's worth.
  const std::int64_t t1 = t0 + 10 * kSecond;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(r.TryAcquire(t1)) << i;
  EXPECT_FALSE(r.TryAcquire(t1));
}

// Writes ask with keep_half: they stop at half the burst, reads may use the rest.
TEST(HttpRateLimiterTest, KeepHalfLeavesHalfTheBurstToOthers) {
  RateLimiter r(8);
  const std::int64_t t0 = 100 * kSecond;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(r.TryAcquire(t0, /*keep_half=*/true)) << i;
  EXPECT_FALSE(r.TryAcquire(t0, /*keep_half=*/true));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(r.TryAcquire(t0)) << i;
  EXPECT_FALSE(r.TryAcquire(t0));
  EXPECT_FALSE(r.TryAcquire(t0, /*keep_half=*/true));
  // Once the bucket is back above half, writes are admitted again.
  EXPECT_FALSE(r.TryAcquire(t0 + kSecond / 2, /*keep_half=*/true));
  EXPECT_TRUE(r.TryAcquire(t0 + kSecond / 2 + kSecond / 8, /*keep_half=*/true));
}

TEST(HttpRateLimiterTest, OnePerSecond) {
  RateLimiter r(1);
  EXPECT_TRUE(r.TryAcquire(5 * kSecond));
  EXPECT_FALSE(r.TryAcquire(5 * kSecond + kSecond / 2));
  EXPECT_TRUE(r.TryAcquire(6 * kSecond));
}

}  // namespace
}  // namespace registry::http::internal
