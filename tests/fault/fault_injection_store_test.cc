// FaultInjectingStore on its own: forwarding, the fault controls, and the guarantee that a
// failed call never reaches the inner store.
#include "registry/storage/fault_injection_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "registry/storage/memory_store.h"
#include "storage/rows.h"

namespace registry::storage {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kWait{5000};

// storage::testing::Proposal with a numbered id, for version 1.
ProposalRow Proposal(int i) { return testing::Proposal(std::to_string(i), 1); }

CommitRow Commit(std::uint64_t version, const std::string& proposal_id) {
  CommitRow row;
  row.version = version;
  row.payload_b3 = "b3:" + std::string(64, 'b');
  row.proposal_id = proposal_id;
  row.committed_at = "2024-01-01T00:00:00.000Z";
  row.record = "{\"v\":" + std::to_string(version) + "}";
  return row;
}

class FaultInjectingStoreTest : public ::testing::Test {
 protected:
  MemoryStore inner_;
  FaultInjectingStore store_{&inner_};
};

TEST_F(FaultInjectingStoreTest, HealthyStoreForwardsEverything) {
  ASSERT_TRUE(store_.InsertProposal(Proposal(1)).ok());
  model::Approval a;
  a.signer_id = "org:x#k0";
  ASSERT_TRUE(store_.InsertApproval(Proposal(1).proposal_id, a).ok());
  ASSERT_TRUE(store_.AppendCommit(Commit(1, Proposal(1).proposal_id)).ok());
  ASSERT_TRUE(store_.AppendAudit({AuditRow{1, "{}"}}).ok());
  CheckpointRow cp;
  cp.version = 1;
  ASSERT_TRUE(store_.WriteCheckpoint(cp).ok());

  EXPECT_EQ(*store_.HeadVersion(), 1u);
  EXPECT_EQ(**store_.ReadRecord(1), Commit(1, "").record);
  EXPECT_EQ((*store_.ReadCommitMeta(1))->proposal_id, Proposal(1).proposal_id);
  EXPECT_EQ((*store_.GetProposal(Proposal(1).proposal_id))->status,
            model::ProposalStatus::kCommitted);
  EXPECT_EQ(store_.LoadApprovals(Proposal(1).proposal_id)->size(), 1u);
  EXPECT_TRUE(store_.LoadPendingProposals()->empty());
  EXPECT_EQ((*store_.LoadCheckpoint())->version, 1u);
  EXPECT_EQ(store_.ReadAudit(0, 10)->size(), 1u);
  EXPECT_EQ(store_.SizeBytes(), inner_.SizeBytes());

  EXPECT_EQ(store_.counts(StoreOp::kAppendCommit).calls, 1u);
  EXPECT_EQ(store_.write_counts().calls, 5u);
  EXPECT_EQ(store_.write_counts().failures, 0u);
  EXPECT_EQ(store_.read_counts().calls, 8u);
}

TEST_F(FaultInjectingStoreTest, OpSetsPartitionTheInterface) {
  int writes = 0;
  for (std::size_t i = 0; i < kStoreOpCount; ++i) {
    StoreOp op = static_cast<StoreOp>(i);
    EXPECT_TRUE(StoreOps::All().contains(op));
    EXPECT_NE(StoreOps::Reads().contains(op), StoreOps::Writes().contains(op)) << StoreOpName(op);
    EXPECT_EQ(IsWriteOp(op), StoreOps::Writes().contains(op));
    EXPECT_NE(StoreOpName(op), "unknown");
    writes += IsWriteOp(op) ? 1 : 0;
  }
  EXPECT_EQ(writes, 7);
  EXPECT_TRUE(StoreOps::Writes().contains(StoreOp::kPruneThrough));
  EXPECT_FALSE(StoreOps::Writes().contains(StoreOp::kLoadPruneAnchor));
  EXPECT_TRUE(StoreOps::Writes().contains(StoreOp::kAppendAudit));
  EXPECT_FALSE(StoreOps::Writes().contains(StoreOp::kReadAudit));
  EXPECT_TRUE(StoreOps().empty());
}

TEST_F(FaultInjectingStoreTest, FailedWritesNeverReachTheInnerStore) {
  ASSERT_TRUE(store_.InsertProposal(Proposal(1)).ok());
  store_.FailSyncs();
  util::Status s = store_.InsertProposal(Proposal(2));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), util::ErrorCode::kInternal);
  EXPECT_EQ(s.error().message(), FaultInjectingStore::kFsyncEio);
  EXPECT_FALSE(store_.AppendCommit(Commit(1, Proposal(1).proposal_id)).ok());
  EXPECT_FALSE(
      store_.SetProposalStatus(Proposal(1).proposal_id, model::ProposalStatus::kStale).ok());
  EXPECT_FALSE(store_.AppendAudit({AuditRow{1, "{}"}}).ok());
  model::Approval a;
  a.signer_id = "org:x#k0";
  EXPECT_FALSE(store_.InsertApproval(Proposal(1).proposal_id, a).ok());
  EXPECT_FALSE(store_.WriteCheckpoint(CheckpointRow{}).ok());

  // The inner store saw none of it; reads keep working through the decorator.
  EXPECT_FALSE(inner_.GetProposal(Proposal(2).proposal_id)->has_value());
  EXPECT_EQ(*inner_.HeadVersion(), 0u);
  EXPECT_EQ((*inner_.GetProposal(Proposal(1).proposal_id))->status,
            model::ProposalStatus::kPending);
  EXPECT_TRUE(inner_.LoadApprovals(Proposal(1).proposal_id)->empty());
  EXPECT_TRUE(inner_.ReadAudit(0, 10)->empty());
  EXPECT_FALSE(inner_.LoadCheckpoint()->has_value());
  EXPECT_TRUE(store_.GetProposal(Proposal(1).proposal_id).ok());
  EXPECT_EQ(store_.write_counts().failures, 6u);
  EXPECT_EQ(store_.read_counts().failures, 0u);

  store_.Heal();
  EXPECT_TRUE(store_.InsertProposal(Proposal(2)).ok());
  EXPECT_TRUE(inner_.GetProposal(Proposal(2).proposal_id)->has_value());
}

TEST_F(FaultInjectingStoreTest, DiskFullFailsWritesWithEnospcOnly) {
  store_.DiskFull();
  util::Status s = store_.AppendAudit({AuditRow{1, "{}"}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "ENOSPC: no space left on device");
  EXPECT_TRUE(store_.ReadAudit(0, 10).ok());
  EXPECT_TRUE(store_.HeadVersion().ok());
}

TEST_F(FaultInjectingStoreTest, FailReadsLeavesWritesAlone) {
  store_.FailReads("pread: EIO");
  util::Result<std::uint64_t> head = store_.HeadVersion();
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().message(), "pread: EIO");
  EXPECT_FALSE(store_.ReadRecord(1).ok());
  EXPECT_TRUE(store_.InsertProposal(Proposal(1)).ok());
  EXPECT_EQ(store_.read_counts().failures, 2u);
}

TEST_F(FaultInjectingStoreTest, FailOneOperationOnly) {
  store_.Fail(StoreOps::Of(StoreOp::kAppendAudit), std::string(FaultInjectingStore::kEnospc));
  EXPECT_TRUE(store_.InsertProposal(Proposal(1)).ok());
  EXPECT_FALSE(store_.AppendAudit({AuditRow{1, "{}"}}).ok());
  EXPECT_EQ(store_.counts(StoreOp::kAppendAudit).failures, 1u);
  EXPECT_EQ(store_.counts(StoreOp::kInsertProposal).failures, 0u);
}

TEST_F(FaultInjectingStoreTest, FailNextWritesFailsExactlyN) {
  store_.FailNextWrites(2);
  EXPECT_FALSE(store_.InsertProposal(Proposal(1)).ok());
  EXPECT_TRUE(store_.HeadVersion().ok());  // reads do not use the budget
  EXPECT_FALSE(store_.InsertProposal(Proposal(1)).ok());
  EXPECT_TRUE(store_.InsertProposal(Proposal(1)).ok());
  EXPECT_TRUE(store_.InsertProposal(Proposal(2)).ok());
  EXPECT_EQ(store_.write_counts().failures, 2u);
  EXPECT_EQ(store_.write_counts().calls, 4u);
}

TEST_F(FaultInjectingStoreTest, FailNextTakesPrecedenceOverAPersistentFault) {
  store_.Fail(StoreOps::Writes(), "persistent");
  store_.FailNext(StoreOps::Of(StoreOp::kInsertProposal), 1, "once");
  util::Status first = store_.InsertProposal(Proposal(1));
  util::Status second = store_.InsertProposal(Proposal(1));
  ASSERT_FALSE(first.ok());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(first.error().message(), "once");
  EXPECT_EQ(second.error().message(), "persistent");
}

TEST_F(FaultInjectingStoreTest, FailNextBudgetIsExactUnderConcurrency) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  constexpr std::uint64_t kBudget = 123;
  store_.FailNextWrites(kBudget);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!store_.InsertProposal(Proposal(t * kPerThread + i)).ok()) failed.fetch_add(1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failed.load(), static_cast<int>(kBudget));
  EXPECT_EQ(inner_.LoadPendingProposals()->size(), kThreads * kPerThread - kBudget);
}

TEST_F(FaultInjectingStoreTest, BlockHoldsWritesUntilUnblock) {
  store_.BlockWrites();
  auto pending = std::async(std::launch::async, [&] { return store_.InsertProposal(Proposal(1)); });
  ASSERT_TRUE(store_.WaitUntilBlocked(1, kWait));
  EXPECT_EQ(store_.blocked(), 1u);
  // Held before the inner store: nothing is there yet, and reads are not blocked.
  EXPECT_FALSE(store_.GetProposal(Proposal(1).proposal_id)->has_value());
  EXPECT_EQ(pending.wait_for(milliseconds(0)), std::future_status::timeout);
  store_.Unblock();
  EXPECT_TRUE(pending.get().ok());
  EXPECT_EQ(store_.blocked(), 0u);
  EXPECT_TRUE(inner_.GetProposal(Proposal(1).proposal_id)->has_value());
  // Unblock also stops blocking new calls.
  EXPECT_TRUE(store_.InsertProposal(Proposal(2)).ok());
}

TEST_F(FaultInjectingStoreTest, AFaultSetWhileBlockedAppliesOnRelease) {
  store_.BlockWrites();
  auto pending = std::async(std::launch::async, [&] { return store_.InsertProposal(Proposal(1)); });
  ASSERT_TRUE(store_.WaitUntilBlocked(1, kWait));
  store_.DiskFull();
  store_.Unblock();
  util::Status s = pending.get();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), FaultInjectingStore::kEnospc);
  EXPECT_FALSE(inner_.GetProposal(Proposal(1).proposal_id)->has_value());
}

TEST_F(FaultInjectingStoreTest, HealReleasesBlockedCallsAndClearsEverything) {
  store_.BlockWrites();
  store_.FailWrites();
  std::vector<std::future<util::Status>> pending;
  for (int i = 0; i < 3; ++i) {
    pending.push_back(
        std::async(std::launch::async, [&, i] { return store_.InsertProposal(Proposal(i)); }));
  }
  ASSERT_TRUE(store_.WaitUntilBlocked(3, kWait));
  store_.Heal();
  for (auto& f : pending) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(inner_.LoadPendingProposals()->size(), 3u);
}

TEST_F(FaultInjectingStoreTest, WaitUntilBlockedTimesOutWhenNothingIsBlocked) {
  EXPECT_FALSE(store_.WaitUntilBlocked(1, milliseconds(1)));
}

TEST_F(FaultInjectingStoreTest, LatencyDelaysOnlyTheChosenOperations) {
  store_.AddLatency(StoreOps::Of(StoreOp::kAppendCommit), milliseconds(50));
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_.InsertProposal(Proposal(1)).ok());
  ASSERT_TRUE(store_.AppendCommit(Commit(1, Proposal(1).proposal_id)).ok());
  // A lower bound only: a slow machine may take longer, never shorter.
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(50));
  EXPECT_EQ(*inner_.HeadVersion(), 1u);
}

TEST_F(FaultInjectingStoreTest, HealCutsALatencyShort) {
  store_.AddLatency(StoreOps::Writes(), std::chrono::hours(1));
  auto pending = std::async(std::launch::async, [&] { return store_.InsertProposal(Proposal(1)); });
  // The call is counted before it sleeps; wait for that (bounded), then heal.
  for (int i = 0; i < 5000 && store_.write_counts().calls == 0; ++i) {
    std::this_thread::yield();
  }
  store_.Heal();
  ASSERT_EQ(pending.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(pending.get().ok());
}

}  // namespace
}  // namespace registry::storage
