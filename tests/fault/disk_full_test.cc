// Issue 7 point 5, the full disk on the data writes themselves (write_plane_fault_test.cc
// covers ENOSPC only on the audit trail, and a failing fsync, EIO, on the data writes):
// every write meets ENOSPC → the write plane goes unready with Retry-After, reads stay
// green on the last good HEAD, nothing acknowledged is lost, and the write plane returns
// once the disk has room again and the housekeeping probe succeeds.
#include <gtest/gtest.h>

#include <string>

#include "fault/in_process_service.h"

namespace registry::fault {
namespace {

using storage::FaultInjectingStore;
using storage::StoreOp;

class DiskFullTest : public FaultServiceTest {};

TEST_F(DiskFullTest, EnospcOnEveryWriteTakesTheWritePlaneDownAndNothingAcknowledgedIsLost) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  const HttpResponse head_before = Get("/registry/head");
  const HttpResponse v1_before = Get("/registry/1");
  ASSERT_TRUE(HasStatus(head_before, 200));
  ASSERT_TRUE(HasStatus(v1_before, 200));
  // Acknowledged before the disk fills: a proposal and one approval.
  Proposed p = ProposeNext("v2");
  ASSERT_TRUE(HasStatus(PostApproval(*api_, p.proposal_id, SignWith(0, p.payload_b3)), 200));

  svc_->faults().DiskFull();
  // Each kind of write: 503 NotReady with Retry-After (the first meets ENOSPC, the others
  // are turned away by the gate).
  EXPECT_TRUE(
      IsError(PostApproval(*api_, p.proposal_id, SignWith(1, p.payload_b3)), 503, "NotReady"));
  EXPECT_TRUE(svc_->gate().storage_fault());
  EXPECT_TRUE(IsError(PostProposal(*api_, NextPayload("other")), 503, "NotReady"));
  EXPECT_TRUE(IsError(PostCommit(*api_, p.proposal_id), 503, "NotReady"));
  EXPECT_GT(svc_->faults().write_counts().failures, 0u);

  // Reads stay green on the last good HEAD; readiness says reads yes, writes no.
  HttpResponse head = Get("/registry/head");
  ASSERT_TRUE(HasStatus(head, 200));
  EXPECT_EQ(head.body, head_before.body);
  HttpResponse v1 = Get("/registry/1");
  ASSERT_TRUE(HasStatus(v1, 200));
  EXPECT_EQ(v1.body, v1_before.body);
  HttpResponse view = Get("/registry/proposals/" + p.proposal_id);
  ASSERT_TRUE(HasStatus(view, 200));
  EXPECT_EQ(StringOf(view.body, "status"), "pending");
  HttpResponse ready = AdminGet("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("\"ready\":true"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("\"write_ready\":false"), std::string::npos) << ready.body;
  EXPECT_TRUE(ready.Header("retry-after").has_value()) << ready.Describe();

  // Nothing acknowledged is lost: the inner store holds v1, the proposal and its approval,
  // and nothing that was refused.
  EXPECT_EQ(*svc_->inner().HeadVersion(), 1u);
  EXPECT_TRUE(svc_->inner().GetProposal(p.proposal_id)->has_value());
  EXPECT_EQ(svc_->inner().LoadApprovals(p.proposal_id)->size(), 1u);

  // The probe fails while the disk is full; then the disk has room again.
  EXPECT_FALSE(svc_->HousekeepingProbe());
  svc_->faults().Heal();
  ASSERT_TRUE(svc_->HousekeepingProbe());
  EXPECT_TRUE(HasStatus(AdminGet("/readyz"), 200));
  ASSERT_TRUE(HasStatus(PostApproval(*api_, p.proposal_id, SignWith(1, p.payload_b3)), 200));
  HttpResponse committed = PostCommit(*api_, p.proposal_id);
  ASSERT_TRUE(HasStatus(committed, 201));
  EXPECT_EQ(VersionOf(committed.body), 2);
  head_version_ = 2;
  head_b3_ = p.payload_b3;
  ASSERT_NO_FATAL_FAILURE(CommitNext("v3"));
  EXPECT_FALSE(svc_->gate().storage_fault());
  EXPECT_EQ(*svc_->inner().HeadVersion(), 3u);
}

}  // namespace
}  // namespace registry::fault
