// EventBus: fans every commit out to the stream's subscribers (SPEC §2.4).
//
// Each event is formatted once into an immutable SSE frame shared by all subscribers.
// Publishing never blocks on subscribers: OnCommit appends the frame to the resume window
// and to the queue of each fan-out worker, and returns. Each worker owns a shard of the
// subscribers and offers them, in one pass, every frame queued since its last pass: one
// frame, or the frames of several commits joined into one (formatted once per pass, shared
// too), so a burst of commits costs each subscriber one push rather than one per commit.
// Each subscriber owns a bounded queue (its Push returns false when full or gone), and a
// subscriber that cannot take a push is dropped and counted.
//
// A bounded window of recent frames lets a subscriber resume with Last-Event-ID without a
// gap or a duplicate: a new subscriber gets the frames after its resume point in its first
// push, and records the first live version it still needs, so the workers offer it exactly
// the frames after that.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "registry/core/registry.h"

namespace registry::bus {

using Frame = std::shared_ptr<const std::string>;

// One stream connection, as the bus sees it.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Queues a frame; MUST NOT block. False when the subscriber is gone or its queue is full,
  // after which the bus forgets it.
  virtual bool Push(Frame frame) = 0;
};

// "id: V\nevent: registry.update\ndata: {...}\n\n" with canonical JSON data.
std::string FormatUpdateFrame(const core::CommitEvent& event);
// "event: registry.reset\ndata: <HEAD json>\n\n".
std::string FormatResetFrame(const model::Head& head);

class EventBus : public core::CommitListener {
 public:
  struct Options {
    // Recent frames kept for resume: as many as the Registry recovers at start-up.
    std::size_t window = core::Registry::kRecentEvents;
    std::size_t max_subscribers = 10000;
    // Fan-out workers, each with its own share of the subscribers (at least 1).
    std::size_t fanout_threads = 1;
    // Called by a worker after each pass with its duration in seconds (may be empty).
    std::function<void(double)> on_pass;
  };

  // `head` provides the current HEAD for reset frames; `on_dropped` is called once per
  // subscriber dropped for lag, from Subscribe or from a fan-out worker.
  EventBus(Options options, std::function<model::Head()> head, std::function<void()> on_dropped);
  // Stops the workers; frames not yet offered are not.
  ~EventBus() override;

  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Seeds the resume window (start-up), oldest first.
  void Seed(const std::vector<core::CommitEvent>& events);

  // core::CommitListener: formats the frame and queues it for the workers. Never blocks on a
  // subscriber.
  void OnCommit(const core::CommitEvent& event) override;

  enum class SubscribeResult { kOk, kFull };
  // Registers `subscriber`. First pushes `retry: 2000`, then, when `since` is given, every
  // retained frame after it (or a reset frame when `since` is older than the window, or
  // ahead of HEAD). Returns kFull past max_subscribers.
  SubscribeResult Subscribe(std::shared_ptr<Subscriber> subscriber,
                            std::optional<std::uint64_t> since);
  void Unsubscribe(const Subscriber* subscriber);

  // Returns once every frame published before the call has been offered to every subscriber
  // (tests and benchmarks).
  void WaitIdle();

  std::size_t subscriber_count() const;
  std::size_t max_subscribers() const { return options_.max_subscribers; }

 private:
  struct Entry {
    std::shared_ptr<Subscriber> subscriber;
    std::uint64_t from = 0;  // the first version it gets live
  };
  using Queued = std::pair<std::uint64_t, Frame>;
  struct Shard {
    std::mutex mu;
    std::condition_variable wake;    // frames queued, or stop
    std::condition_variable idle;    // a pass ended with nothing queued
    std::vector<Entry> subscribers;  // guarded by mu
    std::vector<Queued> queue;       // guarded by mu
    bool busy = false;               // guarded by mu: a pass is running
    bool stop = false;               // guarded by mu
    std::atomic<std::size_t> size{0};
    std::thread worker;

    // Forgets `subscriber`, with mu held; false when it is not in this shard.
    bool RemoveLocked(const Subscriber* subscriber);
  };

  void RunWorker(Shard& shard);
  // One pass: offers `frames` (ascending versions) to `entries`; returns those that refused.
  std::vector<const Subscriber*> FanOut(const std::vector<Queued>& frames,
                                        const std::vector<Entry>& entries);

  const Options options_;
  const std::function<model::Head()> head_;
  const std::function<void()> on_dropped_;

  mutable std::mutex mu_;                               // orders publishing and subscribing
  std::deque<std::pair<std::uint64_t, Frame>> window_;  // guarded by mu_
  std::uint64_t last_version_ = 0;                      // guarded by mu_
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace registry::bus
