// RFC 6962 proofs (include/registry/core/merkle_proof.h) against a reference written straight
// from the RFC's recursive definitions of MTH, PATH and SUBPROOF over all leaves, and their
// RFC 9162 verifiers, tampering included.
#include "registry/core/merkle_proof.h"

#include <gtest/gtest.h>

#include <random>
#include <span>
#include <string>
#include <vector>

#include "registry/core/merkle_log.h"
#include "registry/util/hex.h"

namespace registry::core {
namespace {

using util::ErrorCode;

// ---- Reference: RFC 6962 §2.1, letter by letter (O(n) per call; tests only) ----

std::uint64_t K(std::uint64_t n) {  // the largest power of two smaller than n
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash RefMth(std::span<const Hash> d) {
  if (d.empty()) return EmptyRoot();
  if (d.size() == 1) return d[0];  // the leaf hashes are already MTH({d(i)})
  const std::uint64_t k = K(d.size());
  return NodeHash(RefMth(d.subspan(0, k)), RefMth(d.subspan(k)));
}

std::vector<Hash> RefPath(std::uint64_t m, std::span<const Hash> d) {
  if (d.size() == 1) return {};
  const std::uint64_t k = K(d.size());
  std::vector<Hash> out;
  if (m < k) {
    out = RefPath(m, d.subspan(0, k));
    out.push_back(RefMth(d.subspan(k)));
  } else {
    out = RefPath(m - k, d.subspan(k));
    out.push_back(RefMth(d.subspan(0, k)));
  }
  return out;
}

std::vector<Hash> RefSubproof(std::uint64_t m, std::span<const Hash> d, bool b) {
  const std::uint64_t n = d.size();
  if (m == n) {
    if (b) return {};
    return {RefMth(d)};
  }
  const std::uint64_t k = K(n);
  std::vector<Hash> out;
  if (m <= k) {
    out = RefSubproof(m, d.subspan(0, k), b);
    out.push_back(RefMth(d.subspan(k)));
  } else {
    out = RefSubproof(m - k, d.subspan(k), false);
    out.push_back(RefMth(d.subspan(0, k)));
  }
  return out;
}

std::vector<Hash> RefProof(std::uint64_t m, std::span<const Hash> d) {
  return RefSubproof(m, d, true);
}

// ---- Helpers ----

std::vector<Hash> Leaves(std::size_t n, std::uint64_t salt = 0) {
  std::vector<Hash> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(LeafHash("leaf " + std::to_string(i) + "/" + std::to_string(salt)));
  }
  return out;
}

Hash Hex(std::string_view hex) {
  Hash h{};
  std::optional<std::vector<std::uint8_t>> bytes = util::HexDecode(hex);
  REGISTRY_CHECK(bytes.has_value() && bytes->size() == h.size(), "bad hex");
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

class MerkleProofTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kSmall = 64;
  void SetUp() override {
    leaves_ = Leaves(kSmall);
    log_.Append(leaves_);
  }
  std::vector<Hash> leaves_;
  MerkleLog log_;
};

// The RFC 6962 test tree of certificate-transparency (also what Go's tlog computes).
TEST(MerkleKnownAnswers, RootsOfTheRfc6962TestTree) {
  const std::vector<std::string> inputs = {
      "",
      std::string(1, '\x00'),
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const std::vector<std::string_view> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  std::vector<Hash> leaves;
  MerkleLog log;
  for (const std::string& in : inputs) {
    leaves.push_back(LeafHash(in));
    log.Append(std::span<const Hash>(&leaves.back(), 1));
  }
  EXPECT_EQ(RefMth({}), Hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_EQ(*log.Root(0), RefMth({}));
  for (std::size_t n = 1; n <= leaves.size(); ++n) {
    EXPECT_EQ(RefMth(std::span(leaves).first(n)), Hex(roots[n - 1])) << n;
    EXPECT_EQ(*log.Root(n), Hex(roots[n - 1])) << n;
    EXPECT_EQ(RootOfLeafHashes(std::span(leaves).first(n)), Hex(roots[n - 1])) << n;
  }
}

TEST_F(MerkleProofTest, InclusionProofsMatchTheRfcForEveryLeafOfEverySizeUpTo64) {
  for (std::uint64_t n = 1; n <= kSmall; ++n) {
    const std::span<const Hash> d = std::span(leaves_).first(n);
    const Hash root = RefMth(d);
    ASSERT_EQ(*log_.Root(n), root) << n;
    LeafHashSource source(d);
    for (std::uint64_t m = 0; m < n; ++m) {
      const std::vector<Hash> want = RefPath(m, d);
      util::Result<std::vector<Hash>> got = log_.InclusionProof(m, n);
      ASSERT_TRUE(got.ok()) << got.error().message();
      ASSERT_EQ(*got, want) << "leaf " << m << " of " << n;
      ASSERT_EQ(InclusionProof(m, n, source), want) << "leaf " << m << " of " << n;
      util::Status ok = VerifyInclusion(m, n, leaves_[m], want, root);
      ASSERT_TRUE(ok.ok()) << ok.error().message() << " leaf " << m << " of " << n;
    }
  }
}

TEST_F(MerkleProofTest, ConsistencyProofsMatchTheRfcForEveryPairOfSizesUpTo64) {
  for (std::uint64_t n = 1; n <= kSmall; ++n) {
    const std::span<const Hash> d = std::span(leaves_).first(n);
    LeafHashSource source(d);
    for (std::uint64_t m = 1; m <= n; ++m) {
      const std::vector<Hash> want = RefProof(m, d);
      util::Result<std::vector<Hash>> got = log_.ConsistencyProof(m, n);
      ASSERT_TRUE(got.ok()) << got.error().message();
      ASSERT_EQ(*got, want) << m << " -> " << n;
      ASSERT_EQ(ConsistencyProof(m, n, source), want) << m << " -> " << n;
      util::Status ok = VerifyConsistency(m, n, RefMth(d.first(m)), RefMth(d), want);
      ASSERT_TRUE(ok.ok()) << ok.error().message() << " " << m << " -> " << n;
    }
  }
}

TEST(MerkleProofLarge, RandomProofsMatchTheRfcInLargerTrees) {
  constexpr std::size_t kLeaves = 70000;  // crosses MerkleLog::kLoadBatch
  const std::vector<Hash> leaves = Leaves(kLeaves, 7);
  MerkleLog log;
  log.Append(leaves);
  ASSERT_EQ(log.size(), kLeaves);
  std::mt19937_64 rng(20261126);
  for (int i = 0; i < 24; ++i) {
    const std::uint64_t n = i == 0 ? kLeaves : 1 + rng() % kLeaves;
    const std::uint64_t m = rng() % n;
    const std::uint64_t old_size = 1 + rng() % n;
    const std::span<const Hash> d = std::span(leaves).first(n);
    const Hash root = RefMth(d);
    ASSERT_EQ(*log.Root(n), root) << n;
    const std::vector<Hash> path = RefPath(m, d);
    ASSERT_EQ(*log.InclusionProof(m, n), path) << m << " of " << n;
    EXPECT_TRUE(VerifyInclusion(m, n, leaves[m], path, root).ok());
    const std::vector<Hash> proof = RefProof(old_size, d);
    ASSERT_EQ(*log.ConsistencyProof(old_size, n), proof) << old_size << " -> " << n;
    EXPECT_TRUE(VerifyConsistency(old_size, n, RefMth(d.first(old_size)), root, proof).ok());
  }
}

TEST_F(MerkleProofTest, TamperedInclusionProofsFail) {
  for (std::uint64_t n : {1u, 2u, 3u, 7u, 8u, 13u, 64u}) {
    const std::span<const Hash> d = std::span(leaves_).first(n);
    const Hash root = RefMth(d);
    for (std::uint64_t m = 0; m < n; ++m) {
      const std::vector<Hash> proof = RefPath(m, d);
      for (std::size_t i = 0; i < proof.size(); ++i) {
        std::vector<Hash> bad = proof;
        bad[i][i % 32] ^= 0x01;
        util::Status s = VerifyInclusion(m, n, leaves_[m], bad, root);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.error().code(), ErrorCode::kInvalidSig);
      }
      // Another leaf, another index, another root.
      EXPECT_EQ(VerifyInclusion(m, n, leaves_[(m + 1) % kSmall], proof, root).error().code(),
                ErrorCode::kInvalidSig);
      Hash other_root = root;
      other_root[0] ^= 0x80;
      EXPECT_FALSE(VerifyInclusion(m, n, leaves_[m], proof, other_root).ok());
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion((m + 1) % n, n, leaves_[m], proof, root).ok());
      }
      // One hash too few or too many does not form a proof.
      if (!proof.empty()) {
        util::Status s =
            VerifyInclusion(m, n, leaves_[m], std::span(proof).first(proof.size() - 1), root);
        EXPECT_EQ(s.error().code(), ErrorCode::kMalformed) << m << " of " << n;
      }
      std::vector<Hash> longer = proof;
      longer.push_back(root);
      EXPECT_EQ(VerifyInclusion(m, n, leaves_[m], longer, root).error().code(),
                ErrorCode::kMalformed);
    }
    EXPECT_EQ(VerifyInclusion(n, n, leaves_[0], {}, root).error().code(), ErrorCode::kMalformed);
  }
}

TEST_F(MerkleProofTest, TamperedConsistencyProofsFail) {
  for (std::uint64_t n : {2u, 3u, 4u, 7u, 8u, 9u, 31u, 64u}) {
    const std::span<const Hash> d = std::span(leaves_).first(n);
    const Hash root_n = RefMth(d);
    for (std::uint64_t m = 1; m < n; ++m) {
      const Hash root_m = RefMth(d.first(m));
      const std::vector<Hash> proof = RefProof(m, d);
      ASSERT_FALSE(proof.empty());
      for (std::size_t i = 0; i < proof.size(); ++i) {
        std::vector<Hash> bad = proof;
        bad[i][31 - i % 32] ^= 0x04;
        util::Status s = VerifyConsistency(m, n, root_m, root_n, bad);
        ASSERT_FALSE(s.ok()) << m << " -> " << n << " hash " << i;
        EXPECT_EQ(s.error().code(), ErrorCode::kInvalidSig);
      }
      // A forked history: an old root that is not a prefix of the new tree.
      Hash forked = root_m;
      forked[5] ^= 0x10;
      EXPECT_EQ(VerifyConsistency(m, n, forked, root_n, proof).error().code(),
                ErrorCode::kInvalidSig);
      // The proof of other sizes.
      if (m + 1 < n) {
        EXPECT_FALSE(VerifyConsistency(m + 1, n, root_m, root_n, proof).ok());
      }
      // (A proof binds sizes only through the roots: the size that goes with root_n is the
      // signed checkpoint's business. With the root of another size it fails.)
      EXPECT_FALSE(VerifyConsistency(m, n - 1, root_m, RefMth(d.first(n - 1)), proof).ok());
      // Shape.
      EXPECT_EQ(VerifyConsistency(m, n, root_m, root_n, {}).error().code(), ErrorCode::kMalformed);
      std::vector<Hash> longer = proof;
      longer.push_back(root_n);
      EXPECT_FALSE(VerifyConsistency(m, n, root_m, root_n, longer).ok());
    }
  }
}

TEST_F(MerkleProofTest, DegenerateConsistencyCases) {
  const Hash r5 = RefMth(std::span(leaves_).first(5));
  const Hash r6 = RefMth(std::span(leaves_).first(6));
  EXPECT_TRUE(VerifyConsistency(5, 5, r5, r5, {}).ok());
  EXPECT_EQ(VerifyConsistency(5, 5, r5, r6, {}).error().code(), ErrorCode::kInvalidSig);
  EXPECT_EQ(VerifyConsistency(5, 5, r5, r5, std::vector<Hash>{r5}).error().code(),
            ErrorCode::kMalformed);
  EXPECT_TRUE(VerifyConsistency(0, 6, EmptyRoot(), r6, {}).ok());
  EXPECT_EQ(VerifyConsistency(6, 5, r6, r5, {}).error().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(log_.ConsistencyProof(5, 5)->empty());
}

TEST_F(MerkleProofTest, LogRefusesSizesItDoesNotHold) {
  EXPECT_EQ(log_.InclusionProof(0, kSmall + 1).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(log_.InclusionProof(5, 5).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(log_.ConsistencyProof(0, 5).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(log_.ConsistencyProof(6, 5).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(log_.ConsistencyProof(1, kSmall + 1).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(log_.Root(kSmall + 1).error().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(log_.InclusionProof(kSmall - 1, kSmall).ok());
}

}  // namespace
}  // namespace registry::core
