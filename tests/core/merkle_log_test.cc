// MerkleLog (include/registry/core/merkle_log.h): loading from the Store (leaf hashes and the
// stored interior nodes), refusing a store that disagrees with itself, readers running beside
// the one appender; and the registry's verification of the stored interior nodes.
#include "registry/core/merkle_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <bit>
#include <thread>
#include <vector>

#include "registry/core/merkle_proof.h"
#include "registry/core/registry.h"
#include "registry/crypto/base64.h"
#include "registry/storage/fault_injection_store.h"
#include "registry/storage/memory_store.h"
#include "registry/storage/sqlite_store.h"
#include "storage/temp_dir.h"
#include "testing/fixtures.h"
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
    row.nodes = NodesCompletedBy(frontier, row.leaf_hash);  // as the registry's commit does
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

TEST(MerkleLogTest, NodesCompletedByFollowTheTrailingOnesOfTheSize) {
  MerkleFrontier frontier;
  std::vector<Hash> leaves;
  for (std::uint64_t i = 0; i < 64; ++i) {
    leaves.push_back(LeafHash("n" + std::to_string(i)));
    std::vector<storage::MerkleNode> nodes = NodesCompletedBy(frontier, leaves.back());
    frontier.AppendLeafHash(leaves.back());
    ASSERT_EQ(nodes.size(), static_cast<std::size_t>(std::countr_one(i))) << i;
    for (const storage::MerkleNode& n : nodes) {
      // Node (h, k) is the root of leaves [k·2^h, (k+1)·2^h): a log of exactly those leaves.
      MerkleLog sub;
      sub.Append(std::span(leaves).subspan(n.index << n.level, std::size_t{1} << n.level));
      EXPECT_EQ(n.hash, *sub.Root(sub.size())) << "(" << int{n.level} << ", " << n.index << ")";
      EXPECT_EQ((n.index + 1) << n.level, i + 1);
    }
  }
}

// A log loaded from stored leaves and interior nodes answers exactly like one hashed from
// the leaves, at sizes on and off powers of two.
TEST(MerkleLogTest, LoadedFromStoredNodesItMatchesALogBuiltFromLeaves) {
  for (std::uint64_t n : {1, 2, 3, 7, 8, 1000, 1025}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    storage::MemoryStore store;
    const std::vector<Hash> leaves = FillStore(store, n);
    storage::FaultInjectingStore counting(&store);
    MerkleLog loaded;
    ASSERT_TRUE(loaded.CatchUp(counting, n).ok());
    // One range read per level that gained nodes, and no per-node reads.
    EXPECT_EQ(counting.counts(storage::StoreOp::kReadMerkleNodes).calls,
              static_cast<std::uint64_t>(std::bit_width(n) - 1));
    MerkleLog built;
    built.Append(leaves);
    ASSERT_EQ(loaded.size(), n);
    for (std::uint64_t size = 1; size <= n; ++size) {
      ASSERT_EQ(*loaded.Root(size), *built.Root(size)) << size;
    }
    const std::uint64_t step = n > 100 ? 7 : 1;
    for (std::uint64_t i = 0; i < n; i += step) {
      ASSERT_EQ(*loaded.InclusionProof(i, n), *built.InclusionProof(i, n)) << i;
      ASSERT_EQ(*loaded.ConsistencyProof(i + 1, n), *built.ConsistencyProof(i + 1, n)) << i;
      ASSERT_TRUE(
          VerifyInclusion(i, n, leaves[i], *loaded.InclusionProof(i, n), *loaded.Root(n)).ok());
    }
    // Catching up in steps gives the same log.
    MerkleLog stepped;
    for (std::uint64_t size = 1; size <= n; size += 1 + size / 3) {
      ASSERT_TRUE(stepped.CatchUp(store, size).ok()) << size;
    }
    ASSERT_TRUE(stepped.CatchUp(store, n).ok());
    EXPECT_EQ(*stepped.Root(n), *built.Root(n));
    EXPECT_EQ(*stepped.InclusionProof(n / 2, n), *built.InclusionProof(n / 2, n));
  }
}

// A store that serves altered interior nodes (or none).
class TamperedNodeStore : public testing::ForwardingStore {
 public:
  TamperedNodeStore() : ForwardingStore(&memory_) {}
  storage::MemoryStore memory_;
  std::uint8_t level = 0;
  std::uint64_t index = 0;
  bool drop = false;
  util::Result<std::vector<storage::MerkleNode>> ReadMerkleNodes(std::uint8_t l,
                                                                 std::uint64_t first,
                                                                 std::size_t count) override {
    util::Result<std::vector<storage::MerkleNode>> r = inner_->ReadMerkleNodes(l, first, count);
    if (!r.ok() || l != level || index < first || index >= first + r->size()) return r;
    if (drop) {
      r->resize(index - first);
    } else {
      (*r)[index - first].hash[3] ^= 0x20;
    }
    return r;
  }
};

TEST(MerkleLogTest, AMissingOrAlteredRightEdgeNodeIsNeverServed) {
  TamperedNodeStore store;
  FillStore(store.memory_, 40);  // 40 = 32 + 8: the right edge is (5, 0) and (3, 4)
  MerkleLog log;
  ASSERT_TRUE(log.CatchUp(store, 20).ok());
  store.level = 3;
  store.index = 4;
  util::Status s = log.CatchUp(store, 40);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(), HasSubstr("does not match the stored root of version 40"));
  EXPECT_EQ(log.size(), 20u);
  store.drop = true;
  s = log.CatchUp(store, 40);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(), HasSubstr("no Merkle node (3, 4)"));
  EXPECT_EQ(log.size(), 20u);
  store.level = 0;
  ASSERT_TRUE(log.CatchUp(store, 40).ok());
  EXPECT_EQ(*log.Root(40), (*store.ReadCommitMeta(40))->root);
}

// --- The registry verifies the stored interior nodes against its leaves ---

constexpr util::UnixMillis kStart = 1'795'000'000'000;

class StoredNodeVerificationTest : public ::testing::Test {
 protected:
  StoredNodeVerificationTest()
      : signers_(testing::MakeSigners("m", 3)), roots_(testing::MakeGovernance(signers_, 2)) {}

  std::unique_ptr<storage::SqliteStore> OpenStore() {
    storage::SqliteStore::Options options;
    options.data_dir = dir_.path() + "/data";
    options.fsync = false;
    util::Result<std::unique_ptr<storage::SqliteStore>> store = storage::SqliteStore::Open(options);
    REGISTRY_CHECK(store.ok(), "SqliteStore::Open");
    return std::move(store).value();
  }

  // Commits versions until HEAD is `n`; writes a storage checkpoint at the end when asked.
  void CommitVersions(std::uint64_t n, bool checkpoint) {
    std::unique_ptr<storage::SqliteStore> store = OpenStore();
    auto r = Registry::Open(store.get(), &clock_, roots_, {});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    while ((*r)->Head()->head.version < n) {
      auto head = (*r)->Head();
      model::CanonicalPayload p = testing::MakeCanonical(
          testing::MakePayloadValue(head->head.version + 1, head->head.payload_b3, roots_, 2,
                                    std::to_string(head->head.version)));
      std::string id = (*r)->Propose(p)->proposal.proposal_id;
      for (int s = 0; s < 2; ++s) {
        ASSERT_TRUE((*r)->Approve(id, testing::Sign(signers_[s], p.payload_b3, kStart)).ok());
      }
      ASSERT_TRUE((*r)->Commit(id).ok());
    }
    if (checkpoint) {
      ASSERT_TRUE(*(*r)->WriteCheckpoint(true));
    }
  }

  // Overwrites the stored hash of node (level, idx) in the file (with zeros).
  void TamperNode(int level, std::uint64_t idx) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/data/registry.db").c_str(), &raw), SQLITE_OK);
    const std::string flip = "UPDATE merkle_nodes SET hash = x'" + std::string(64, '0') +
                             "' WHERE level = " + std::to_string(level) +
                             " AND idx = " + std::to_string(idx);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(raw, flip.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    EXPECT_EQ(sqlite3_changes(raw), 1);
    sqlite3_close(raw);
  }

  storage::testing::TempDir dir_;
  util::ManualClock clock_{kStart};
  std::vector<testing::TestSigner> signers_;
  model::Governance roots_;
};

TEST_F(StoredNodeVerificationTest, ATamperedNodeFailsTheReplayAtStartUpNamingIt) {
  CommitVersions(12, /*checkpoint=*/false);
  TamperNode(2, 1);  // leaves 4 … 7, completed by version 8
  std::unique_ptr<storage::SqliteStore> store = OpenStore();
  auto r = Registry::Open(store.get(), &clock_, roots_, {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  std::optional<std::string> failure = (*r)->verification_failure();
  ASSERT_TRUE(failure.has_value());
  EXPECT_THAT(*failure, HasSubstr("version 8: stored Merkle node (2, 1) does not match"));
  EXPECT_EQ((*r)->Head()->head.version, 7u);  // the last version that verified
}

TEST_F(StoredNodeVerificationTest, ATamperedNodeFailsTheBackgroundVerificationNamingIt) {
  CommitVersions(40, /*checkpoint=*/true);
  TamperNode(1, 9);  // leaves 18 and 19, completed by version 20
  std::unique_ptr<storage::SqliteStore> store = OpenStore();
  auto r = Registry::Open(store.get(), &clock_, roots_, {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  // Start-up resumed from the checkpoint at HEAD: nothing re-verified yet.
  EXPECT_EQ((*r)->recovery_kind(), Registry::RecoveryKind::kClean);
  EXPECT_FALSE((*r)->verification_failure().has_value());
  util::Result<bool> done = (*r)->VerifyHistorySlice(8);
  while (done.ok() && !*done) done = (*r)->VerifyHistorySlice(8);
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.error().message(),
              HasSubstr("version 20: stored Merkle node (1, 9) does not match"));
  ASSERT_TRUE((*r)->verification_failure().has_value());
  // The write plane is down.
  auto head = (*r)->Head();
  model::CanonicalPayload p = testing::MakeCanonical(
      testing::MakePayloadValue(41, head->head.payload_b3, roots_, 2, "after"));
  EXPECT_EQ((*r)->Propose(p).error().code(), ErrorCode::kNotReady);
}

TEST_F(StoredNodeVerificationTest, AnIntactStoreVerifiesAndServesProofsFromItsNodes) {
  CommitVersions(33, /*checkpoint=*/false);
  std::unique_ptr<storage::SqliteStore> store = OpenStore();
  auto r = Registry::Open(store.get(), &clock_, roots_, {});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->verification_failure().has_value());
  util::Result<bool> done = (*r)->VerifyHistorySlice(100);
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_TRUE(*done);
  MerkleLog log;
  ASSERT_TRUE(log.CatchUp(*store, 33).ok());
  std::vector<storage::LeafHash> leaves = *store->ReadLeafHashes(1, 33);
  MerkleLog built;
  built.Append(leaves);
  for (std::uint64_t i = 0; i < 33; ++i) {
    EXPECT_EQ(*log.InclusionProof(i, 33), *built.InclusionProof(i, 33)) << i;
  }
  EXPECT_EQ(crypto::Base64Encode(*log.Root(33)), (*r)->Head()->head.root);
}

}  // namespace
}  // namespace registry::core
