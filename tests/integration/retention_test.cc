// Retention on the real service (SPEC §4.3, storage issue point 6): with `by-count` and a
// short checkpoint interval, versions older than the last `keep_versions` answer 410
// Pruned once a checkpoint covers them, HEAD and the kept versions are untouched, proofs
// still cover the pruned versions (leaf hashes stay), a retired proposal answers 410 too,
// the decision is in the audit trail, and a restart resumes from the prune anchor with the
// write plane up.
#include <chrono>
#include <thread>

#include "harness.h"

namespace registry::itest {
namespace {

constexpr std::uint64_t kKeep = 100;  // retention.keep_min's floor
constexpr std::uint64_t kVersions = kKeep + 3;

class RetentionTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    storage_ = "sqlite";
  }

  void Start() {
    ASSERT_NO_FATAL_FAILURE(StartServiceWith(
        {"retention.policy=by-count", "retention.keep_min=" + std::to_string(kKeep),
         "retention.keep_versions=" + std::to_string(kKeep), "storage.checkpoint_interval=200ms"}));
  }

  // Polls GET /registry/{v} until it answers `status`, bounded: housekeeping prunes after
  // its next checkpoint, and nothing announces that.
  HttpResponse AwaitStatus(std::uint64_t v, int status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    HttpResponse r = Get("/registry/" + std::to_string(v));
    while (r.status != status && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      r = Get("/registry/" + std::to_string(v));
    }
    return r;
  }
};

TEST_F(RetentionTest, OldVersionsAnswer410AndEverythingElseStays) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::vector<std::string> kept;
  std::string first_proposal;
  json::Value first_payload;
  for (std::uint64_t v = 1; v <= kVersions; ++v) {
    Committed c = CommitNext();
    ASSERT_TRUE(c.ok) << v;
    if (v == 1) {
      first_proposal = c.proposal_id;
      first_payload = c.payload;
    }
  }
  ASSERT_TRUE(HasStatus(Get("/registry/proposals/" + first_proposal), 200));
  for (std::uint64_t v = kVersions - kKeep + 1; v <= kVersions; ++v) {
    HttpResponse r = Get("/registry/" + std::to_string(v));
    ASSERT_TRUE(HasStatus(r, 200));
    kept.push_back(r.body);
  }
  const std::string head = Get("/registry/head").body;

  // The background verification must finish and a checkpoint cover the versions first.
  HttpResponse gone = AwaitStatus(kVersions - kKeep, 410);
  EXPECT_TRUE(IsError(gone, 410, "Pruned"));
  for (std::uint64_t v = 1; v <= kVersions - kKeep; ++v) {
    EXPECT_TRUE(IsError(Get("/registry/" + std::to_string(v)), 410, "Pruned")) << v;
  }
  for (std::uint64_t v = kVersions - kKeep + 1; v <= kVersions; ++v) {
    HttpResponse r = Get("/registry/" + std::to_string(v));
    ASSERT_TRUE(HasStatus(r, 200)) << v;
    EXPECT_EQ(r.body, kept[v - (kVersions - kKeep + 1)]) << v;
  }
  EXPECT_TRUE(IsError(Get("/registry/" + std::to_string(kVersions + 1)), 404, "NotFound"));
  // The proposal that committed version 1 was retired with it: its row stays, its payload
  // and approvals are gone.
  EXPECT_TRUE(IsError(Get("/registry/proposals/" + first_proposal), 410, "Pruned"));
  // Proposing that payload again finds the same proposal, committed, rather than a new one.
  HttpResponse again = PostProposal(first_payload);
  ASSERT_TRUE(HasStatus(again, 200)) << again.Describe();
  json::Value again_body = ParseJsonOrFail(again.body);
  EXPECT_EQ(JsonStr(again_body, {"proposal_id"}), first_proposal);
  EXPECT_EQ(JsonStr(again_body, {"status"}), "committed");
  EXPECT_EQ(Get("/registry/head").body, head);
  // Leaf hashes stay: the pruned versions keep their inclusion proofs.
  EXPECT_TRUE(HasStatus(
      Get("/registry/proof/inclusion?version=1&tree_size=" + std::to_string(kVersions)), 200));
  HttpResponse audit = AdminGet("/admin/audit?limit=1000");
  ASSERT_TRUE(HasStatus(audit, 200));
  EXPECT_NE(audit.body.find(R"("action":"prune")"), std::string::npos);

  // A restart resumes from the anchor: same HEAD, still 410, ready, and writable.
  ASSERT_NO_FATAL_FAILURE(StopServiceGracefully());
  service_.reset();
  stopped_ = false;
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ(Get("/registry/head").body, head);
  EXPECT_TRUE(IsError(Get("/registry/1"), 410, "Pruned"));
  EXPECT_TRUE(HasStatus(Get("/registry/" + std::to_string(kVersions)), 200));
  EXPECT_TRUE(HasStatus(AdminGet("/readyz"), 200));
  SyncHead();
  Committed next = CommitNext();
  ASSERT_TRUE(next.ok);
  EXPECT_EQ(next.version, kVersions + 1);
  // Retention keeps moving with HEAD.
  EXPECT_TRUE(IsError(AwaitStatus(kVersions + 1 - kKeep, 410), 410, "Pruned"));
}

}  // namespace
}  // namespace registry::itest
