// http::Client over Boost.Beast. Every socket operation is asynchronous on a private
// io_context that the calling thread runs until the operation completes: that is how a
// blocking call gets a deadline (beast::tcp_stream closes the socket when it expires).
#include "registry/http/client.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "registry/util/check.h"

namespace registry::http {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using util::Error;
using util::ErrorCode;
using SteadyClock = std::chrono::steady_clock;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 token characters (method and header names).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool IsSafeValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

bool IsSafeTarget(std::string_view s) {
  return !s.empty() && s.front() == '/' && std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

struct UrlBase {
  std::string normalized;   // "http://host:port/prefix" as given, without trailing '/'
  std::string host;         // for the resolver: no brackets
  std::string port;         // decimal
  std::string host_header;  // as it goes in Host: "host:port" (brackets kept)
  std::string prefix;       // "" or "/prefix"
};

util::Result<UrlBase> ParseUrlBase(std::string url) {
  auto bad = [&url](std::string_view why) {
    return Error(ErrorCode::kMalformed, "URL \"" + url + "\": " + std::string(why));
  };
  constexpr std::string_view kScheme = "http://";
  if (url.size() >= 8 && EqualsIgnoreCase(std::string_view(url).substr(0, 8), "https://")) {
    return bad("https is not supported by this client (TLS is out of scope); use http://");
  }
  if (url.size() < kScheme.size() ||
      !EqualsIgnoreCase(std::string_view(url).substr(0, kScheme.size()), kScheme)) {
    return bad("must start with http://");
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) {
    return bad("must not have a query or a fragment");
  }
  if (!path.empty() && !IsSafeTarget(path)) return bad("invalid characters in the path");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");

  UrlBase u;
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected characters after the [IPv6] host");
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("no host");
  for (char c : host) {
    const auto ch = static_cast<unsigned char>(c);
    if (std::isalnum(ch) == 0 && c != '.' && c != '-' && c != ':' && c != '_' && c != '%') {
      return bad("invalid character in the host");
    }
  }
  if (port.empty()) {
    port = "80";
  } else {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("the port must be a number from 1 to 65535");
    }
    const int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) return bad("the port must be a number from 1 to 65535");
  }
  u.host = std::string(host);
  u.port = std::string(port);
  u.host_header = std::string(authority);
  u.prefix = std::string(path);
  u.normalized = std::string(url.substr(0, kScheme.size())) + u.host_header + u.prefix;
  return u;
}

// Incremental parser of a text/event-stream body (WHATWG HTML, "Interpreting an event
// stream"): lines end with CRLF, LF or CR; a blank line dispatches the event being built.
class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  // Feeds the next bytes of the body. Returns false once `emit` asked to stop; an error when
  // a line or an event outgrows the limit.
  util::Result<bool> Feed(std::string_view bytes,
                          const std::function<bool(const SseEvent&)>& emit) {
    for (char c : bytes) {
      if (after_cr_) {
        after_cr_ = false;
        if (c == '\n') continue;  // the LF of a CRLF
      }
      if (c == '\r' || c == '\n') {
        after_cr_ = c == '\r';
        const bool keep_going = Line(emit);
        line_.clear();
        if (!keep_going) return false;
        continue;
      }
      if (line_.size() + data_.size() >= max_event_bytes_) {
        return Error(ErrorCode::kPayloadTooLarge, "an event of the stream is larger than " +
                                                      std::to_string(max_event_bytes_) + " bytes");
      }
      line_.push_back(c);
    }
    return true;
  }

 private:
  // Processes the complete line in line_; false when `emit` asked to stop.
  bool Line(const std::function<bool(const SseEvent&)>& emit) {
    std::string_view line = line_;
    if (first_line_) {
      first_line_ = false;
      if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // a leading BOM
    }
    if (line.empty()) return Dispatch(emit);
    if (line.front() == ':') return true;  // a comment (the service's heartbeat)
    const std::size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "event") {
      event_.assign(value);
    } else if (field == "data") {
      data_.append(value);
      data_.push_back('\n');
      has_data_ = true;
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
    }
    // "retry" and unknown fields are ignored: reconnection is the caller's business.
    return true;
  }

  bool Dispatch(const std::function<bool(const SseEvent&)>& emit) {
    if (!has_data_) {
      event_.clear();
      return true;
    }
    SseEvent e;
    e.id = last_id_;
    e.event = event_.empty() ? "message" : event_;
    data_.pop_back();  // the newline after the last data line
    e.data = std::move(data_);
    data_.clear();
    event_.clear();
    has_data_ = false;
    return emit(e);
  }

  const std::size_t max_event_bytes_;
  std::string line_;
  bool after_cr_ = false;
  bool first_line_ = true;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  std::string last_id_;
};

// Errors for which a request on a reused keep-alive connection may be sent again: the server
// had closed the connection before it saw the request.
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == net::error::not_connected;
}

template <class Fields>
std::vector<Header> CopyHeaders(const Fields& fields) {
  std::vector<Header> out;
  for (const auto& f : fields) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.emplace_back(std::move(name), std::string(f.value()));
  }
  return out;
}

}  // namespace

const std::string* ClientResponse::FindHeader(std::string_view name) const {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.first, name)) return &h.second;
  }
  return nullptr;
}

struct Client::Impl {
  Impl(UrlBase u, ClientOptions o) : url(std::move(u)), options(std::move(o)) {}

  UrlBase url;
  ClientOptions options;
  net::io_context ioc{1};
  std::optional<beast::tcp_stream> stream;  // engaged while a connection is open
  beast::flat_buffer buffer;                // bytes read past the last response
  bool reused = false;                      // the open connection already served a response

  // Starts one asynchronous operation with `start(handler)` and runs the io_context until
  // it completes. The operation's own deadline (tcp_stream::expires_at) bounds the wait.
  template <class Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result;
    bool done = false;
    start([&result, &done](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    ioc.run();
    REGISTRY_CHECK(done, "an HTTP client operation did not complete");
    return result;
  }

  void Close() {
    if (stream.has_value()) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->socket().close(ignored);
      stream.reset();
    }
    buffer.clear();
    reused = false;
  }

  Error TransportError(std::string_view what, const beast::error_code& ec) const {
    if (ec == beast::error::timeout) {
      return Error(ErrorCode::kNotReady, std::string(what) + " " + url.normalized +
                                             ": timed out after " +
                                             std::to_string(options.timeout.count()) + " ms");
    }
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit ||
        ec == bhttp::error::buffer_overflow) {
      return Error(ErrorCode::kPayloadTooLarge,
                   std::string(what) + " " + url.normalized + ": response too large");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return Error(ErrorCode::kMalformed, std::string(what) + " " + url.normalized +
                                              ": invalid HTTP response: " + ec.message());
    }
    return Error(ErrorCode::kNotReady,
                 std::string(what) + " " + url.normalized + ": " + ec.message());
  }

  // True when the idle keep-alive connection can no longer carry a request: the server
  // closed it (EOF or reset pending) or sent something unasked.
  bool IdleConnectionBroken() {
    if (buffer.size() > 0) return true;
    pollfd p{stream->socket().native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char byte;
    return ::recv(p.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) != -1 || errno != EAGAIN;
  }

  util::Status Connect(SteadyClock::time_point deadline) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    tcp::resolver::results_type endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) return TransportError("cannot resolve", ec);
    stream.emplace(ioc);
    stream->expires_at(deadline);
    ec = Run([&](auto handler) { stream->async_connect(endpoints, std::move(handler)); });
    if (ec) {
      stream.reset();
      return TransportError("cannot connect to", ec);
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    buffer.clear();
    reused = false;
    return util::Status::Ok();
  }

  // An open connection ready for a request: the idle one if it is still good, else a new one.
  // `reusing` tells whether the request goes over a connection that served one before.
  util::Status Ready(SteadyClock::time_point deadline, bool& reusing) {
    if (stream.has_value() && IdleConnectionBroken()) Close();
    reusing = stream.has_value() && reused;
    if (stream.has_value()) return util::Status::Ok();
    return Connect(deadline);
  }

  util::Result<bhttp::request<bhttp::string_body>> BuildRequest(std::string_view method,
                                                                std::string_view target,
                                                                const std::vector<Header>& headers,
                                                                std::string_view body) const {
    if (!IsToken(method)) {
      return Error(ErrorCode::kMalformed, "invalid HTTP method \"" + std::string(method) + "\"");
    }
    if (!IsSafeTarget(target)) {
      return Error(ErrorCode::kMalformed,
                   "invalid request target \"" + std::string(target) +
                       "\": must start with '/' and hold no space or control character");
    }
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(method);
    req.target(url.prefix + std::string(target));
    req.set(bhttp::field::host, url.host_header);
    req.set(bhttp::field::user_agent, options.user_agent);
    for (const auto& [name, value] : headers) {
      if (!IsToken(name) || !IsSafeValue(value)) {
        return Error(ErrorCode::kMalformed, "invalid request header \"" + name + "\"");
      }
      if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding")) {
        return Error(ErrorCode::kMalformed,
                     "request header \"" + name + "\" is set by the client itself");
      }
      if (EqualsIgnoreCase(name, "host") || EqualsIgnoreCase(name, "user-agent")) {
        req.set(name, value);
      } else {
        req.insert(name, value);
      }
    }
    req.body().assign(body.data(), body.size());
    const bool has_payload_method = method == "POST" || method == "PUT" || method == "PATCH";
    if (!body.empty() || has_payload_method) req.content_length(body.size());
    return req;
  }

  // Sends `req` on a ready connection, reconnecting once if a reused connection proves stale
  // before the response starts; then calls `read_head(reusing)` which reads the response's
  // head (or all of it) and returns its error code.
  template <class ReadHead>
  util::Status Exchange(const bhttp::request<bhttp::string_body>& req,
                        SteadyClock::time_point deadline, ReadHead&& read_head) {
    for (int attempt = 0;; ++attempt) {
      bool reusing = false;
      REGISTRY_RETURN_IF_ERROR(Ready(deadline, reusing));
      stream->expires_at(deadline);
      beast::error_code ec =
          Run([&](auto handler) { bhttp::async_write(*stream, req, std::move(handler)); });
      if (!ec) ec = read_head();
      if (!ec) return util::Status::Ok();
      Close();
      if (reusing && attempt == 0 && IsStaleConnection(ec)) continue;
      return TransportError(ec == bhttp::error::end_of_stream || ec == net::error::eof
                                ? "connection closed by"
                                : "request to",
                            ec);
    }
  }
};

util::Result<Client> Client::Create(std::string url_base, ClientOptions options) {
  REGISTRY_ASSIGN_OR_RETURN(UrlBase url, ParseUrlBase(std::move(url_base)));
  if (options.timeout.count() <= 0) {
    return Error(ErrorCode::kMalformed, "the client timeout must be positive");
  }
  return Client(std::make_unique<Impl>(std::move(url), std::move(options)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() {
  if (impl_ != nullptr) impl_->Close();
}

const std::string& Client::url_base() const { return impl_->url.normalized; }

util::Result<ClientResponse> Client::Request(std::string_view method, std::string_view target,
                                             const std::vector<Header>& headers,
                                             std::string_view body) {
  Impl& s = *impl_;
  REGISTRY_ASSIGN_OR_RETURN(bhttp::request<bhttp::string_body> req,
                            s.BuildRequest(method, target, headers, body));
  const SteadyClock::time_point deadline = SteadyClock::now() + s.options.timeout;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  REGISTRY_RETURN_IF_ERROR(s.Exchange(req, deadline, [&]() {
    parser.emplace();
    parser->body_limit(s.options.max_body_bytes);
    parser->header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(s.options.max_header_bytes, UINT32_MAX)));
    if (method == "HEAD") parser->skip(true);
    return s.Run(
        [&](auto handler) { bhttp::async_read(*s.stream, s.buffer, *parser, std::move(handler)); });
  }));
  bhttp::response<bhttp::string_body> msg = parser->release();
  ClientResponse out;
  out.status = static_cast<int>(msg.result_int());
  out.headers = CopyHeaders(msg);
  out.body = std::move(msg.body());
  if (msg.keep_alive()) {
    s.reused = true;
  } else {
    s.Close();
  }
  return out;
}

util::Result<ClientResponse> Client::Stream(std::string_view target,
                                            const std::vector<Header>& headers,
                                            const std::function<bool(const SseEvent&)>& on_event) {
  Impl& s = *impl_;
  std::vector<Header> all = headers;
  all.emplace_back("Accept", "text/event-stream");
  REGISTRY_ASSIGN_OR_RETURN(bhttp::request<bhttp::string_body> req,
                            s.BuildRequest("GET", target, all, {}));
  // The connection belongs to this stream until it ends, whatever happens.
  struct CloseAtEnd {
    Impl& s;
    ~CloseAtEnd() { s.Close(); }
  } close_at_end{s};

  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  REGISTRY_RETURN_IF_ERROR(s.Exchange(req, SteadyClock::now() + s.options.timeout, [&]() {
    parser.emplace();
    parser->body_limit(boost::none);  // a stream has no end but the connection's
    parser->header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(s.options.max_header_bytes, UINT32_MAX)));
    return s.Run([&](auto handler) {
      bhttp::async_read_header(*s.stream, s.buffer, *parser, std::move(handler));
    });
  }));

  ClientResponse out;
  out.status = static_cast<int>(parser->get().result_int());
  out.headers = CopyHeaders(parser->get());
  const bool is_stream = out.status == 200;
  SseParser sse(s.options.max_body_bytes);
  char chunk[16 * 1024];
  while (!parser->is_done()) {
    parser->get().body().data = chunk;
    parser->get().body().size = sizeof chunk;
    // The deadline restarts with every read: bytes (heartbeats included) keep a stream alive.
    s.stream->expires_after(s.options.timeout);
    beast::error_code ec = s.Run([&](auto handler) {
      bhttp::async_read_some(*s.stream, s.buffer, *parser, std::move(handler));
    });
    if (ec == bhttp::error::need_buffer) ec = {};
    const std::size_t n = sizeof chunk - parser->get().body().size;
    if (is_stream) {
      util::Result<bool> more = sse.Feed(std::string_view(chunk, n), on_event);
      if (!more.ok()) return std::move(more).error();
      if (!*more) return out;
    } else {
      if (out.body.size() + n > s.options.max_body_bytes) {
        return s.TransportError("reading from", bhttp::error::body_limit);
      }
      out.body.append(chunk, n);
    }
    // The server ending an endless (close-delimited) body is the normal end of a stream.
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        (ec == bhttp::error::partial_message && is_stream)) {
      return out;
    }
    if (ec) return s.TransportError(is_stream ? "stream from" : "reading from", ec);
  }
  return out;
}

}  // namespace registry::http
