// Overload (SPEC §7, §1.6, §2.4): 429 Busy with Retry-After past limits.inflight (checked
// when the request header is read, before the body), past limits.rps, past
// governance.max_pending and past sse.max_clients; each counted in rejected_total{reason}.
#include <chrono>
#include <string>
#include <thread>

#include "harness.h"
#include "registry/model/payload.h"

namespace registry::itest {
namespace {

using std::chrono::milliseconds;

class LimitsTest : public ServiceTest {
 protected:
  // GET /registry/head on a fresh connection until it is answered 200: the inflight slot of
  // a finished request is released just after its response is written, with no event the
  // client can see. Bounded.
  void ExpectHeadEventually200() {
    HttpResponse r;
    for (int i = 0; i < 200; ++i) {
      r = HttpClient(api_port()).Request("GET", "/registry/head");
      if (r.status == 200) return;
      std::this_thread::sleep_for(milliseconds(5));
    }
    ADD_FAILURE() << "HEAD never answered 200: " << r.Describe();
  }
};

TEST_F(LimitsTest, InflightCapAnswers429BeforeReadingTheBody) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"limits.inflight=1"}));
  const json::Value payload = NextPayload();
  const std::string body = ProposeBody(payload);
  // The server counts a request in flight once its header is read. Expect: 100-continue
  // makes that observable: the interim 100 is sent when the header is admitted.
  HttpClient holder(api_port());
  ASSERT_TRUE(holder.Send(
      "POST /registry/proposals HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nAuthorization: " +
      Bearer(writer_token()) +
      "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  HttpResponse interim = holder.ReadResponse(/*head_only=*/true);
  ASSERT_TRUE(HasStatus(interim, 100));

  // Reads and writes alike are turned away at once.
  HttpClient other(api_port());
  HttpResponse busy = other.Request("GET", "/registry/head");
  EXPECT_TRUE(IsError(busy, 429, "Busy"));
  HttpResponse busy_write = HttpClient(api_port())
                                .Request("POST", "/registry/proposals",
                                         {{"Content-Type", "application/json"},
                                          {"Authorization", Bearer(writer_token())}},
                                         body);
  EXPECT_TRUE(IsError(busy_write, 429, "Busy"));
  // The admin plane is not subject to the API plane's cap.
  MetricsText m = FetchMetrics();
  EXPECT_EQ(m.Value("rejected_total", {{"reason", "inflight"}}), 2.0);
  const double held = m.Value("inflight_requests").value_or(0);
  EXPECT_GE(held, 1.0);

  // The held request completes normally, and leaves the gauge.
  ASSERT_TRUE(holder.Send(body));
  HttpResponse done = holder.ReadResponse();
  EXPECT_TRUE(HasStatus(done, 202));
  ExpectHeadEventually200();
  // The gauge drops once the responses are written (asynchronously to the client: poll).
  std::optional<double> after;
  for (int i = 0; i < 200; ++i) {
    after = FetchMetrics().Value("inflight_requests");
    if (after == held - 1.0) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(after, held - 1.0);
}

TEST_F(LimitsTest, RateCapAnswers429) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"limits.rps=2"}));
  // A burst of one second's worth is allowed; 20 back-to-back requests exceed it.
  int busy = 0;
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = Get("/registry/head");
    if (r.status == 200) {
      ++ok;
    } else {
      EXPECT_TRUE(IsError(r, 429, "Busy"));
      ++busy;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 10);
  EXPECT_EQ(FetchMetrics().Value("rejected_total", {{"reason", "rps"}}), static_cast<double>(busy));
}

TEST_F(LimitsTest, PendingProposalCap) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"governance.max_pending=1"}));
  const json::Value a = NextPayload(1, "a");
  const json::Value b = NextPayload(1, "b");
  ASSERT_TRUE(HasStatus(PostProposal(a), 202));
  EXPECT_TRUE(IsError(PostProposal(b), 429, "Busy"));
  // The existing proposal is still returned: it takes no new slot.
  EXPECT_TRUE(HasStatus(PostProposal(a), 200));
  EXPECT_EQ(FetchMetrics().Value("rejected_total", {{"reason", "pending_cap"}}), 1.0);
  // Once it commits, the slot is free again.
  model::CanonicalPayload cp = registry::testing::MakeCanonical(a);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(i, cp.payload_b3)), 200));
  }
  ASSERT_TRUE(HasStatus(PostCommit(cp.proposal_id), 201));
  head_version_ = 1;
  head_b3_ = cp.payload_b3;
  EXPECT_TRUE(HasStatus(PostProposal(NextPayload(1, "c")), 202));
}

TEST_F(LimitsTest, StreamSubscriberCap) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"sse.max_clients=1"}));
  auto first = std::make_unique<SseStream>(api_port(), "/registry/stream");
  ASSERT_TRUE(first->ok()) << first->response().Describe();
  // The retry frame is pushed when the subscriber is registered.
  std::optional<SseFrame> retry = first->Next();
  ASSERT_TRUE(retry.has_value());
  ASSERT_EQ(retry->retry, "2000");

  SseStream second(api_port(), "/registry/stream");
  EXPECT_TRUE(IsError(second.response(), 429, "Busy"));
  EXPECT_EQ(FetchMetrics().Value("rejected_total", {{"reason", "sse_max_clients"}}), 1.0);
  // The first subscriber is unaffected.
  ASSERT_TRUE(CommitNext().ok);
  std::optional<SseFrame> update = first->NextEvent();
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->id, "1");

  // After it leaves, a new subscriber is accepted (the departure is noticed
  // asynchronously: poll the gauge, bounded).
  first.reset();
  std::optional<double> clients;
  for (int i = 0; i < 200; ++i) {
    clients = FetchMetrics().Value("sse_clients");
    if (clients == 0.0) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(clients, 0.0);
  SseStream third(api_port(), "/registry/stream");
  EXPECT_TRUE(third.ok()) << third.response().Describe();
}

}  // namespace
}  // namespace registry::itest
