// Plain HTTP request and response types that cross the boundary between the Beast-based
// server (src/http) and the handlers (src/api). No Beast or Asio type appears here, so the
// handlers are testable without sockets.
//
// A Request is owned by the handler call that receives it. A Response body is a shared
// immutable buffer, so precomputed bodies (HEAD, cached records) are sent without a copy.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace registry::http {

using Header = std::pair<std::string, std::string>;

struct Request {
  std::string method;           // "GET", "POST", ... as sent
  std::string target;           // raw request target, e.g. "/registry/7?x=1"
  std::string path;             // target up to '?', not percent-decoded
  std::string query;            // after '?', without it; empty when absent
  std::vector<Header> headers;  // names lower-cased, in arrival order
  std::string body;
  std::string remote;  // peer address, for logs
  std::chrono::steady_clock::time_point received_at;

  // First header named `name` (lower-case), or nullptr.
  const std::string* FindHeader(std::string_view name) const;
};

// Receives the events of one streaming response (SSE). Created by the server once the
// response head is written; the producer pushes chunks from any thread.
// Thread-safe.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Sends `chunk`. Never waits for the peer: when nothing is queued, the chunk is written at
  // once with a non-blocking send from the calling thread, and whatever the socket does not
  // take is queued for the connection's strand. Returns false when the connection is gone
  // or its queue (bounded by Response::Stream::queue_len) was full; in the latter case the
  // server closes the connection and calls Stream::on_lagged.
  virtual bool Push(std::shared_ptr<const std::string> chunk) = 0;
  // Ends the stream and closes the connection after queued chunks are written.
  virtual void Close() = 0;
  // True once the connection is closed (by either side).
  virtual bool closed() const = 0;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;              // Content-Type goes here too
  std::shared_ptr<const std::string> body;  // may be null for an empty body

  // Set for a streaming response: the server writes the head (chunked transfer is not
  // used; the connection is closed at the end), then calls on_open with a sink bound to
  // the connection. The stream ends when the client goes away or the sink is closed.
  struct Stream {
    std::size_t queue_len = 256;                 // bounded per-connection queue
    std::chrono::milliseconds heartbeat{15000};  // idle comment line ":\n\n" at this period
    std::function<void(std::shared_ptr<StreamSink>)> on_open;
    std::function<void()> on_lagged;  // queue overflowed; connection being dropped
    std::function<void()> on_closed;  // connection ended, whatever the reason
  };
  std::optional<Stream> stream;

  void SetHeader(std::string name, std::string value);
  static Response Text(int status, std::string content_type, std::string body);
};

// Called exactly once per request with the response. MAY be called from any thread; the
// server hops back onto the connection's strand.
using Responder = std::function<void(Response)>;

// The application. Handle MUST NOT block the calling I/O thread on slow work; it may call
// `respond` before returning (fast paths) or later from another thread.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void Handle(Request request, Responder respond) = 0;
};

}  // namespace registry::http
