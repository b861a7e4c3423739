#include "registry/bus/event_bus.h"

#include <algorithm>
#include <chrono>

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
    : options_(options), head_(std::move(head)), on_dropped_(std::move(on_dropped)) {
  const std::size_t n = std::max<std::size_t>(options_.fanout_threads, 1);
  for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
  for (auto& shard : shards_) {
    shard->worker = std::thread([this, s = shard.get()] { RunWorker(*s); });
  }
}

EventBus::~EventBus() {
  for (auto& shard : shards_) {
    {
      std::lock_guard lock(shard->mu);
      shard->stop = true;
    }
    shard->wake.notify_one();
  }
  for (auto& shard : shards_) shard->worker.join();
}

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
  for (auto& shard : shards_) {
    {
      std::lock_guard shard_lock(shard->mu);
      // A subscriber that arrives later starts after this version anyway.
      if (shard->subscribers.empty()) continue;
      shard->queue.emplace_back(event.version, frame);
    }
    shard->wake.notify_one();
  }
}

EventBus::SubscribeResult EventBus::Subscribe(std::shared_ptr<Subscriber> subscriber,
                                              std::optional<std::uint64_t> since) {
  std::lock_guard lock(mu_);
  if (subscriber_count() >= options_.max_subscribers) return SubscribeResult::kFull;
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
  // Every version up to last_version_ is in the greeting or was published before it
  // subscribed; mu_ keeps OnCommit from queueing the next one until it is registered.
  Shard* target = shards_.front().get();
  for (auto& shard : shards_) {
    if (shard->size.load(std::memory_order_relaxed) <
        target->size.load(std::memory_order_relaxed)) {
      target = shard.get();
    }
  }
  {
    std::lock_guard shard_lock(target->mu);
    target->subscribers.push_back(Entry{std::move(subscriber), last_version_ + 1});
    target->size.fetch_add(1, std::memory_order_relaxed);
  }
  return SubscribeResult::kOk;
}

bool EventBus::Shard::RemoveLocked(const Subscriber* subscriber) {
  auto it = std::find_if(subscribers.begin(), subscribers.end(),
                         [&](const Entry& e) { return e.subscriber.get() == subscriber; });
  if (it == subscribers.end()) return false;
  subscribers.erase(it);
  size.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

void EventBus::Unsubscribe(const Subscriber* subscriber) {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    if (shard->RemoveLocked(subscriber)) return;
  }
}

void EventBus::WaitIdle() {
  for (auto& shard : shards_) {
    std::unique_lock lock(shard->mu);
    shard->idle.wait(lock, [&] { return shard->queue.empty() && !shard->busy; });
  }
}

std::size_t EventBus::subscriber_count() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) n += shard->size.load(std::memory_order_relaxed);
  return n;
}

void EventBus::RunWorker(Shard& shard) {
  std::vector<Queued> frames;
  std::vector<Entry> entries;
  std::unique_lock lock(shard.mu);
  for (;;) {
    shard.wake.wait(lock, [&] { return shard.stop || !shard.queue.empty(); });
    if (shard.stop) return;
    frames.swap(shard.queue);
    // A copy, so that subscribing and unsubscribing need not wait for the pass.
    entries = shard.subscribers;
    shard.busy = true;
    lock.unlock();

    const auto start = std::chrono::steady_clock::now();
    const std::vector<const Subscriber*> refused = FanOut(frames, entries);
    if (options_.on_pass) {
      options_.on_pass(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    frames.clear();

    std::size_t dropped = 0;
    if (!refused.empty()) {
      // `entries` still holds every refused subscriber, so no address in `refused` can
      // belong to a new subscriber yet.
      lock.lock();
      for (const Subscriber* gone : refused) {
        if (shard.RemoveLocked(gone)) ++dropped;  // else unsubscribed during the pass
      }
      lock.unlock();
    }
    entries.clear();  // may release the last reference to a subscriber gone meanwhile
    for (std::size_t i = 0; i < dropped; ++i) on_dropped_();

    lock.lock();
    shard.busy = false;
    if (shard.queue.empty()) shard.idle.notify_all();
  }
}

std::vector<const Subscriber*> EventBus::FanOut(const std::vector<Queued>& frames,
                                                const std::vector<Entry>& entries) {
  std::vector<const Subscriber*> refused;
  // joined[i]: frames i..end as one frame, built when a subscriber first needs it. Most
  // subscribers need them all; only those that arrived during the burst start later.
  std::vector<Frame> joined(frames.size());
  for (const Entry& e : entries) {
    const auto first =
        std::lower_bound(frames.begin(), frames.end(), e.from,
                         [](const Queued& q, std::uint64_t version) { return q.first < version; });
    if (first == frames.end()) continue;
    const auto i = static_cast<std::size_t>(first - frames.begin());
    Frame& frame = joined[i];
    if (frame == nullptr) {
      if (i + 1 == frames.size()) {
        frame = frames[i].second;
      } else {
        std::string text;
        for (std::size_t j = i; j < frames.size(); ++j) text += *frames[j].second;
        frame = std::make_shared<const std::string>(std::move(text));
      }
    }
    if (!e.subscriber->Push(frame)) refused.push_back(e.subscriber.get());
  }
  return refused;
}

}  // namespace registry::bus
