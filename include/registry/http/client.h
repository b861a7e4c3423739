// Client: a small blocking HTTP/1.1 client for svc-registry's API (registryctl, tools, tests).
//
// One Client talks to one server, given as a URL base "http://host[:port][/prefix]" (the
// prefix, if any, is put in front of every request target). Only plain `http://` is
// supported: TLS is out of scope of this client (an `https://` base is refused at Create).
// Requests go over one keep-alive connection, reused from request to request; when a reused
// connection turns out to have been closed by the server (its idle timeout, a restart)
// before any byte of the response arrived, the client reconnects and sends the request once
// more. Registry writes are idempotent (the same proposal, a duplicate approval, a repeated
// commit are all recognised by the service), so this one retry is safe for them too.
//
// Stream() reads a Server-Sent Events response (text/event-stream) incrementally and hands
// each event to a callback as soon as its blank line arrives, so a caller can follow
// /registry/stream for as long as it likes.
//
// Time limits (ClientOptions::timeout): Request() must finish the whole exchange (connect,
// send, receive) within the timeout; Stream() must get the response head within it, and then
// at least one byte per timeout period (the service's heartbeat comments keep an idle stream
// alive).
//
// Errors (util::Error codes; a response with any HTTP status is NOT an error here, the caller
// reads ClientResponse::status):
//   kMalformed       – a bad URL base, target or header, or a response that is not HTTP/1.x;
//   kNotReady        – cannot resolve or connect, a timeout, or the connection was lost;
//   kPayloadTooLarge – a response head or body larger than the limits in ClientOptions.
// Beast and Asio stay inside src/http/client.cc; this header exposes none of their types.
//
// Thread-safety: a Client is NOT thread-safe: one call at a time (use one Client per thread).
// It is movable. Calls block the calling thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "registry/http/message.h"
#include "registry/util/result.h"

namespace registry::http {

struct ClientOptions {
  // See the header comment: whole exchange for Request(), head and then time between bytes
  // for Stream().
  std::chrono::milliseconds timeout{10000};
  // Largest response body Request() accepts (a commit record holds a payload of up to
  // 64 MiB, SPEC §1.2), and largest single SSE event Stream() accepts.
  std::size_t max_body_bytes = std::size_t{128} << 20;
  // Largest response head (status line and headers).
  std::size_t max_header_bytes = 64 * 1024;
  std::string user_agent = "svc-registry-client";
};

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;  // names lower-cased, in arrival order
  std::string body;             // empty for Stream()'s 200 (its body went to the callback)

  // First header named `name` (compared case-insensitively), or nullptr.
  const std::string* FindHeader(std::string_view name) const;
};

// One Server-Sent Event (WHATWG HTML "server-sent events" interpretation of the stream).
struct SseEvent {
  // The last event ID: the value of the most recent `id:` field of the stream so far (it
  // persists across events, as in the standard), "" when none has been seen yet.
  std::string id;
  // The `event:` field, or "message" when the event had none.
  std::string event;
  // The `data:` lines joined with "\n" (no trailing newline).
  std::string data;
};

class Client {
 public:
  // Parses `url_base` ("http://127.0.0.1:9444", "http://[::1]:9444", "http://host/prefix";
  // port 80 when absent). Does not connect yet. kMalformed for anything else, including
  // https:// (TLS is not supported).
  static util::Result<Client> Create(std::string url_base, ClientOptions options = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // Sends one request and reads the whole response. `target` is the origin-form target
  // ("/registry/head", "/registry/proposals?limit=5") and MUST start with '/'. `headers` are
  // sent as given (Host, User-Agent and Content-Length are set by the client; entries named
  // Content-Length or Transfer-Encoding are refused). A body is sent with Content-Length;
  // POST/PUT/PATCH always carry a Content-Length, even when empty.
  util::Result<ClientResponse> Request(std::string_view method, std::string_view target,
                                       const std::vector<Header>& headers = {},
                                       std::string_view body = {});

  // GETs `target` and, if the answer is 200, reads its body as an SSE stream, calling
  // `on_event` for each complete event (comment lines are skipped; an event with no data
  // line is not dispatched; an incomplete event at the end of the stream is dropped) until
  // `on_event` returns false, the server ends the stream, or no byte arrives for
  // ClientOptions::timeout (then kNotReady). Returns the response's status and headers;
  // for a status other than 200 the body is read into ClientResponse::body and no event is
  // delivered. The connection is closed when Stream returns.
  util::Result<ClientResponse> Stream(std::string_view target, const std::vector<Header>& headers,
                                      const std::function<bool(const SseEvent&)>& on_event);

  // The URL base this client was created with (normalized: no trailing '/').
  const std::string& url_base() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace registry::http
