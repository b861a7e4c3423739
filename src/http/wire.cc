#include "wire.h"

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace registry::http::wire {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

void AppendNumber(std::string& out, long long v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;  // 24 bytes always hold a long long
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

bool StatusHasNoBody(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

bool HasConnectionClose(const std::vector<Header>& headers) {
  for (const Header& h : headers) {
    if (!EqualsIgnoreCase(h.first, "connection")) continue;
    // Connection is a comma-separated token list.
    std::string_view v = h.second;
    while (!v.empty()) {
      std::size_t comma = v.find(',');
      std::string_view token = v.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
      if (EqualsIgnoreCase(token, "close")) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool ValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool ValidHeaderValue(std::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

void AppendResponseHead(int status, const std::vector<Header>& headers, const HeadParams& params,
                        std::string& out) {
  if (status < 100 || status > 999) status = 500;
  out.append("HTTP/1.1 ");
  AppendNumber(out, status);
  out.push_back(' ');
  out.append(ReasonPhrase(status));
  out.append("\r\n");
  bool has_retry_after = false;
  for (const Header& h : headers) {
    const std::string& name = h.first;
    if (!ValidHeaderName(name) || !ValidHeaderValue(h.second)) continue;
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "connection") ||
        EqualsIgnoreCase(name, "transfer-encoding")) {
      continue;
    }
    if (EqualsIgnoreCase(name, "retry-after")) has_retry_after = true;
    out.append(name);
    out.append(": ");
    out.append(h.second);
    out.append("\r\n");
  }
  if ((status == 429 || status == 503) && !has_retry_after && params.retry_after_seconds >= 0) {
    out.append("Retry-After: ");
    AppendNumber(out, params.retry_after_seconds);
    out.append("\r\n");
  }
  if (!params.stream && !StatusHasNoBody(status)) {
    out.append("Content-Length: ");
    AppendNumber(out, static_cast<long long>(params.content_length));
    out.append("\r\n");
  }
  out.append((params.keep_alive && !params.stream) ? "Connection: keep-alive\r\n\r\n"
                                                   : "Connection: close\r\n\r\n");
}

}  // namespace registry::http::wire
