// RateLimiter: the server-wide requests-per-second cap (ServerLimits::rps), as a lock-free
// GCRA token bucket holding a burst of one second's worth of requests.
//
// Thread-safe: TryAcquire is a compare-and-swap loop on one atomic.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace registry::http::internal {

class RateLimiter {
 public:
  // `rps` = 0 disables the limiter (TryAcquire always succeeds).
  explicit RateLimiter(std::uint32_t rps)
      : interval_ns_(rps == 0 ? 0 : 1'000'000'000LL / rps),
        burst_ns_(rps == 0 ? 0 : interval_ns_ * static_cast<std::int64_t>(rps)) {}

  bool enabled() const { return interval_ns_ != 0; }

  // Takes one token at time `now_ns` (any monotonic nanosecond clock); false when the
  // bucket is empty, or (with `keep_half`) when taking it would leave less than half of the
  // burst: lower-priority callers stop early and leave the rest to the others.
  bool TryAcquire(std::int64_t now_ns, bool keep_half = false) {
    if (interval_ns_ == 0) return true;
    const std::int64_t limit = keep_half ? burst_ns_ / 2 : burst_ns_;
    std::int64_t tat = tat_.load(std::memory_order_relaxed);
    for (;;) {
      // Theoretical arrival time of the next request if this one is admitted.
      const std::int64_t next = std::max(tat, now_ns) + interval_ns_;
      if (next - now_ns > limit) return false;
      if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
    }
  }

 private:
  const std::int64_t interval_ns_;
  const std::int64_t burst_ns_;
  std::atomic<std::int64_t> tat_{0};
};

}  // namespace registry::http::internal
