// MerkleLog (include/registry/core/merkle_log.h): loading from the Store, refusing a store
// that disagrees with itself, and readers running beside the one appender.
#include "registry/core/merkle_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "registry/core/merkle_proof.h"
#include "registry/storage/fault_injection_store.h"
#include "registry/storage/memory_store.h"
#include "testing/forwarding_store.h"

namespace registry::core {
namespace {

using ::testing::HasSubstr;
using util::ErrorCode;

// Fills `store` with `n` commits whose leaf hashes and roots are those of an RFC 6962 log.
std::vector<Hash> FillStore(storage::Store& store, std::uint64_t n) {
  std::vector<Hash> leaves;
  MerkleFrontier frontier;
  for (std::uint64_t v = 1; v <= n; ++v) {
    storage::CommitRow row;
    row.version = v;
    row.payload_b3 = "b3:" + std::string(64, 'a');
    row.proposal_id = "p_" + std::string(24, '0');
    row.committed_at = "2026-11-26T12:00:00.000Z";
    row.record = "{\"version\":" + std::to_string(v) + "}";
    row.leaf_hash = LeafHash(row.record);
    frontier.AppendLeafHash(row.leaf_hash);
    row.root = frontier.Root();
    leaves.push_back(row.leaf_hash);
    REGISTRY_CHECK(store.AppendCommit(row).ok(), "AppendCommit");
  }
  return leaves;
}

TEST(MerkleLogTest, AppendingOneLeafAtATimeKeepsEveryRoot) {
  MerkleLog log;
  MerkleFrontier frontier;
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(*log.Root(0), EmptyRoot());
  for (int i = 0; i < 300; ++i) {
    const Hash leaf = LeafHash("leaf " + std::to_string(i));
    log.Append(std::span<const Hash>(&leaf, 1));
    frontier.AppendLeaf("leaf " + std::to_string(i));
    ASSERT_EQ(log.size(), frontier.size());
    ASSERT_EQ(*log.Root(log.size()), frontier.Root()) << i;
  }
  // Every earlier size is still answerable.
  MerkleFrontier again;
  for (int i = 0; i < 300; ++i) {
    again.AppendLeaf("leaf " + std::to_string(i));
    ASSERT_EQ(*log.Root(again.size()), again.Root());
  }
}

TEST(MerkleLogTest, CatchUpLoadsFromTheStoreInBatches) {
  storage::MemoryStore store;
  const std::uint64_t n = MerkleLog::kLoadBatch + 1234;
  const std::vector<Hash> leaves = FillStore(store, n);
  storage::FaultInjectingStore counting(&store);
  MerkleLog log;
  ASSERT_TRUE(log.CatchUp(counting, 10).ok());
  EXPECT_EQ(log.size(), 10u);
  EXPECT_EQ(counting.counts(storage::StoreOp::kReadLeafHashes).calls, 1u);
  ASSERT_TRUE(log.CatchUp(counting, n).ok());
  EXPECT_EQ(log.size(), n);
  EXPECT_EQ(counting.counts(storage::StoreOp::kReadLeafHashes).calls, 3u);  // 2 batches
  EXPECT_EQ(*log.Root(n), (*store.ReadCommitMeta(n))->root);
  // Nothing to do: no read.
  ASSERT_TRUE(log.CatchUp(counting, n - 5).ok());
  EXPECT_EQ(counting.counts(storage::StoreOp::kReadLeafHashes).calls, 3u);
  for (std::uint64_t v : {std::uint64_t{1}, std::uint64_t{777}, n}) {
    util::Result<std::vector<Hash>> proof = log.InclusionProof(v - 1, n);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(VerifyInclusion(v - 1, n, leaves[v - 1], *proof, *log.Root(n)).ok());
  }
}

TEST(MerkleLogTest, CatchUpBeyondTheStoreFailsAndChangesNothing) {
  storage::MemoryStore store;
  FillStore(store, 20);
  MerkleLog log;
  ASSERT_TRUE(log.CatchUp(store, 5).ok());
  util::Status s = log.CatchUp(store, 21);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(s.error().message(), HasSubstr("no version 21"));
  EXPECT_EQ(log.size(), 5u);
  ASSERT_TRUE(log.CatchUp(store, 20).ok());
  EXPECT_EQ(*log.Root(20), (*store.ReadCommitMeta(20))->root);
}

TEST(MerkleLogTest, StoreFaultsLeaveTheLogAsItWas) {
  storage::MemoryStore store;
  FillStore(store, 50);
  storage::FaultInjectingStore faulty(&store);
  MerkleLog log;
  ASSERT_TRUE(log.CatchUp(faulty, 7).ok());
  faulty.FailNext(storage::StoreOps::Of(storage::StoreOp::kReadLeafHashes), 1, "disk on fire");
  util::Status s = log.CatchUp(faulty, 50);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(), HasSubstr("disk on fire"));
  EXPECT_EQ(log.size(), 7u);
  faulty.FailNext(storage::StoreOps::Of(storage::StoreOp::kReadCommitMeta), 1, "meta fault");
  EXPECT_FALSE(log.CatchUp(faulty, 50).ok());
  EXPECT_EQ(log.size(), 7u);
  ASSERT_TRUE(log.CatchUp(faulty, 50).ok());
  EXPECT_EQ(*log.Root(50), (*store.ReadCommitMeta(50))->root);
}

// A store whose leaf hashes do not add up to its roots (one leaf hash rewritten).
class TamperedLeafStore : public testing::ForwardingStore {
 public:
  TamperedLeafStore() : ForwardingStore(&memory_) {}
  storage::MemoryStore memory_;
  std::uint64_t tampered_version = 0;
  util::Result<std::vector<storage::LeafHash>> ReadLeafHashes(std::uint64_t first,
                                                              std::size_t count) override {
    util::Result<std::vector<storage::LeafHash>> r = inner_->ReadLeafHashes(first, count);
    if (r.ok() && tampered_version >= first && tampered_version < first + r->size()) {
      (*r)[tampered_version - first][0] ^= 0x01;
    }
    return r;
  }
};

TEST(MerkleLogTest, ALeafHashThatDisagreesWithTheStoredRootIsNeverServed) {
  TamperedLeafStore store;
  FillStore(store.memory_, 40);
  store.tampered_version = 30;
  MerkleLog log;
  ASSERT_TRUE(log.CatchUp(store, 29).ok());
  util::Status s = log.CatchUp(store, 40);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(s.error().message(), HasSubstr("does not match the stored root of version 40"));
  EXPECT_EQ(log.size(), 29u);
  EXPECT_EQ(log.InclusionProof(29, 30).error().code(), ErrorCode::kMalformed);
  // Healed: the same log loads the right leaves.
  store.tampered_version = 0;
  ASSERT_TRUE(log.CatchUp(store, 40).ok());
  EXPECT_EQ(*log.Root(40), (*store.ReadCommitMeta(40))->root);
  EXPECT_EQ(*log.Root(29), (*store.ReadCommitMeta(29))->root);
}

// Readers verify proofs against independently computed roots while one thread appends.
TEST(MerkleLogTest, ReadersRunBesideTheAppender) {
  constexpr std::size_t kLeaves = 20000;
  std::vector<Hash> leaves;
  std::vector<Hash> roots(1, EmptyRoot());
  MerkleFrontier frontier;
  for (std::size_t i = 0; i < kLeaves; ++i) {
    leaves.push_back(LeafHash("concurrent " + std::to_string(i)));
    frontier.AppendLeafHash(leaves.back());
    roots.push_back(frontier.Root());
  }
  MerkleLog log;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> checked{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::uint64_t x = 88172645463325252ull + static_cast<std::uint64_t>(t);
      while (!done.load(std::memory_order_acquire) || checked.load() < 100) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const std::uint64_t n = log.size();
        if (n == 0) continue;
        const std::uint64_t m = x % n;
        const std::uint64_t old_size = 1 + (x >> 20) % n;
        util::Result<std::vector<Hash>> incl = log.InclusionProof(m, n);
        util::Result<std::vector<Hash>> cons = log.ConsistencyProof(old_size, n);
        if (!incl.ok() || !cons.ok() || !VerifyInclusion(m, n, leaves[m], *incl, roots[n]).ok() ||
            !VerifyConsistency(old_size, n, roots[old_size], roots[n], *cons).ok() ||
            *log.Root(n) != roots[n]) {
          failures.fetch_add(1);
        }
        checked.fetch_add(1);
      }
    });
  }
  for (std::size_t i = 0; i < kLeaves; i += 7) {
    log.Append(std::span(leaves).subspan(i, std::min<std::size_t>(7, kLeaves - i)));
  }
  done.store(true, std::memory_order_release);
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(checked.load(), 100u);
  EXPECT_EQ(*log.Root(kLeaves), roots[kLeaves]);
}

}  // namespace
}  // namespace registry::core
