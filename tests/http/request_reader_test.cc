#include "request_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace registry::http::internal {
namespace {

using State = RequestReader::State;

ParseLimits SmallLimits() { return ParseLimits{/*max_header_bytes=*/1024, /*max_body_bytes=*/64}; }

// Feeds `data` fully (header, then body); returns the final state and the bytes consumed.
RequestReader::Step FeedAll(RequestReader& r, std::string_view data) {
  std::size_t used = 0;
  for (;;) {
    RequestReader::Step s = r.Feed(data.substr(used));
    used += s.consumed;
    if (s.state != State::kHeaderDone) return {used, s.state};
  }
}

TEST(HttpRequestReaderTest, SimpleGet) {
  RequestReader r(SmallLimits());
  const std::string_view in = "GET /a/b?x=1&y HTTP/1.1\r\nHost: h\r\nX-Mixed: Value\r\n\r\n";
  RequestReader::Step s = r.Feed(in);
  EXPECT_EQ(s.state, State::kHeaderDone);
  EXPECT_EQ(s.consumed, in.size());
  EXPECT_FALSE(r.has_body());
  EXPECT_TRUE(r.keep_alive());
  s = r.Feed("");
  EXPECT_EQ(s.state, State::kDone);
  EXPECT_EQ(s.consumed, 0u);
  const Request& req = r.request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/a/b?x=1&y");
  EXPECT_EQ(req.path, "/a/b");
  EXPECT_EQ(req.query, "x=1&y");
  ASSERT_EQ(req.headers.size(), 2u);
  EXPECT_EQ(req.headers[0].first, "host");
  EXPECT_EQ(req.headers[1].first, "x-mixed");
  EXPECT_EQ(req.headers[1].second, "Value");
}

TEST(HttpRequestReaderTest, PipelinedRequestsLeaveTheRestUnconsumed) {
  RequestReader r(SmallLimits());
  const std::string a = "POST /1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  const std::string b = "GET /2 HTTP/1.1\r\n\r\n";
  const std::string in = a + b;
  RequestReader::Step s = FeedAll(r, in);
  EXPECT_EQ(s.state, State::kDone);
  EXPECT_EQ(s.consumed, a.size());
  EXPECT_EQ(r.request().body, "abc");
  r.Reset();
  s = FeedAll(r, std::string_view(in).substr(a.size()));
  EXPECT_EQ(s.state, State::kDone);
  EXPECT_EQ(r.request().path, "/2");
  EXPECT_TRUE(r.request().body.empty());
}

TEST(HttpRequestReaderTest, ByteByByteFeeding) {
  RequestReader r(SmallLimits());
  const std::string in =
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n";
  std::string pending;
  State last = State::kNeedMore;
  bool header_seen = false;
  for (char ch : in) {
    pending.push_back(ch);
    for (;;) {
      RequestReader::Step s = r.Feed(pending);
      pending.erase(0, s.consumed);
      last = s.state;
      if (s.state == State::kHeaderDone) {
        header_seen = true;
        EXPECT_TRUE(r.chunked());
        EXPECT_TRUE(r.has_body());
        continue;
      }
      break;
    }
    ASSERT_NE(last, State::kError) << r.error_message();
  }
  EXPECT_TRUE(header_seen);
  EXPECT_EQ(last, State::kDone);
  EXPECT_EQ(r.request().body, "abcd");
}

// RFC 9112 §6.3: a Transfer-Encoding that does not end in chunked leaves the body's length
// unknown. Beast would read such a request as bodiless and its body as the next request
// (request smuggling); the reader refuses it once the header is complete.
TEST(HttpRequestReaderTest, TransferCodingNotEndingInChunkedIsMalformed) {
  for (std::string_view te : {"gzip", "chunked, gzip", "identity"}) {
    RequestReader r(SmallLimits());
    const std::string in =
        "POST /registry/proposals HTTP/1.1\r\nTransfer-Encoding: " + std::string(te) +
        "\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestReader::Step s = FeedAll(r, in);
    EXPECT_EQ(s.state, State::kError) << te;
    EXPECT_EQ(r.error(), ParseError::kMalformed) << te;
    EXPECT_NE(r.request().target, "/smuggled") << te;
  }
  // A coding before chunked is framed, but the body cannot be read as sent: 415 upstream.
  RequestReader r(SmallLimits());
  RequestReader::Step s = r.Feed("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  EXPECT_EQ(s.state, State::kHeaderDone);
  EXPECT_TRUE(r.chunked());
  EXPECT_TRUE(r.has_content_encoding());
}

TEST(HttpRequestReaderTest, HeaderOverLimit) {
  RequestReader r(SmallLimits());
  const std::string in = "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  RequestReader::Step s = r.Feed(in);
  EXPECT_EQ(s.state, State::kError);
  EXPECT_EQ(r.error(), ParseError::kHeaderTooLarge);
  // A partial header over the limit fails too, without waiting for its end.
  RequestReader r2(SmallLimits());
  EXPECT_EQ(r2.Feed(std::string_view(in).substr(0, 1500)).state, State::kError);
  EXPECT_EQ(r2.error(), ParseError::kHeaderTooLarge);
}

TEST(HttpRequestReaderTest, ContentLengthOverLimitIsReportedAfterTheHeader) {
  RequestReader r(SmallLimits());
  RequestReader::Step s = r.Feed("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n");
  ASSERT_EQ(s.state, State::kHeaderDone);
  ASSERT_TRUE(r.content_length().has_value());
  EXPECT_EQ(*r.content_length(), 65u);
  EXPECT_EQ(r.Feed("x").state, State::kError);
  EXPECT_EQ(r.error(), ParseError::kBodyTooLarge);
}

TEST(HttpRequestReaderTest, ChunkedOverLimit) {
  RequestReader r(SmallLimits());
  const std::string in = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" +
                         std::string(64, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n";
  EXPECT_EQ(FeedAll(r, in).state, State::kError);
  EXPECT_EQ(r.error(), ParseError::kBodyTooLarge);
}

TEST(HttpRequestReaderTest, ContentEncodingAndExpect) {
  RequestReader r(SmallLimits());
  ASSERT_EQ(r.Feed("POST / HTTP/1.1\r\nContent-Encoding: identity, gzip\r\n"
                   "Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n")
                .state,
            State::kHeaderDone);
  EXPECT_TRUE(r.has_content_encoding());
  EXPECT_TRUE(r.expects_continue());
  r.Reset();
  ASSERT_EQ(
      r.Feed("POST / HTTP/1.1\r\nContent-Encoding: identity\r\nContent-Length: 1\r\n\r\n").state,
      State::kHeaderDone);
  EXPECT_FALSE(r.has_content_encoding());
  EXPECT_FALSE(r.expects_continue());
}

TEST(HttpRequestReaderTest, KeepAliveRules) {
  RequestReader r(SmallLimits());
  ASSERT_EQ(r.Feed("GET / HTTP/1.0\r\n\r\n").state, State::kHeaderDone);
  EXPECT_FALSE(r.keep_alive());
  r.Reset();
  ASSERT_EQ(r.Feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").state, State::kHeaderDone);
  EXPECT_TRUE(r.keep_alive());
  r.Reset();
  ASSERT_EQ(r.Feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").state, State::kHeaderDone);
  EXPECT_FALSE(r.keep_alive());
}

TEST(HttpRequestReaderTest, MalformedInputs) {
  for (std::string_view bad :
       {std::string_view("GARBAGE\r\n\r\n"), std::string_view("GET / HTTP/1.1\r\nNo colon\r\n\r\n"),
        std::string_view("GET / HTTP/9.9\r\n\r\n"),
        std::string_view("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        std::string_view("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n")}) {
    RequestReader r(SmallLimits());
    EXPECT_EQ(FeedAll(r, bad).state, State::kError) << bad;
    EXPECT_EQ(r.error(), ParseError::kMalformed) << bad;
    EXPECT_FALSE(r.error_message().empty());
  }
}

TEST(HttpRequestReaderTest, ResetClearsThePreviousRequest) {
  RequestReader r(SmallLimits());
  ASSERT_EQ(FeedAll(r, "POST /x?q HTTP/1.1\r\nA: b\r\nContent-Length: 2\r\n\r\nhi").state,
            State::kDone);
  r.Reset();
  ASSERT_EQ(FeedAll(r, "GET /y HTTP/1.1\r\n\r\n").state, State::kDone);
  EXPECT_EQ(r.request().path, "/y");
  EXPECT_EQ(r.request().query, "");
  EXPECT_TRUE(r.request().headers.empty());
  EXPECT_TRUE(r.request().body.empty());
}

}  // namespace
}  // namespace registry::http::internal
