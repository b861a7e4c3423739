// The Store contract (include/registry/storage/store.h), run against every backend.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <string_view>
#include <thread>

#include "registry/crypto/blake3.h"
#include "registry/crypto/sha256.h"
#include "registry/storage/memory_store.h"
#include "registry/storage/postgres_store.h"
#include "registry/storage/sqlite_store.h"
#include "registry/storage/store.h"
#include "storage/postgres_cluster.h"
#include "storage/registry_gen.h"
#include "storage/rows.h"
#include "storage/temp_dir.h"

namespace registry::storage {
namespace {

using model::ProposalStatus;
using testing::ApprovalBy;
using testing::Proposal;
using testing::RegistryGen;
using testing::TempDir;

// RFC 6962 interior nodes, computed here independently of the backends.
LeafHash NodeHashForTest(const LeafHash& left, const LeafHash& right) {
  std::string buf(1, '\x01');
  buf.append(reinterpret_cast<const char*>(left.data()), left.size());
  buf.append(reinterpret_cast<const char*>(right.data()), right.size());
  return crypto::Sha256(buf);
}

// Node (level, index) over `leaves` (leaves[i] is leaf i, the leaf hash of version i + 1).
LeafHash SubtreeRoot(const std::vector<LeafHash>& leaves, int level, std::uint64_t index) {
  if (level == 0) return leaves.at(index);
  return NodeHashForTest(SubtreeRoot(leaves, level - 1, 2 * index),
                         SubtreeRoot(leaves, level - 1, 2 * index + 1));
}

// Every node of `level` that the first `size` leaves complete.
std::vector<MerkleNode> LevelNodes(const std::vector<LeafHash>& leaves, int level,
                                   std::uint64_t size) {
  std::vector<MerkleNode> out;
  for (std::uint64_t i = 0; i < (size >> level); ++i) {
    out.push_back(MerkleNode{static_cast<std::uint8_t>(level), i, SubtreeRoot(leaves, level, i)});
  }
  return out;
}

// The nodes the leaf of `version` completes (leaves holds at least `version` leaves).
std::vector<MerkleNode> CompletedBy(const std::vector<LeafHash>& leaves, std::uint64_t version) {
  std::vector<MerkleNode> out;
  for (int h = 1; ((version >> h) << h) == version; ++h) {
    out.push_back(MerkleNode{static_cast<std::uint8_t>(h), (version >> h) - 1,
                             SubtreeRoot(leaves, h, (version >> h) - 1)});
  }
  return out;
}

struct Backend {
  std::string name;
  bool needs_dir = false;  // persistent backends get a fresh private directory per test
  std::function<std::unique_ptr<Store>(const std::string& dir)> make;
};

// Names the backend in test output instead of its bytes.
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

std::unique_ptr<Store> OpenSqlite(const std::string& dir) {
  SqliteStore::Options options;
  options.data_dir = dir + "/data";
  options.fsync = false;          // durability is not observable here; the sqlite tests sync
  options.keyframe_interval = 8;  // cross keyframes often
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  REGISTRY_CHECK(store.ok(), "SqliteStore::Open failed");
  return std::move(store).value();
}

class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_dir) dir_ = std::make_unique<TempDir>();
    store_ = GetParam().make(dir_ != nullptr ? dir_->path() : std::string());
  }
  void TearDown() override { store_.reset(); }

  static CommitRow Commit(std::uint64_t version, const std::string& proposal_id) {
    return CommitRow{version, "b3:" + std::string(64, 'b'), proposal_id, "2026-11-26T12:00:00.000Z",
                     "record " + std::to_string(version)};
  }

  static CommitRow CommitWithRecord(std::uint64_t version, std::string record) {
    CommitRow row = Commit(version, "p_" + std::string(23, '0') + "z");
    row.record = std::move(record);
    for (std::size_t i = 0; i < row.leaf_hash.size(); ++i) {
      row.leaf_hash[i] = static_cast<std::uint8_t>(version + i);
      row.root[i] = static_cast<std::uint8_t>(version * 3 + i);
    }
    return row;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformanceTest, EmptyStoreIsGenesis) {
  EXPECT_EQ(*store_->HeadVersion(), 0u);
  EXPECT_FALSE(store_->ReadRecord(0)->has_value());
  EXPECT_FALSE(store_->ReadRecord(1)->has_value());
  EXPECT_FALSE(store_->ReadCommitMeta(1)->has_value());
  EXPECT_TRUE(store_->LoadPendingProposals()->empty());
  EXPECT_FALSE(store_->GetProposal("p_000000000000000000000001")->has_value());
  EXPECT_TRUE(store_->LoadApprovals("p_000000000000000000000001")->empty());
}

TEST_P(StoreConformanceTest, ProposalsAndApprovalsRoundTrip) {
  ProposalRow a = Proposal("a", 1);
  ProposalRow b = Proposal("b", 1);
  ASSERT_TRUE(store_->InsertProposal(a).ok());
  ASSERT_TRUE(store_->InsertProposal(b).ok());
  ASSERT_TRUE(store_->InsertApproval(a.proposal_id, ApprovalBy("org:x#k2")).ok());
  ASSERT_TRUE(store_->InsertApproval(a.proposal_id, ApprovalBy("org:x#k1")).ok());
  std::optional<ProposalRow> got = *store_->GetProposal(a.proposal_id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->canonical_payload, a.canonical_payload);
  EXPECT_EQ(got->expires_at, 2000);
  EXPECT_EQ(got->status, ProposalStatus::kPending);
  std::vector<model::Approval> approvals = *store_->LoadApprovals(a.proposal_id);
  ASSERT_EQ(approvals.size(), 2u);
  EXPECT_EQ(approvals[0], ApprovalBy("org:x#k2"));  // acceptance order
  EXPECT_TRUE(store_->LoadApprovals(b.proposal_id)->empty());
  std::vector<ProposalRow> pending = *store_->LoadPendingProposals();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].proposal_id, a.proposal_id);  // oldest first
  ASSERT_TRUE(store_->SetProposalStatus(b.proposal_id, ProposalStatus::kExpired).ok());
  EXPECT_EQ(store_->LoadPendingProposals()->size(), 1u);
  EXPECT_EQ((*store_->GetProposal(b.proposal_id))->status, ProposalStatus::kExpired);
}

TEST_P(StoreConformanceTest, AppendCommitIsCasOnHead) {
  ProposalRow a = Proposal("a", 1);
  ASSERT_TRUE(store_->InsertProposal(a).ok());
  util::Status skip = store_->AppendCommit(Commit(2, a.proposal_id));
  ASSERT_FALSE(skip.ok());
  EXPECT_EQ(skip.error().code(), util::ErrorCode::kChainMismatch);
  EXPECT_EQ(*store_->HeadVersion(), 0u);
  ASSERT_TRUE(store_->AppendCommit(Commit(1, a.proposal_id)).ok());
  EXPECT_EQ(*store_->HeadVersion(), 1u);
  EXPECT_EQ(**store_->ReadRecord(1), "record 1");
  std::optional<CommitMeta> meta = *store_->ReadCommitMeta(1);
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->proposal_id, a.proposal_id);
  EXPECT_EQ(meta->committed_at, "2026-11-26T12:00:00.000Z");
  EXPECT_EQ((*store_->GetProposal(a.proposal_id))->status, ProposalStatus::kCommitted);
  EXPECT_TRUE(store_->LoadPendingProposals()->empty());
  util::Status again = store_->AppendCommit(Commit(1, a.proposal_id));
  EXPECT_EQ(again.error().code(), util::ErrorCode::kChainMismatch);
  EXPECT_EQ(**store_->ReadRecord(1), "record 1");
}

TEST_P(StoreConformanceTest, ManyVersionsReadBackExactly) {
  RegistryGen gen(7, 40);
  std::vector<std::string> records;
  for (std::uint64_t v = 1; v <= 300; ++v) {
    // Mostly realistic records, some opaque ones in between.
    if (v % 10 == 0) {
      records.push_back("opaque record " + std::to_string(v));
    } else {
      gen.Evolve(2);
      records.push_back(gen.Record(v, gen.CanonicalPayload(v)));
    }
    ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(v, records.back())).ok()) << v;
  }
  EXPECT_EQ(*store_->HeadVersion(), 300u);
  for (std::uint64_t v = 300; v >= 1; --v) {
    util::Result<std::optional<std::string>> got = store_->ReadRecord(v);
    ASSERT_TRUE(got.ok()) << got.error().message();
    ASSERT_TRUE(got->has_value()) << v;
    ASSERT_EQ(**got, records[v - 1]) << v;
    std::optional<CommitMeta> meta = *store_->ReadCommitMeta(v);
    ASSERT_TRUE(meta.has_value());
    EXPECT_EQ(meta->version, v);
    EXPECT_EQ(meta->leaf_hash, CommitWithRecord(v, "").leaf_hash);
    EXPECT_EQ(meta->root, CommitWithRecord(v, "").root);
  }
  EXPECT_FALSE(store_->ReadRecord(301)->has_value());
  EXPECT_GT(store_->SizeBytes(), 0u);
}

TEST_P(StoreConformanceTest, ReadLeafHashesReturnsRangesInOrderAndStopsAtHead) {
  EXPECT_TRUE(store_->ReadLeafHashes(1, 10)->empty());  // genesis
  constexpr std::uint64_t kHead = 70;
  for (std::uint64_t v = 1; v <= kHead; ++v) {
    ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(v, "r" + std::to_string(v))).ok()) << v;
  }
  auto expect_range = [&](std::uint64_t first, std::size_t count, std::size_t want) {
    util::Result<std::vector<LeafHash>> got = store_->ReadLeafHashes(first, count);
    ASSERT_TRUE(got.ok()) << got.error().message();
    ASSERT_EQ(got->size(), want) << "first " << first << " count " << count;
    for (std::size_t i = 0; i < want; ++i) {
      EXPECT_EQ((*got)[i], CommitWithRecord(first + i, "").leaf_hash) << first + i;
    }
  };
  expect_range(1, kHead, kHead);
  expect_range(1, 1, 1);
  expect_range(17, 5, 5);
  expect_range(kHead, 1, 1);
  expect_range(60, 100, 11);  // stops at HEAD
  expect_range(kHead + 1, 3, 0);
  expect_range(1000, 3, 0);
  expect_range(0, 5, 0);  // there is no version 0
  expect_range(5, 0, 0);
  expect_range(2, std::numeric_limits<std::size_t>::max(), kHead - 1);
  // A new commit is visible to the next read.
  ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(kHead + 1, "r")).ok());
  expect_range(kHead, 10, 2);
}

TEST_P(StoreConformanceTest, LargeRecordsReadBackExactly) {
  testing::GenOptions options;
  options.large_meta_percent = 30;
  RegistryGen gen(11, 3000, options);
  for (std::uint64_t v = 1; v <= 4; ++v) {
    gen.Evolve(5);
    if (v == 3) gen.Rotate();
    std::string record = gen.Record(v, gen.CanonicalPayload(v));
    ASSERT_GT(record.size(), std::size_t{2} << 20);
    ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(v, record)).ok());
    EXPECT_EQ(**store_->ReadRecord(v), record);
  }
}

TEST_P(StoreConformanceTest, OddRecordsReadBackExactly) {
  const std::vector<std::string> records = {
      "",
      std::string("with\0nul", 8),
      R"({"payload":{"items":[]}})",
      R"({"payload":{"items":[1,2,3]}})",
      R"({"payload":{"items":[ 1 , {"a":"]"} ]} })",
      R"({"payload":{"items":[1,]}})",
      R"({"payload":{"items":["unterminated]}})",
      R"({"payload":{"items":"not an array"}})",
      R"({"payload":[1,2]})",
      R"({"a\"payload":{"items":[1]},"payload":{"x":"\\","items":[[],{},"\"",[[]]]}})",
      R"({"payload":{"items":[1,2,3]}})",  // the same items again
  };
  for (std::size_t i = 0; i < records.size(); ++i) {
    ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(i + 1, records[i])).ok()) << i;
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(**store_->ReadRecord(i + 1), records[i]) << i;
  }
}

TEST_P(StoreConformanceTest, ProposalWithManyApprovalsKeepsAcceptanceOrder) {
  ProposalRow p = Proposal("m", 1);
  ASSERT_TRUE(store_->InsertProposal(p).ok());
  std::vector<model::Approval> expected;
  for (int i = 255; i >= 0; --i) {
    model::Approval a = ApprovalBy("org:r" + std::to_string(i) + "#k1");
    a.sig.fill(static_cast<std::uint8_t>(i));
    a.signed_at_ms += i;
    expected.push_back(a);
    ASSERT_TRUE(store_->InsertApproval(p.proposal_id, a).ok());
  }
  EXPECT_EQ(*store_->LoadApprovals(p.proposal_id), expected);
}

TEST_P(StoreConformanceTest, StatusChangesAreVisible) {
  std::vector<ProposalRow> rows;
  for (const char* s : {"1", "2", "3", "4"}) {
    rows.push_back(Proposal(s, 1));
    ASSERT_TRUE(store_->InsertProposal(rows.back()).ok());
  }
  ASSERT_TRUE(store_->SetProposalStatus(rows[1].proposal_id, ProposalStatus::kStale).ok());
  ASSERT_TRUE(store_->SetProposalStatus(rows[2].proposal_id, ProposalStatus::kExpired).ok());
  ASSERT_TRUE(store_->AppendCommit(Commit(1, rows[3].proposal_id)).ok());
  std::vector<ProposalRow> pending = *store_->LoadPendingProposals();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].proposal_id, rows[0].proposal_id);
  EXPECT_EQ((*store_->GetProposal(rows[1].proposal_id))->status, ProposalStatus::kStale);
  EXPECT_EQ((*store_->GetProposal(rows[2].proposal_id))->status, ProposalStatus::kExpired);
  EXPECT_EQ((*store_->GetProposal(rows[3].proposal_id))->status, ProposalStatus::kCommitted);
  // Back and forth: the last status wins; the payload is untouched.
  ASSERT_TRUE(store_->SetProposalStatus(rows[1].proposal_id, ProposalStatus::kPending).ok());
  EXPECT_EQ(store_->LoadPendingProposals()->size(), 2u);
  EXPECT_EQ((*store_->GetProposal(rows[1].proposal_id))->canonical_payload,
            rows[1].canonical_payload);
}

TEST_P(StoreConformanceTest, RealisticPayloadsRoundTripBeforeAndAfterCommit) {
  RegistryGen gen(3, 500);
  std::vector<ProposalRow> all;
  for (std::uint64_t v = 1; v <= 12; ++v) {
    gen.Evolve(v % 4 == 0 ? 50 : 3);
    const std::string payload = gen.CanonicalPayload(v);
    ProposalRow row = Proposal(std::to_string(v), v);
    row.canonical_payload = payload;
    row.payload_b3 = crypto::PayloadB3(payload);
    ASSERT_TRUE(store_->InsertProposal(row).ok());
    all.push_back(row);
    // A competing proposal for the same version that never commits.
    gen.Evolve(1);
    ProposalRow rival = Proposal("r" + std::to_string(v), v);
    rival.canonical_payload = gen.CanonicalPayload(v);
    ASSERT_TRUE(store_->InsertProposal(rival).ok());
    all.push_back(rival);
    ASSERT_EQ((*store_->GetProposal(row.proposal_id))->canonical_payload, payload);
    if (v < 12) {
      CommitRow commit = CommitWithRecord(v, gen.Record(v, payload));
      commit.proposal_id = row.proposal_id;
      ASSERT_TRUE(store_->AppendCommit(commit).ok());
      ASSERT_TRUE(store_->SetProposalStatus(rival.proposal_id, ProposalStatus::kStale).ok());
    }
  }
  for (const ProposalRow& row : all) {
    std::optional<ProposalRow> got = *store_->GetProposal(row.proposal_id);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->canonical_payload, row.canonical_payload) << row.proposal_id;
    EXPECT_EQ(got->payload_b3, row.payload_b3);
    EXPECT_EQ(got->version, row.version);
  }
  std::vector<ProposalRow> pending = *store_->LoadPendingProposals();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].canonical_payload, all[all.size() - 2].canonical_payload);
  EXPECT_EQ(pending[1].canonical_payload, all.back().canonical_payload);
}

TEST_P(StoreConformanceTest, ContractViolationsFailAndChangeNothing) {
  ProposalRow a = Proposal("a", 1);
  ASSERT_TRUE(store_->InsertProposal(a).ok());
  ProposalRow twin = a;
  twin.canonical_payload = R"({"other":true})";
  util::Status dup = store_->InsertProposal(twin);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), util::ErrorCode::kInternal);
  EXPECT_EQ((*store_->GetProposal(a.proposal_id))->canonical_payload, a.canonical_payload);

  util::Status orphan = store_->InsertApproval("p_000000000000000000000404", ApprovalBy("x"));
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code(), util::ErrorCode::kInternal);
  EXPECT_TRUE(store_->LoadApprovals("p_000000000000000000000404")->empty());

  util::Status status =
      store_->SetProposalStatus("p_000000000000000000000404", ProposalStatus::kStale);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), util::ErrorCode::kInternal);
  EXPECT_EQ(store_->LoadPendingProposals()->size(), 1u);
}

TEST_P(StoreConformanceTest, ReadersSeeWholeVersionsWhileTheWriterAppends) {
  RegistryGen gen(5, 300);
  std::vector<std::string> records;
  for (std::uint64_t v = 1; v <= 60; ++v) {
    gen.Evolve(3);
    records.push_back(gen.Record(v, gen.CanonicalPayload(v)));
  }
  std::atomic<bool> done{false};
  std::atomic<int> mismatches{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const std::uint64_t head = *store_->HeadVersion();
        if (head == 0) continue;
        util::Result<std::optional<std::string>> r = store_->ReadRecord(head);
        if (!r.ok() || !r->has_value() || **r != records[head - 1]) ++mismatches;
        ++reads;
      }
    });
  }
  for (std::uint64_t v = 1; v <= records.size(); ++v) {
    ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(v, records[v - 1])).ok());
  }
  // Let every reader finish at least one read of the final HEAD.
  const int target = reads.load() + 3;
  while (reads.load() < target) std::this_thread::yield();
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_P(StoreConformanceTest, CheckpointIsReplacedAndNeverBeyondHead) {
  EXPECT_FALSE(store_->LoadCheckpoint()->has_value());
  ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(1, "one")).ok());
  ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(2, "two")).ok());
  CheckpointRow first{1,
                      "b3:" + std::string(64, '1'),
                      "2026-11-26T12:00:00.000Z",
                      R"({"quorum":{"m":1},"signers":[]})",
                      {LeafHash{}},
                      1000};
  first.frontier[0].fill(0x11);
  ASSERT_TRUE(store_->WriteCheckpoint(first).ok());
  CheckpointRow second{2,
                       "b3:" + std::string(64, '2'),
                       "2026-11-26T12:00:01.000Z",
                       R"({"quorum":{"m":2},"signers":["x"]})",
                       {LeafHash{}, LeafHash{}},
                       2000};
  second.frontier[0].fill(0x22);
  second.frontier[1].fill(0x33);
  ASSERT_TRUE(store_->WriteCheckpoint(second).ok());
  CheckpointRow beyond = second;
  beyond.version = 3;
  EXPECT_FALSE(store_->WriteCheckpoint(beyond).ok());
  std::optional<CheckpointRow> got = *store_->LoadCheckpoint();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, 2u);
  EXPECT_EQ(got->payload_b3, second.payload_b3);
  EXPECT_EQ(got->committed_at, second.committed_at);
  EXPECT_EQ(got->governance, second.governance);
  EXPECT_EQ(got->frontier, second.frontier);
  EXPECT_EQ(got->written_at, 2000);
}

TEST_P(StoreConformanceTest, PruningWithdrawsRecordsButKeepsMetadataAndLeafHashes) {
  EXPECT_FALSE(store_->LoadPruneAnchor()->has_value());
  constexpr std::uint64_t kHead = 6;
  for (std::uint64_t v = 1; v <= kHead; ++v) {
    ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(v, "record " + std::to_string(v))).ok());
  }
  const std::vector<LeafHash> leaves_before = *store_->ReadLeafHashes(1, kHead);
  const std::vector<MerkleNode> nodes_before = *store_->ReadMerkleNodes(1, 0, 10);
  ASSERT_EQ(nodes_before.size(), 3u);
  CheckpointRow anchor{3,
                       "b3:" + std::string(64, '3'),
                       "2026-11-26T12:00:03.000Z",
                       R"({"quorum":{"m":1},"signers":[]})",
                       {LeafHash{}, LeafHash{}},
                       3000};
  anchor.frontier[0].fill(0x31);
  anchor.frontier[1].fill(0x32);
  ASSERT_TRUE(store_->PruneThrough(anchor).ok());

  for (std::uint64_t v = 1; v <= 3; ++v) {
    util::Result<std::optional<std::string>> gone = store_->ReadRecord(v);
    ASSERT_FALSE(gone.ok()) << v;
    EXPECT_EQ(gone.error().code(), util::ErrorCode::kPruned) << v;
    std::optional<CommitMeta> meta = *store_->ReadCommitMeta(v);
    ASSERT_TRUE(meta.has_value()) << v;
    EXPECT_EQ(meta->leaf_hash, CommitWithRecord(v, "").leaf_hash);
  }
  for (std::uint64_t v = 4; v <= kHead; ++v) {
    EXPECT_EQ(**store_->ReadRecord(v), "record " + std::to_string(v));
  }
  EXPECT_EQ(*store_->ReadLeafHashes(1, kHead), leaves_before);
  EXPECT_EQ(*store_->ReadMerkleNodes(1, 0, 10), nodes_before);  // interior nodes are kept too
  EXPECT_EQ(store_->ReadMerkleNodes(2, 0, 10)->size(), 1u);
  EXPECT_FALSE(store_->ReadRecord(kHead + 1)->has_value());  // beyond HEAD: absent, not pruned
  std::optional<CheckpointRow> got = *store_->LoadPruneAnchor();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, 3u);
  EXPECT_EQ(got->payload_b3, anchor.payload_b3);
  EXPECT_EQ(got->committed_at, anchor.committed_at);
  EXPECT_EQ(got->governance, anchor.governance);
  EXPECT_EQ(got->frontier, anchor.frontier);
  EXPECT_EQ(got->written_at, 3000);

  // HEAD is never pruned, the anchor never moves back, version 0 is no anchor: each is
  // refused and changes nothing.
  for (std::uint64_t bad : {std::uint64_t{0}, std::uint64_t{2}, kHead, kHead + 1}) {
    CheckpointRow row = anchor;
    row.version = bad;
    util::Status s = store_->PruneThrough(row);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code(), util::ErrorCode::kMalformed) << bad;
  }
  EXPECT_EQ((*store_->LoadPruneAnchor())->version, 3u);
  EXPECT_EQ(**store_->ReadRecord(4), "record 4");

  // Pruning further moves the anchor forward; appends continue as before.
  CheckpointRow later = anchor;
  later.version = 5;
  ASSERT_TRUE(store_->PruneThrough(later).ok());
  EXPECT_EQ(store_->ReadRecord(5).error().code(), util::ErrorCode::kPruned);
  EXPECT_EQ((*store_->LoadPruneAnchor())->version, 5u);
  ASSERT_TRUE(store_->AppendCommit(CommitWithRecord(kHead + 1, "seven")).ok());
  EXPECT_EQ(**store_->ReadRecord(kHead + 1), "seven");
  EXPECT_EQ(**store_->ReadRecord(kHead), "record 6");
}

// Appends versions 1 … n with the interior nodes each completes (computed here); returns
// the leaves.
std::vector<LeafHash> AppendWithNodes(Store& store, std::uint64_t first, std::uint64_t last,
                                      std::vector<LeafHash> leaves,
                                      const std::function<CommitRow(std::uint64_t)>& make) {
  for (std::uint64_t v = first; v <= last; ++v) {
    CommitRow row = make(v);
    leaves.push_back(row.leaf_hash);
    row.nodes = CompletedBy(leaves, v);
    util::Status s = store.AppendCommit(row);
    EXPECT_TRUE(s.ok()) << v << ": " << (s.ok() ? "" : s.error().message());
  }
  return leaves;
}

TEST_P(StoreConformanceTest, MerkleNodesAppendedWithCommitsReadBackExactly) {
  EXPECT_TRUE(store_->ReadMerkleNodes(1, 0, 10)->empty());  // genesis
  constexpr std::uint64_t kHead = 70;
  auto make = [](std::uint64_t v) { return CommitWithRecord(v, "r" + std::to_string(v)); };
  std::vector<LeafHash> leaves = AppendWithNodes(*store_, 1, kHead, {}, make);
  for (int level = 1; level <= 7; ++level) {
    util::Result<std::vector<MerkleNode>> got = store_->ReadMerkleNodes(
        static_cast<std::uint8_t>(level), 0, std::numeric_limits<std::size_t>::max());
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(*got, LevelNodes(leaves, level, kHead)) << "level " << level;
  }
  auto expect_range = [&](int level, std::uint64_t first, std::size_t count, std::size_t want) {
    util::Result<std::vector<MerkleNode>> got =
        store_->ReadMerkleNodes(static_cast<std::uint8_t>(level), first, count);
    ASSERT_TRUE(got.ok()) << got.error().message();
    ASSERT_EQ(got->size(), want) << "level " << level << " first " << first << " count " << count;
    for (std::size_t i = 0; i < want; ++i) {
      EXPECT_EQ((*got)[i].level, level);
      EXPECT_EQ((*got)[i].index, first + i);
      EXPECT_EQ((*got)[i].hash, SubtreeRoot(leaves, level, first + i));
    }
  };
  expect_range(1, 10, 5, 5);
  expect_range(1, 30, 10, 5);  // level 1 holds nodes 0 … 34: stops there
  expect_range(1, 34, 1, 1);
  expect_range(1, 35, 1, 0);
  expect_range(2, 16, 100, 1);
  expect_range(6, 0, 5, 1);  // the one complete subtree of 64 leaves
  expect_range(7, 0, 5, 0);  // 70 leaves complete no subtree of 128
  expect_range(0, 0, 5, 0);  // level 0 holds leaves: ReadLeafHashes
  expect_range(64, 0, 5, 0);
  expect_range(200, 0, 5, 0);
  expect_range(1, 3, 0, 0);
  expect_range(1, std::numeric_limits<std::uint64_t>::max(), 3, 0);
  // The next commits' nodes are visible to the next read: 72 completes (1, 35), (2, 17),
  // (3, 8).
  leaves = AppendWithNodes(*store_, kHead + 1, kHead + 2, std::move(leaves), make);
  expect_range(1, 35, 5, 1);
  expect_range(2, 17, 5, 1);
  expect_range(3, 8, 5, 1);
  expect_range(4, 4, 5, 0);
}

TEST_P(StoreConformanceTest, EmptyNodesAreComputedByTheStore) {
  std::vector<LeafHash> leaves;
  for (std::uint64_t v = 1; v <= 33; ++v) {
    CommitRow row = CommitWithRecord(v, "r");  // row.nodes left empty
    leaves.push_back(row.leaf_hash);
    ASSERT_TRUE(store_->AppendCommit(row).ok()) << v;
  }
  for (int level = 1; level <= 6; ++level) {
    EXPECT_EQ(*store_->ReadMerkleNodes(static_cast<std::uint8_t>(level), 0, 100),
              LevelNodes(leaves, level, 33))
        << "level " << level;
  }
}

TEST_P(StoreConformanceTest, WrongMerkleNodesAreRejectedAndNothingIsWritten) {
  auto make = [](std::uint64_t v) { return CommitWithRecord(v, "r" + std::to_string(v)); };
  std::vector<LeafHash> leaves = AppendWithNodes(*store_, 1, 3, {}, make);
  ProposalRow p = Proposal("four", 4);
  ASSERT_TRUE(store_->InsertProposal(p).ok());
  CommitRow four = make(4);
  four.proposal_id = p.proposal_id;
  std::vector<LeafHash> with_four = leaves;
  with_four.push_back(four.leaf_hash);
  const std::vector<MerkleNode> right = CompletedBy(with_four, 4);  // (1, 1) and (2, 0)
  ASSERT_EQ(right.size(), 2u);

  std::vector<std::pair<std::string, std::vector<MerkleNode>>> wrong;
  wrong.emplace_back("one missing", std::vector<MerkleNode>{right[0]});
  wrong.emplace_back("one extra", right);
  wrong.back().second.push_back(MerkleNode{3, 0, right[1].hash});
  wrong.emplace_back("wrong level", right);
  wrong.back().second[1].level = 3;
  wrong.emplace_back("wrong index", right);
  wrong.back().second[0].index = 2;
  wrong.emplace_back("out of order", std::vector<MerkleNode>{right[1], right[0]});
  wrong.emplace_back("flipped hash", right);
  wrong.back().second[1].hash[7] ^= 0x10;
  wrong.emplace_back("hash of other leaves", right);
  wrong.back().second[0].hash = NodeHashForTest(leaves[2], leaves[2]);
  for (const auto& [name, nodes] : wrong) {
    CommitRow row = four;
    row.nodes = nodes;
    util::Status s = store_->AppendCommit(row);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.error().code(), util::ErrorCode::kMalformed) << name << ": " << s.error().message();
    EXPECT_EQ(*store_->HeadVersion(), 3u) << name;
    EXPECT_FALSE(store_->ReadCommitMeta(4)->has_value()) << name;
    EXPECT_TRUE(store_->ReadLeafHashes(4, 1)->empty()) << name;
    EXPECT_EQ(*store_->ReadMerkleNodes(1, 0, 10), LevelNodes(leaves, 1, 3)) << name;
    EXPECT_TRUE(store_->ReadMerkleNodes(2, 0, 10)->empty()) << name;
    EXPECT_EQ((*store_->GetProposal(p.proposal_id))->status, ProposalStatus::kPending) << name;
  }
  // A version that completes no node carries none.
  CommitRow five = make(5);
  five.nodes = {MerkleNode{1, 2, leaves[0]}};
  ASSERT_TRUE(store_->AppendCommit(four).ok());  // empty nodes: the store computes them
  EXPECT_EQ(store_->AppendCommit(five).error().code(), util::ErrorCode::kMalformed);
  EXPECT_EQ(*store_->HeadVersion(), 4u);
  EXPECT_EQ(*store_->ReadMerkleNodes(2, 0, 10), std::vector<MerkleNode>{right[1]});
  five.nodes.clear();
  ASSERT_TRUE(store_->AppendCommit(five).ok());
}

TEST_P(StoreConformanceTest, AFailedCompareAndSwapWritesNoMerkleNodes) {
  auto make = [](std::uint64_t v) { return CommitWithRecord(v, "r" + std::to_string(v)); };
  std::vector<LeafHash> leaves = AppendWithNodes(*store_, 1, 3, {}, make);
  const std::vector<MerkleNode> level1 = *store_->ReadMerkleNodes(1, 0, 10);
  // Version 2 again, with other leaves: its node (1, 0) would differ.
  CommitRow again = CommitWithRecord(2, "other");
  again.leaf_hash.fill(0xee);
  std::vector<LeafHash> other = {leaves[0], again.leaf_hash};
  again.nodes = CompletedBy(other, 2);
  EXPECT_EQ(store_->AppendCommit(again).error().code(), util::ErrorCode::kChainMismatch);
  // Version 6 on HEAD 3 (it would complete (1, 2)).
  CommitRow ahead = make(6);
  std::vector<LeafHash> padded = leaves;
  padded.push_back(make(4).leaf_hash);
  padded.push_back(make(5).leaf_hash);
  padded.push_back(ahead.leaf_hash);
  ahead.nodes = CompletedBy(padded, 6);
  ahead.nodes[0].hash.fill(0x66);
  EXPECT_EQ(store_->AppendCommit(ahead).error().code(), util::ErrorCode::kChainMismatch);
  EXPECT_EQ(*store_->HeadVersion(), 3u);
  EXPECT_EQ(*store_->ReadMerkleNodes(1, 0, 10), level1);
  // The real versions 4 … 8 then store the real nodes.
  leaves = AppendWithNodes(*store_, 4, 8, std::move(leaves), make);
  for (int level = 1; level <= 3; ++level) {
    EXPECT_EQ(*store_->ReadMerkleNodes(static_cast<std::uint8_t>(level), 0, 10),
              LevelNodes(leaves, level, 8));
  }
}

TEST_P(StoreConformanceTest, AuditTrailAppendsWithoutGaps) {
  EXPECT_TRUE(store_->ReadAudit(0, 10)->empty());
  ASSERT_TRUE(store_->AppendAudit({{1, R"({"e":1})"}, {2, R"({"e":2})"}}).ok());
  ASSERT_TRUE(store_->AppendAudit({{3, R"({"e":3})"}}).ok());
  ASSERT_TRUE(store_->AppendAudit({}).ok());
  util::Status gap = store_->AppendAudit({{4, R"({"e":4})"}, {6, R"({"e":6})"}});
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().code(), util::ErrorCode::kChainMismatch);
  EXPECT_EQ(store_->AppendAudit({{3, "again"}}).error().code(), util::ErrorCode::kChainMismatch);
  std::vector<AuditRow> all = *store_->ReadAudit(0, 100);
  ASSERT_EQ(all.size(), 3u);  // nothing of the refused batches
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, i + 1);
    EXPECT_EQ(all[i].entry, R"({"e":)" + std::to_string(i + 1) + "}");
  }
  std::vector<AuditRow> page = *store_->ReadAudit(1, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].seq, 2u);
  EXPECT_TRUE(store_->ReadAudit(3, 10)->empty());
  EXPECT_TRUE(store_->ReadAudit(0, 0)->empty());
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreConformanceTest,
    ::testing::Values(Backend{"memory", false,
                              [](const std::string&) { return std::make_unique<MemoryStore>(); }},
                      Backend{"sqlite", true, OpenSqlite},
                      // A fresh database of a throwaway cluster (storage/postgres_cluster.h).
                      Backend{"postgres", false,
                              [](const std::string&) { return testing::OpenPostgresForTest(); }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

// --- SQLite: schema 3 (merkle_nodes), its migration and backfill ---

// Runs `sql` on the store's file directly, as an operator (or an attacker) could.
void ExecOnFile(const std::string& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

std::int64_t QueryInt(const std::string& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const std::int64_t v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  return v;
}

class SqliteMerkleNodesTest : public ::testing::Test {
 protected:
  std::string Db() const { return dir_.path() + "/data/" + SqliteStore::kDatabaseFile; }

  // A store of `n` versions with their nodes, closed again.
  std::vector<LeafHash> Fill(std::uint64_t n) {
    std::unique_ptr<Store> store = OpenSqlite(dir_.path());
    std::vector<LeafHash> leaves;
    for (std::uint64_t v = 1; v <= n; ++v) {
      CommitRow row{v, "b3:" + std::string(64, 'b'), "p", "2026-11-26T12:00:00.000Z", "r"};
      row.leaf_hash = crypto::Sha256("leaf " + std::to_string(v));
      row.root.fill(0x11);
      leaves.push_back(row.leaf_hash);
      row.nodes = CompletedBy(leaves, v);
      EXPECT_TRUE(store->AppendCommit(row).ok()) << v;
    }
    return leaves;
  }

  void ExpectAllNodes(Store& store, const std::vector<LeafHash>& leaves) {
    for (int level = 1; level <= 10; ++level) {
      util::Result<std::vector<MerkleNode>> got =
          store.ReadMerkleNodes(static_cast<std::uint8_t>(level), 0, 100000);
      ASSERT_TRUE(got.ok()) << got.error().message();
      EXPECT_EQ(*got, LevelNodes(leaves, level, leaves.size())) << "level " << level;
    }
  }

  TempDir dir_;
};

TEST_F(SqliteMerkleNodesTest, ASchema2StoreIsMigratedAndBackfilledFromItsLeaves) {
  const std::vector<LeafHash> leaves = Fill(1000);
  // What a schema-2 file is: the same tables without merkle_nodes.
  ExecOnFile(Db(), "DROP TABLE merkle_nodes; PRAGMA user_version = 2;");
  {
    std::unique_ptr<Store> store = OpenSqlite(dir_.path());
    EXPECT_EQ(QueryInt(Db(), "PRAGMA user_version"), 3);
    ExpectAllNodes(*store, leaves);
    // Commits continue on the backfilled nodes (1001 completes none, 1002 one, 1004 two).
    std::vector<LeafHash> more = leaves;
    for (std::uint64_t v = 1001; v <= 1004; ++v) {
      CommitRow row{v, "b3:" + std::string(64, 'b'), "p", "2026-11-26T12:00:00.000Z", "r"};
      row.leaf_hash = crypto::Sha256("leaf " + std::to_string(v));
      more.push_back(row.leaf_hash);
      row.nodes = CompletedBy(more, v);
      ASSERT_TRUE(store->AppendCommit(row).ok()) << v;
    }
    ExpectAllNodes(*store, more);
  }
  // 1004 leaves complete 1004 - popcount(1004) = 997 interior nodes.
  EXPECT_EQ(QueryInt(Db(), "SELECT count(*) FROM merkle_nodes"), 997);
}

TEST_F(SqliteMerkleNodesTest, AnInterruptedBackfillResumes) {
  const std::vector<LeafHash> leaves = Fill(777);
  // As if the backfill had committed the nodes of versions 1 … 300 only.
  ExecOnFile(Db(), "DELETE FROM merkle_nodes WHERE (idx + 1) << level > 300;");
  ASSERT_LT(QueryInt(Db(), "SELECT count(*) FROM merkle_nodes"), 777 - 5);
  std::unique_ptr<Store> store = OpenSqlite(dir_.path());
  ExpectAllNodes(*store, leaves);
}

TEST_F(SqliteMerkleNodesTest, AMissingStoredNodeIsAnErrorNamingIt) {
  const std::vector<LeafHash> leaves = Fill(64);
  ExecOnFile(Db(), "DELETE FROM merkle_nodes WHERE level = 2 AND idx = 5;");
  std::unique_ptr<Store> store = OpenSqlite(dir_.path());
  util::Result<std::vector<MerkleNode>> got = store->ReadMerkleNodes(2, 0, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), util::ErrorCode::kInternal);
  EXPECT_NE(got.error().message().find("(2, 5)"), std::string::npos) << got.error().message();
  EXPECT_EQ(store->ReadMerkleNodes(2, 0, 5)->size(), 5u);  // the nodes before it still read
}

// --- PostgreSQL: schema 2 creates merkle_nodes and backfills it ---

void PgExec(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* r = PQexec(conn, sql.c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << sql << ": " << PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(conn);
}

TEST(PostgresMerkleNodesTest, ASchema1DatabaseIsMigratedAndBackfilledFromItsLeaves) {
  util::Result<testing::PostgresCluster*> cluster = testing::PostgresCluster::Get();
  ASSERT_TRUE(cluster.ok()) << cluster.error().message();
  util::Result<std::string> conninfo = (*cluster)->CreateDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.error().message();
  PostgresStore::Options options;
  options.conninfo = *conninfo;
  constexpr std::uint64_t kHead = 300;
  std::vector<LeafHash> leaves;
  {
    util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.error().message();
    for (std::uint64_t v = 1; v <= kHead; ++v) {
      CommitRow row{v, "b3:" + std::string(64, 'b'), "p", "2026-11-26T12:00:00.000Z", "r"};
      row.leaf_hash = crypto::Sha256("leaf " + std::to_string(v));
      leaves.push_back(row.leaf_hash);
      ASSERT_TRUE((*store)->AppendCommit(row).ok()) << v;
    }
  }
  // What a schema-1 database is: the same tables without merkle_nodes.
  PgExec(*conninfo, "DROP TABLE merkle_nodes; UPDATE svcr_meta SET schema_version = 1");
  util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.error().message();
  for (int level = 1; level <= 9; ++level) {
    util::Result<std::vector<MerkleNode>> got =
        (*store)->ReadMerkleNodes(static_cast<std::uint8_t>(level), 0, 1000);
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(*got, LevelNodes(leaves, level, kHead)) << "level " << level;
  }
  // Commits continue on the backfilled nodes.
  CommitRow next{kHead + 1, "b3:" + std::string(64, 'b'), "p", "2026-11-26T12:00:00.000Z", "r"};
  next.leaf_hash = crypto::Sha256("leaf 301");
  ASSERT_TRUE((*store)->AppendCommit(next).ok());
  CommitRow even{kHead + 2, "b3:" + std::string(64, 'b'), "p", "2026-11-26T12:00:00.000Z", "r"};
  even.leaf_hash = crypto::Sha256("leaf 302");
  leaves.push_back(next.leaf_hash);
  leaves.push_back(even.leaf_hash);
  even.nodes = CompletedBy(leaves, kHead + 2);
  ASSERT_TRUE((*store)->AppendCommit(even).ok());
}

}  // namespace
}  // namespace registry::storage
