// Connection handling of the API plane (issue 3 item 1, SPEC §6): pipelined requests are
// answered in order on one keep-alive connection; the header cap, read_timeout (slow
// senders) and max_conns hold, each counted in rejected_total{reason}.
#include <chrono>
#include <string>

#include "harness.h"

namespace registry::itest {
namespace {

using std::chrono::milliseconds;

class ConnectionTest : public ServiceTest {};

TEST_F(ConnectionTest, PipelinedRequestsAreAnsweredInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_TRUE(CommitNext().ok);
  HttpClient raw(api_port());
  std::string batch;
  const char* targets[] = {"/registry/head", "/registry/1", "/registry/7", "/healthz",
                           "/registry/proposals"};
  for (int i = 0; i < 5; ++i) {
    batch += std::string("GET ") + targets[i] + " HTTP/1.1\r\nHost: x\r\nX-Corr-ID: pipe-" +
             std::to_string(i) + "\r\n\r\n";
  }
  ASSERT_TRUE(raw.Send(batch));
  const int expected[] = {200, 200, 404, 200, 200};
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = raw.ReadResponse();
    EXPECT_EQ(r.status, expected[i]) << r.Describe();
    EXPECT_EQ(r.Header("x-corr-id"), "pipe-" + std::to_string(i));
    EXPECT_FALSE(r.closes()) << r.Describe();
  }
  // The connection is still usable.
  EXPECT_TRUE(HasStatus(raw.Request("GET", "/registry/head"), 200));
}

TEST_F(ConnectionTest, HeaderCapAnswers400) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  HttpClient raw(api_port());
  // 16 KiB is the default cap (limits.max_header_bytes).
  ASSERT_TRUE(raw.Send("GET /registry/head HTTP/1.1\r\nHost: x\r\nX-Filler: " +
                       std::string(20000, 'a') + "\r\n\r\n"));
  HttpResponse r = raw.ReadResponse();
  EXPECT_TRUE(IsError(r, 400, "Malformed"));
  EXPECT_EQ(FetchMetrics().Value("rejected_total", {{"reason", "header_too_large"}}), 1.0);
  // Just under the cap is fine.
  EXPECT_TRUE(HasStatus(Get("/registry/head", {{"X-Filler", std::string(15000, 'a')}}), 200));
}

TEST_F(ConnectionTest, SlowSenderIsCutAtReadTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"read_timeout=300ms"}));
  HttpClient slow(api_port());
  ASSERT_TRUE(slow.Send("GET /registry/head HTTP/1.1\r\nHost: x\r\n"));  // never finished
  const auto started = std::chrono::steady_clock::now();
  HttpClient::ReadStatus s = HttpClient::ReadStatus::kData;
  while (s == HttpClient::ReadStatus::kData) s = slow.ReadMore(milliseconds(5000));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(s == HttpClient::ReadStatus::kEof || s == HttpClient::ReadStatus::kReset)
      << "the connection was not closed within 5 s";
  EXPECT_GE(waited, milliseconds(200));
  EXPECT_LT(waited, milliseconds(3000));
  EXPECT_EQ(FetchMetrics().Value("rejected_total", {{"reason", "read_timeout"}}), 1.0);
  // Other clients are unaffected.
  EXPECT_TRUE(HasStatus(Get("/registry/head"), 200));
}

TEST_F(ConnectionTest, MaxConnsAnswersBusy) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"max_conns=2"}));
  // Two connections, each known to be accepted (answered).
  ASSERT_TRUE(HasStatus(Get("/registry/head"), 200));
  HttpClient second(api_port());
  ASSERT_TRUE(HasStatus(second.Request("GET", "/registry/head"), 200));
  // The third is answered Busy (SPEC §2.3: 429 with Retry-After) and closed.
  HttpClient third(api_port());
  HttpResponse r = third.Request("GET", "/registry/head");
  EXPECT_TRUE(IsError(r, 429, "Busy"));
  EXPECT_TRUE(r.closes()) << r.Describe();
  EXPECT_EQ(FetchMetrics().Value("rejected_total", {{"reason", "max_conns"}}), 1.0);
  // The admitted connections keep working.
  EXPECT_TRUE(HasStatus(second.Request("GET", "/registry/head"), 200));
}

// RFC 9110 §9.1: "All general-purpose servers MUST support the methods GET and HEAD". The
// HTTP layer already writes HEAD responses without a body; the router refuses the method.
TEST_F(ConnectionTest, HeadMethodIsServedLikeGet) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_TRUE(CommitNext().ok);
  for (const char* target : {"/registry/head", "/registry/1"}) {
    SCOPED_TRACE(target);
    HttpResponse get = Get(target);
    ASSERT_TRUE(HasStatus(get, 200));
    HttpResponse head = api_->Request("HEAD", target);
    ASSERT_TRUE(HasStatus(head, 200));
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(head.Header("etag"), get.Header("etag"));
    EXPECT_EQ(head.Header("content-length"), std::to_string(get.body.size()));
    // The connection stays in step (no body was sent).
    EXPECT_TRUE(HasStatus(Get(target), 200));
  }
}

}  // namespace
}  // namespace registry::itest
