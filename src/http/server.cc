// HttpServer: listeners, I/O threads and the orderly Stop. The per-connection logic is in
// session.cc.
#include "registry/http/server.h"

#include <algorithm>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core.h"
#include "registry/util/check.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace registry::http {
namespace internal {
namespace {

using boost::system::error_code;
using util::Error;
using util::ErrorCode;

constexpr int kBacklog = 4096;
constexpr std::chrono::milliseconds kAcceptRetry{50};
// After the drain deadline, how long Stop waits for the forced closes to run.
constexpr std::chrono::milliseconds kForceCloseWait{1000};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<Core> core, ListenerState* state)
      : core_(std::move(core)),
        state_(state),
        strand_(net::make_strand(core_->ioc)),
        acceptor_(strand_),
        retry_(strand_) {}

  util::Status Bind(const std::string& address, std::uint16_t port) {
    const std::string where = address + ":" + std::to_string(port);
    error_code ec;
    const net::ip::address ip = net::ip::make_address(address, ec);
    if (ec) return Error(ErrorCode::kMalformed, "http: bad listen address " + where);
    const tcp::endpoint endpoint(ip, port);
    if (acceptor_.open(endpoint.protocol(), ec); ec) {
      return Error(ErrorCode::kInternal, "http: open " + where + ": " + ec.message());
    }
    if (acceptor_.set_option(net::socket_base::reuse_address(true), ec); ec) {
      return Error(ErrorCode::kInternal, "http: SO_REUSEADDR on " + where + ": " + ec.message());
    }
    if (acceptor_.bind(endpoint, ec); ec) {
      return Error(ErrorCode::kInternal, "http: bind " + where + ": " + ec.message());
    }
    if (acceptor_.listen(kBacklog, ec); ec) {
      return Error(ErrorCode::kInternal, "http: listen " + where + ": " + ec.message());
    }
    const tcp::endpoint local = acceptor_.local_endpoint(ec);
    if (ec) return Error(ErrorCode::kInternal, "http: local endpoint of " + where);
    port_ = local.port();
    return util::Status::Ok();
  }

  std::uint16_t port() const { return port_; }

  void Run() {
    net::post(strand_, [self = shared_from_this()] { self->DoAccept(); });
  }

  void Close() {
    net::post(strand_, [self = shared_from_this()] {
      error_code ec;
      self->acceptor_.close(ec);
      self->retry_.cancel();
    });
  }

 private:
  void DoAccept() {
    // Each connection gets its own strand.
    acceptor_.async_accept(net::make_strand(core_->ioc),
                           [self = shared_from_this()](const error_code& ec, Socket socket) {
                             self->OnAccept(ec, std::move(socket));
                           });
  }

  void OnAccept(const error_code& ec, Socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      // Out of descriptors or similar: back off instead of spinning.
      retry_.expires_after(kAcceptRetry);
      retry_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
        if (!wait_ec) self->DoAccept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (state_->admission &&
        state_->connections.load(std::memory_order_relaxed) >= core_->limits.max_conns) {
      RejectConnection(core_, state_, std::move(socket));
    } else {
      StartSession(core_, state_, std::move(socket));
    }
    if (acceptor_.is_open()) DoAccept();
  }

  const std::shared_ptr<Core> core_;
  ListenerState* const state_;
  Strand strand_;
  net::basic_socket_acceptor<tcp, Strand> acceptor_;
  Timer retry_;
  std::uint16_t port_ = 0;
};

class ServerImpl final : public HttpServer {
 public:
  explicit ServerImpl(Options options)
      : options_(std::move(options)),
        thread_count_(options_.threads != 0
                          ? options_.threads
                          : std::max<std::size_t>(1, std::thread::hardware_concurrency())),
        core_(std::make_shared<Core>(options_, static_cast<int>(thread_count_))) {}

  ~ServerImpl() override { Stop(); }

  util::Status Start() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stopped_) return Error(ErrorCode::kInternal, "http: server already started");
    auto api = std::make_shared<Listener>(core_, &core_->api);
    REGISTRY_RETURN_IF_ERROR(api->Bind(options_.api.address, options_.api.port));
    std::shared_ptr<Listener> admin;
    if (options_.admin.handler != nullptr) {
      admin = std::make_shared<Listener>(core_, &core_->admin);
      REGISTRY_RETURN_IF_ERROR(admin->Bind(options_.admin.address, options_.admin.port));
    }
    api_ = std::move(api);
    admin_ = std::move(admin);
    work_.emplace(core_->ioc.get_executor());
    api_->Run();
    if (admin_) admin_->Run();
    threads_.reserve(thread_count_);
    for (std::size_t i = 0; i < thread_count_; ++i) {
      threads_.emplace_back([core = core_] { core->ioc.run(); });
    }
    started_ = true;
    return util::Status::Ok();
  }

  std::uint16_t api_port() const override { return api_ ? api_->port() : 0; }
  std::uint16_t admin_port() const override { return admin_ ? admin_->port() : 0; }

  void Stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::thread& t : threads_) {
      REGISTRY_CHECK(t.get_id() != std::this_thread::get_id(),
                     "HttpServer::Stop called from an I/O thread (it would join itself)");
    }
    if (stopped_) return;
    stopped_ = true;
    if (!started_) return;
    // 1. No new connections.
    api_->Close();
    if (admin_) admin_->Close();
    // 2. Let admitted requests finish (new ones are refused), up to the deadline.
    core_->BeginDrainAll();
    core_->WaitNoSessions(SteadyClock::now() + options_.limits.drain_deadline);
    // 3. Close whatever is left, streams included.
    core_->CloseAll();
    core_->WaitNoSessions(SteadyClock::now() + kForceCloseWait);
    // 4. Stop the loop and join.
    core_->stopped.store(true, std::memory_order_release);
    work_.reset();
    core_->ioc.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    // Run the completions the closes produced, so that no queued handler keeps a session
    // (and through it the io_context) alive.
    core_->ioc.restart();
    core_->ioc.poll();
  }

 private:
  const Options options_;
  const std::size_t thread_count_;
  const std::shared_ptr<Core> core_;
  std::shared_ptr<Listener> api_;
  std::shared_ptr<Listener> admin_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace
}  // namespace internal

util::Result<std::unique_ptr<HttpServer>> HttpServer::Create(Options options) {
  using util::Error;
  using util::ErrorCode;
  if (!options.error_body) return Error(ErrorCode::kMalformed, "http: error_body is required");
  if (options.api.handler == nullptr) {
    return Error(ErrorCode::kMalformed, "http: api.handler is required");
  }
  const ServerLimits& l = options.limits;
  if (l.max_header_bytes == 0 || l.max_conns == 0 || l.inflight == 0 ||
      l.read_timeout.count() <= 0 || l.write_timeout.count() <= 0 || l.idle_timeout.count() <= 0 ||
      l.drain_deadline.count() < 0 || l.retry_after.count() < 0) {
    return Error(ErrorCode::kMalformed, "http: limits must be positive");
  }
  return std::unique_ptr<HttpServer>(new internal::ServerImpl(std::move(options)));
}

}  // namespace registry::http
