#include "wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registry/http/message.h"

namespace registry::http::wire {
namespace {

TEST(HttpWireTest, HeadWithBodyAndKeepAlive) {
  std::string out;
  HeadParams p;
  p.content_length = 12;
  AppendResponseHead(200, {{"Content-Type", "application/json"}, {"ETag", "\"b3\""}}, p, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"b3\"\r\n"
            "Content-Length: 12\r\nConnection: keep-alive\r\n\r\n");
}

TEST(HttpWireTest, CloseAndRetryAfterOn429) {
  std::string out;
  HeadParams p;
  p.keep_alive = false;
  p.retry_after_seconds = 3;
  AppendResponseHead(429, {}, p, out);
  EXPECT_EQ(out,
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HttpWireTest, HandlerRetryAfterWins) {
  std::string out;
  HeadParams p;
  p.retry_after_seconds = 3;
  AppendResponseHead(503, {{"retry-after", "9"}}, p, out);
  EXPECT_NE(out.find("retry-after: 9\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Retry-After: 3"), std::string::npos);
}

TEST(HttpWireTest, NoRetryAfterOnOtherStatuses) {
  std::string out;
  HeadParams p;
  p.retry_after_seconds = 3;
  AppendResponseHead(404, {}, p, out);
  EXPECT_EQ(out.find("Retry-After"), std::string::npos);
}

TEST(HttpWireTest, StreamHeadHasNoLengthAndCloses) {
  std::string out;
  HeadParams p;
  p.stream = true;
  AppendResponseHead(200, {{"Content-Type", "text/event-stream"}}, p, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
}

TEST(HttpWireTest, NoBodyStatusesHaveNoContentLength) {
  for (int status : {204, 304}) {
    std::string out;
    AppendResponseHead(status, {}, HeadParams{}, out);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << status;
  }
}

TEST(HttpWireTest, ServerOwnedAndInvalidHeadersAreDropped) {
  std::string out;
  const std::vector<Header> headers = {{"Content-Length", "5"},
                                       {"connection", "upgrade"},
                                       {"Transfer-Encoding", "chunked"},
                                       {"X-Bad", "a\r\nX-Injected: 1"},
                                       {"Bad Name", "v"},
                                       {"", "v"},
                                       {"X-Nul", std::string("a\0b", 3)},
                                       {"X-Ok", "fine"}};
  AppendResponseHead(200, headers, HeadParams{}, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nX-Ok: fine\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
}

TEST(HttpWireTest, UnknownAndInvalidStatus) {
  std::string out;
  AppendResponseHead(299, {}, HeadParams{}, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 299 Unknown\r\n", 0), 0u);
  out.clear();
  AppendResponseHead(42, {}, HeadParams{}, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u);
}

TEST(HttpWireTest, ConnectionCloseDetection) {
  EXPECT_TRUE(HasConnectionClose({{"Connection", "close"}}));
  EXPECT_TRUE(HasConnectionClose({{"connection", "keep-alive, Close"}}));
  EXPECT_FALSE(HasConnectionClose({{"Connection", "keep-alive"}}));
  EXPECT_FALSE(HasConnectionClose({{"X-Connection", "close"}}));
  EXPECT_FALSE(HasConnectionClose({}));
}

TEST(HttpWireTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-type"));
  EXPECT_FALSE(EqualsIgnoreCase("Content-Type", "content-typ"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
}

TEST(HttpMessageTest, SetHeaderReplacesCaseInsensitively) {
  Response r = Response::Text(200, "text/plain", "x");
  r.SetHeader("content-type", "application/json");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "application/json");
  r.SetHeader("ETag", "\"1\"");
  EXPECT_EQ(r.headers.size(), 2u);
  ASSERT_NE(r.body, nullptr);
  EXPECT_EQ(*r.body, "x");
}

TEST(HttpMessageTest, FindHeaderIsExactOnLowerCaseNames) {
  Request req;
  req.headers = {{"x-a", "1"}, {"x-b", "2"}, {"x-a", "3"}};
  ASSERT_NE(req.FindHeader("x-a"), nullptr);
  EXPECT_EQ(*req.FindHeader("x-a"), "1");
  EXPECT_EQ(req.FindHeader("x-c"), nullptr);
}

}  // namespace
}  // namespace registry::http::wire
