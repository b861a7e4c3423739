// Several Registry and AuditLog instances over one store, as several svc-registry processes
// over one PostgreSQL database (docs/SCALING.md). A MemoryStore shared by two Registry
// objects models the shared database: the store's CAS keeps the history linear, and
// CatchUp / RefreshProposal / the audit re-chain bring each instance up to date.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "registry/core/audit_log.h"
#include "registry/core/registry.h"
#include "registry/crypto/blake3.h"
#include "registry/storage/memory_store.h"
#include "testing/fixtures.h"

namespace registry::core {
namespace {

using model::CanonicalPayload;
using model::Governance;
using model::ProposalStatus;
using testing::TestSigner;
using util::ErrorCode;

constexpr util::UnixMillis kStart = 1'795'000'000'000;

class Events : public CommitListener {
 public:
  void OnCommit(const CommitEvent& e) override {
    std::lock_guard lock(mu_);
    events_.push_back(e);
  }
  std::vector<CommitEvent> Get() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<CommitEvent> events_;
};

class SharedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signers_ = testing::MakeSigners("alpha", 5);
    roots_ = testing::MakeGovernance(signers_, 3);
    a_ = Open();
    b_ = Open();
    b_->SetCommitListener(&b_events_);
  }

  std::unique_ptr<Registry> Open() {
    RegistryOptions options;
    options.shared_store = true;
    util::Result<std::unique_ptr<Registry>> r = Registry::Open(&store_, &clock_, roots_, options);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  CanonicalPayload NextOn(Registry& r, const Governance& g, const std::string& tag) {
    auto head = r.Head();
    return testing::MakeCanonical(
        testing::MakePayloadValue(head->head.version + 1, head->head.payload_b3, g, 3, tag));
  }

  util::Result<ApproveOutcome> Approve(Registry& r, const std::string& id, int signer,
                                       const std::string& b3) {
    return r.Approve(id, testing::Sign(signers_[signer], b3, clock_.NowMillis()));
  }

  // propose → approve by signers 0..2 → commit, all on `r`; returns the version.
  std::uint64_t CommitOn(Registry& r, const std::string& tag, const Governance* next = nullptr) {
    CanonicalPayload p = NextOn(r, next != nullptr ? *next : roots_, tag);
    util::Result<ProposeOutcome> proposed = r.Propose(p);
    EXPECT_TRUE(proposed.ok()) << proposed.error().ToString();
    if (!proposed.ok()) return 0;
    const std::string id = proposed->proposal.proposal_id;
    for (int i = 0; i < 3; ++i) {
      util::Result<ApproveOutcome> a = Approve(r, id, i, p.payload_b3);
      EXPECT_TRUE(a.ok()) << a.error().ToString();
    }
    util::Result<CommitOutcome> c = r.Commit(id);
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? c->version : 0;
  }

  storage::MemoryStore store_;
  util::ManualClock clock_{kStart};
  std::vector<TestSigner> signers_;
  Governance roots_;
  std::unique_ptr<Registry> a_;
  std::unique_ptr<Registry> b_;
  Events b_events_;
};

TEST_F(SharedStoreTest, CatchUpAppliesCommitsOfAnotherInstanceInOrder) {
  Governance rotated = testing::MakeGovernance(signers_, 2);  // m 3 → 2
  ASSERT_EQ(CommitOn(*a_, "one"), 1u);
  ASSERT_EQ(CommitOn(*a_, "two", &rotated), 2u);
  ASSERT_EQ(CommitOn(*a_, "three", &rotated), 3u);
  EXPECT_EQ(b_->Head()->head.version, 0u);

  ASSERT_TRUE(b_->CatchUp().ok());
  EXPECT_EQ(b_->Head()->head.version, 3u);
  EXPECT_EQ(b_->Head()->head.payload_b3, a_->Head()->head.payload_b3);
  EXPECT_EQ(b_->Head()->head.root, a_->Head()->head.root);
  EXPECT_EQ(b_->Head()->head.committed_at, a_->Head()->head.committed_at);
  EXPECT_EQ(b_->Head()->governance->m, 2u);  // the rotation is in force on B too

  std::vector<CommitEvent> events = b_events_.Get();
  ASSERT_EQ(events.size(), 3u);
  for (std::uint64_t v = 1; v <= 3; ++v) {
    const CommitEvent& e = events[v - 1];
    EXPECT_EQ(e.version, v);
    EXPECT_TRUE(e.corr_id.empty());
    ASSERT_NE(e.record, nullptr);
    EXPECT_EQ(*e.record, **store_.ReadRecord(v));
    EXPECT_EQ(e.proposal_id, (*store_.ReadCommitMeta(v))->proposal_id);
  }
  std::vector<CommitEvent> recent = b_->RecentEvents(10);
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent.back().root, a_->Head()->head.root);

  // Idempotent: nothing new, nothing reported again.
  ASSERT_TRUE(b_->CatchUp().ok());
  EXPECT_EQ(b_events_.Get().size(), 3u);

  // B now writes on the new HEAD, under the rotated governance (2 of 5).
  CanonicalPayload p = NextOn(*b_, rotated, "four");
  util::Result<ProposeOutcome> proposed = b_->Propose(p);
  ASSERT_TRUE(proposed.ok()) << proposed.error().ToString();
  const std::string id = proposed->proposal.proposal_id;
  ASSERT_TRUE(Approve(*b_, id, 3, p.payload_b3).ok());
  ASSERT_TRUE(Approve(*b_, id, 4, p.payload_b3).ok());
  util::Result<CommitOutcome> c = b_->Commit(id);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->version, 4u);
  ASSERT_TRUE(a_->CatchUp().ok());
  EXPECT_EQ(a_->Head()->head.root, b_->Head()->head.root);
}

TEST_F(SharedStoreTest, CatchUpDropsTheCommittedProposalAndStalesTheOthers) {
  CanonicalPayload mine = NextOn(*b_, roots_, "b");
  util::Result<ProposeOutcome> on_b = b_->Propose(mine);
  ASSERT_TRUE(on_b.ok());
  CanonicalPayload theirs = NextOn(*a_, roots_, "a");
  util::Result<ProposeOutcome> on_a = a_->Propose(theirs);
  ASSERT_TRUE(on_a.ok());
  const std::string theirs_id = on_a->proposal.proposal_id;
  // B learns of A's proposal from the change feed.
  ASSERT_TRUE(b_->RefreshProposal(theirs_id).ok());
  EXPECT_EQ(b_->pending_count(), 2u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Approve(*a_, theirs_id, i, theirs.payload_b3).ok());
  ASSERT_TRUE(a_->Commit(theirs_id).ok());

  ASSERT_TRUE(b_->CatchUp().ok());
  EXPECT_EQ(b_->pending_count(), 0u);
  util::Result<ProposalView> stale = b_->GetProposal(on_b->proposal.proposal_id);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->status, ProposalStatus::kStale);
  EXPECT_EQ((*store_.GetProposal(on_b->proposal.proposal_id))->status, ProposalStatus::kStale);
  util::Result<ProposalView> committed = b_->GetProposal(theirs_id);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->status, ProposalStatus::kCommitted);
  // A retried commit through B answers the committed outcome.
  util::Result<CommitOutcome> retry = b_->Commit(theirs_id);
  ASSERT_TRUE(retry.ok()) << retry.error().ToString();
  EXPECT_EQ(retry->version, 1u);
  EXPECT_FALSE(retry->created);
}

TEST_F(SharedStoreTest, LosingTheHeadRaceAnswersChainMismatchAndCatchesUp) {
  CanonicalPayload pa = NextOn(*a_, roots_, "a");
  CanonicalPayload pb = NextOn(*b_, roots_, "b");
  const std::string ida = a_->Propose(pa)->proposal.proposal_id;
  const std::string idb = b_->Propose(pb)->proposal.proposal_id;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Approve(*a_, ida, i, pa.payload_b3).ok());
    ASSERT_TRUE(Approve(*b_, idb, i, pb.payload_b3).ok());
  }
  ASSERT_TRUE(a_->Commit(ida).ok());
  util::Result<CommitOutcome> lost = b_->Commit(idb);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code(), ErrorCode::kChainMismatch);
  // B caught up while answering: HEAD is A's version 1, and its stream heard of it.
  EXPECT_EQ(b_->Head()->head.version, 1u);
  EXPECT_EQ(b_->Head()->head.payload_b3, pa.payload_b3);
  ASSERT_EQ(b_events_.Get().size(), 1u);
  EXPECT_EQ(b_events_.Get()[0].proposal_id, ida);
  // The retry is refused as stale; no fork in the store.
  util::Result<CommitOutcome> retry = b_->Commit(idb);
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(retry.error().code(), ErrorCode::kChainMismatch);
  EXPECT_EQ(*store_.HeadVersion(), 1u);
}

TEST_F(SharedStoreTest, ApprovalsFromBothInstancesCountTowardsQuorum) {
  CanonicalPayload p = NextOn(*a_, roots_, "x");
  util::Result<ProposeOutcome> proposed = a_->Propose(p);
  ASSERT_TRUE(proposed.ok());
  const std::string id = proposed->proposal.proposal_id;
  // B has never heard of it: Approve, GetProposal and Commit look it up in the store.
  util::Result<ProposalView> view = b_->GetProposal(id);
  ASSERT_TRUE(view.ok()) << view.error().ToString();
  EXPECT_EQ(view->status, ProposalStatus::kPending);
  ASSERT_TRUE(Approve(*a_, id, 0, p.payload_b3).ok());
  ASSERT_TRUE(Approve(*a_, id, 1, p.payload_b3).ok());
  util::Result<ApproveOutcome> third = Approve(*b_, id, 2, p.payload_b3);
  ASSERT_TRUE(third.ok()) << third.error().ToString();
  EXPECT_EQ(third->approvals, 3u);  // A's two were reloaded
  // A's memory holds two approvals; its commit reloads the third from the store.
  util::Result<CommitOutcome> c = a_->Commit(id);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->version, 1u);
  // The record carries all three signatures.
  std::string record = **store_.ReadRecord(1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(record.find(signers_[i].id), std::string::npos) << signers_[i].id;
  }
}

TEST_F(SharedStoreTest, ProposingWhatAnotherInstanceProposedReturnsIt) {
  CanonicalPayload p = NextOn(*a_, roots_, "x");
  ASSERT_TRUE(a_->Propose(p).ok());
  util::Result<ProposeOutcome> again = b_->Propose(p);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->proposal.status, ProposalStatus::kPending);
  EXPECT_EQ(b_->pending_count(), 1u);
}

TEST_F(SharedStoreTest, ALaggingInstanceCatchesUpBeforeJudgingAProposal) {
  ASSERT_EQ(CommitOn(*a_, "one"), 1u);
  // B still sits at 0; a proposal for version 2 is not "beyond HEAD" for the store.
  CanonicalPayload p = NextOn(*a_, roots_, "two");
  util::Result<ProposeOutcome> proposed = b_->Propose(p);
  ASSERT_TRUE(proposed.ok()) << proposed.error().ToString();
  EXPECT_TRUE(proposed->created);
  EXPECT_EQ(b_->Head()->head.version, 1u);
}

TEST_F(SharedStoreTest, RefreshDropsAProposalNoLongerPending) {
  CanonicalPayload p = NextOn(*a_, roots_, "x");
  const std::string id = a_->Propose(p)->proposal.proposal_id;
  ASSERT_TRUE(b_->RefreshProposal(id).ok());
  EXPECT_EQ(b_->pending_count(), 1u);
  clock_.Advance(std::chrono::hours(100));
  EXPECT_EQ(a_->ExpireDue(), 1u);
  ASSERT_TRUE(b_->RefreshProposal(id).ok());
  EXPECT_EQ(b_->pending_count(), 0u);
  EXPECT_EQ(b_->RefreshProposal("p_nosuchproposal").error().code(), ErrorCode::kNotFound);
}

TEST_F(SharedStoreTest, AVersionThatDoesNotVerifyTakesTheWritePlaneDown) {
  ASSERT_EQ(CommitOn(*a_, "one"), 1u);
  storage::CommitRow bad;
  bad.version = 2;
  bad.payload_b3 = "b3:bogus";
  bad.proposal_id = "p_bogus";
  bad.committed_at = "2026-11-18T00:00:00.000Z";
  bad.record = "{\"version\":2}";
  bad.leaf_hash = LeafHash(bad.record);
  ASSERT_TRUE(store_.AppendCommit(bad).ok());

  util::Status s = b_->CatchUp();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(b_->Head()->head.version, 1u);  // the last version that verified
  ASSERT_TRUE(b_->verification_failure().has_value());
  EXPECT_NE(b_->verification_failure()->find("version 2"), std::string::npos);
  util::Result<ProposeOutcome> refused = b_->Propose(NextOn(*b_, roots_, "y"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kNotReady);
}

TEST(SharedAuditLogTest, TwoLogsOnOneStoreInterleaveIntoOneChain) {
  storage::MemoryStore store;
  util::ManualClock clock{kStart};
  util::Result<std::unique_ptr<AuditLog>> a = AuditLog::Open(&store, &clock);
  util::Result<std::unique_ptr<AuditLog>> b = AuditLog::Open(&store, &clock);
  ASSERT_TRUE(a.ok() && b.ok());
  AuditEvent e;
  e.action = "propose";
  e.accepted = true;
  // Alternating: every call of the other log finds the trail moved on.
  for (int i = 0; i < 10; ++i) {
    e.corr_id = "a" + std::to_string(i);
    ASSERT_TRUE((*a)->Record(e).ok()) << i;
    e.corr_id = "b" + std::to_string(i);
    ASSERT_TRUE((*b)->Record(e).ok()) << i;
  }
  // Concurrently, from both.
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      AuditLog& log = t % 2 == 0 ? **a : **b;
      AuditEvent ev;
      ev.action = "approve";
      ev.accepted = true;
      for (int i = 0; i < kPerThread; ++i) {
        ev.corr_id = std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(log.Record(ev).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  (*a)->Stop();
  (*b)->Stop();

  const std::size_t expected = 20 + 4 * kPerThread;
  util::Result<std::vector<storage::AuditRow>> rows = store.ReadAudit(0, 10'000);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), expected);
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  ASSERT_TRUE(VerifyAuditRows(*rows, seq, prev).ok());
  // Every acknowledged entry is there once.
  std::set<std::string> corr_ids;
  for (const storage::AuditRow& row : *rows) {
    std::size_t at = row.entry.find("\"corr_id\":\"");
    ASSERT_NE(at, std::string::npos);
    corr_ids.insert(row.entry.substr(at, row.entry.find('"', at + 11) - at));
  }
  EXPECT_EQ(corr_ids.size(), expected);
  // And a reopened log resumes after them.
  util::Result<std::unique_ptr<AuditLog>> again = AuditLog::Open(&store, &clock);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->last_seq(), expected);
}

}  // namespace
}  // namespace registry::core
