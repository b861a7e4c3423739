// EventBus: fans every commit out to the stream's subscribers (SPEC §2.4).
//
// Each event is formatted once into an immutable SSE frame shared by all subscribers.
// Publishing never blocks: each subscriber owns a bounded queue (its Push returns false when
// full or gone), and a subscriber that cannot take an event is dropped and counted. A
// bounded window of recent frames lets a subscriber resume with Last-Event-ID without a gap
// or a duplicate: subscribing and publishing are serialized by one mutex, so a new
// subscriber gets exactly the frames after its resume point, then every live frame.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
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
  };

  // `head` provides the current HEAD for reset frames; `on_dropped` is called (outside no
  // lock guarantees: under the bus mutex) once per subscriber dropped for lag.
  EventBus(Options options, std::function<model::Head()> head, std::function<void()> on_dropped);

  // Seeds the resume window (start-up), oldest first.
  void Seed(const std::vector<core::CommitEvent>& events);

  // core::CommitListener: formats and fans out. Never blocks.
  void OnCommit(const core::CommitEvent& event) override;

  enum class SubscribeResult { kOk, kFull };
  // Registers `subscriber`. First pushes `retry: 2000`, then, when `since` is given, every
  // retained frame after it (or a reset frame when `since` is older than the window, or
  // ahead of HEAD). Returns kFull past max_subscribers.
  SubscribeResult Subscribe(std::shared_ptr<Subscriber> subscriber,
                            std::optional<std::uint64_t> since);
  void Unsubscribe(const Subscriber* subscriber);

  std::size_t subscriber_count() const;
  std::size_t max_subscribers() const { return options_.max_subscribers; }

 private:
  const Options options_;
  const std::function<model::Head()> head_;
  const std::function<void()> on_dropped_;

  mutable std::mutex mu_;
  std::deque<std::pair<std::uint64_t, Frame>> window_;    // guarded by mu_
  std::vector<std::shared_ptr<Subscriber>> subscribers_;  // guarded by mu_
  std::uint64_t last_version_ = 0;                        // guarded by mu_
};

}  // namespace registry::bus
