// Retention (SPEC §4.3) in the governance core: what Registry::ApplyRetention prunes, what it
// never prunes, and how start-up and the background verification resume from the prune
// anchor once the records before it are gone.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "registry/core/registry.h"
#include "registry/storage/memory_store.h"
#include "registry/util/time.h"
#include "testing/fixtures.h"
#include "testing/forwarding_store.h"

namespace registry::core {
namespace {

using model::CanonicalPayload;
using model::Governance;
using testing::TestSigner;
using util::ErrorCode;

constexpr util::UnixMillis kStart = 1'795'000'000'000;  // 2026-11-18
constexpr std::chrono::milliseconds kHour = std::chrono::hours(1);

// A memory store that can hide its storage checkpoint, as after a crash before the first
// checkpoint write, so that start-up has only the prune anchor to resume from.
class AnchorOnlyStore : public testing::ForwardingStore {
 public:
  AnchorOnlyStore() : ForwardingStore(&memory_) {}
  util::Result<std::optional<storage::CheckpointRow>> LoadCheckpoint() override {
    if (hide_checkpoint) return std::optional<storage::CheckpointRow>();
    return inner_->LoadCheckpoint();
  }
  bool hide_checkpoint = false;

 private:
  storage::MemoryStore memory_;
};

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alpha_ = testing::MakeSigners("alpha", 3);
    beta_ = testing::MakeSigners("beta", 2);
    roots_ = testing::MakeGovernance(alpha_, 2);
    rotated_ = testing::MakeGovernance(beta_, 2);
    Reopen();
  }

  void Reopen() {
    registry_.reset();
    util::Result<std::unique_ptr<Registry>> r = Registry::Open(&store_, &clock_, roots_, {});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    registry_ = std::move(r).value();
  }

  // Commits the next version carrying `next`, approved by `by`; one hour later each time.
  void CommitNext(const Governance& next, const std::vector<TestSigner>& by) {
    auto head = registry_->Head();
    CanonicalPayload p = testing::MakeCanonical(
        testing::MakePayloadValue(head->head.version + 1, head->head.payload_b3, next, 2,
                                  "v" + std::to_string(head->head.version + 1)));
    util::Result<ProposeOutcome> proposed = registry_->Propose(p);
    ASSERT_TRUE(proposed.ok()) << proposed.error().ToString();
    for (const TestSigner& s : by) {
      util::Result<ApproveOutcome> a = registry_->Approve(
          proposed->proposal.proposal_id, testing::Sign(s, p.payload_b3, clock_.NowMillis()));
      ASSERT_TRUE(a.ok()) << a.error().ToString();
    }
    util::Result<CommitOutcome> c = registry_->Commit(proposed->proposal.proposal_id);
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    clock_.Advance(kHour);
  }

  // Versions 1..2 under the roots, 3 rotates to beta (both quorums), 4..n under beta.
  void CommitHistory(std::uint64_t n) {
    for (std::uint64_t v = 1; v <= n; ++v) {
      if (v <= 2) {
        CommitNext(roots_, alpha_);
      } else if (v == 3) {
        std::vector<TestSigner> both = alpha_;
        both.insert(both.end(), beta_.begin(), beta_.end());
        CommitNext(rotated_, both);
      } else {
        CommitNext(rotated_, beta_);
      }
    }
  }

  void VerifyWholeHistory() {
    util::Result<bool> done(false);
    do {
      done = registry_->VerifyHistorySlice(2);
      ASSERT_TRUE(done.ok()) << done.error().ToString();
    } while (!*done);
  }

  static RetentionPolicy ByCount(std::uint64_t keep_min, std::uint64_t keep_versions) {
    RetentionPolicy p;
    p.kind = RetentionPolicy::Kind::kByCount;
    p.keep_min = keep_min;
    p.keep_versions = keep_versions;
    return p;
  }

  AnchorOnlyStore store_;
  util::ManualClock clock_{kStart};
  std::vector<TestSigner> alpha_;
  std::vector<TestSigner> beta_;
  Governance roots_;
  Governance rotated_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RetentionTest, NothingIsPrunedWithoutPolicyVerificationOrCheckpoint) {
  CommitHistory(8);
  RetentionPolicy none;
  EXPECT_EQ(*registry_->ApplyRetention(none), 0u);
  // Before the background verification has seen the whole history, the governance in force
  // at an anchor is not known exactly: nothing is pruned.
  EXPECT_FALSE(registry_->history_verified());
  EXPECT_EQ(*registry_->ApplyRetention(ByCount(2, 3)), 0u);
  VerifyWholeHistory();
  EXPECT_TRUE(registry_->history_verified());
  // No storage checkpoint covers anything yet.
  EXPECT_EQ(*registry_->ApplyRetention(ByCount(2, 3)), 0u);
  ASSERT_TRUE(*registry_->WriteCheckpoint());
  // keep_min and keep_versions bound it from HEAD.
  EXPECT_EQ(*registry_->ApplyRetention(ByCount(8, 8)), 0u);
  EXPECT_EQ(*registry_->ApplyRetention(ByCount(7, 2)), 1u);
  EXPECT_EQ(registry_->pruned_through(), 1u);
  EXPECT_EQ(store_.ReadRecord(1).error().code(), ErrorCode::kPruned);
  EXPECT_TRUE(store_.ReadRecord(2)->has_value());
}

TEST_F(RetentionTest, ByCountPrunesOnlyWhatTheCheckpointCovers) {
  CommitHistory(6);
  VerifyWholeHistory();
  ASSERT_TRUE(*registry_->WriteCheckpoint());               // covers 1..6
  for (int i = 0; i < 4; ++i) CommitNext(rotated_, beta_);  // 7..10, not covered
  // HEAD 10, keep 2: the policy allows 1..8, the checkpoint only 1..6.
  EXPECT_EQ(*registry_->ApplyRetention(ByCount(2, 2)), 6u);
  for (std::uint64_t v = 1; v <= 6; ++v) {
    EXPECT_EQ(store_.ReadRecord(v).error().code(), ErrorCode::kPruned) << v;
  }
  EXPECT_TRUE(store_.ReadRecord(7)->has_value());
  std::optional<storage::CheckpointRow> anchor = *store_.LoadPruneAnchor();
  ASSERT_TRUE(anchor.has_value());
  EXPECT_EQ(anchor->version, 6u);
  EXPECT_EQ(anchor->payload_b3, (*store_.ReadCommitMeta(6))->payload_b3);
  // Nothing more until the next checkpoint; then it moves on.
  EXPECT_EQ(*registry_->ApplyRetention(ByCount(2, 2)), 6u);
  ASSERT_TRUE(*registry_->WriteCheckpoint());
  EXPECT_EQ(*registry_->ApplyRetention(ByCount(2, 2)), 8u);
  EXPECT_TRUE(store_.ReadRecord(9)->has_value());
}

TEST_F(RetentionTest, ByAgePrunesTheOldPrefixOnly) {
  CommitHistory(6);  // committed at kStart, +1h, ..., +5h; the clock is now at +6h
  VerifyWholeHistory();
  ASSERT_TRUE(*registry_->WriteCheckpoint());
  RetentionPolicy p;
  p.kind = RetentionPolicy::Kind::kByAge;
  p.keep_min = 1;
  p.max_age = std::chrono::minutes(270);  // 4.5 h: versions 1 and 2 (6 h and 5 h old)
  EXPECT_EQ(*registry_->ApplyRetention(p), 2u);
  EXPECT_EQ(store_.ReadRecord(2).error().code(), ErrorCode::kPruned);
  EXPECT_TRUE(store_.ReadRecord(3)->has_value());
  // Time passes: everything but the last keep_min versions may go.
  clock_.Advance(std::chrono::hours(48));
  p.keep_min = 2;
  EXPECT_EQ(*registry_->ApplyRetention(p), 4u);
}

TEST_F(RetentionTest, StartUpAndBackgroundVerificationResumeFromTheAnchor) {
  CommitHistory(8);  // the rotation (version 3) is before the anchor
  VerifyWholeHistory();
  ASSERT_TRUE(*registry_->WriteCheckpoint());
  ASSERT_EQ(*registry_->ApplyRetention(ByCount(2, 3)), 5u);
  const model::Head head = registry_->Head()->head;

  // With its checkpoint the registry starts clean; the background pass starts at the anchor.
  Reopen();
  EXPECT_EQ(registry_->Head()->head, head);
  EXPECT_EQ(registry_->pruned_through(), 5u);
  VerifyWholeHistory();
  EXPECT_FALSE(registry_->verification_failure().has_value());

  // Without it, start-up verifies 6..8 from the anchor, under the rotated governance.
  store_.hide_checkpoint = true;
  Reopen();
  EXPECT_FALSE(registry_->verification_failure().has_value());
  EXPECT_EQ(registry_->Head()->head, head);
  EXPECT_EQ(*registry_->Head()->governance, rotated_);
  VerifyWholeHistory();
  CommitNext(rotated_, beta_);  // the write plane is up
  EXPECT_EQ(registry_->Head()->head.version, 9u);
}

TEST_F(RetentionTest, AForgedAnchorTakesTheWritePlaneDown) {
  CommitHistory(6);
  VerifyWholeHistory();
  ASSERT_TRUE(*registry_->WriteCheckpoint());
  ASSERT_EQ(*registry_->ApplyRetention(ByCount(1, 2)), 4u);
  storage::CheckpointRow anchor = **store_.LoadPruneAnchor();
  anchor.frontier[0][0] ^= 1;
  ASSERT_TRUE(store_.PruneThrough(anchor).ok());  // same version: replaces the anchor
  store_.hide_checkpoint = true;
  Reopen();
  ASSERT_TRUE(registry_->verification_failure().has_value());
  EXPECT_NE(registry_->verification_failure()->find("prune anchor"), std::string::npos);
  EXPECT_NE(registry_->verification_failure()->find("version 4"), std::string::npos);
  auto head = registry_->Head();
  CanonicalPayload p = testing::MakeCanonical(testing::MakePayloadValue(
      head->head.version + 1, head->head.payload_b3, rotated_, 2, "refused"));
  EXPECT_EQ(registry_->Propose(p).error().code(), ErrorCode::kNotReady);
}

}  // namespace
}  // namespace registry::core
