// The Store contract (include/registry/storage/store.h), run against every backend.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "registry/storage/memory_store.h"
#include "registry/storage/store.h"

namespace registry::storage {
namespace {

using model::ProposalStatus;

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>()> make;
};

class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { store_ = GetParam().make(); }

  static ProposalRow Proposal(const std::string& suffix, std::uint64_t version) {
    ProposalRow row;
    row.proposal_id = "p_" + std::string(24 - suffix.size(), '0') + suffix;
    row.payload_b3 = "b3:" + std::string(64, 'a');
    row.canonical_payload = R"({"version":)" + std::to_string(version) + "}";
    row.version = version;
    row.created_at = 1000;
    row.expires_at = 2000;
    return row;
  }

  static model::Approval ApprovalBy(const std::string& id) {
    model::Approval a;
    a.signer_id = id;
    a.algo = "ed25519";
    a.sig.fill(0x5a);
    a.signed_at = "2026-11-26T12:00:00Z";
    a.signed_at_ms = 1'795'000'000'000;
    return a;
  }

  static CommitRow Commit(std::uint64_t version, const std::string& proposal_id) {
    return CommitRow{version, "b3:" + std::string(64, 'b'), proposal_id, "2026-11-26T12:00:00.000Z",
                     "record " + std::to_string(version)};
  }

  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformanceTest, EmptyStoreIsGenesis) {
  EXPECT_EQ(*store_->HeadVersion(), 0u);
  EXPECT_FALSE(store_->ReadRecord(0)->has_value());
  EXPECT_FALSE(store_->ReadRecord(1)->has_value());
  EXPECT_TRUE(store_->LoadPendingProposals()->empty());
  EXPECT_FALSE(store_->GetProposal("p_000000000000000000000001")->has_value());
}

TEST_P(StoreConformanceTest, ProposalsAndApprovalsRoundTrip) {
  ProposalRow a = Proposal("a", 1);
  ProposalRow b = Proposal("b", 1);
  ASSERT_TRUE(store_->InsertProposal(a).ok());
  ASSERT_TRUE(store_->InsertProposal(b).ok());
  ASSERT_TRUE(store_->InsertApproval(a.proposal_id, ApprovalBy("org:x#k2")).ok());
  ASSERT_TRUE(store_->InsertApproval(a.proposal_id, ApprovalBy("org:x#k1")).ok());
  std::optional<ProposalRow> got = *store_->GetProposal(a.proposal_id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->canonical_payload, a.canonical_payload);
  EXPECT_EQ(got->expires_at, 2000);
  EXPECT_EQ(got->status, ProposalStatus::kPending);
  std::vector<model::Approval> approvals = *store_->LoadApprovals(a.proposal_id);
  ASSERT_EQ(approvals.size(), 2u);
  EXPECT_EQ(approvals[0], ApprovalBy("org:x#k2"));  // acceptance order
  EXPECT_TRUE(store_->LoadApprovals(b.proposal_id)->empty());
  std::vector<ProposalRow> pending = *store_->LoadPendingProposals();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].proposal_id, a.proposal_id);  // oldest first
  ASSERT_TRUE(store_->SetProposalStatus(b.proposal_id, ProposalStatus::kExpired).ok());
  EXPECT_EQ(store_->LoadPendingProposals()->size(), 1u);
  EXPECT_EQ((*store_->GetProposal(b.proposal_id))->status, ProposalStatus::kExpired);
}

TEST_P(StoreConformanceTest, AppendCommitIsCasOnHead) {
  ProposalRow a = Proposal("a", 1);
  ASSERT_TRUE(store_->InsertProposal(a).ok());
  util::Status skip = store_->AppendCommit(Commit(2, a.proposal_id));
  ASSERT_FALSE(skip.ok());
  EXPECT_EQ(skip.error().code(), util::ErrorCode::kChainMismatch);
  EXPECT_EQ(*store_->HeadVersion(), 0u);
  ASSERT_TRUE(store_->AppendCommit(Commit(1, a.proposal_id)).ok());
  EXPECT_EQ(*store_->HeadVersion(), 1u);
  EXPECT_EQ(**store_->ReadRecord(1), "record 1");
  std::optional<CommitMeta> meta = *store_->ReadCommitMeta(1);
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->proposal_id, a.proposal_id);
  EXPECT_EQ(meta->committed_at, "2026-11-26T12:00:00.000Z");
  EXPECT_EQ((*store_->GetProposal(a.proposal_id))->status, ProposalStatus::kCommitted);
  EXPECT_TRUE(store_->LoadPendingProposals()->empty());
  util::Status again = store_->AppendCommit(Commit(1, a.proposal_id));
  EXPECT_EQ(again.error().code(), util::ErrorCode::kChainMismatch);
  EXPECT_EQ(**store_->ReadRecord(1), "record 1");
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreConformanceTest,
    ::testing::Values(Backend{"memory", [] { return std::make_unique<MemoryStore>(); }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace registry::storage
