// HttpServer: HTTP/1.1 listeners on Boost.Beast/Asio serving a Handler.
//
// One io_context runs on `threads` threads; each connection has its own strand, supports
// keep-alive and pipelining (responses go out in request order), and is bounded in time
// (read, write, idle timeouts) and size (header cap; body cap decided from Content-Length
// before the body is read). Admission control (max_conns, inflight, rps) happens before any
// body is read or parsed. Under overload, writes are shed before reads: a request other than
// GET/HEAD is admitted only while at most half of the inflight slots are taken and at least
// half of the rate bucket is left, so reads always keep the other half of the capacity. Beast and
// Asio stay inside src/http; this header exposes none.
//
// Thread-safety: Start/Stop from one controlling thread; everything else is internal.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "registry/http/message.h"
#include "registry/util/result.h"

namespace registry::http {

struct ListenerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;      // 0 = any free port; see HttpServer::port()
  Handler* handler = nullptr;  // not owned; MUST outlive the server
  bool admission = true;       // apply inflight/rps caps (API plane); off for admin plane
};

struct ServerLimits {
  std::size_t max_conns = 1024;
  std::size_t inflight = 512;
  std::uint32_t rps = 0;  // 0 = off
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds drain_deadline{3000};
  std::chrono::seconds retry_after{1};
};

// Hooks the server calls so the application can count and log what it decides itself
// (admission rejects, protocol errors). MUST be thread-safe and cheap.
class ServerObserver {
 public:
  virtual ~ServerObserver() = default;
  // A request rejected by the server before reaching the handler. `reason` is one of
  // "max_conns", "inflight", "rps", "body_too_large", "header_too_large", "bad_request",
  // "read_timeout", "content_encoding".
  virtual void OnRejected(std::string_view reason, int status) = 0;
  virtual void OnInflightChanged(std::int64_t delta) = 0;
  virtual void OnConnectionsChanged(std::int64_t delta) = 0;
};

// Builds the JSON error body of SPEC §2.3 for server-generated errors. Provided by the
// application so that the server does not know the error format.
using ErrorBodyFn = std::function<Response(int status, std::string_view code,
                                           std::string_view message, const Request* request)>;

class HttpServer {
 public:
  struct Options {
    std::size_t threads = 0;  // 0 = hardware concurrency
    ServerLimits limits;
    ListenerConfig api;
    ListenerConfig admin;
    ServerObserver* observer = nullptr;  // optional, not owned
    ErrorBodyFn error_body;              // REQUIRED
  };

  static util::Result<std::unique_ptr<HttpServer>> Create(Options options);
  virtual ~HttpServer() = default;

  // Binds both listeners and starts the I/O threads. Errors name the address that failed.
  virtual util::Status Start() = 0;
  // Bound ports (after Start).
  virtual std::uint16_t api_port() const = 0;
  virtual std::uint16_t admin_port() const = 0;
  // Stops accepting, lets in-flight requests finish up to drain_deadline, closes streams,
  // then joins the I/O threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace registry::http
