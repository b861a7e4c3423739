// Retries on the write plane are safe (SPEC §1.6, §2.1): the same payload proposed twice is
// the same proposal (202 then 200), a commit retried answers 200 with the same outcome, and
// auto-commit fires inside the approval that reaches quorum. Also the proposal listing.
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "registry/json/canonical.h"
#include "registry/model/payload.h"

namespace registry::itest {
namespace {

class WriteRetryTest : public ServiceTest {};

TEST_F(WriteRetryTest, ProposeIsIdempotent) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  const json::Value payload = NextPayload();
  model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
  HttpResponse first = PostProposal(payload);
  ASSERT_TRUE(HasStatus(first, 202));
  HttpResponse again = PostProposal(payload);
  ASSERT_TRUE(HasStatus(again, 200));
  // With the optional payload_b3, and with the members in another order: same proposal.
  const std::string reordered = R"({"payload_b3":")" + cp.payload_b3 + R"(","payload":)" +
                                json::Canonicalize(payload) + R"(,"schema_version":"1.0.0"})";
  HttpResponse third = PostJson("/registry/proposals", reordered);
  ASSERT_TRUE(HasStatus(third, 200));
  json::Value a = ParseJsonOrFail(first.body);
  for (const HttpResponse* r : {&again, &third}) {
    json::Value b = ParseJsonOrFail(r->body);
    EXPECT_EQ(JsonStr(b, {"proposal_id"}), cp.proposal_id);
    EXPECT_EQ(JsonStr(b, {"proposal_id"}), JsonStr(a, {"proposal_id"}));
    EXPECT_EQ(JsonStr(b, {"payload_b3"}), cp.payload_b3);
    EXPECT_EQ(JsonStr(b, {"expires_at"}), JsonStr(a, {"expires_at"}));
    EXPECT_EQ(JsonStr(b, {"status"}), "pending");
  }
  HttpResponse list = Get("/registry/proposals");
  ASSERT_TRUE(HasStatus(list, 200));
  EXPECT_EQ(ParseJsonOrFail(list.body).Find("proposals")->as_array().size(), 1u);
  MetricsText m = FetchMetrics();
  EXPECT_EQ(m.Value("registry_pending_proposals"), 1.0);
}

TEST_F(WriteRetryTest, CommitRetryAnswers200WithTheSameOutcome) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  const json::Value payload = NextPayload();
  model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
  ASSERT_TRUE(HasStatus(PostProposal(payload), 202));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(i, cp.payload_b3)), 200));
  }
  HttpResponse first = PostCommit(cp.proposal_id);
  ASSERT_TRUE(HasStatus(first, 201));
  HttpResponse retry = PostCommit(cp.proposal_id);
  ASSERT_TRUE(HasStatus(retry, 200));
  EXPECT_EQ(retry.body, first.body);
  HttpResponse retry2 = PostCommit(cp.proposal_id, {{"X-Corr-ID", "another-attempt"}});
  ASSERT_TRUE(HasStatus(retry2, 200));
  EXPECT_EQ(retry2.body, first.body);
  json::Value out = ParseJsonOrFail(first.body);
  EXPECT_EQ(JsonInt(out, {"version"}), 1);
  EXPECT_EQ(JsonStr(out, {"payload_b3"}), cp.payload_b3);
  EXPECT_EQ(JsonStr(out, {"committed_at"}).size(), 24u);

  // HEAD moved exactly once.
  HttpResponse head = Get("/registry/head");
  EXPECT_EQ(JsonInt(ParseJsonOrFail(head.body), {"version"}), 1);
  EXPECT_TRUE(IsError(Get("/registry/2"), 404, "NotFound"));
  // Proposing the committed payload again returns it, committed.
  HttpResponse reproposed = PostProposal(payload);
  ASSERT_TRUE(HasStatus(reproposed, 200));
  EXPECT_EQ(JsonStr(ParseJsonOrFail(reproposed.body), {"status"}), "committed");

  MetricsText m = FetchMetrics();
  EXPECT_EQ(m.Value("registry_updates_total", {{"result", "committed"}}), 1.0);
  EXPECT_EQ(m.Value("registry_head_version"), 1.0);
  EXPECT_EQ(m.Value("registry_pending_proposals"), 0.0);
  EXPECT_EQ(m.Value("commit_latency_seconds_count"), 1.0);
}

TEST_F(WriteRetryTest, AutoCommitFiresInTheQuorumApproval) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"governance.auto_commit=true"}));
  const json::Value payload = NextPayload();
  model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
  ASSERT_TRUE(HasStatus(PostProposal(payload), 202));
  HttpResponse one = PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3));
  ASSERT_TRUE(HasStatus(one, 200));
  EXPECT_EQ(ParseJsonOrFail(one.body).Find("committed"), nullptr);
  HttpResponse two = PostApproval(cp.proposal_id, SignWith(1, cp.payload_b3));
  ASSERT_TRUE(HasStatus(two, 200));
  json::Value body = ParseJsonOrFail(two.body);
  EXPECT_EQ(JsonStr(body, {"status"}), "accepted");
  EXPECT_EQ(JsonInt(body, {"approvals"}), 2);
  const json::Value* committed = body.Find("committed");
  ASSERT_NE(committed, nullptr) << two.Describe();
  EXPECT_EQ(JsonInt(*committed, {"version"}), 1);
  EXPECT_EQ(JsonStr(*committed, {"payload_b3"}), cp.payload_b3);
  EXPECT_EQ(two.Header("x-registry-version"), "1");
  // An explicit commit afterwards is a retry.
  HttpResponse retry = PostCommit(cp.proposal_id);
  ASSERT_TRUE(HasStatus(retry, 200));
  EXPECT_EQ(retry.body, json::Canonicalize(*committed));
}

TEST_F(WriteRetryTest, ProposalListingIsNewestFirstAndPaged) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  std::vector<std::string> ids;
  for (const char* tag : {"a", "b", "c"}) {
    json::Value payload = NextPayload(1, tag);
    ids.push_back(registry::testing::MakeCanonical(payload).proposal_id);
    ASSERT_TRUE(HasStatus(PostProposal(payload), 202));
  }
  HttpResponse page1 = Get("/registry/proposals?limit=2");
  ASSERT_TRUE(HasStatus(page1, 200));
  json::Value p1 = ParseJsonOrFail(page1.body);
  const json::Array& first = p1.Find("proposals")->as_array();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(JsonStr(first[0], {"proposal_id"}), ids[2]);
  EXPECT_EQ(JsonStr(first[1], {"proposal_id"}), ids[1]);
  EXPECT_EQ(JsonStr(first[0], {"status"}), "pending");
  EXPECT_EQ(JsonStr(p1, {"next"}), ids[1]);
  HttpResponse page2 = Get("/registry/proposals?limit=2&after=" + ids[1]);
  ASSERT_TRUE(HasStatus(page2, 200));
  json::Value p2 = ParseJsonOrFail(page2.body);
  const json::Array& second = p2.Find("proposals")->as_array();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(JsonStr(second[0], {"proposal_id"}), ids[0]);
  ASSERT_NE(p2.Find("next"), nullptr);
  EXPECT_TRUE(p2.Find("next")->is_null());
  EXPECT_EQ(page2.Header("x-registry-version"), "0");
}

// The single writer (SPEC §3): two proposals for the same version, both at quorum, committed
// at the same time from two connections: exactly one wins, the other is stale; the same
// commit sent twice at once is one commit (201) and one retry (200, same outcome).
TEST_F(WriteRetryTest, ConcurrentCommitsHaveOneWinner) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  std::vector<model::CanonicalPayload> competing;
  for (const char* tag : {"left", "right"}) {
    json::Value payload = NextPayload(1, tag);
    competing.push_back(registry::testing::MakeCanonical(payload));
    ASSERT_TRUE(HasStatus(PostProposal(payload), 202));
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(HasStatus(
          PostApproval(competing.back().proposal_id, SignWith(i, competing.back().payload_b3)),
          200));
    }
  }
  const Headers auth = {{"Authorization", Bearer(writer_token())}};
  auto commit_both = [&](const std::string& a, const std::string& b) {
    HttpClient ca(api_port());
    HttpClient cb(api_port());
    HttpResponse ra;
    HttpResponse rb;
    std::thread t([&] { ra = ca.Request("POST", "/registry/commit/" + a, auth); });
    rb = cb.Request("POST", "/registry/commit/" + b, auth);
    t.join();
    return std::make_pair(ra, rb);
  };
  auto [left, right] = commit_both(competing[0].proposal_id, competing[1].proposal_id);
  ASSERT_TRUE((left.status == 201 && right.status == 409) ||
              (left.status == 409 && right.status == 201))
      << left.Describe() << "\n"
      << right.Describe();
  const HttpResponse& loser = left.status == 409 ? left : right;
  EXPECT_TRUE(IsError(loser, 409, "ChainMismatch"));
  HttpResponse head = Get("/registry/head");
  EXPECT_EQ(JsonInt(ParseJsonOrFail(head.body), {"version"}), 1);

  // The same proposal committed twice at once.
  SyncHead();
  json::Value next = NextPayload(1, "twice");
  model::CanonicalPayload cp = registry::testing::MakeCanonical(next);
  ASSERT_TRUE(HasStatus(PostProposal(next), 202));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(i, cp.payload_b3)), 200));
  }
  auto [once, again] = commit_both(cp.proposal_id, cp.proposal_id);
  ASSERT_TRUE((once.status == 201 && again.status == 200) ||
              (once.status == 200 && again.status == 201))
      << once.Describe() << "\n"
      << again.Describe();
  EXPECT_EQ(once.body, again.body);
  EXPECT_EQ(JsonInt(ParseJsonOrFail(Get("/registry/head").body), {"version"}), 2);
}

// The same signer's approval sent twice at once: one is accepted, the other is a duplicate.
TEST_F(WriteRetryTest, ConcurrentDuplicateApprovalCountsOnce) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  json::Value payload = NextPayload();
  model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
  ASSERT_TRUE(HasStatus(PostProposal(payload), 202));
  const std::string body = json::Canonicalize(model::EncodeApproval(SignWith(0, cp.payload_b3)));
  const Headers h = {{"Authorization", Bearer(writer_token())},
                     {"Content-Type", "application/json"}};
  HttpClient ca(api_port());
  HttpClient cb(api_port());
  HttpResponse ra;
  HttpResponse rb;
  std::thread t([&] { ra = ca.Request("POST", "/registry/approvals/" + cp.proposal_id, h, body); });
  rb = cb.Request("POST", "/registry/approvals/" + cp.proposal_id, h, body);
  t.join();
  ASSERT_TRUE((ra.status == 200 && rb.status == 409) || (ra.status == 409 && rb.status == 200))
      << ra.Describe() << "\n"
      << rb.Describe();
  EXPECT_TRUE(IsError(ra.status == 409 ? ra : rb, 409, "DuplicateApproval"));
  HttpResponse view = Get("/registry/proposals/" + cp.proposal_id);
  EXPECT_EQ(ParseJsonOrFail(view.body).Find("approvals")->as_array().size(), 1u);
}

}  // namespace
}  // namespace registry::itest
