// RequestReader: the incremental HTTP/1.1 request parser of the server (private to src/http).
// It wraps Beast's basic_parser but exposes no Beast type, so the connection code and the
// fuzz target (fuzz/http_request_fuzz.cc) drive the exact same parsing path.
//
// Usage per message: Reset(), then Feed() the buffered bytes until it reports kHeaderDone
// (exactly once; the caller decides on admission, body size and encoding before any body
// byte is parsed), then Feed() again until kDone or kError. Bytes after the end of the
// message are left unconsumed (pipelining).
//
// Limits: the header (request line + fields) is capped at max_header_bytes
// (kHeaderTooLarge); a Content-Length above max_body_bytes, or a chunked body growing past
// it, is kBodyTooLarge.
//
// Not thread-safe: one reader per connection, used from its strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "registry/http/message.h"

namespace registry::http::internal {

struct ParseLimits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
};

enum class ParseError : std::uint8_t { kNone, kMalformed, kHeaderTooLarge, kBodyTooLarge };

class RequestReader {
 public:
  enum class State : std::uint8_t { kNeedMore, kHeaderDone, kDone, kError };
  struct Step {
    std::size_t consumed = 0;  // bytes of `data` used; the caller drops them
    State state = State::kNeedMore;
  };

  explicit RequestReader(ParseLimits limits);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Starts a new message; clears the request.
  void Reset();

  // Parses as much of `data` as possible. kNeedMore: every usable byte was consumed and the
  // message needs more input. kHeaderDone: the header just completed (reported once, even
  // when the message has no body; the next Feed then returns kDone without input).
  Step Feed(std::string_view data);

  // Header facts. REQUIRES: the header is done.
  bool header_done() const;
  bool keep_alive() const;
  bool has_body() const;  // Content-Length > 0, or chunked
  std::optional<std::uint64_t> content_length() const;
  bool chunked() const;
  bool expects_continue() const;  // "Expect: 100-continue"
  // A Content-Encoding other than identity, or a transfer coding other than chunked, was
  // sent (the body cannot be read as sent: 415).
  bool has_content_encoding() const;

  ParseError error() const;
  // A short human-readable reason for error(), e.g. "bad method".
  const std::string& error_message() const;

  // The request being built: method, target, path, query, lower-cased headers in arrival
  // order, body. Trailer fields of chunked bodies are ignored.
  Request& request();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace registry::http::internal
