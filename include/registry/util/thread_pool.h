// ThreadPool: a fixed set of worker threads running submitted tasks in FIFO order. The HTTP
// handlers move CPU-heavy work (parsing and canonicalizing big payloads, signature
// verification, commits) here so that I/O threads never stall on it.
//
// Submit and Stop are thread-safe. The destructor (or Stop) finishes the tasks already
// queued, then joins the workers; tasks submitted after Stop are dropped (Submit returns
// false). Concurrent Stops all return once the workers are joined. Stop MUST NOT be called
// from a task of the pool (it would wait for itself).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace registry::util {

class ThreadPool {
 public:
  // REQUIRES: threads >= 1.
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`. Returns false (and drops it) once Stop has begun.
  bool Submit(std::function<void()> task);

  // Runs the queued tasks to completion and joins the workers. Idempotent.
  void Stop();

  // The number of worker threads it was made with.
  std::size_t size() const { return size_; }

 private:
  void Run();

  const std::size_t size_;
  std::mutex stop_mu_;  // one Stop joins the workers; a concurrent Stop waits for it
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> workers_;         // joined and cleared under stop_mu_
};

}  // namespace registry::util
