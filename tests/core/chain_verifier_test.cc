#include "registry/core/chain_verifier.h"

#include <gtest/gtest.h>

#include "registry/core/registry.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/storage/memory_store.h"
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

}  // namespace
}  // namespace registry::core
