// Shared pieces of the HttpServer tests: a handler from a lambda, an observer that counts and
// can be waited on, the error body, and a helper that starts a server on port 0.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/http/message.h"
#include "registry/http/server.h"

namespace registry::http::testing {

inline constexpr std::chrono::seconds kWait{5};

class FnHandler final : public Handler {
 public:
  using Fn = std::function<void(Request, Responder)>;
  explicit FnHandler(Fn fn) : fn_(std::move(fn)) {}
  void Handle(Request request, Responder respond) override {
    calls_.fetch_add(1);
    fn_(std::move(request), std::move(respond));
  }
  int calls() const { return calls_.load(); }

 private:
  Fn fn_;
  std::atomic<int> calls_{0};
};

// A handler that answers at once with "<method> <path> <query> <x-test header> <body>".
inline FnHandler::Fn EchoFn() {
  return [](Request r, Responder respond) {
    const std::string* x = r.FindHeader("x-test");
    respond(Response::Text(
        200, "text/plain",
        r.method + " " + r.path + " " + r.query + " " + (x ? *x : "-") + " " + r.body));
  };
}

class CountingObserver final : public ServerObserver {
 public:
  void OnRejected(std::string_view reason, int status) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++rejected_[std::string(reason)];
    statuses_.push_back(status);
    cv_.notify_all();
  }
  void OnInflightChanged(std::int64_t delta) override {
    std::lock_guard<std::mutex> lock(mu_);
    inflight_ += delta;
    cv_.notify_all();
  }
  void OnConnectionsChanged(std::int64_t delta) override {
    std::lock_guard<std::mutex> lock(mu_);
    connections_ += delta;
    cv_.notify_all();
  }

  int rejected(const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = rejected_.find(reason);
    return it == rejected_.end() ? 0 : it->second;
  }
  std::int64_t inflight() {
    std::lock_guard<std::mutex> lock(mu_);
    return inflight_;
  }
  std::int64_t connections() {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_;
  }
  bool WaitRejected(const std::string& reason, int count) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return rejected_[reason] >= count; });
  }
  bool WaitInflight(std::int64_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return inflight_ == n; });
  }
  bool WaitConnections(std::int64_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return connections_ == n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> rejected_;
  std::vector<int> statuses_;
  std::int64_t inflight_ = 0;
  std::int64_t connections_ = 0;
};

inline Response TestErrorBody(int status, std::string_view code, std::string_view message,
                              const Request* request) {
  std::string body = "{\"error\":{\"code\":\"" + std::string(code) + "\",\"message\":\"" +
                     std::string(message) + "\"}}";
  Response r = Response::Text(status, "application/json; charset=utf-8", std::move(body));
  if (request != nullptr) {
    if (const std::string* corr = request->FindHeader("x-corr-id")) r.SetHeader("X-Corr-ID", *corr);
  }
  return r;
}

// Collects the responders of deferred requests so the test answers them when it chooses.
class Parked {
 public:
  void Add(Request r, Responder respond) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.emplace_back(std::move(r), std::move(respond));
    cv_.notify_all();
  }
  bool WaitFor(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return items_.size() >= n; });
  }
  // Takes the parked request whose path is `path`.
  std::pair<Request, Responder> Take(std::string_view path) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = items_.begin(); it != items_.end(); ++it) {
      if (it->first.path == path) {
        auto item = std::move(*it);
        items_.erase(it);
        return item;
      }
    }
    ADD_FAILURE() << "no parked request for " << path;
    return {};
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Request, Responder>> items_;
};

inline ServerLimits TestLimits() {
  ServerLimits l;
  l.drain_deadline = std::chrono::milliseconds(2000);
  return l;
}

inline std::unique_ptr<HttpServer> StartServer(Handler* api, ServerLimits limits,
                                               ServerObserver* observer, Handler* admin = nullptr,
                                               std::size_t threads = 2) {
  HttpServer::Options options;
  options.threads = threads;
  options.limits = limits;
  options.api.handler = api;
  options.admin.handler = admin;
  options.admin.admission = false;
  options.observer = observer;
  options.error_body = TestErrorBody;
  auto created = HttpServer::Create(std::move(options));
  if (!created.ok()) {
    ADD_FAILURE() << created.error().ToString();
    return nullptr;
  }
  std::unique_ptr<HttpServer> server = std::move(created).value();
  util::Status started = server->Start();
  if (!started.ok()) {
    ADD_FAILURE() << started.error().ToString();
    return nullptr;
  }
  return server;
}

}  // namespace registry::http::testing
