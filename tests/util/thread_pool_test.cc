// ThreadPool: every task runs, FIFO on one worker, workers really run in parallel, Stop
// drains what is queued and refuses what comes after, and Stop is idempotent.
#include "registry/util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace registry::util {
namespace {

TEST(ThreadPoolTest, RunsEveryTask) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2);
    EXPECT_EQ(pool.size(), 2u);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  }  // the destructor drains the queue
  EXPECT_EQ(ran.load(), 1000);
}

TEST(ThreadPoolTest, OneWorkerRunsTasksInSubmissionOrder) {
  std::vector<int> order;  // only the one worker writes it
  {
    ThreadPool pool(1);
    for (int i = 0; i < 100; ++i) pool.Submit([&order, i] { order.push_back(i); });
  }
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

// Two tasks that each wait for the other can only finish if two workers run them at once.
TEST(ThreadPoolTest, WorkersRunTasksConcurrently) {
  ThreadPool pool(2);
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  std::promise<bool> first;
  std::promise<bool> second;
  auto meet = [&](std::promise<bool>& done) {
    std::unique_lock lock(mu);
    ++arrived;
    cv.notify_all();
    // Bounded, so that a pool that runs tasks one at a time fails instead of hanging.
    done.set_value(cv.wait_for(lock, std::chrono::seconds(30), [&] { return arrived == 2; }));
  };
  pool.Submit([&] { meet(first); });
  pool.Submit([&] { meet(second); });
  EXPECT_TRUE(first.get_future().get());
  EXPECT_TRUE(second.get_future().get());
}

TEST(ThreadPoolTest, StopFinishesQueuedTasksThenRefusesNewOnes) {
  ThreadPool pool(1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> blocked;
  std::atomic<int> ran{0};
  pool.Submit([&, gate] {
    blocked.set_value();
    gate.wait();
    ++ran;
  });
  blocked.get_future().wait();  // the worker is inside the first task
  for (int i = 0; i < 50; ++i) pool.Submit([&] { ++ran; });
  auto stopped = std::async(std::launch::async, [&] { pool.Stop(); });
  // Stop cannot finish while a queued task is still blocked.
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  release.set_value();
  stopped.get();
  EXPECT_EQ(ran.load(), 51);
  EXPECT_FALSE(pool.Submit([&] { ++ran; }));
  pool.Stop();  // idempotent
  EXPECT_EQ(ran.load(), 51);
}

// Stop from several threads at once (a signal handler's shutdown racing the destructor):
// each returns after the queue is drained and the workers are joined, exactly once.
TEST(ThreadPoolTest, ConcurrentStopsAllReturnAfterTheDrain) {
  std::atomic<int> ran{0};
  ThreadPool pool(2);
  for (int i = 0; i < 200; ++i) pool.Submit([&] { ++ran; });
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i) {
    stoppers.emplace_back([&] {
      pool.Stop();
      EXPECT_EQ(ran.load(), 200);  // returned only after the drain
    });
  }
  for (std::thread& t : stoppers) t.join();
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_FALSE(pool.Submit([] {}));
}

}  // namespace
}  // namespace registry::util
