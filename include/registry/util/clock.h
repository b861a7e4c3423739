// Clock: the source of wall time for everything that decides on time (proposal TTL, clock
// skew of approvals, committed_at). Injected so that tests drive time by hand.
//
// Implementations MUST be thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace registry::util {

// Wall time as milliseconds since the Unix epoch (UTC).
using UnixMillis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  // Current wall time. MUST be safe to call from any thread.
  virtual UnixMillis NowMillis() const = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  UnixMillis NowMillis() const override;
};

// A clock that only moves when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixMillis start) : now_(start) {}
  UnixMillis NowMillis() const override { return now_.load(std::memory_order_relaxed); }
  void Set(UnixMillis t) { now_.store(t, std::memory_order_relaxed); }
  void Advance(std::chrono::milliseconds d) {
    now_.fetch_add(d.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<UnixMillis> now_;
};

}  // namespace registry::util
