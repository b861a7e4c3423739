// Byte-level HTTP/1.1 helpers of the server (private to src/http): the response head the
// server writes, reason phrases, and case-insensitive header checks. No Beast or Asio here,
// so the exact bytes on the wire are unit-testable.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "registry/http/message.h"

namespace registry::http::wire {

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// The standard reason phrase for `status`, or "Unknown".
std::string_view ReasonPhrase(int status);

// True for statuses that never carry a body nor Content-Length (1xx, 204, 304).
bool StatusHasNoBody(int status);

// True when a header named Connection lists the "close" token.
bool HasConnectionClose(const std::vector<Header>& headers);

// True for a header name made of RFC 9110 token characters, and a value free of CR, LF and
// NUL. Headers failing this are dropped from responses (no header injection).
bool ValidHeaderName(std::string_view name);
bool ValidHeaderValue(std::string_view value);

struct HeadParams {
  bool keep_alive = true;
  // A streaming head: no Content-Length; the body ends when the connection closes.
  bool stream = false;
  std::size_t content_length = 0;
  // Added as Retry-After to 429 and 503 responses that lack one; negative = never.
  long long retry_after_seconds = -1;
};

// Appends "HTTP/1.1 <status> <reason>\r\n", the headers, the framing headers the server owns
// (Content-Length, Connection) and the final CRLF to `out`. Header entries named
// Content-Length, Connection or Transfer-Encoding, or invalid ones, are skipped.
void AppendResponseHead(int status, const std::vector<Header>& headers, const HeadParams& params,
                        std::string& out);

// The interim response sent for "Expect: 100-continue".
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// The SSE heartbeat comment line.
inline constexpr std::string_view kHeartbeat = ":\n\n";

}  // namespace registry::http::wire
