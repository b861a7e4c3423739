// EventBus: the exact SSE frames, one shared frame per commit, a burst joined into one push,
// resume from the window without a gap or a duplicate (also while commits are being
// published), reset frames, dropping lagging subscribers, the subscriber cap, and several
// fan-out workers.
#include "registry/bus/event_bus.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "registry/json/canonical.h"

namespace registry::bus {
namespace {

core::CommitEvent Event(std::uint64_t v) {
  core::CommitEvent e;
  e.version = v;
  e.payload_b3 = "b3:" + std::string(64, static_cast<char>('0' + v % 10));
  e.committed_at = "2026-11-26T12:00:0" + std::to_string(v % 10) + ".000Z";
  e.root = "cm9vdA==";
  e.proposal_id = "p_" + std::to_string(v);
  e.corr_id = "corr-" + std::to_string(v);
  return e;
}

model::Head TestHead() {
  model::Head h;
  h.version = 42;
  h.payload_b3 = "b3:" + std::string(64, 'a');
  h.committed_at = "2026-11-26T12:00:00.000Z";
  h.root = "cm9vdA==";
  return h;
}

// Records every frame; refuses once `capacity` frames are held (0: unbounded).
class Recorder : public Subscriber {
 public:
  explicit Recorder(std::size_t capacity = 0) : capacity_(capacity) {}

  bool Push(Frame frame) override {
    std::lock_guard lock(mu_);
    if (capacity_ != 0 && frames_.size() >= capacity_) return false;
    frames_.push_back(std::move(frame));
    return true;
  }

  std::vector<Frame> frames() const {
    std::lock_guard lock(mu_);
    return frames_;
  }

  // Every frame's bytes, concatenated.
  std::string text() const {
    std::string out;
    for (const Frame& f : frames()) out += *f;
    return out;
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::vector<Frame> frames_;
};

class EventBusTest : public ::testing::Test {
 protected:
  explicit EventBusTest(EventBus::Options options = {}) { Make(options); }

  void Make(EventBus::Options options) {
    bus_ = std::make_unique<EventBus>(
        options, [] { return TestHead(); }, [this] { ++dropped_; });
  }

  static std::string Frames(std::uint64_t first, std::uint64_t last) {
    std::string out;
    for (std::uint64_t v = first; v <= last; ++v) out += FormatUpdateFrame(Event(v));
    return out;
  }

  std::unique_ptr<EventBus> bus_;
  std::atomic<int> dropped_{0};
};

const std::string kRetry = "retry: 2000\n\n";

TEST(EventBusFormat, UpdateFrameIsIdEventAndCanonicalData) {
  EXPECT_EQ(FormatUpdateFrame(Event(7)),
            "id: 7\nevent: registry.update\ndata: "
            "{\"committed_at\":\"2026-11-26T12:00:07.000Z\",\"corr_id\":\"corr-7\","
            "\"payload_b3\":\"b3:" +
                std::string(64, '7') + "\",\"root\":\"cm9vdA==\",\"version\":7}\n\n");
}

TEST(EventBusFormat, UpdateFrameEscapesStringsCanonically) {
  core::CommitEvent e = Event(1);
  e.corr_id = "a\"b\\c\n";
  const std::string frame = FormatUpdateFrame(e);
  EXPECT_NE(frame.find(R"("corr_id":"a\"b\\c\n")"), std::string::npos) << frame;
  // One data line: an escaped newline cannot split the SSE event.
  EXPECT_EQ(std::count(frame.begin(), frame.end(), '\n'), 4);
}

TEST(EventBusFormat, ResetFrameCarriesTheHeadAsCanonicalJson) {
  EXPECT_EQ(
      FormatResetFrame(TestHead()),
      "event: registry.reset\ndata: " + json::Canonicalize(model::EncodeHead(TestHead())) + "\n\n");
}

TEST_F(EventBusTest, ANewSubscriberGetsTheRetryHintThenEveryCommitAsOneSharedFrame) {
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();
  ASSERT_EQ(bus_->Subscribe(a, std::nullopt), EventBus::SubscribeResult::kOk);
  ASSERT_EQ(bus_->Subscribe(b, std::nullopt), EventBus::SubscribeResult::kOk);
  bus_->OnCommit(Event(1));
  bus_->WaitIdle();
  bus_->OnCommit(Event(2));
  bus_->WaitIdle();
  EXPECT_EQ(a->text(), kRetry + Frames(1, 2));
  EXPECT_EQ(b->text(), a->text());
  // Formatted once: both subscribers hold the same frame object.
  EXPECT_EQ(a->frames()[1].get(), b->frames()[1].get());
  EXPECT_EQ(bus_->subscriber_count(), 2u);
}

TEST_F(EventBusTest, ResumeReplaysExactlyTheFramesAfterLastEventIdInOnePush) {
  bus_->Seed({Event(1), Event(2), Event(3)});
  bus_->OnCommit(Event(4));
  bus_->OnCommit(Event(5));
  auto r = std::make_shared<Recorder>();
  ASSERT_EQ(bus_->Subscribe(r, 2), EventBus::SubscribeResult::kOk);
  ASSERT_EQ(r->frames().size(), 1u);  // one queue slot however much was missed
  EXPECT_EQ(r->text(), kRetry + Frames(3, 5));
  bus_->OnCommit(Event(6));
  bus_->WaitIdle();
  EXPECT_EQ(r->text(), kRetry + Frames(3, 6));
}

TEST_F(EventBusTest, ResumeAtHeadReplaysNothing) {
  bus_->Seed({Event(1), Event(2)});
  auto r = std::make_shared<Recorder>();
  bus_->Subscribe(r, 2);
  EXPECT_EQ(r->text(), kRetry);
}

TEST_F(EventBusTest, ResumeFromBeforeTheWindowOrAheadOfHeadGetsAResetFrame) {
  Make({.window = 3, .max_subscribers = 10});
  bus_->Seed({Event(1), Event(2), Event(3), Event(4), Event(5)});  // keeps 3, 4, 5
  const std::string reset = FormatResetFrame(TestHead());

  auto edge = std::make_shared<Recorder>();
  bus_->Subscribe(edge, 2);  // the window still starts right after it
  EXPECT_EQ(edge->text(), kRetry + Frames(3, 5));

  auto old = std::make_shared<Recorder>();
  bus_->Subscribe(old, 1);  // version 2 is gone from the window
  EXPECT_EQ(old->text(), kRetry + reset);

  auto ahead = std::make_shared<Recorder>();
  bus_->Subscribe(ahead, 9);  // a version this registry never had
  EXPECT_EQ(ahead->text(), kRetry + reset);

  // All three stay subscribed to live frames.
  bus_->OnCommit(Event(6));
  bus_->WaitIdle();
  for (const auto& r : {edge, old, ahead}) EXPECT_TRUE(r->text().ends_with(Frames(6, 6)));
}

TEST_F(EventBusTest, ALaggingSubscriberIsDroppedAndCountedWhileOthersContinue) {
  auto slow = std::make_shared<Recorder>(2);  // the greeting and one frame
  auto fast = std::make_shared<Recorder>();
  bus_->Subscribe(slow, std::nullopt);
  bus_->Subscribe(fast, std::nullopt);
  bus_->OnCommit(Event(1));
  bus_->WaitIdle();
  EXPECT_EQ(dropped_.load(), 0);
  bus_->OnCommit(Event(2));  // slow's queue is full
  bus_->WaitIdle();
  EXPECT_EQ(dropped_.load(), 1);
  EXPECT_EQ(bus_->subscriber_count(), 1u);
  bus_->OnCommit(Event(3));
  bus_->WaitIdle();
  EXPECT_EQ(dropped_.load(), 1);  // counted once
  EXPECT_EQ(slow->text(), kRetry + Frames(1, 1));
  EXPECT_EQ(fast->text(), kRetry + Frames(1, 3));
}

TEST_F(EventBusTest, ASubscriberThatCannotTakeTheGreetingIsCountedAndNotKept) {
  auto refuses = std::make_shared<Recorder>(1);
  ASSERT_TRUE(refuses->Push(std::make_shared<const std::string>("x")));  // now full
  EXPECT_EQ(bus_->Subscribe(refuses, std::nullopt), EventBus::SubscribeResult::kOk);
  EXPECT_EQ(dropped_.load(), 1);
  EXPECT_EQ(bus_->subscriber_count(), 0u);
}

TEST_F(EventBusTest, SubscribersBeyondTheCapAreRefused) {
  Make({.window = 8, .max_subscribers = 2});
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();
  auto c = std::make_shared<Recorder>();
  EXPECT_EQ(bus_->Subscribe(a, std::nullopt), EventBus::SubscribeResult::kOk);
  EXPECT_EQ(bus_->Subscribe(b, std::nullopt), EventBus::SubscribeResult::kOk);
  EXPECT_EQ(bus_->Subscribe(c, std::nullopt), EventBus::SubscribeResult::kFull);
  EXPECT_TRUE(c->frames().empty());
  bus_->Unsubscribe(a.get());
  EXPECT_EQ(bus_->subscriber_count(), 1u);
  EXPECT_EQ(bus_->Subscribe(c, std::nullopt), EventBus::SubscribeResult::kOk);
  bus_->OnCommit(Event(1));
  bus_->WaitIdle();
  EXPECT_EQ(a->text(), kRetry);  // unsubscribed: nothing more
  EXPECT_EQ(c->text(), kRetry + Frames(1, 1));
}

// Subscribing from version 0 while commits are published concurrently: whenever each
// subscriber arrives, it sees every version exactly once, in order (the window covers the
// whole run).
TEST_F(EventBusTest, ResumeDuringConcurrentPublishingHasNoGapAndNoDuplicate) {
  constexpr std::uint64_t kCommits = 400;
  Make({.window = kCommits + 1, .max_subscribers = 100});
  bus_->Seed({Event(1)});
  constexpr int kSubscribers = 16;
  std::vector<std::shared_ptr<Recorder>> recorders;
  for (int i = 0; i < kSubscribers; ++i) recorders.push_back(std::make_shared<Recorder>());
  std::atomic<std::uint64_t> published{1};
  std::thread publisher([&] {
    for (std::uint64_t v = 2; v <= kCommits; ++v) {
      bus_->OnCommit(Event(v));
      published.store(v);
    }
  });
  std::thread subscriber([&] {
    for (int i = 0; i < kSubscribers; ++i) {
      // Spread the arrivals over the run without sleeping: wait for progress.
      const std::uint64_t target = 1 + (kCommits - 1) * static_cast<std::uint64_t>(i) /
                                           static_cast<std::uint64_t>(kSubscribers);
      while (published.load() < target) std::this_thread::yield();
      bus_->Subscribe(recorders[static_cast<std::size_t>(i)], 0);
    }
  });
  publisher.join();
  subscriber.join();
  bus_->WaitIdle();
  const std::string expected = kRetry + Frames(1, kCommits);
  for (int i = 0; i < kSubscribers; ++i) {
    EXPECT_EQ(recorders[static_cast<std::size_t>(i)]->text(), expected) << "subscriber " << i;
  }
  EXPECT_EQ(dropped_.load(), 0);
}

// Blocks in its first live Push until released, so that a test can hold a fan-out pass.
class Gate : public Subscriber {
 public:
  bool Push(Frame /*frame*/) override {
    std::unique_lock lock(mu_);
    if (++pushes_ == 2) {  // the first is the greeting
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    }
    return true;
  }
  void AwaitEntered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int pushes_ = 0;
  bool entered_ = false;
  bool released_ = false;
};

TEST_F(EventBusTest, CommitsPublishedDuringAPassGoOutTogetherAsOneSharedFrame) {
  auto gate = std::make_shared<Gate>();
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();
  bus_->Subscribe(gate, std::nullopt);  // first in the shard: the pass waits on it
  bus_->Subscribe(a, std::nullopt);
  bus_->OnCommit(Event(1));
  gate->AwaitEntered();
  // The worker is held; publishing does not wait for it.
  bus_->OnCommit(Event(2));
  bus_->OnCommit(Event(3));
  bus_->Subscribe(b, std::nullopt);  // arrives after 3: gets neither 2 nor 3
  bus_->OnCommit(Event(4));
  gate->Release();
  bus_->WaitIdle();

  const std::vector<Frame> frames = a->frames();
  ASSERT_EQ(frames.size(), 3u);  // greeting, 1, then 2..4 in one push
  EXPECT_EQ(*frames[1], Frames(1, 1));
  EXPECT_EQ(*frames[2], Frames(2, 4));
  EXPECT_EQ(b->text(), kRetry + Frames(4, 4));
  EXPECT_EQ(a->text(), kRetry + Frames(1, 4));
}

TEST_F(EventBusTest, EachPassReportsItsDuration) {
  std::mutex mu;
  std::vector<double> passes;
  EventBus::Options options;
  options.on_pass = [&](double seconds) {
    std::lock_guard lock(mu);
    passes.push_back(seconds);
  };
  Make(options);
  bus_->OnCommit(Event(1));  // nobody listens: no pass
  bus_->WaitIdle();
  auto r = std::make_shared<Recorder>();
  bus_->Subscribe(r, std::nullopt);
  bus_->OnCommit(Event(2));
  bus_->WaitIdle();
  bus_->OnCommit(Event(3));
  bus_->WaitIdle();
  std::lock_guard lock(mu);
  ASSERT_EQ(passes.size(), 2u);
  for (double s : passes) EXPECT_GE(s, 0.0);
}

TEST_F(EventBusTest, SeveralWorkersShareTheSubscribersAndEachGetsEveryFrameOnce) {
  Make({.window = 16, .max_subscribers = 100, .fanout_threads = 3});
  std::vector<std::shared_ptr<Recorder>> recorders;
  for (int i = 0; i < 10; ++i) {
    recorders.push_back(std::make_shared<Recorder>());
    ASSERT_EQ(bus_->Subscribe(recorders.back(), std::nullopt), EventBus::SubscribeResult::kOk);
  }
  EXPECT_EQ(bus_->subscriber_count(), 10u);
  for (std::uint64_t v = 1; v <= 5; ++v) bus_->OnCommit(Event(v));
  bus_->Unsubscribe(recorders[7].get());
  EXPECT_EQ(bus_->subscriber_count(), 9u);
  bus_->OnCommit(Event(6));
  bus_->WaitIdle();
  for (std::size_t i = 0; i < recorders.size(); ++i) {
    if (i == 7) {
      EXPECT_TRUE(Frames(1, 6).starts_with(recorders[i]->text().substr(kRetry.size())));
      EXPECT_FALSE(recorders[i]->text().ends_with(Frames(6, 6)));
    } else {
      EXPECT_EQ(recorders[i]->text(), kRetry + Frames(1, 6)) << "subscriber " << i;
    }
  }
}

}  // namespace
}  // namespace registry::bus
