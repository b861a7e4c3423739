#include "registry/bus/event_bus.h"

#include <algorithm>

#include "registry/json/canonical.h"

namespace registry::bus {

namespace {

const Frame& RetryFrame() {
  static const Frame frame = std::make_shared<const std::string>("retry: 2000\n\n");
  return frame;
}

}  // namespace

std::string FormatUpdateFrame(const core::CommitEvent& event) {
  std::string out =
      "id: " + std::to_string(event.version) + "\nevent: registry.update\ndata: {\"committed_at\":";
  json::AppendCanonicalString(event.committed_at, out);
  out += ",\"corr_id\":";
  json::AppendCanonicalString(event.corr_id, out);
  out += ",\"payload_b3\":";
  json::AppendCanonicalString(event.payload_b3, out);
  out += ",\"root\":";
  json::AppendCanonicalString(event.root, out);
  out += ",\"version\":" + std::to_string(event.version) + "}\n\n";
  return out;
}

std::string FormatResetFrame(const model::Head& head) {
  return "event: registry.reset\ndata: " + json::Canonicalize(model::EncodeHead(head)) + "\n\n";
}

EventBus::EventBus(Options options, std::function<model::Head()> head,
                   std::function<void()> on_dropped)
    : options_(options), head_(std::move(head)), on_dropped_(std::move(on_dropped)) {}

void EventBus::Seed(const std::vector<core::CommitEvent>& events) {
  std::lock_guard lock(mu_);
  for (const core::CommitEvent& e : events) {
    window_.emplace_back(e.version, std::make_shared<const std::string>(FormatUpdateFrame(e)));
    last_version_ = e.version;
    if (window_.size() > options_.window) window_.pop_front();
  }
}

void EventBus::OnCommit(const core::CommitEvent& event) {
  Frame frame = std::make_shared<const std::string>(FormatUpdateFrame(event));
  std::lock_guard lock(mu_);
  window_.emplace_back(event.version, frame);
  last_version_ = event.version;
  if (window_.size() > options_.window) window_.pop_front();
  auto lagging =
      std::remove_if(subscribers_.begin(), subscribers_.end(),
                     [&](const std::shared_ptr<Subscriber>& s) { return !s->Push(frame); });
  for (auto it = lagging; it != subscribers_.end(); ++it) on_dropped_();
  subscribers_.erase(lagging, subscribers_.end());
}

EventBus::SubscribeResult EventBus::Subscribe(std::shared_ptr<Subscriber> subscriber,
                                              std::optional<std::uint64_t> since) {
  std::lock_guard lock(mu_);
  if (subscribers_.size() >= options_.max_subscribers) return SubscribeResult::kFull;
  // The greeting and the whole replay go out as ONE frame, so that a resume never needs more
  // than one slot of the subscriber's bounded queue, however many versions it missed.
  std::string first = *RetryFrame();
  if (since.has_value() && *since < last_version_) {
    bool covered = !window_.empty() && window_.front().first <= *since + 1;
    if (covered) {
      for (const auto& [version, frame] : window_) {
        if (version > *since) first += *frame;
      }
    } else {
      first += FormatResetFrame(head_());
    }
  } else if (since.has_value() && *since > last_version_) {
    // The client claims a version this registry never had: tell it where HEAD is.
    first += FormatResetFrame(head_());
  }
  if (!subscriber->Push(std::make_shared<const std::string>(std::move(first)))) {
    on_dropped_();
    return SubscribeResult::kOk;  // accepted, then gone at once: the client resumes
  }
  subscribers_.push_back(std::move(subscriber));
  return SubscribeResult::kOk;
}

void EventBus::Unsubscribe(const Subscriber* subscriber) {
  std::lock_guard lock(mu_);
  subscribers_.erase(
      std::remove_if(subscribers_.begin(), subscribers_.end(),
                     [&](const std::shared_ptr<Subscriber>& s) { return s.get() == subscriber; }),
      subscribers_.end());
}

std::size_t EventBus::subscriber_count() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

}  // namespace registry::bus
