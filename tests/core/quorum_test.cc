#include "registry/core/quorum.h"

#include <gtest/gtest.h>

#include "testing/fixtures.h"

namespace registry::core {
namespace {

constexpr util::UnixMillis kAt = 1'795'000'000'000;
const std::string kB3 = "b3:" + std::string(64, '1');

std::vector<model::Approval> By(const std::vector<testing::TestSigner>& signers) {
  std::vector<model::Approval> out;
  for (const auto& s : signers) out.push_back(testing::Sign(s, kB3, kAt));
  return out;
}

TEST(QuorumTest, SameGovernanceCountsOnlyCurrentSigners) {
  auto set = testing::MakeSigners("q", 4);
  auto g = testing::MakeGovernance(set, 3);
  auto outsider = testing::MakeSigner("other", 0);
  QuorumTally t = Tally(g, g, By({set[0], set[1], outsider}));
  EXPECT_FALSE(t.rotation);
  EXPECT_EQ(t.current_have, 2u);
  EXPECT_EQ(t.current_need, 3u);
  EXPECT_FALSE(t.met());
  EXPECT_EQ(t.counted.size(), 2u);
  EXPECT_EQ(CheckQuorum(t).error().code(), util::ErrorCode::kQuorumFailed);
  t = Tally(g, g, By({set[3], set[0], set[1]}));
  EXPECT_TRUE(t.met());
  EXPECT_TRUE(CheckQuorum(t).ok());
  EXPECT_EQ(t.counted[0].signer_id, set[0].id);  // sorted by signer_id
}

TEST(QuorumTest, DuplicateSignerCountsOnce) {
  auto set = testing::MakeSigners("q", 3);
  auto g = testing::MakeGovernance(set, 2);
  QuorumTally t = Tally(g, g, By({set[0], set[0]}));
  EXPECT_EQ(t.current_have, 1u);
  EXPECT_FALSE(t.met());
}

TEST(QuorumTest, ReorderedSignersAreNotARotation) {
  auto set = testing::MakeSigners("q", 3);
  auto g = testing::MakeGovernance(set, 2);
  auto reordered = g;
  std::swap(reordered.signers[0], reordered.signers[2]);
  EXPECT_FALSE(Tally(g, reordered, {}).rotation);
}

TEST(QuorumTest, RotationNeedsBothSets) {
  auto old_set = testing::MakeSigners("old", 3);
  auto new_set = testing::MakeSigners("new", 3);
  auto g_old = testing::MakeGovernance(old_set, 2);
  // The new set keeps old[0] and adds two new keys; m = 2.
  auto g_new = testing::MakeGovernance({old_set[0], new_set[0], new_set[1]}, 2);
  QuorumTally t = Tally(g_old, g_new, By({old_set[0], old_set[1]}));
  EXPECT_TRUE(t.rotation);
  EXPECT_EQ(t.current_have, 2u);
  EXPECT_EQ(t.next_have, 1u);  // old[0] is in both
  EXPECT_FALSE(t.met());
  t = Tally(g_old, g_new, By({old_set[0], old_set[1], new_set[1]}));
  EXPECT_TRUE(t.met());
  EXPECT_EQ(t.counted.size(), 3u);
  EXPECT_TRUE(MayApprove(g_old, g_new, new_set[0].id));
  EXPECT_FALSE(MayApprove(g_old, g_old, new_set[0].id));
  EXPECT_FALSE(MayApprove(g_old, g_new, new_set[2].id));
}

}  // namespace
}  // namespace registry::core
