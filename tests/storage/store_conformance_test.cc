// The Store contract (include/registry/storage/store.h), run against every backend.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <thread>

#include "registry/crypto/blake3.h"
#include "registry/storage/memory_store.h"
#include "registry/storage/sqlite_store.h"
#include "registry/storage/store.h"
#include "storage/postgres_cluster.h"
#include "storage/registry_gen.h"
#include "storage/temp_dir.h"

namespace registry::storage {
namespace {

using model::ProposalStatus;
using testing::RegistryGen;
using testing::TempDir;

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

  static ProposalRow Proposal(const std::string& suffix, std::uint64_t version) {
    ProposalRow row;
    row.proposal_id = "p_" + std::string(24 - suffix.size(), '0') + suffix;
    row.payload_b3 = "b3:" + std::string(64, 'a');
    row.canonical_payload = R"({"version":)" + std::to_string(version) + "}";
    row.version = version;
    row.created_at = 1000;
    row.expires_at = 2000;
    return row;
  }

  static model::Approval ApprovalBy(const std::string& id) {
    model::Approval a;
    a.signer_id = id;
    a.algo = "ed25519";
    a.sig.fill(0x5a);
    a.signed_at = "2026-11-26T12:00:00Z";
    a.signed_at_ms = 1'795'000'000'000;
    return a;
  }

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

}  // namespace
}  // namespace registry::storage
