// Storage faults against the real HTTP stack in-process (issue 4 point 9, issue 7 point 5):
// a failing fsync or a full disk takes the write plane to unready with Retry-After, reads
// keep serving the last good HEAD, and the write plane comes back once the fault clears
// and the housekeeping probe succeeds.
#include <gtest/gtest.h>

#include <iostream>

#include "fault/in_process_service.h"
#include "registry/core/audit_log.h"
#include "registry/crypto/blake3.h"
#include "registry/json/parse.h"

namespace registry::fault {
namespace {

using storage::FaultInjectingStore;
using storage::StoreOp;
using storage::StoreOps;

class WritePlaneFaultTest : public FaultServiceTest {
 protected:
  // GET /readyz on `client` answers 503, reads ready, writes not, "storage" missing.
  static void ExpectStorageUnready(HttpClient& client) {
    HttpResponse r = client.Request("GET", "/readyz");
    ASSERT_EQ(r.status, 503) << r.Describe() << "\n" << r.body;
    EXPECT_TRUE(r.Header("retry-after").has_value()) << r.Describe();
    util::Result<json::Value> body = json::Parse(r.body);
    ASSERT_TRUE(body.ok()) << r.body;
    const json::Value* missing = body->Find("missing");
    ASSERT_NE(missing, nullptr) << r.body;
    ASSERT_TRUE(missing->is_array()) << r.body;
    bool storage = false;
    for (const json::Value& m : missing->as_array()) {
      storage = storage || (m.is_string() && m.as_string() == "storage");
    }
    EXPECT_TRUE(storage) << r.body;
    const json::Value* ready = body->Find("ready");
    const json::Value* write_ready = body->Find("write_ready");
    EXPECT_TRUE(ready != nullptr && ready->is_bool() && ready->as_bool()) << r.body;
    EXPECT_TRUE(write_ready != nullptr && write_ready->is_bool() && !write_ready->as_bool())
        << r.body;
  }

  static void ExpectReady(HttpClient& client) {
    HttpResponse r = client.Request("GET", "/readyz");
    EXPECT_TRUE(HasStatus(r, 200));
  }

  // The whole audit trail in the inner store verifies; returns its rows.
  std::vector<storage::AuditRow> VerifiedInnerAuditTrail() {
    util::Result<std::vector<storage::AuditRow>> rows = svc_->inner().ReadAudit(0, 1'000'000);
    EXPECT_TRUE(rows.ok());
    if (!rows.ok()) return {};
    std::uint64_t seq = 0;
    std::string prev = crypto::ZeroB3();
    util::Status verified = core::VerifyAuditRows(*rows, seq, prev);
    EXPECT_TRUE(verified.ok()) << verified.error().message();
    return std::move(rows).value();
  }

  static std::string Field(const storage::AuditRow& row, std::string_view name) {
    return StringOf(row.entry, name);
  }
};

// Case 1: the write that meets a failing fsync fails, the gate flips, every later write
// gets 503 NotReady with Retry-After, and reads serve the last good HEAD from the store.
TEST_F(WritePlaneFaultTest, FailingFsyncTakesTheWritePlaneDownAndReadsServeTheLastGoodHead) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  ASSERT_NO_FATAL_FAILURE(CommitNext("v2"));
  const HttpResponse head_before = Get("/registry/head");
  ASSERT_TRUE(HasStatus(head_before, 200));
  const HttpResponse v1_before = Get("/registry/1");
  const HttpResponse v2_before = Get("/registry/2");
  ASSERT_TRUE(HasStatus(v1_before, 200));
  ASSERT_TRUE(HasStatus(v2_before, 200));
  // A pending proposal with one approval, so that every kind of write can be tried.
  Proposed p = ProposeNext("v3");
  ASSERT_TRUE(HasStatus(PostApproval(*api_, p.proposal_id, SignWith(0, p.payload_b3)), 200));
  ExpectReady(*admin_);

  svc_->faults().FailSyncs();
  const HttpResponse failing = PostApproval(*api_, p.proposal_id, SignWith(1, p.payload_b3));
  // The write that hit the fault was not applied: 503 NotReady, retry later.
  EXPECT_TRUE(IsError(failing, 503, "NotReady"));
  EXPECT_TRUE(svc_->gate().storage_fault());
  EXPECT_EQ(svc_->inner().LoadApprovals(p.proposal_id)->size(), 1u)
      << "the failed approval reached the store";

  // Every later write: 503 NotReady with Retry-After, before it reaches the core.
  const std::uint64_t core_writes = svc_->faults().counts(StoreOp::kInsertProposal).calls +
                                    svc_->faults().counts(StoreOp::kInsertApproval).calls +
                                    svc_->faults().counts(StoreOp::kAppendCommit).calls;
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(IsError(PostProposal(*api_, Payload(3, head_b3_, svc_->governance(), "other")), 503,
                        "NotReady"));
    EXPECT_TRUE(
        IsError(PostApproval(*api_, p.proposal_id, SignWith(1, p.payload_b3)), 503, "NotReady"));
    EXPECT_TRUE(
        IsError(PostApproval(*api_, p.proposal_id, SignWith(2, p.payload_b3)), 503, "NotReady"));
    EXPECT_TRUE(IsError(PostCommit(*api_, p.proposal_id), 503, "NotReady"));
  }
  EXPECT_EQ(svc_->faults().counts(StoreOp::kInsertProposal).calls +
                svc_->faults().counts(StoreOp::kInsertApproval).calls +
                svc_->faults().counts(StoreOp::kAppendCommit).calls,
            core_writes);

  // Reads: the last good HEAD, the records from the store (no record cache here), the
  // pending proposal; both planes report the write plane unready.
  HttpResponse head = Get("/registry/head");
  ASSERT_TRUE(HasStatus(head, 200));
  EXPECT_EQ(head.body, head_before.body);
  EXPECT_EQ(head.Header("x-registry-version"), "2");
  const std::uint64_t record_reads = svc_->faults().counts(StoreOp::kReadRecord).calls;
  HttpResponse v1 = Get("/registry/1");
  HttpResponse v2 = Get("/registry/2");
  ASSERT_TRUE(HasStatus(v1, 200));
  ASSERT_TRUE(HasStatus(v2, 200));
  EXPECT_EQ(v1.body, v1_before.body);
  EXPECT_EQ(v2.body, v2_before.body);
  EXPECT_EQ(svc_->faults().counts(StoreOp::kReadRecord).calls, record_reads + 2)
      << "the records were expected to come from the (faulty) store";
  EXPECT_TRUE(IsError(Get("/registry/3"), 404, "NotFound"));
  HttpResponse proposal = Get("/registry/proposals/" + p.proposal_id);
  ASSERT_TRUE(HasStatus(proposal, 200));
  EXPECT_EQ(StringOf(proposal.body, "status"), "pending");
  EXPECT_TRUE(HasStatus(Get("/registry/proposals"), 200));
  EXPECT_TRUE(HasStatus(AdminGet("/healthz"), 200));
  ASSERT_NO_FATAL_FAILURE(ExpectStorageUnready(*admin_));
  ASSERT_NO_FATAL_FAILURE(ExpectStorageUnready(*api_));
  EXPECT_GT(svc_->faults().write_counts().failures, 0u);
}

// Each kind of write that meets the fault flips the gate; the failed write leaves no trace
// in the store and HEAD does not move.
TEST_F(WritePlaneFaultTest, EveryKindOfWriteThatFailsFlipsTheGate) {
  enum class Kind { kPropose, kApprove, kCommit };
  for (Kind kind : {Kind::kPropose, Kind::kApprove, Kind::kCommit}) {
    SCOPED_TRACE(static_cast<int>(kind));
    TearDown();
    ASSERT_NO_FATAL_FAILURE(StartService());
    ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
    json::Value payload = NextPayload("v2");
    Proposed p = IdentityOf(payload);
    if (kind != Kind::kPropose) {
      ASSERT_TRUE(HasStatus(PostProposal(*api_, payload), 202));
      ASSERT_TRUE(HasStatus(PostApproval(*api_, p.proposal_id, SignWith(0, p.payload_b3)), 200));
    }
    if (kind == Kind::kCommit) {
      ASSERT_TRUE(HasStatus(PostApproval(*api_, p.proposal_id, SignWith(1, p.payload_b3)), 200));
    }
    svc_->faults().FailSyncs();
    HttpResponse r = kind == Kind::kPropose ? PostProposal(*api_, payload)
                     : kind == Kind::kApprove
                         ? PostApproval(*api_, p.proposal_id, SignWith(1, p.payload_b3))
                         : PostCommit(*api_, p.proposal_id);
    EXPECT_TRUE(IsError(r, 503, "NotReady"));
    EXPECT_TRUE(svc_->gate().storage_fault());
    EXPECT_EQ(*svc_->inner().HeadVersion(), 1u);
    EXPECT_EQ(svc_->registry().Head()->head.version, 1u);
    if (kind == Kind::kPropose) {
      EXPECT_FALSE(svc_->inner().GetProposal(p.proposal_id)->has_value());
    } else if (kind == Kind::kApprove) {
      EXPECT_EQ(svc_->inner().LoadApprovals(p.proposal_id)->size(), 1u);
    }
    EXPECT_TRUE(IsError(PostCommit(*api_, p.proposal_id), 503, "NotReady"));
    ASSERT_NO_FATAL_FAILURE(ExpectStorageUnready(*admin_));
  }
}

// Case 2, without an audit trail: after Heal the probe of run.cc's housekeeping clears the
// gate and writes work again; the commit that failed succeeds on retry.
TEST_F(WritePlaneFaultTest, WritePlaneReturnsAfterHealAndProbeWithoutAuditTrail) {
  ServiceOptions options;
  options.audit = false;
  ASSERT_NO_FATAL_FAILURE(StartService(options));
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  Proposed p = ProposeNext("v2");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(HasStatus(PostApproval(*api_, p.proposal_id, SignWith(i, p.payload_b3)), 200));
  }
  svc_->faults().FailSyncs();
  HttpResponse failed = PostCommit(*api_, p.proposal_id);
  EXPECT_TRUE(IsError(failed, 503, "NotReady"));
  ASSERT_TRUE(svc_->gate().storage_fault());

  // The probe fails while the fault lasts: the gate stays down.
  EXPECT_FALSE(svc_->HousekeepingProbe());
  EXPECT_TRUE(svc_->gate().storage_fault());
  EXPECT_TRUE(IsError(PostCommit(*api_, p.proposal_id), 503, "NotReady"));
  ASSERT_NO_FATAL_FAILURE(ExpectStorageUnready(*admin_));

  svc_->faults().Heal();
  EXPECT_TRUE(svc_->HousekeepingProbe());
  EXPECT_FALSE(svc_->gate().storage_fault());
  ExpectReady(*admin_);
  ExpectReady(*api_);

  HttpResponse retried = PostCommit(*api_, p.proposal_id);
  ASSERT_TRUE(HasStatus(retried, 201));
  EXPECT_EQ(VersionOf(retried.body), 2);
  head_version_ = 2;
  head_b3_ = p.payload_b3;
  ASSERT_NO_FATAL_FAILURE(CommitNext("v3"));
  ASSERT_NO_FATAL_FAILURE(CommitNext("v4"));
  EXPECT_FALSE(svc_->gate().storage_fault());
  EXPECT_EQ(*svc_->inner().HeadVersion(), 4u);
  ExpectReady(*admin_);
}

// Case 2 with the audit trail, as the service runs: after Heal + probe, writes work again and
// keep working, and the trail records every decision. DISABLED: fails today. The write that
// met the fault also failed its audit entry, and core::AuditLog refuses every later Record
// once a flush failed (src/core/audit_log.cc, failed_from_), so the first write after the
// probe is acknowledged but flips the gate again, and only a restart recovers. See the
// report for the proposed fix; enable this test with it.
TEST_F(WritePlaneFaultTest, WritePlaneReturnsAfterHealAndProbeWithAuditTrail) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  Proposed p = ProposeNext("v2");
  svc_->faults().FailSyncs();
  HttpResponse failed = PostApproval(*api_, p.proposal_id, SignWith(0, p.payload_b3));
  EXPECT_TRUE(IsError(failed, 503, "NotReady"));
  ASSERT_TRUE(svc_->gate().storage_fault());
  svc_->faults().Heal();
  ASSERT_TRUE(svc_->HousekeepingProbe());

  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(HasStatus(PostApproval(*api_, p.proposal_id, SignWith(i, p.payload_b3)), 200));
    EXPECT_FALSE(svc_->gate().storage_fault()) << "after approval " << i;
  }
  ASSERT_TRUE(HasStatus(PostCommit(*api_, p.proposal_id), 201));
  head_version_ = 2;
  head_b3_ = p.payload_b3;
  ASSERT_NO_FATAL_FAILURE(CommitNext("v3"));
  EXPECT_FALSE(svc_->gate().storage_fault());
  ExpectReady(*admin_);
  // Every decision is on the trail, the failed approval's rejection included.
  std::vector<storage::AuditRow> trail = VerifiedInnerAuditTrail();
  int rejected_approvals = 0;
  for (const storage::AuditRow& row : trail) {
    if (Field(row, "action") == "approve" && Field(row, "result") == "rejected") {
      ++rejected_approvals;
    }
  }
  EXPECT_EQ(rejected_approvals, 1);
  // v1: 1 + 2 + 1; v2: propose, failed approval, 2 approvals, commit; v3: 1 + 2 + 1.
  EXPECT_EQ(trail.size(), 4u + 5u + 4u);
}

// Case 4: a full disk that only the audit trail meets. The decision was durable, so it is
// reported; the write plane goes unready; the trail in the store still verifies.
TEST_F(WritePlaneFaultTest, AuditEnospcReportsTheDecisionAndTakesTheWritePlaneDown) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  const std::size_t trail_before = VerifiedInnerAuditTrail().size();
  ASSERT_EQ(trail_before, 4u);  // propose, 2 approvals, commit

  svc_->faults().Fail(StoreOps::Of(StoreOp::kAppendAudit),
                      std::string(FaultInjectingStore::kEnospc));
  json::Value payload = NextPayload("v2");
  Proposed p = IdentityOf(payload);
  HttpResponse proposed = PostProposal(*api_, payload);
  EXPECT_TRUE(HasStatus(proposed, 202)) << "the proposal is durable: its decision is reported";
  EXPECT_TRUE(svc_->inner().GetProposal(p.proposal_id)->has_value());
  EXPECT_TRUE(svc_->gate().storage_fault());
  ASSERT_NO_FATAL_FAILURE(ExpectStorageUnready(*admin_));
  EXPECT_TRUE(
      IsError(PostApproval(*api_, p.proposal_id, SignWith(0, p.payload_b3)), 503, "NotReady"));
  EXPECT_TRUE(svc_->inner().LoadApprovals(p.proposal_id)->empty());
  EXPECT_EQ(VerifiedInnerAuditTrail().size(), trail_before);

  // The disk has room again; the probe (a checkpoint) succeeds and clears the gate.
  svc_->faults().Heal();
  EXPECT_TRUE(svc_->HousekeepingProbe());
  ExpectReady(*admin_);
  HttpResponse approved = PostApproval(*api_, p.proposal_id, SignWith(0, p.payload_b3));
  EXPECT_TRUE(HasStatus(approved, 200));
  EXPECT_EQ(svc_->inner().LoadApprovals(p.proposal_id)->size(), 1u);
  // Whatever happens to the trail afterwards, what is stored of it verifies.
  EXPECT_GE(VerifiedInnerAuditTrail().size(), trail_before);
  std::cerr << "[ after Heal + probe, the first write left the gate "
            << (svc_->gate().storage_fault() ? "DOWN again (AuditLog refuses after a failed flush)"
                                             : "up")
            << " ]\n";
}

// Case 4, the recovery the issue asks for. DISABLED: fails today for the reason given at
// WritePlaneReturnsAfterHealAndProbeWithAuditTrail.
TEST_F(WritePlaneFaultTest, AuditTrailResumesAfterEnospcClears) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  svc_->faults().Fail(StoreOps::Of(StoreOp::kAppendAudit),
                      std::string(FaultInjectingStore::kEnospc));
  Proposed p = ProposeNext("v2");
  ASSERT_TRUE(svc_->gate().storage_fault());
  svc_->faults().Heal();
  ASSERT_TRUE(svc_->HousekeepingProbe());

  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(HasStatus(PostApproval(*api_, p.proposal_id, SignWith(i, p.payload_b3)), 200));
    EXPECT_FALSE(svc_->gate().storage_fault()) << "after approval " << i;
  }
  ASSERT_TRUE(HasStatus(PostCommit(*api_, p.proposal_id), 201));
  EXPECT_FALSE(svc_->gate().storage_fault());
  ExpectReady(*admin_);
  // The trail verifies and holds every decision, the proposal whose entry first failed too.
  std::vector<storage::AuditRow> trail = VerifiedInnerAuditTrail();
  ASSERT_EQ(trail.size(), 4u + 4u);
  EXPECT_EQ(Field(trail[4], "action"), "propose");
  EXPECT_EQ(Field(trail[4], "proposal_id"), p.proposal_id);
  EXPECT_EQ(Field(trail[7], "action"), "commit");
}

}  // namespace
}  // namespace registry::fault
