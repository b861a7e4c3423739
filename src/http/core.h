// Internals of HttpServer shared by server.cc (listeners, threads, Stop) and session.cc
// (one HTTP/1.1 connection). Private to src/http: this is where Asio appears.
//
// Ownership: HttpServer owns a shared_ptr<Core>; every Session holds one too, so the
// io_context outlives every socket and every responder that may still post to it.
// Thread-safety: Core's members are immutable after construction, atomics, or guarded by
// Core::mu_; a Session is only touched on its strand, except the documented entry points.
#pragma once

#include <atomic>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rate_limiter.h"
#include "registry/http/message.h"
#include "registry/http/server.h"

namespace registry::http::internal {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Strand>;
using SteadyClock = std::chrono::steady_clock;

class Session;

// Per-listener settings and counters.
struct ListenerState {
  Handler* handler = nullptr;
  bool admission = true;
  std::atomic<std::size_t> connections{0};  // open sessions of this listener
};

class Core {
 public:
  Core(const HttpServer::Options& options, int concurrency_hint);

  net::io_context ioc;
  const ServerLimits limits;
  ServerObserver* const observer;
  const ErrorBodyFn error_body;
  // Period of each session's housekeeping timer (timeouts, heartbeat).
  const std::chrono::milliseconds tick;

  ListenerState api;
  ListenerState admin;

  // Admitted requests on admission listeners (the inflight cap).
  std::atomic<std::int64_t> inflight{0};
  RateLimiter rate;
  // Connections being answered 429 for max_conns (bounded; see session.cc).
  std::atomic<std::int64_t> rejecting{0};
  // Set once the I/O threads are gone: nothing may be posted any more.
  std::atomic<bool> stopped{false};

  void Rejected(std::string_view reason, int status) const {
    if (observer != nullptr) observer->OnRejected(reason, status);
  }
  void InflightChanged(std::int64_t delta) const {
    if (observer != nullptr) observer->OnInflightChanged(delta);
  }
  void ConnectionsChanged(std::int64_t delta) const {
    if (observer != nullptr) observer->OnConnectionsChanged(delta);
  }

  // Session registry (for Stop). Register returns false once draining started; the caller
  // then closes the connection at once.
  bool Register(const std::shared_ptr<Session>& session);
  void Unregister(const Session* session);
  // Marks the server draining and asks every session to finish its in-flight requests.
  void BeginDrainAll();
  // Closes every remaining session now.
  void CloseAll();
  // Waits until no session is registered or `deadline` passes; true when none is left.
  bool WaitNoSessions(SteadyClock::time_point deadline);
  bool draining() const { return draining_.load(std::memory_order_acquire); }

 private:
  std::vector<std::shared_ptr<Session>> Snapshot();

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_
  std::atomic<bool> draining_{false};
};

// Starts serving an accepted connection.
void StartSession(const std::shared_ptr<Core>& core, ListenerState* listener, Socket socket);

// Answers 429 Busy (max_conns) on an accepted connection and closes it, without counting it
// as an open connection.
void RejectConnection(const std::shared_ptr<Core>& core, ListenerState* listener, Socket socket);

}  // namespace registry::http::internal
