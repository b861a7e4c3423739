#include "registry/core/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "registry/crypto/blake3.h"
#include "registry/json/parse.h"
#include "registry/model/proposal.h"
#include "registry/storage/memory_store.h"
#include "registry/util/time.h"
#include "testing/fixtures.h"
#include "testing/forwarding_store.h"
#include "testing/vectors.h"

namespace registry::core {
namespace {

using model::CanonicalPayload;
using model::Governance;
using model::ProposalStatus;
using testing::TestSigner;
using util::ErrorCode;

constexpr util::UnixMillis kStart = 1'795'000'000'000;  // 2026-11-18

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signers_ = testing::MakeSigners("alpha", 5);
    roots_ = testing::MakeGovernance(signers_, 3);
    Reopen();
  }

  void Reopen(RegistryOptions options = {}) {
    registry_.reset();
    util::Result<std::unique_ptr<Registry>> r =
        Registry::Open(store_.get(), &clock_, roots_, options);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    registry_ = std::move(r).value();
  }

  // A proposal for the next version on the current HEAD, carrying `governance`.
  CanonicalPayload Next(const Governance& governance, const std::string& tag = "x") {
    auto head = registry_->Head();
    return testing::MakeCanonical(testing::MakePayloadValue(
        head->head.version + 1, head->head.payload_b3, governance, 3, tag));
  }

  std::string ProposeOk(const CanonicalPayload& p) {
    util::Result<ProposeOutcome> r = registry_->Propose(p);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_TRUE(r->created);
    return r->proposal.proposal_id;
  }

  util::Result<ApproveOutcome> Approve(const std::string& id, const TestSigner& s,
                                       const std::string& b3) {
    return registry_->Approve(id, testing::Sign(s, b3, clock_.NowMillis()));
  }

  void ApproveOk(const std::string& id, const std::vector<TestSigner>& by, const std::string& b3) {
    for (const TestSigner& s : by) {
      util::Result<ApproveOutcome> r = Approve(id, s, b3);
      ASSERT_TRUE(r.ok()) << s.id << ": " << r.error().ToString();
    }
  }

  // propose → approve by `by` → commit; returns the new version.
  std::uint64_t CommitWith(const Governance& next, const std::vector<TestSigner>& by,
                           const std::string& tag = "x") {
    CanonicalPayload p = Next(next, tag);
    std::string id = ProposeOk(p);
    ApproveOk(id, by, p.payload_b3);
    util::Result<CommitOutcome> c = registry_->Commit(id);
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? c->version : 0;
  }

  std::vector<TestSigner> First(int n) const {
    return std::vector<TestSigner>(signers_.begin(), signers_.begin() + n);
  }

  std::unique_ptr<storage::MemoryStore> store_ = std::make_unique<storage::MemoryStore>();
  util::ManualClock clock_{kStart};
  std::vector<TestSigner> signers_;
  Governance roots_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, GenesisHead) {
  auto head = registry_->Head();
  EXPECT_EQ(head->head.version, 0u);
  EXPECT_EQ(head->head.payload_b3, crypto::ZeroB3());
  EXPECT_FALSE(head->head.committed_at.has_value());
  // RFC 6962 root of the empty tree: SHA-256 of nothing.
  EXPECT_EQ(head->head.root, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(*head->governance, roots_);
}

TEST_F(RegistryTest, VectorsGenesisToV1ToRotation) {
  json::Value vectors = testing::LoadJsonVector("approvals.json");
  util::Result<Governance> roots =
      model::DecodeGovernance(*vectors.Find("trust_roots"), "trust_roots");
  ASSERT_TRUE(roots.ok());
  roots_ = *roots;
  clock_.Set(*util::ParseRfc3339("2026-11-26T12:00:30Z"));
  Reopen();
  std::uint64_t expected_version = 1;
  for (const json::Value& c : vectors.Find("cases")->as_array()) {
    util::Result<CanonicalPayload> p = model::MakeCanonicalPayload(*c.Find("payload"), {});
    ASSERT_TRUE(p.ok());
    util::Result<ProposeOutcome> proposed = registry_->Propose(*p);
    ASSERT_TRUE(proposed.ok()) << proposed.error().ToString();
    const std::string id = proposed->proposal.proposal_id;
    for (const json::Value& a : c.Find("approvals")->as_array()) {
      util::Result<model::Approval> approval = model::DecodeApproval(a, "approval");
      ASSERT_TRUE(approval.ok());
      util::Result<ApproveOutcome> r = registry_->Approve(id, *approval);
      ASSERT_TRUE(r.ok()) << approval->signer_id << ": " << r.error().ToString();
    }
    util::Result<CommitOutcome> committed = registry_->Commit(id);
    ASSERT_TRUE(committed.ok()) << c.Find("name")->as_string() << ": "
                                << committed.error().ToString();
    EXPECT_EQ(committed->version, expected_version++);
    EXPECT_EQ(committed->payload_b3, c.Find("payload_b3")->as_string());
    EXPECT_EQ(registry_->Head()->head.payload_b3, c.Find("payload_b3")->as_string());
  }
  EXPECT_EQ(registry_->Head()->governance->n(), 6u);  // zeta joined
}

TEST_F(RegistryTest, VectorFlippedSignatureIsInvalidSig) {
  json::Value vectors = testing::LoadJsonVector("approvals.json");
  roots_ = *model::DecodeGovernance(*vectors.Find("trust_roots"), "trust_roots");
  clock_.Set(*util::ParseRfc3339("2026-11-26T12:00:30Z"));
  Reopen();
  const json::Value& c = vectors.Find("cases")->as_array()[0];
  util::Result<CanonicalPayload> p = model::MakeCanonicalPayload(*c.Find("payload"), {});
  std::string id = registry_->Propose(*p)->proposal.proposal_id;
  const json::Value& bad = vectors.Find("invalid")->as_array()[0];
  ASSERT_EQ(bad.Find("payload_b3")->as_string(), p->payload_b3);
  util::Result<ApproveOutcome> r =
      registry_->Approve(id, *model::DecodeApproval(*bad.Find("approval"), "approval"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidSig);
  EXPECT_EQ(registry_->GetProposal(id)->approvals.size(), 0u);
}

TEST_F(RegistryTest, QuorumExactlyMCommitsAndMMinusOneFails) {
  CanonicalPayload p = Next(roots_);
  std::string id = ProposeOk(p);
  ApproveOk(id, First(2), p.payload_b3);
  util::Result<CommitOutcome> early = registry_->Commit(id);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), ErrorCode::kQuorumFailed);
  util::Error::Details details = early.error().details();
  EXPECT_NE(std::find(details.begin(), details.end(),
                      std::pair<std::string, std::int64_t>("current_have", 2)),
            details.end());
  EXPECT_NE(std::find(details.begin(), details.end(),
                      std::pair<std::string, std::int64_t>("current_need", 3)),
            details.end());
  EXPECT_EQ(registry_->Head()->head.version, 0u);

  ApproveOk(id, {signers_[2]}, p.payload_b3);
  util::Result<CommitOutcome> c = registry_->Commit(id);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_TRUE(c->created);
  EXPECT_EQ(c->version, 1u);
  EXPECT_EQ(registry_->Head()->head.version, 1u);
  EXPECT_EQ(registry_->GetProposal(id)->status, ProposalStatus::kCommitted);
}

TEST_F(RegistryTest, ExtraApprovalsAreIrrelevantButRecorded) {
  CanonicalPayload p = Next(roots_);
  std::string id = ProposeOk(p);
  ApproveOk(id, {signers_[4], signers_[0], signers_[3], signers_[1], signers_[2]}, p.payload_b3);
  ASSERT_TRUE(registry_->Commit(id).ok());
  std::optional<std::string> record = *store_->ReadRecord(1);
  ASSERT_TRUE(record.has_value());
  util::Result<model::CommitRecord> r = model::DecodeCommitRecord(*json::Parse(*record), {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->approvals.size(), 5u);
  EXPECT_TRUE(std::is_sorted(r->approvals.begin(), r->approvals.end(),
                             [](const model::Approval& a, const model::Approval& b) {
                               return a.signer_id < b.signer_id;
                             }));
}

TEST_F(RegistryTest, RevokedKeyNoLongerCounts) {
  // v1 removes signer 4 (and keeps m = 3 of the remaining 4): needs old and new quorums.
  std::vector<TestSigner> remaining = First(4);
  Governance without4 = testing::MakeGovernance(remaining, 3);
  ASSERT_EQ(CommitWith(without4, First(3)), 1u);
  // For v2, signer 4 is unknown.
  CanonicalPayload p = Next(without4);
  std::string id = ProposeOk(p);
  util::Result<ApproveOutcome> r = Approve(id, signers_[4], p.payload_b3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnknownSigner);
  ApproveOk(id, First(2), p.payload_b3);
  EXPECT_EQ(registry_->Commit(id).error().code(), ErrorCode::kQuorumFailed);
}

TEST_F(RegistryTest, RotationNeedsTheNewSetsQuorumToo) {
  std::vector<TestSigner> fresh = testing::MakeSigners("beta", 3);
  Governance handed_over = testing::MakeGovernance(fresh, 3);
  CanonicalPayload p = Next(handed_over);
  std::string id = ProposeOk(p);
  // The whole old set approves: the new set has nobody yet.
  ApproveOk(id, signers_, p.payload_b3);
  util::Result<CommitOutcome> c = registry_->Commit(id);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kQuorumFailed);
  util::Error::Details d = c.error().details();
  EXPECT_NE(std::find(d.begin(), d.end(), std::pair<std::string, std::int64_t>("next_have", 0)),
            d.end());
  // New-set signers may approve a rotation; two are still not enough.
  ApproveOk(id, {fresh[0], fresh[1]}, p.payload_b3);
  EXPECT_EQ(registry_->Commit(id).error().code(), ErrorCode::kQuorumFailed);
  ApproveOk(id, {fresh[2]}, p.payload_b3);
  ASSERT_TRUE(registry_->Commit(id).ok());
  EXPECT_EQ(*registry_->Head()->governance, handed_over);
  // From now on only the new set governs.
  CanonicalPayload q = Next(handed_over);
  std::string id2 = ProposeOk(q);
  EXPECT_EQ(Approve(id2, signers_[0], q.payload_b3).error().code(), ErrorCode::kUnknownSigner);
}

TEST_F(RegistryTest, RotationWithoutOldQuorumFails) {
  std::vector<TestSigner> fresh = testing::MakeSigners("beta", 3);
  Governance handed_over = testing::MakeGovernance(fresh, 2);
  CanonicalPayload p = Next(handed_over);
  std::string id = ProposeOk(p);
  ApproveOk(id, fresh, p.payload_b3);
  ApproveOk(id, First(2), p.payload_b3);
  EXPECT_EQ(registry_->Commit(id).error().code(), ErrorCode::kQuorumFailed);
}

TEST_F(RegistryTest, StaleProposalAfterHeadMoves) {
  CanonicalPayload a = Next(roots_, "a");
  CanonicalPayload b = Next(roots_, "b");
  std::string ida = ProposeOk(a);
  std::string idb = ProposeOk(b);
  ApproveOk(idb, First(1), b.payload_b3);
  ApproveOk(ida, First(3), a.payload_b3);
  ASSERT_TRUE(registry_->Commit(ida).ok());
  util::Result<ApproveOutcome> approve = Approve(idb, signers_[1], b.payload_b3);
  EXPECT_EQ(approve.error().code(), ErrorCode::kChainMismatch);
  EXPECT_EQ(registry_->Commit(idb).error().code(), ErrorCode::kChainMismatch);
  EXPECT_EQ(registry_->GetProposal(idb)->status, ProposalStatus::kStale);
  EXPECT_EQ(registry_->pending_count(), 0u);
  // Proposing it again returns the stale proposal; it never becomes pending again.
  util::Result<ProposeOutcome> again = registry_->Propose(b);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->proposal.status, ProposalStatus::kStale);
}

TEST_F(RegistryTest, ExpiredProposal) {
  CanonicalPayload p = Next(roots_);
  std::string id = ProposeOk(p);
  ApproveOk(id, First(3), p.payload_b3);
  clock_.Advance(std::chrono::hours(72));
  EXPECT_EQ(Approve(id, signers_[3], p.payload_b3).error().code(), ErrorCode::kProposalExpired);
  EXPECT_EQ(registry_->Commit(id).error().code(), ErrorCode::kProposalExpired);
  EXPECT_EQ(registry_->GetProposal(id)->status, ProposalStatus::kExpired);
  EXPECT_EQ(registry_->Head()->head.version, 0u);
}

TEST_F(RegistryTest, ExpireDueSweepsOnlyPastTtl) {
  ProposeOk(Next(roots_, "a"));
  clock_.Advance(std::chrono::hours(1));
  std::string young = ProposeOk(Next(roots_, "b"));
  clock_.Advance(std::chrono::hours(71));
  EXPECT_EQ(registry_->ExpireDue(), 1u);
  EXPECT_EQ(registry_->pending_count(), 1u);
  EXPECT_EQ(registry_->GetProposal(young)->status, ProposalStatus::kPending);
}

TEST_F(RegistryTest, DuplicateAndUnknownSigner) {
  CanonicalPayload p = Next(roots_);
  std::string id = ProposeOk(p);
  ApproveOk(id, First(1), p.payload_b3);
  EXPECT_EQ(Approve(id, signers_[0], p.payload_b3).error().code(), ErrorCode::kDuplicateApproval);
  TestSigner stranger = testing::MakeSigner("mallory", 0);
  EXPECT_EQ(Approve(id, stranger, p.payload_b3).error().code(), ErrorCode::kUnknownSigner);
  // A known signer id with a stranger's key is an invalid signature.
  TestSigner impostor = stranger;
  impostor.id = signers_[1].id;
  EXPECT_EQ(Approve(id, impostor, p.payload_b3).error().code(), ErrorCode::kInvalidSig);
  // A valid signature over another proposal is invalid here.
  CanonicalPayload other = Next(roots_, "other");
  EXPECT_EQ(
      registry_->Approve(id, testing::Sign(signers_[2], other.payload_b3, kStart)).error().code(),
      ErrorCode::kInvalidSig);
  EXPECT_EQ(registry_->GetProposal(id)->approvals.size(), 1u);
  EXPECT_EQ(
      registry_
          ->Approve("p_000000000000000000000000", testing::Sign(signers_[0], p.payload_b3, kStart))
          .error()
          .code(),
      ErrorCode::kNotFound);
}

TEST_F(RegistryTest, SignedAtTooFarInTheFuture) {
  CanonicalPayload p = Next(roots_);
  std::string id = ProposeOk(p);
  util::UnixMillis future = clock_.NowMillis() + 5 * 60 * 1000 + 2000;
  EXPECT_EQ(registry_->Approve(id, testing::Sign(signers_[0], p.payload_b3, future)).error().code(),
            ErrorCode::kMalformed);
  util::UnixMillis near = clock_.NowMillis() + 4 * 60 * 1000;
  EXPECT_TRUE(registry_->Approve(id, testing::Sign(signers_[0], p.payload_b3, near)).ok());
}

TEST_F(RegistryTest, ProposeChecksChainAgainstHead) {
  auto head = registry_->Head();
  CanonicalPayload skip =
      testing::MakeCanonical(testing::MakePayloadValue(2, head->head.payload_b3, roots_));
  EXPECT_EQ(registry_->Propose(skip).error().code(), ErrorCode::kChainMismatch);
  CanonicalPayload wrong_prev =
      testing::MakeCanonical(testing::MakePayloadValue(1, "b3:" + std::string(64, 'f'), roots_));
  EXPECT_EQ(registry_->Propose(wrong_prev).error().code(), ErrorCode::kChainMismatch);
}

TEST_F(RegistryTest, ProposeAndCommitAreIdempotent) {
  CanonicalPayload p = Next(roots_);
  std::string id = ProposeOk(p);
  util::Result<ProposeOutcome> again = registry_->Propose(p);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->proposal.proposal_id, id);
  EXPECT_EQ(registry_->pending_count(), 1u);
  ApproveOk(id, First(3), p.payload_b3);
  util::Result<CommitOutcome> first = registry_->Commit(id);
  ASSERT_TRUE(first.ok());
  util::Result<CommitOutcome> retry = registry_->Commit(id);
  ASSERT_TRUE(retry.ok()) << retry.error().ToString();
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->version, first->version);
  EXPECT_EQ(retry->payload_b3, first->payload_b3);
  EXPECT_EQ(retry->committed_at, first->committed_at);
  EXPECT_EQ(registry_->Head()->head.version, 1u);
  // After commit, the same payload proposed again is the committed proposal.
  util::Result<ProposeOutcome> late = registry_->Propose(p);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->proposal.status, ProposalStatus::kCommitted);
  // Approving a committed proposal is a chain mismatch.
  EXPECT_EQ(Approve(id, signers_[4], p.payload_b3).error().code(), ErrorCode::kChainMismatch);
}

TEST_F(RegistryTest, PendingCap) {
  RegistryOptions options;
  options.max_pending = 2;
  Reopen(options);
  ProposeOk(Next(roots_, "a"));
  ProposeOk(Next(roots_, "b"));
  util::Result<ProposeOutcome> full = registry_->Propose(Next(roots_, "c"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), ErrorCode::kBusy);
  // Expired proposals make room.
  clock_.Advance(std::chrono::hours(73));
  EXPECT_TRUE(registry_->Propose(Next(roots_, "c")).ok());
}

TEST_F(RegistryTest, AutoCommitFiresOnQuorum) {
  RegistryOptions options;
  options.auto_commit = true;
  Reopen(options);
  CanonicalPayload p = Next(roots_);
  std::string id = ProposeOk(p);
  util::Result<ApproveOutcome> a1 = Approve(id, signers_[0], p.payload_b3);
  util::Result<ApproveOutcome> a2 = Approve(id, signers_[1], p.payload_b3);
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_FALSE(a2->committed.has_value());
  EXPECT_EQ(a2->approvals, 2u);
  EXPECT_EQ(a2->quorum_m, 3u);
  EXPECT_EQ(a2->quorum_n, 5u);
  util::Result<ApproveOutcome> a3 = Approve(id, signers_[2], p.payload_b3);
  ASSERT_TRUE(a3.ok());
  ASSERT_TRUE(a3->committed.has_value());
  EXPECT_EQ(a3->committed->version, 1u);
  EXPECT_EQ(registry_->Head()->head.version, 1u);
}

TEST_F(RegistryTest, ConcurrentCommitsForTheSameVersionExactlyOneWins) {
  for (int round = 0; round < 20; ++round) {
    CanonicalPayload a = Next(roots_, "a" + std::to_string(round));
    CanonicalPayload b = Next(roots_, "b" + std::to_string(round));
    std::string ida = ProposeOk(a);
    std::string idb = ProposeOk(b);
    ApproveOk(ida, First(3), a.payload_b3);
    ApproveOk(idb, First(3), b.payload_b3);
    std::uint64_t before = registry_->Head()->head.version;
    std::barrier start(2);
    util::Result<CommitOutcome> ra = util::Error(ErrorCode::kInternal, "unset");
    util::Result<CommitOutcome> rb = util::Error(ErrorCode::kInternal, "unset");
    std::thread ta([&] {
      start.arrive_and_wait();
      ra = registry_->Commit(ida);
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      rb = registry_->Commit(idb);
    });
    ta.join();
    tb.join();
    ASSERT_NE(ra.ok(), rb.ok()) << "round " << round;
    const util::Result<CommitOutcome>& loser = ra.ok() ? rb : ra;
    EXPECT_EQ(loser.error().code(), ErrorCode::kChainMismatch);
    EXPECT_EQ(registry_->Head()->head.version, before + 1);
  }
}

TEST_F(RegistryTest, ConcurrentApprovalsAllLand) {
  std::vector<TestSigner> many = testing::MakeSigners("wide", 32);
  roots_ = testing::MakeGovernance(many, 32);
  Reopen();
  CanonicalPayload p = Next(roots_);
  std::string id = ProposeOk(p);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 32; i += 4) {
        if (Approve(id, many[i], p.payload_b3).ok()) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 32);
  ASSERT_TRUE(registry_->Commit(id).ok());
}

TEST_F(RegistryTest, PropertyRandomSignerSets) {
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    int n = 1 + static_cast<int>(rng() % 32);
    std::uint32_t m = 1 + rng() % n;
    std::vector<TestSigner> set = testing::MakeSigners("r" + std::to_string(round), n);
    roots_ = testing::MakeGovernance(set, m);
    registry_.reset();
    store_ = std::make_unique<storage::MemoryStore>();
    Reopen();
    std::shuffle(set.begin(), set.end(), rng);
    std::size_t k = rng() % (n + 1);
    CanonicalPayload p = Next(roots_);
    std::string id = ProposeOk(p);
    ApproveOk(id, std::vector<TestSigner>(set.begin(), set.begin() + k), p.payload_b3);
    util::Result<CommitOutcome> c = registry_->Commit(id);
    EXPECT_EQ(c.ok(), k >= m) << "n=" << n << " m=" << m << " k=" << k;
    if (!c.ok()) {
      EXPECT_EQ(c.error().code(), ErrorCode::kQuorumFailed);
    }
  }
}

class RecordingListener : public CommitListener {
 public:
  void OnCommit(const CommitEvent& e) override { events.push_back(e); }
  std::vector<CommitEvent> events;
};

TEST_F(RegistryTest, ListenerSeesEveryCommitInOrderWithRecordBytes) {
  RecordingListener listener;
  registry_->SetCommitListener(&listener);
  for (int i = 0; i < 3; ++i) CommitWith(roots_, First(3), "v" + std::to_string(i));
  ASSERT_EQ(listener.events.size(), 3u);
  for (std::uint64_t v = 1; v <= 3; ++v) {
    const CommitEvent& e = listener.events[v - 1];
    EXPECT_EQ(e.version, v);
    EXPECT_EQ(*e.record, **store_->ReadRecord(v));
  }
  EXPECT_EQ(listener.events.back().root, registry_->Head()->head.root);
  // Recent events survive a restart with the same facts (but no corr_id or record bytes).
  std::vector<CommitEvent> live = registry_->RecentEvents(2);
  Reopen();
  std::vector<CommitEvent> recovered = registry_->RecentEvents(10);
  ASSERT_EQ(recovered.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(recovered[i].version, listener.events[i].version);
    EXPECT_EQ(recovered[i].payload_b3, listener.events[i].payload_b3);
    EXPECT_EQ(recovered[i].committed_at, listener.events[i].committed_at);
    EXPECT_EQ(recovered[i].root, listener.events[i].root);
    EXPECT_EQ(recovered[i].proposal_id, listener.events[i].proposal_id);
  }
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].version, 2u);
}

TEST_F(RegistryTest, RestartRecoversHeadAndPendingApprovals) {
  CommitWith(roots_, First(3), "one");
  CommitWith(roots_, First(4), "two");
  CanonicalPayload p = Next(roots_, "pending");
  std::string id = ProposeOk(p);
  ApproveOk(id, First(2), p.payload_b3);
  auto before = registry_->Head();
  model::Head head_before = before->head;
  Reopen();
  EXPECT_EQ(registry_->Head()->head, head_before);
  util::Result<ProposalView> view = registry_->GetProposal(id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->status, ProposalStatus::kPending);
  EXPECT_EQ(view->approvals.size(), 2u);
  ApproveOk(id, {signers_[2]}, p.payload_b3);
  EXPECT_TRUE(registry_->Commit(id).ok());
}

// A store whose record bytes of one version are corrupted on the way out.
class TamperingStore : public testing::ForwardingStore {
 public:
  TamperingStore() : ForwardingStore(&memory_) {}
  util::Result<std::optional<std::string>> ReadRecord(std::uint64_t version) override {
    util::Result<std::optional<std::string>> r = inner_->ReadRecord(version);
    if (r.ok() && r->has_value() && version == tamper_version) {
      std::string bytes = **r;
      bytes[tamper_offset % bytes.size()] ^= 0x01;
      return std::optional<std::string>(bytes);
    }
    return r;
  }
  std::uint64_t tamper_version = 0;
  std::size_t tamper_offset = 0;

 private:
  storage::MemoryStore memory_;
};

TEST(RegistryRecoveryTest, TamperedRecordNamesTheVersion) {
  TamperingStore store;
  util::ManualClock clock(kStart);
  auto signers = testing::MakeSigners("t", 3);
  Governance roots = testing::MakeGovernance(signers, 2);
  {
    auto r = Registry::Open(&store, &clock, roots, {});
    ASSERT_TRUE(r.ok());
    for (int v = 1; v <= 3; ++v) {
      auto head = (*r)->Head();
      CanonicalPayload p = testing::MakeCanonical(testing::MakePayloadValue(
          head->head.version + 1, head->head.payload_b3, roots, 2, std::to_string(v)));
      std::string id = (*r)->Propose(p)->proposal.proposal_id;
      for (int s = 0; s < 2; ++s) {
        ASSERT_TRUE((*r)->Approve(id, testing::Sign(signers[s], p.payload_b3, kStart)).ok());
      }
      ASSERT_TRUE((*r)->Commit(id).ok());
    }
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 50; ++i) {
    store.tamper_version = 2;
    store.tamper_offset = rng();
    auto r = Registry::Open(&store, &clock, roots, {});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    // Reads stay up at the last verified version; writes are refused, naming the version.
    std::optional<std::string> failure = (*r)->verification_failure();
    ASSERT_TRUE(failure.has_value()) << "offset " << store.tamper_offset;
    EXPECT_NE(failure->find("version 2"), std::string::npos) << *failure;
    EXPECT_EQ((*r)->Head()->head.version, 1u);
    CanonicalPayload p = testing::MakeCanonical(
        testing::MakePayloadValue(2, (*r)->Head()->head.payload_b3, roots, 2, "after-tamper"));
    EXPECT_EQ((*r)->Propose(p).error().code(), ErrorCode::kNotReady);
  }
  store.tamper_version = 0;
  auto clean = Registry::Open(&store, &clock, roots, {});
  ASSERT_TRUE(clean.ok());
  EXPECT_FALSE((*clean)->verification_failure().has_value());
  EXPECT_EQ((*clean)->Head()->head.version, 3u);
}

TEST_F(RegistryTest, CheckpointRecoveryVerifiesOnlyTheTail) {
  CommitWith(roots_, First(3), "a");
  CommitWith(roots_, First(3), "b");
  ASSERT_TRUE(*registry_->WriteCheckpoint());
  EXPECT_FALSE(*registry_->WriteCheckpoint());  // HEAD did not move
  model::Head at_checkpoint = registry_->Head()->head;
  Reopen();
  EXPECT_EQ(registry_->recovery_kind(), Registry::RecoveryKind::kClean);
  EXPECT_EQ(registry_->Head()->head, at_checkpoint);
  CommitWith(roots_, First(3), "c");
  model::Head after = registry_->Head()->head;
  Reopen();
  EXPECT_EQ(registry_->recovery_kind(), Registry::RecoveryKind::kCheckpoint);
  EXPECT_EQ(registry_->Head()->head, after);
  EXPECT_EQ(registry_->RecentEvents(10).size(), 3u);
  // The background verification walks the whole history and finds it sound.
  util::Result<bool> done = registry_->VerifyHistorySlice(1);
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(*done);
  while (!*done) {
    done = registry_->VerifyHistorySlice(1);
    ASSERT_TRUE(done.ok()) << done.error().ToString();
  }
  EXPECT_FALSE(registry_->verification_failure().has_value());
  CommitWith(roots_, First(3), "d");
}

TEST(RegistryRecoveryTest, TamperBehindTheCheckpointIsFoundInTheBackground) {
  TamperingStore store;
  util::ManualClock clock(kStart);
  auto signers = testing::MakeSigners("bg", 3);
  Governance roots = testing::MakeGovernance(signers, 2);
  {
    auto r = std::move(Registry::Open(&store, &clock, roots, {})).value();
    for (int v = 1; v <= 3; ++v) {
      auto head = r->Head();
      CanonicalPayload p = testing::MakeCanonical(testing::MakePayloadValue(
          head->head.version + 1, head->head.payload_b3, roots, 2, std::to_string(v)));
      std::string id = r->Propose(p)->proposal.proposal_id;
      for (int s = 0; s < 2; ++s) {
        ASSERT_TRUE(r->Approve(id, testing::Sign(signers[s], p.payload_b3, kStart)).ok());
      }
      ASSERT_TRUE(r->Commit(id).ok());
    }
    ASSERT_TRUE(*r->WriteCheckpoint());
  }
  store.tamper_version = 1;
  store.tamper_offset = 40;
  auto r = std::move(Registry::Open(&store, &clock, roots, {})).value();
  EXPECT_FALSE(r->verification_failure().has_value());  // start-up trusted the checkpoint
  EXPECT_EQ(r->Head()->head.version, 3u);
  util::Result<bool> done = r->VerifyHistorySlice(100);
  ASSERT_FALSE(done.ok());
  ASSERT_TRUE(r->verification_failure().has_value());
  EXPECT_NE(r->verification_failure()->find("version 1"), std::string::npos);
  CanonicalPayload p = testing::MakeCanonical(
      testing::MakePayloadValue(4, r->Head()->head.payload_b3, roots, 2, "x"));
  EXPECT_EQ(r->Propose(p).error().code(), ErrorCode::kNotReady);
  EXPECT_EQ(r->Head()->head.version, 3u);  // reads keep serving HEAD
}

TEST(RegistryRecoveryTest, CheckpointThatDoesNotMatchTheLogIsRefused) {
  storage::MemoryStore store;
  util::ManualClock clock(kStart);
  auto signers = testing::MakeSigners("cp", 1);
  Governance roots = testing::MakeGovernance(signers, 1);
  {
    auto r = std::move(Registry::Open(&store, &clock, roots, {})).value();
    CanonicalPayload p =
        testing::MakeCanonical(testing::MakePayloadValue(1, crypto::ZeroB3(), roots, 2, "cp"));
    std::string id = r->Propose(p)->proposal.proposal_id;
    ASSERT_TRUE(r->Approve(id, testing::Sign(signers[0], p.payload_b3, kStart)).ok());
    ASSERT_TRUE(r->Commit(id).ok());
    ASSERT_TRUE(*r->WriteCheckpoint());
  }
  storage::CheckpointRow cp = **store.LoadCheckpoint();
  cp.frontier[0][0] ^= 1;
  ASSERT_TRUE(store.WriteCheckpoint(cp).ok());
  auto r = std::move(Registry::Open(&store, &clock, roots, {})).value();
  ASSERT_TRUE(r->verification_failure().has_value());
  EXPECT_NE(r->verification_failure()->find("checkpoint at version 1"), std::string::npos);
}

TEST_F(RegistryTest, ListPendingNewestFirstWithPaging) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(ProposeOk(Next(roots_, "p" + std::to_string(i))));
  std::vector<ProposalView> page1 = registry_->ListPending(2, "");
  ASSERT_EQ(page1.size(), 2u);
  EXPECT_EQ(page1[0].proposal_id, ids[4]);
  EXPECT_EQ(page1[1].proposal_id, ids[3]);
  std::vector<ProposalView> page2 = registry_->ListPending(10, page1.back().proposal_id);
  ASSERT_EQ(page2.size(), 3u);
  EXPECT_EQ(page2[0].proposal_id, ids[2]);
  EXPECT_EQ(page2[2].proposal_id, ids[0]);
}

}  // namespace
}  // namespace registry::core

namespace registry::core {
namespace {

// A store whose InsertApproval waits (bounded) until `expected` calls are inside it at once,
// and records the highest concurrency seen.
class RendezvousStore : public testing::ForwardingStore {
 public:
  RendezvousStore(int expected, std::chrono::milliseconds patience)
      : ForwardingStore(&memory_), expected_(expected), patience_(patience) {}
  util::Status InsertApproval(std::string_view id, const model::Approval& a) override {
    {
      std::unique_lock lock(mu_);
      ++inside_;
      max_inside_ = std::max(max_inside_, inside_);
      cv_.notify_all();
      cv_.wait_for(lock, patience_, [&] { return inside_ >= expected_; });
    }
    util::Status s = inner_->InsertApproval(id, a);
    std::lock_guard lock(mu_);
    --inside_;
    return s;
  }
  int max_inside() {
    std::lock_guard lock(mu_);
    return max_inside_;
  }

 private:
  storage::MemoryStore memory_;
  const int expected_;
  const std::chrono::milliseconds patience_;
  std::mutex mu_;
  std::condition_variable cv_;
  int inside_ = 0;
  int max_inside_ = 0;
};

TEST(RegistryConcurrencyTest, ApprovalsReachTheStoreConcurrently) {
  RendezvousStore store(2, std::chrono::seconds(5));
  util::ManualClock clock(kStart);
  auto signers = testing::MakeSigners("cc", 3);
  Governance roots = testing::MakeGovernance(signers, 2);
  auto registry = std::move(Registry::Open(&store, &clock, roots, {})).value();
  CanonicalPayload p =
      testing::MakeCanonical(testing::MakePayloadValue(1, crypto::ZeroB3(), roots, 2, "cc"));
  std::string id = registry->Propose(p)->proposal.proposal_id;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      if (registry->Approve(id, testing::Sign(signers[i], p.payload_b3, kStart)).ok()) ++ok;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(store.max_inside(), 2);  // both writes were in flight together
  EXPECT_EQ(registry->GetProposal(id)->approvals.size(), 2u);
  EXPECT_TRUE(registry->Commit(id).ok());
}

TEST(RegistryConcurrencyTest, DuplicateWhileTheFirstIsBeingStoredIsRefused) {
  // The first insert waits (bounded) for a second one, which must never come.
  RendezvousStore store(2, std::chrono::milliseconds(300));
  util::ManualClock clock(kStart);
  auto signers = testing::MakeSigners("dd", 2);
  Governance roots = testing::MakeGovernance(signers, 1);
  auto registry = std::move(Registry::Open(&store, &clock, roots, {})).value();
  CanonicalPayload p =
      testing::MakeCanonical(testing::MakePayloadValue(1, crypto::ZeroB3(), roots, 2, "dd"));
  std::string id = registry->Propose(p)->proposal.proposal_id;
  std::vector<util::Result<ApproveOutcome>> results;
  std::mutex results_mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      auto r = registry->Approve(id, testing::Sign(signers[0], p.payload_b3, kStart));
      std::lock_guard lock(results_mu);
      results.push_back(std::move(r));
    });
  }
  for (std::thread& t : threads) t.join();
  int accepted = 0;
  int duplicates = 0;
  for (const auto& r : results) {
    if (r.ok()) ++accepted;
    if (!r.ok() && r.error().code() == ErrorCode::kDuplicateApproval) ++duplicates;
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(duplicates, 1);
  EXPECT_EQ(store.max_inside(), 1);
}

}  // namespace
}  // namespace registry::core
