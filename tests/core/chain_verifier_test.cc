#include "registry/core/chain_verifier.h"

#include <gtest/gtest.h>

#include "registry/core/registry.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/storage/memory_store.h"
#include "registry/util/thread_pool.h"
#include "testing/fixtures.h"

namespace registry::core {
namespace {

constexpr util::UnixMillis kAt = 1'795'000'000'000;

class ChainVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signers_ = testing::MakeSigners("cv", 4);
    roots_ = testing::MakeGovernance(signers_, 2);
    auto r = Registry::Open(&store_, &clock_, roots_, {});
    ASSERT_TRUE(r.ok());
    registry_ = std::move(r).value();
    // v1, v2 plain; v3 rotates to signers 1..3 with m = 3.
    Commit(roots_, {0, 1});
    Commit(roots_, {2, 3});
    rotated_ = testing::MakeGovernance({signers_[1], signers_[2], signers_[3]}, 3);
    Commit(rotated_, {0, 1, 2, 3});
    for (std::uint64_t v = 1; v <= 3; ++v) records_.push_back(**store_.ReadRecord(v));
  }

  void Commit(const model::Governance& next, const std::vector<int>& by) {
    auto head = registry_->Head();
    model::CanonicalPayload p = testing::MakeCanonical(
        testing::MakePayloadValue(head->head.version + 1, head->head.payload_b3, next, 2,
                                  "v" + std::to_string(head->head.version)));
    std::string id = registry_->Propose(p)->proposal.proposal_id;
    for (int i : by) {
      ASSERT_TRUE(registry_->Approve(id, testing::Sign(signers_[i], p.payload_b3, kAt)).ok());
    }
    ASSERT_TRUE(registry_->Commit(id).ok());
  }

  // Runs the verifier over `records`; returns the first error message, or "".
  std::string VerifyAll(const std::vector<std::string>& records) {
    ChainVerifier v(roots_);
    for (const std::string& r : records) {
      util::Status s = v.Next(r);
      if (!s.ok()) return s.error().message();
    }
    return "";
  }

  storage::MemoryStore store_;
  util::ManualClock clock_{kAt};
  std::vector<testing::TestSigner> signers_;
  model::Governance roots_;
  model::Governance rotated_;
  std::unique_ptr<Registry> registry_;
  std::vector<std::string> records_;
};

TEST_F(ChainVerifierTest, AcceptsTheRegistrysLogAndTracksHead) {
  ChainVerifier v(roots_);
  for (const std::string& r : records_) ASSERT_TRUE(v.Next(r).ok());
  EXPECT_EQ(v.version(), 3u);
  EXPECT_EQ(v.payload_b3(), registry_->Head()->head.payload_b3);
  EXPECT_EQ(crypto::Base64Encode(v.frontier().Root()), registry_->Head()->head.root);
  EXPECT_EQ(v.governance(), rotated_);
}

TEST_F(ChainVerifierTest, AnyFlippedByteFailsAtThatVersionOrChangesTheRoot) {
  // Signatures cover the payload; committed_at and signed_at are covered only by the Merkle
  // root (a signed checkpoint). Every flip must be caught by one or the other.
  std::size_t caught_by_rules = 0;
  for (std::size_t i = 0; i < records_[1].size(); ++i) {
    std::vector<std::string> tampered = records_;
    tampered[1][i] ^= 0x01;
    ChainVerifier v(roots_);
    util::Status s = util::Status::Ok();
    for (const std::string& r : tampered) {
      s = v.Next(r);
      if (!s.ok()) break;
    }
    if (!s.ok()) {
      ASSERT_NE(s.error().message().find("version 2:"), std::string::npos)
          << "byte " << i << ": " << s.error().message();
      ++caught_by_rules;
    } else {
      ASSERT_NE(crypto::Base64Encode(v.frontier().Root()), registry_->Head()->head.root)
          << "byte " << i;
    }
  }
  EXPECT_GT(caught_by_rules, records_[1].size() * 9 / 10);
}

TEST_F(ChainVerifierTest, ReorderedOrMissingHistoryFails) {
  EXPECT_NE(VerifyAll({records_[1], records_[0]}).find("version 1:"), std::string::npos);
  EXPECT_NE(VerifyAll({records_[0], records_[2]}).find("version 2:"), std::string::npos);
}

TEST_F(ChainVerifierTest, RecordWithoutQuorumFails) {
  // Rebuild v1 with a single approval: signatures fine, quorum not.
  auto head_payload =
      testing::MakeCanonical(testing::MakePayloadValue(1, crypto::ZeroB3(), roots_, 2, "solo"));
  std::string record = model::EncodeCommitRecordCanonical(
      1, head_payload.canonical, head_payload.payload_b3,
      {testing::Sign(signers_[0], head_payload.payload_b3, kAt)}, "2026-11-26T00:00:00.000Z");
  std::string error = VerifyAll({record});
  EXPECT_NE(error.find("quorum not met"), std::string::npos) << error;
}

TEST_F(ChainVerifierTest, UnknownSignerInRecordFails) {
  auto p = testing::MakeCanonical(testing::MakePayloadValue(1, crypto::ZeroB3(), roots_, 2, "u"));
  auto stranger = testing::MakeSigner("zz", 9);
  std::vector<model::Approval> approvals = {testing::Sign(signers_[0], p.payload_b3, kAt),
                                            testing::Sign(signers_[1], p.payload_b3, kAt),
                                            testing::Sign(stranger, p.payload_b3, kAt)};
  std::sort(approvals.begin(), approvals.end(),
            [](const auto& a, const auto& b) { return a.signer_id < b.signer_id; });
  std::string record = model::EncodeCommitRecordCanonical(1, p.canonical, p.payload_b3, approvals,
                                                          "2026-11-26T00:00:00.000Z");
  std::string error = VerifyAll({record});
  EXPECT_NE(error.find("org:zz#k9"), std::string::npos) << error;
}

// NextBatch over `records` on a pool of `threads`; the first error message, or "".
std::string VerifyBatch(const model::Governance& roots, const std::vector<std::string>& records,
                        std::size_t threads) {
  util::ThreadPool pool(threads);
  std::vector<std::string_view> views(records.begin(), records.end());
  ChainVerifier v(roots);
  util::Status s = v.NextBatch(views, pool);
  return s.ok() ? "" : s.error().message();
}

TEST_F(ChainVerifierTest, NextBatchReachesTheSameStateAsNext) {
  util::ThreadPool pool(3);
  std::vector<std::string_view> views(records_.begin(), records_.end());
  ChainVerifier batch(roots_);
  std::vector<Hash> leaves;
  ASSERT_TRUE(batch.NextBatch(views, pool, &leaves).ok());
  EXPECT_EQ(batch.version(), 3u);
  EXPECT_EQ(batch.payload_b3(), registry_->Head()->head.payload_b3);
  EXPECT_EQ(std::optional<std::string>(batch.committed_at()), registry_->Head()->head.committed_at);
  EXPECT_EQ(crypto::Base64Encode(batch.frontier().Root()), registry_->Head()->head.root);
  EXPECT_EQ(batch.governance(), rotated_);
  ASSERT_EQ(leaves.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(leaves[i], LeafHash(records_[i])) << i;
  // Batches continue where the previous one ended.
  ChainVerifier split(roots_);
  ASSERT_TRUE(split.NextBatch(std::span(views).first(1), pool).ok());
  ASSERT_TRUE(split.NextBatch(std::span(views).subspan(1), pool).ok());
  EXPECT_EQ(split.frontier().Root(), batch.frontier().Root());
  EXPECT_EQ(split.governance(), rotated_);
}

TEST_F(ChainVerifierTest, NextBatchFailsExactlyAsNextDoes) {
  // Every one-byte flip of v2 and of v3 (the rotation): the same verdict and message, with
  // one worker and with several.
  for (std::size_t which : {1u, 2u}) {
    for (std::size_t i = 0; i < records_[which].size(); ++i) {
      std::vector<std::string> tampered = records_;
      tampered[which][i] ^= 0x01;
      const std::string sequential = VerifyAll(tampered);
      ASSERT_EQ(VerifyBatch(roots_, tampered, 1), sequential) << which << " byte " << i;
      ASSERT_EQ(VerifyBatch(roots_, tampered, 3), sequential) << which << " byte " << i;
    }
  }
}

TEST_F(ChainVerifierTest, NextBatchReportsTheEarliestFailingVersion) {
  // v2 and v3 both broken (v3's signatures are checked on another thread first): v2 wins.
  std::vector<std::string> tampered = records_;
  const std::size_t sig2 = tampered[1].find("\"sig\":\"") + 7;
  const std::size_t sig3 = tampered[2].find("\"sig\":\"") + 7;
  tampered[1][sig2] = tampered[1][sig2] == 'A' ? 'B' : 'A';
  tampered[2][sig3] = tampered[2][sig3] == 'A' ? 'B' : 'A';
  const std::string error = VerifyBatch(roots_, tampered, 3);
  EXPECT_NE(error.find("version 2: signature of"), std::string::npos) << error;
  // Reordered history: version 1 is the first wrong one.
  const std::string reordered = VerifyBatch(roots_, {records_[1], records_[0], records_[2]}, 3);
  EXPECT_NE(reordered.find("version 1: record carries version 2"), std::string::npos) << reordered;
  const std::string gap = VerifyBatch(roots_, {records_[0], records_[2]}, 3);
  EXPECT_NE(gap.find("version 2: record carries version 3"), std::string::npos) << gap;
}

TEST_F(ChainVerifierTest, PreparedSignaturesAreReusedOnlyForTheKeyInForce) {
  // Prepared against the wrong governance (v3 guessed with the rotated one in force): signer
  // 0 is in neither, so NextPrepared checks it itself and the log still verifies.
  ChainVerifier v(roots_);
  ASSERT_TRUE(v.Next(records_[0]).ok());
  ASSERT_TRUE(v.Next(records_[1]).ok());
  ChainVerifier::Prepared guessed = ChainVerifier::Prepare(records_[2], {}, &rotated_);
  ASSERT_FALSE(guessed.signatures.empty());
  EXPECT_FALSE(guessed.signatures[0].checked);
  ASSERT_TRUE(v.NextPrepared(guessed).ok());
  EXPECT_EQ(v.version(), 3u);

  // A result obtained with another key than the one in force is never trusted: v2 with a
  // broken first signature, "pre-verified" as valid under a stranger's key for that signer.
  std::vector<std::string> tampered = records_;
  const std::size_t sig = tampered[1].find("\"sig\":\"") + 7;
  tampered[1][sig] = tampered[1][sig] == 'A' ? 'B' : 'A';
  ChainVerifier w(roots_);
  ASSERT_TRUE(w.Next(records_[0]).ok());
  ChainVerifier::Prepared forged = ChainVerifier::Prepare(tampered[1], {}, &roots_);
  ASSERT_FALSE(forged.signatures.empty());
  ASSERT_TRUE(forged.signatures[0].checked);
  EXPECT_FALSE(forged.signatures[0].valid);
  forged.signatures[0].key = testing::MakeSigner("zz", 1).keys.public_key;
  forged.signatures[0].valid = true;
  util::Status s = w.NextPrepared(forged);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("version 2: signature of " + signers_[2].id),
            std::string::npos)
      << s.error().message();
}

}  // namespace
}  // namespace registry::core
