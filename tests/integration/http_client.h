// A small blocking HTTP/1.1 client and a Server-Sent Events reader for the integration
// tests, over plain POSIX sockets on 127.0.0.1.
//
// Every read and write is bounded by a deadline (poll(2) before each recv, and
// SO_RCVTIMEO/SO_SNDTIMEO of 5 s as a backstop), so a broken service fails a test instead of
// hanging it. Responses are framed by Content-Length (or read to EOF when the server closes
// without one); the raw calls (Send, ReadResponse, ReadAvailable) let a test write hostile
// or partial bytes and read exactly what comes back.
//
// HttpClient owns one socket; Request() reconnects transparently when the previous response
// closed the connection. SseStream owns one HttpClient in streaming mode. Neither is
// thread-safe: use one object per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace registry::itest {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::chrono::milliseconds kIoTimeout{5000};

struct HttpResponse {
  int status = 0;     // 0: no response; `error` says why
  std::string error;  // transport failure, empty on success
  std::string reason;
  Headers headers;  // names lower-cased, in arrival order
  std::string body;

  // The first header named `name` (lower-case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  // How many headers are named `name` (lower-case).
  int HeaderCount(std::string_view name) const;
  // True when the response said Connection: close.
  bool closes() const;
  // Status, reason and headers, for failure messages.
  std::string Describe() const;
};

class HttpClient {
 public:
  struct Options {
    int rcvbuf = 0;  // SO_RCVBUF set before connect when > 0
    std::chrono::milliseconds timeout = kIoTimeout;
  };

  explicit HttpClient(std::uint16_t port) : HttpClient(port, Options()) {}
  HttpClient(std::uint16_t port, Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  const std::string& connect_error() const { return connect_error_; }
  int fd() const { return fd_; }

  // Sends one request (adding Host, and Content-Length when there is a body or the method is
  // POST) and reads its response. Reconnects first when the connection is gone.
  HttpResponse Request(std::string_view method, std::string_view target,
                       const Headers& headers = {}, std::string_view body = {});

  // Raw access: writes `bytes` as they are (no reconnect). False on a write error.
  bool Send(std::string_view bytes);
  // Reads one response. `head_only` stops after the header block (a stream response);
  // `no_body` is for responses to HEAD requests.
  HttpResponse ReadResponse(bool head_only = false, bool no_body = false);

  enum class ReadStatus { kData, kEof, kReset, kTimeout, kError };
  // Reads whatever arrives within `timeout` into the internal buffer (kData), or reports
  // why nothing did.
  ReadStatus ReadMore(std::chrono::milliseconds timeout);
  // The bytes received and not yet consumed by ReadResponse.
  std::string& buffer() { return buf_; }

  void ShutdownWrite();
  void Close();

 private:
  bool Connect();
  // Reads until `buf_` holds at least `n` bytes or the deadline passes.
  ReadStatus FillTo(std::size_t n, std::chrono::steady_clock::time_point deadline);

  const std::uint16_t port_;
  const Options options_;
  int fd_ = -1;
  std::string connect_error_;
  std::string buf_;
};

// One frame of a text/event-stream: the lines up to a blank line.
struct SseFrame {
  std::optional<std::string> id;
  std::string event;  // empty when the frame names none
  std::string data;   // data lines joined with '\n'
  std::optional<std::string> retry;
  std::vector<std::string> comments;  // lines starting with ':' (text after the colon)
  std::string raw;

  // A frame made only of comment lines: a heartbeat.
  bool heartbeat() const { return !id && event.empty() && data.empty() && !retry; }
};

class SseStream {
 public:
  // Connects and sends GET `target` with `headers`; response() holds the response head (or
  // a whole error response when the status is not 200).
  SseStream(std::uint16_t port, std::string_view target, const Headers& headers = {},
            HttpClient::Options options = {});

  const HttpResponse& response() const { return response_; }
  bool ok() const { return response_.status == 200; }

  // The next frame, or nullopt on timeout, EOF or reset (see last_status()).
  std::optional<SseFrame> Next(std::chrono::milliseconds timeout = kIoTimeout);
  // The next frame that is neither a heartbeat nor a bare `retry:` frame.
  std::optional<SseFrame> NextEvent(std::chrono::milliseconds timeout = kIoTimeout);
  HttpClient::ReadStatus last_status() const { return last_status_; }

  HttpClient& client() { return client_; }
  void Close() { client_.Close(); }

 private:
  HttpClient client_;
  HttpResponse response_;
  HttpClient::ReadStatus last_status_ = HttpClient::ReadStatus::kData;
};

// Parses one frame's text (without the terminating blank line).
SseFrame ParseSseFrame(std::string_view text);

}  // namespace registry::itest
