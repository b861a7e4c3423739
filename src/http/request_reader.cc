// The only Beast translation unit of the server: an HTTP/1.1 request parser built on
// beast::http::basic_parser that writes straight into registry::http::Request (no
// intermediate beast::http::fields), with the limits of SPEC §6.
#include "request_reader.h"

#include <algorithm>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "registry/util/check.h"
#include "wire.h"

namespace registry::http::internal {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

class Parser final : public bhttp::basic_parser<true> {
 public:
  explicit Parser(Request* request) : request_(request) {}

  bool expects_continue() const { return expects_continue_; }
  bool has_content_encoding() const { return has_content_encoding_; }

 private:
  void on_request_impl(bhttp::verb /*method*/, beast::string_view method_str,
                       beast::string_view target, int /*version*/,
                       beast::error_code& /*ec*/) override {
    request_->method.assign(method_str.data(), method_str.size());
    request_->target.assign(target.data(), target.size());
    const std::string_view t = request_->target;
    const std::size_t q = t.find('?');
    if (q == std::string_view::npos) {
      request_->path.assign(t);
    } else {
      request_->path.assign(t.substr(0, q));
      request_->query.assign(t.substr(q + 1));
    }
  }

  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}

  void on_field_impl(bhttp::field name, beast::string_view name_string, beast::string_view value,
                     beast::error_code& /*ec*/) override {
    // Trailer fields arrive after the header decisions were made: ignore them.
    if (is_header_done()) return;
    const std::string_view v(value.data(), value.size());
    if (name == bhttp::field::content_encoding) {
      // Any coding but identity, in any list position, is refused (SPEC §2.3).
      std::string_view rest = v;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view coding = Trim(rest.substr(0, comma));
        if (!coding.empty() && !wire::EqualsIgnoreCase(coding, "identity")) {
          has_content_encoding_ = true;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (name == bhttp::field::transfer_encoding) {
      // Beast only frames "chunked" and hands any other transfer coding through undecoded:
      // such a body cannot be read as sent, so it is refused like a Content-Encoding.
      saw_transfer_encoding_ = true;
      std::string_view rest = v;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        std::string_view coding = Trim(rest.substr(0, comma));
        coding = Trim(coding.substr(0, coding.find(';')));
        if (!coding.empty() && !wire::EqualsIgnoreCase(coding, "chunked")) {
          has_content_encoding_ = true;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (name == bhttp::field::expect) {
      if (wire::EqualsIgnoreCase(Trim(v), "100-continue")) expects_continue_ = true;
    }
    std::string lowered(name_string.data(), name_string.size());
    for (char& c : lowered) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    request_->headers.emplace_back(std::move(lowered), std::string(v));
  }

  void on_header_impl(beast::error_code& ec) override {
    // RFC 9112 §6.3: a request whose Transfer-Encoding does not end in chunked has no
    // determinable body length: 400 and close (Beast would read it as bodiless, and the body
    // as the next request).
    if (saw_transfer_encoding_ && !chunked()) ec = bhttp::error::bad_transfer_encoding;
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code& /*ec*/) override {
    // Content-Length is already checked against the body cap here.
    if (content_length) request_->body.reserve(static_cast<std::size_t>(*content_length));
  }

  std::size_t on_body_impl(beast::string_view body, beast::error_code& /*ec*/) override {
    request_->body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t /*remain*/, beast::string_view body,
                                 beast::error_code& /*ec*/) override {
    request_->body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(beast::error_code& /*ec*/) override {}

  Request* request_;
  bool expects_continue_ = false;
  bool has_content_encoding_ = false;
  bool saw_transfer_encoding_ = false;
};

void ClearRequest(Request& r) {
  r.method.clear();
  r.target.clear();
  r.path.clear();
  r.query.clear();
  r.headers.clear();
  r.body.clear();
  r.remote.clear();
  r.received_at = {};
}

}  // namespace

struct RequestReader::Impl {
  explicit Impl(ParseLimits l) : limits(l) {}

  ParseLimits limits;
  Request request;
  std::optional<Parser> parser;
  bool header_reported = false;
  bool body_allowed = false;
  ParseError error = ParseError::kNone;
  std::string error_message;

  RequestReader::Step Fail(std::size_t consumed, ParseError e, std::string message) {
    error = e;
    error_message = std::move(message);
    return {consumed, State::kError};
  }
};

RequestReader::RequestReader(ParseLimits limits) : impl_(std::make_unique<Impl>(limits)) {
  Reset();
}

RequestReader::~RequestReader() = default;

void RequestReader::Reset() {
  Impl& m = *impl_;
  ClearRequest(m.request);
  m.parser.emplace(&m.request);
  m.parser->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(m.limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  // The Content-Length cap is applied by Feed after kHeaderDone has been reported, so that
  // admission decisions come first; chunked bodies get the cap then too.
  m.parser->body_limit(boost::none);
  m.parser->eager(false);
  m.header_reported = false;
  m.body_allowed = false;
  m.error = ParseError::kNone;
  m.error_message.clear();
}

RequestReader::Step RequestReader::Feed(std::string_view data) {
  Impl& m = *impl_;
  if (m.error != ParseError::kNone) return {0, State::kError};
  Parser& p = *m.parser;
  if (p.is_done()) return {0, State::kDone};
  if (m.header_reported && !m.body_allowed) {
    const auto length = p.content_length();
    if (length && *length > m.limits.max_body_bytes) {
      return m.Fail(0, ParseError::kBodyTooLarge, "request body too large");
    }
    p.body_limit(static_cast<std::uint64_t>(m.limits.max_body_bytes));
    m.body_allowed = true;
  }
  std::size_t total = 0;
  for (;;) {
    if (total == data.size()) return {total, State::kNeedMore};
    beast::error_code ec;
    const std::size_t n =
        p.put(boost::asio::const_buffer(data.data() + total, data.size() - total), ec);
    total += n;
    if (ec == bhttp::error::need_more) return {total, State::kNeedMore};
    if (ec == bhttp::error::header_limit) {
      return m.Fail(total, ParseError::kHeaderTooLarge, "header too large");
    }
    if (ec == bhttp::error::body_limit) {
      return m.Fail(total, ParseError::kBodyTooLarge, "request body too large");
    }
    if (ec) return m.Fail(total, ParseError::kMalformed, ec.message());
    if (!m.header_reported && p.is_header_done()) {
      m.header_reported = true;
      return {total, State::kHeaderDone};
    }
    if (p.is_done()) return {total, State::kDone};
    // No progress without an error cannot happen with basic_parser; ask for more input
    // rather than spin.
    if (n == 0) return {total, State::kNeedMore};
  }
}

bool RequestReader::header_done() const { return impl_->parser->is_header_done(); }

bool RequestReader::keep_alive() const {
  REGISTRY_CHECK(header_done(), "RequestReader::keep_alive before the header");
  return impl_->parser->keep_alive();
}

bool RequestReader::has_body() const {
  REGISTRY_CHECK(header_done(), "RequestReader::has_body before the header");
  const Parser& p = *impl_->parser;
  if (p.chunked()) return true;
  const auto length = p.content_length();
  return length && *length > 0;
}

std::optional<std::uint64_t> RequestReader::content_length() const {
  REGISTRY_CHECK(header_done(), "RequestReader::content_length before the header");
  const auto length = impl_->parser->content_length();
  if (!length) return std::nullopt;
  return *length;
}

bool RequestReader::chunked() const {
  REGISTRY_CHECK(header_done(), "RequestReader::chunked before the header");
  return impl_->parser->chunked();
}

bool RequestReader::expects_continue() const { return impl_->parser->expects_continue(); }

bool RequestReader::has_content_encoding() const { return impl_->parser->has_content_encoding(); }

ParseError RequestReader::error() const { return impl_->error; }

const std::string& RequestReader::error_message() const { return impl_->error_message; }

Request& RequestReader::request() { return impl_->request; }

}  // namespace registry::http::internal
