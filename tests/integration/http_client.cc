#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace registry::itest {

namespace {

using Clock = std::chrono::steady_clock;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::chrono::milliseconds Remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? std::chrono::milliseconds(0) : left;
}

const char* StatusName(HttpClient::ReadStatus s) {
  switch (s) {
    case HttpClient::ReadStatus::kData:
      return "data";
    case HttpClient::ReadStatus::kEof:
      return "EOF";
    case HttpClient::ReadStatus::kReset:
      return "connection reset";
    case HttpClient::ReadStatus::kTimeout:
      return "timeout";
    case HttpClient::ReadStatus::kError:
      return "read error";
  }
  return "?";
}

}  // namespace

// ---- HttpResponse ----

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

int HttpResponse::HeaderCount(std::string_view name) const {
  int count = 0;
  for (const auto& [n, v] : headers) count += n == name ? 1 : 0;
  return count;
}

bool HttpResponse::closes() const {
  std::optional<std::string> c = Header("connection");
  return c.has_value() && Lower(*c).find("close") != std::string::npos;
}

std::string HttpResponse::Describe() const {
  if (status == 0) return "no response (" + error + ")";
  std::string out = std::to_string(status) + " " + reason;
  for (const auto& [n, v] : headers) out += "\n  " + n + ": " + v;
  out += "\n  body: " + body.substr(0, 600);
  return out;
}

// ---- HttpClient ----

HttpClient::HttpClient(std::uint16_t port, Options options) : port_(port), options_(options) {
  Connect();
}

HttpClient::~HttpClient() { Close(); }

bool HttpClient::Connect() {
  Close();
  buf_.clear();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    connect_error_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (options_.rcvbuf > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &options_.rcvbuf, sizeof(options_.rcvbuf));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(options_.timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((options_.timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    connect_error_ = "connect to 127.0.0.1:" + std::to_string(port_) + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  connect_error_.clear();
  return true;
}

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HttpClient::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool HttpClient::Send(std::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

HttpClient::ReadStatus HttpClient::ReadMore(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return ReadStatus::kError;
  pollfd p{fd_, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) return ReadStatus::kTimeout;
  if (ready < 0) return ReadStatus::kError;
  char chunk[16384];
  ssize_t n = 0;
  do {
    n = ::recv(fd_, chunk, sizeof(chunk), 0);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return ReadStatus::kEof;
  if (n < 0) {
    if (errno == ECONNRESET) return ReadStatus::kReset;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::kTimeout;
    return ReadStatus::kError;
  }
  buf_.append(chunk, static_cast<std::size_t>(n));
  return ReadStatus::kData;
}

HttpClient::ReadStatus HttpClient::FillTo(std::size_t n, Clock::time_point deadline) {
  while (buf_.size() < n) {
    ReadStatus s = ReadMore(Remaining(deadline));
    if (s != ReadStatus::kData) return s;
  }
  return ReadStatus::kData;
}

HttpResponse HttpClient::ReadResponse(bool head_only, bool no_body) {
  HttpResponse r;
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  for (;;) {
    // Interim 1xx responses are skipped, except when the caller reads them on purpose.
    std::size_t end = buf_.find("\r\n\r\n");
    while (end == std::string::npos) {
      ReadStatus s = ReadMore(Remaining(deadline));
      if (s != ReadStatus::kData) {
        r.error = std::string("reading the response head: ") + StatusName(s) +
                  (buf_.empty() ? "" : " after " + std::to_string(buf_.size()) + " bytes");
        return r;
      }
      end = buf_.find("\r\n\r\n");
    }
    std::string_view head(buf_.data(), end);
    std::size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.substr(0, 9) != "HTTP/1.1 " || status_line.size() < 12) {
      r.error = "bad status line: " + std::string(status_line);
      return r;
    }
    int status = 0;
    std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
    r.status = status;
    r.reason = std::string(status_line.size() > 13 ? status_line.substr(13) : "");
    r.headers.clear();
    std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
    while (!rest.empty()) {
      std::size_t e = rest.find("\r\n");
      std::string_view line = rest.substr(0, e);
      rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      r.headers.emplace_back(Lower(line.substr(0, colon)),
                             std::string(Trim(line.substr(colon + 1))));
    }
    buf_.erase(0, end + 4);
    if (status >= 100 && status < 200) {
      if (head_only) return r;
      continue;
    }
    break;
  }
  if (head_only) return r;
  if (no_body || r.status == 204 || r.status == 304) return r;
  if (std::optional<std::string> cl = r.Header("content-length")) {
    std::size_t length = 0;
    std::from_chars(cl->data(), cl->data() + cl->size(), length);
    ReadStatus s = FillTo(length, deadline);
    if (s != ReadStatus::kData) {
      r.error = std::string("reading the body: ") + StatusName(s);
      r.body = buf_;
      buf_.clear();
      return r;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }
  // No length: the body runs to EOF.
  for (;;) {
    ReadStatus s = ReadMore(Remaining(deadline));
    if (s == ReadStatus::kData) continue;
    if (s != ReadStatus::kEof) r.error = std::string("reading the body to EOF: ") + StatusName(s);
    break;
  }
  r.body = std::move(buf_);
  buf_.clear();
  return r;
}

HttpResponse HttpClient::Request(std::string_view method, std::string_view target,
                                 const Headers& headers, std::string_view body) {
  if (fd_ < 0 && !Connect()) {
    HttpResponse r;
    r.error = connect_error_;
    return r;
  }
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& [n, v] : headers) req.append(n).append(": ").append(v).append("\r\n");
  if (!body.empty() || method == "POST") {
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);
  if (!Send(req)) {
    HttpResponse r;
    r.error = std::string("send: ") + std::strerror(errno);
    Close();
    return r;
  }
  HttpResponse r = ReadResponse(false, method == "HEAD");
  if (r.status == 0 || r.closes()) Close();
  return r;
}

// ---- SSE ----

SseFrame ParseSseFrame(std::string_view text) {
  SseFrame f;
  f.raw = std::string(text);
  bool have_data = false;
  while (!text.empty()) {
    std::size_t e = text.find('\n');
    std::string_view line = text.substr(0, e);
    text = e == std::string_view::npos ? "" : text.substr(e + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() == ':') {
      f.comments.emplace_back(line.substr(1));
      continue;
    }
    std::size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "id") {
      f.id = std::string(value);
    } else if (field == "event") {
      f.event = std::string(value);
    } else if (field == "data") {
      if (have_data) f.data += '\n';
      f.data.append(value);
      have_data = true;
    } else if (field == "retry") {
      f.retry = std::string(value);
    }
  }
  return f;
}

SseStream::SseStream(std::uint16_t port, std::string_view target, const Headers& headers,
                     HttpClient::Options options)
    : client_(port, options) {
  if (!client_.connected()) {
    response_.error = client_.connect_error();
    return;
  }
  std::string req = "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  req += "Accept: text/event-stream\r\n";
  for (const auto& [n, v] : headers) req += n + ": " + v + "\r\n";
  req += "\r\n";
  if (!client_.Send(req)) {
    response_.error = "send failed";
    return;
  }
  response_ = client_.ReadResponse(/*head_only=*/true);
  if (response_.status != 0 && response_.status != 200) {
    // An error answer: read its body too, so that a test can check the code.
    std::optional<std::string> cl = response_.Header("content-length");
    std::size_t length = 0;
    if (cl) std::from_chars(cl->data(), cl->data() + cl->size(), length);
    const Clock::time_point deadline = Clock::now() + kIoTimeout;
    while (client_.buffer().size() < length) {
      if (client_.ReadMore(Remaining(deadline)) != HttpClient::ReadStatus::kData) break;
    }
    response_.body = client_.buffer().substr(0, length);
  }
}

std::optional<SseFrame> SseStream::Next(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string& buf = client_.buffer();
  for (;;) {
    std::size_t end = buf.find("\n\n");
    if (end != std::string::npos) {
      SseFrame f = ParseSseFrame(std::string_view(buf).substr(0, end));
      buf.erase(0, end + 2);
      last_status_ = HttpClient::ReadStatus::kData;
      return f;
    }
    last_status_ = client_.ReadMore(Remaining(deadline));
    if (last_status_ != HttpClient::ReadStatus::kData) return std::nullopt;
  }
}

std::optional<SseFrame> SseStream::NextEvent(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    std::optional<SseFrame> f = Next(Remaining(deadline));
    if (!f.has_value()) return f;
    if (f->heartbeat()) continue;
    if (f->retry && !f->id && f->event.empty() && f->data.empty()) continue;
    return f;
  }
}

}  // namespace registry::itest
