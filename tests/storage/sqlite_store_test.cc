// SqliteStore beyond the common contract: persistence across reopen, the data directory
// rules, schema versioning, group commit, batch isolation, record reconstruction across
// keyframes, tamper detection, and growth with change.
#include "registry/storage/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <future>
#include <thread>

#include "registry/crypto/blake3.h"
#include "storage/registry_gen.h"
#include "storage/temp_dir.h"

namespace registry::storage {
namespace {

using model::ProposalStatus;
using testing::RegistryGen;
using testing::TempDir;
using util::ErrorCode;

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteStore::Options Options() const {
    SqliteStore::Options options;
    options.data_dir = dir_.Sub("data");
    return options;
  }

  std::unique_ptr<SqliteStore> OpenOrDie(const SqliteStore::Options& options) {
    util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.error().message();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static ProposalRow Proposal(const std::string& suffix, std::uint64_t version,
                              std::string payload = "{}") {
    ProposalRow row;
    row.proposal_id = "p_" + std::string(24 - suffix.size(), '0') + suffix;
    row.canonical_payload = std::move(payload);
    row.payload_b3 = crypto::PayloadB3(row.canonical_payload);
    row.version = version;
    row.created_at = 1000 + static_cast<std::int64_t>(version);
    row.expires_at = 2000;
    return row;
  }

  static model::Approval ApprovalBy(const std::string& id, std::uint8_t fill = 0x5a) {
    model::Approval a;
    a.signer_id = id;
    a.algo = "ed25519";
    a.sig.fill(fill);
    a.signed_at = "2026-11-26T12:00:00Z";
    a.signed_at_ms = 1'795'000'000'000;
    return a;
  }

  static CommitRow Commit(std::uint64_t version, const std::string& proposal_id,
                          std::string record) {
    CommitRow row{version, "b3:" + std::string(64, 'c'), proposal_id, "2026-11-26T12:00:00.000Z",
                  std::move(record)};
    row.leaf_hash.fill(static_cast<std::uint8_t>(version));
    return row;
  }

  static std::uint64_t Pragma(const std::string& db, const std::string& sql) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    std::uint64_t v = 0;
    if (sqlite3_step(stmt) == SQLITE_ROW)
      v = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
    return v;
  }

  static void ExecRaw(const std::string& db, const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
  }

  std::string DbPath() const { return dir_.Sub("data") + "/" + SqliteStore::kDatabaseFile; }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, CreatesAPrivateDataDirectoryAndOneDatabaseFile) {
  SqliteStore::Options options = Options();
  options.data_dir = dir_.Sub("a/b/data");
  std::unique_ptr<SqliteStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(options.data_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((options.data_dir + "/registry.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
  EXPECT_GT(store->SizeBytes(), 0u);
}

TEST_F(SqliteStoreTest, RefusesADataDirectoryOthersCanAccess) {
  const std::string data = dir_.Sub("open");
  ASSERT_EQ(::mkdir(data.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(data.c_str(), 0750), 0);
  SqliteStore::Options options = Options();
  options.data_dir = data;
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kInternal);
  EXPECT_NE(store.error().message().find("0750"), std::string::npos) << store.error().message();
  EXPECT_NE(store.error().message().find("chmod 700"), std::string::npos);
}

TEST_F(SqliteStoreTest, RefusesASecondOpenOfTheSameDirectory) {
  std::unique_ptr<SqliteStore> first = OpenOrDie(Options());
  util::Result<std::unique_ptr<SqliteStore>> second = SqliteStore::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("in use"), std::string::npos);
  first.reset();
  EXPECT_NE(OpenOrDie(Options()), nullptr);  // the lock went with the first store
}

TEST_F(SqliteStoreTest, UsesWalAndStampsTheSchemaVersion) {
  OpenOrDie(Options()).reset();
  EXPECT_EQ(Pragma(DbPath(), "PRAGMA user_version"),
            static_cast<std::uint64_t>(SqliteStore::kSchemaVersion));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST_F(SqliteStoreTest, RefusesANewerSchema) {
  OpenOrDie(Options()).reset();
  ExecRaw(DbPath(), "PRAGMA user_version=" + std::to_string(SqliteStore::kSchemaVersion + 1));
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(Options());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message().find("newer than this binary"), std::string::npos)
      << store.error().message();
}

TEST_F(SqliteStoreTest, RefusesAnotherApplicationsDatabase) {
  ASSERT_EQ(::mkdir(dir_.Sub("data").c_str(), 0700), 0);
  ExecRaw(DbPath(), "PRAGMA application_id=42; CREATE TABLE t(x)");
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(Options());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message().find("not a svc-registry store"), std::string::npos);
}

TEST_F(SqliteStoreTest, ReopenKeepsHeadRecordsProposalsAndApprovals) {
  RegistryGen gen(21, 400);
  std::vector<std::string> records;
  std::vector<ProposalRow> proposals;
  {
    SqliteStore::Options options = Options();
    options.keyframe_interval = 4;
    std::unique_ptr<SqliteStore> store = OpenOrDie(options);
    for (std::uint64_t v = 1; v <= 10; ++v) {
      gen.Evolve(3);
      ProposalRow p = Proposal(std::to_string(v), v, gen.CanonicalPayload(v));
      ASSERT_TRUE(store->InsertProposal(p).ok());
      ASSERT_TRUE(store->InsertApproval(p.proposal_id, ApprovalBy("org:a#k1", 1)).ok());
      records.push_back(gen.Record(v, p.canonical_payload));
      ASSERT_TRUE(store->AppendCommit(Commit(v, p.proposal_id, records.back())).ok());
      proposals.push_back(p);
    }
    gen.Evolve(2);
    ProposalRow pending = Proposal("pending", 11, gen.CanonicalPayload(11));
    ASSERT_TRUE(store->InsertProposal(pending).ok());
    ASSERT_TRUE(store->InsertApproval(pending.proposal_id, ApprovalBy("org:b#k1", 2)).ok());
    ASSERT_TRUE(store->InsertApproval(pending.proposal_id, ApprovalBy("org:a#k1", 3)).ok());
    proposals.push_back(pending);
    ProposalRow expired = Proposal("expired", 11, "{\"x\":1}");
    ASSERT_TRUE(store->InsertProposal(expired).ok());
    ASSERT_TRUE(store->SetProposalStatus(expired.proposal_id, ProposalStatus::kExpired).ok());
    CheckpointRow checkpoint{9, "b3:" + std::string(64, '9'), "t", "{}", {LeafHash{}}, 99};
    ASSERT_TRUE(store->WriteCheckpoint(checkpoint).ok());
    ASSERT_TRUE(store->AppendAudit({{1, "a"}, {2, "b"}}).ok());
  }
  SqliteStore::Options options = Options();
  options.keyframe_interval = 4;
  options.cache_bytes = 0;  // every read goes to the file
  std::unique_ptr<SqliteStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->HeadVersion(), 10u);
  for (std::uint64_t v = 1; v <= 10; ++v) {
    EXPECT_EQ(**store->ReadRecord(v), records[v - 1]) << v;
    std::optional<CommitMeta> meta = *store->ReadCommitMeta(v);
    ASSERT_TRUE(meta.has_value());
    EXPECT_EQ(meta->proposal_id, proposals[v - 1].proposal_id);
    EXPECT_EQ(meta->leaf_hash, Commit(v, "", "").leaf_hash);
    std::optional<ProposalRow> p = *store->GetProposal(proposals[v - 1].proposal_id);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->status, ProposalStatus::kCommitted);
    EXPECT_EQ(p->canonical_payload, proposals[v - 1].canonical_payload);
  }
  std::vector<ProposalRow> pending = *store->LoadPendingProposals();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].proposal_id, proposals.back().proposal_id);
  EXPECT_EQ(pending[0].canonical_payload, proposals.back().canonical_payload);
  EXPECT_EQ(pending[0].created_at, proposals.back().created_at);
  EXPECT_EQ(*store->LoadApprovals(pending[0].proposal_id),
            (std::vector<model::Approval>{ApprovalBy("org:b#k1", 2), ApprovalBy("org:a#k1", 3)}));
  EXPECT_EQ((*store->GetProposal(Proposal("expired", 11).proposal_id))->status,
            ProposalStatus::kExpired);
  std::optional<CheckpointRow> checkpoint = *store->LoadCheckpoint();
  ASSERT_TRUE(checkpoint.has_value());
  EXPECT_EQ(checkpoint->version, 9u);
  EXPECT_EQ(checkpoint->frontier.size(), 1u);
  EXPECT_EQ(store->ReadAudit(0, 10)->size(), 2u);
  EXPECT_EQ(store->AppendAudit({{2, "dup"}}).error().code(), ErrorCode::kChainMismatch);

  // The writer picks up from the stored HEAD: the CAS and the delta chain continue.
  EXPECT_EQ(store->AppendCommit(Commit(10, "x", "again")).error().code(),
            ErrorCode::kChainMismatch);
  records.push_back(gen.Record(11, proposals.back().canonical_payload));
  ASSERT_TRUE(store->AppendCommit(Commit(11, proposals.back().proposal_id, records.back())).ok());
  EXPECT_EQ(**store->ReadRecord(11), records.back());
  EXPECT_TRUE(store->LoadPendingProposals()->empty());
}

// Retention survives a reopen, and the versions after the anchor still reassemble although
// their delta chains and dictionaries start in pruned versions.
TEST_F(SqliteStoreTest, PruningPersistsAndLaterVersionsStillReadBack) {
  RegistryGen gen(7, 300);
  std::vector<std::string> records;
  SqliteStore::Options options = Options();
  options.keyframe_interval = 4;
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(options);
    for (std::uint64_t v = 1; v <= 10; ++v) {
      gen.Evolve(3);
      ProposalRow p = Proposal(std::to_string(v), v, gen.CanonicalPayload(v));
      ASSERT_TRUE(store->InsertProposal(p).ok());
      records.push_back(gen.Record(v, p.canonical_payload));
      ASSERT_TRUE(store->AppendCommit(Commit(v, p.proposal_id, records.back())).ok());
    }
    CheckpointRow anchor{6, "b3:" + std::string(64, '6'), "t6", "{}", {LeafHash{}}, 66};
    ASSERT_TRUE(store->PruneThrough(anchor).ok());
  }
  options.cache_bytes = 0;  // every read goes to the file
  std::unique_ptr<SqliteStore> store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  for (std::uint64_t v = 1; v <= 6; ++v) {
    EXPECT_EQ(store->ReadRecord(v).error().code(), ErrorCode::kPruned) << v;
  }
  for (std::uint64_t v = 7; v <= 10; ++v) EXPECT_EQ(**store->ReadRecord(v), records[v - 1]) << v;
  EXPECT_EQ((*store->LoadPruneAnchor())->written_at, 66);
  gen.Evolve(1);
  ProposalRow p = Proposal("11", 11, gen.CanonicalPayload(11));
  ASSERT_TRUE(store->InsertProposal(p).ok());
  records.push_back(gen.Record(11, p.canonical_payload));
  ASSERT_TRUE(store->AppendCommit(Commit(11, p.proposal_id, records.back())).ok());
  EXPECT_EQ(**store->ReadRecord(11), records.back());
}

// A schema-1 database (before retention) migrates in place to the current schema.
TEST_F(SqliteStoreTest, MigratesASchemaOneDatabase) {
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
    ASSERT_TRUE(store->AppendCommit(Commit(1, "p", "one")).ok());
    ASSERT_TRUE(store->AppendCommit(Commit(2, "p", "two")).ok());
  }
  ExecRaw(DbPath(), "DROP TABLE prune_anchor; PRAGMA user_version=1;");
  ASSERT_EQ(Pragma(DbPath(), "PRAGMA user_version"), 1u);
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Pragma(DbPath(), "PRAGMA user_version"),
            static_cast<std::uint64_t>(SqliteStore::kSchemaVersion));
  EXPECT_EQ(**store->ReadRecord(2), "two");
  EXPECT_FALSE(store->LoadPruneAnchor()->has_value());
  CheckpointRow anchor{1, "b3:" + std::string(64, '1'), "t1", "{}", {LeafHash{}}, 1};
  ASSERT_TRUE(store->PruneThrough(anchor).ok());
  EXPECT_EQ(store->ReadRecord(1).error().code(), ErrorCode::kPruned);
}

// Random registries evolving version to version (insertions, deletions, modifications,
// moves, big reorders, large meta, tricky strings): every version reads back exactly, warm,
// cold, and after reopening, across many keyframe boundaries.
TEST_F(SqliteStoreTest, RecordsReassembleExactlyAcrossKeyframes) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    TempDir dir;
    SqliteStore::Options options;
    options.data_dir = dir.Sub("data");
    options.fsync = false;
    options.keyframe_interval = 5;
    RegistryGen gen(seed, 120);
    std::vector<std::string> records;
    {
      std::unique_ptr<SqliteStore> store = OpenOrDie(options);
      for (std::uint64_t v = 1; v <= 40; ++v) {
        if (v % 13 == 0) gen.Rotate();
        gen.Evolve(static_cast<int>(v % 7));
        records.push_back(gen.Record(v, gen.CanonicalPayload(v)));
        ASSERT_TRUE(store->AppendCommit(Commit(v, "p", records.back())).ok());
        ASSERT_EQ(**store->ReadRecord(v), records.back()) << "seed " << seed << " v " << v;
      }
      for (std::uint64_t v = 1; v <= 40; ++v) {
        ASSERT_EQ(**store->ReadRecord(v), records[v - 1]) << "seed " << seed << " v " << v;
      }
    }
    options.cache_bytes = 0;
    std::unique_ptr<SqliteStore> store = OpenOrDie(options);
    for (std::uint64_t v : {40u, 1u, 5u, 6u, 9u, 10u, 11u, 26u, 39u}) {
      ASSERT_EQ(**store->ReadRecord(v), records[v - 1]) << "seed " << seed << " v " << v;
    }
  }
}

TEST_F(SqliteStoreTest, ConcurrentApprovalsShareTransactions) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(store->InsertProposal(Proposal("t" + std::to_string(t), 1)).ok());
  }
  const SqliteStore::Stats before = store->GetStats();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = Proposal("t" + std::to_string(t), 1).proposal_id;
      for (int i = 0; i < kPerThread; ++i) {
        if (!store->InsertApproval(id, ApprovalBy("org:s" + std::to_string(i) + "#k1")).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(store->LoadApprovals(Proposal("t" + std::to_string(t), 1).proposal_id)->size(),
              static_cast<std::size_t>(kPerThread));
  }
  const SqliteStore::Stats after = store->GetStats();
  EXPECT_EQ(after.operations - before.operations, std::uint64_t{kThreads * kPerThread});
  EXPECT_LE(after.transactions - before.transactions, after.operations - before.operations);
}

// Deterministic batching: with the writer paused, N calls queue up and then commit in one
// transaction (one fsync).
TEST_F(SqliteStoreTest, QueuedCallsCommitInOneTransaction) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_TRUE(store->InsertProposal(Proposal("g", 1)).ok());
  const std::string id = Proposal("g", 1).proposal_id;
  const SqliteStore::Stats before = store->GetStats();
  constexpr int kCalls = 8;
  store->PauseWriterForTesting();
  std::vector<std::future<util::Status>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      return store->InsertApproval(id, ApprovalBy("org:s" + std::to_string(i) + "#k1"));
    }));
  }
  store->WaitForQueuedForTesting(kCalls);
  store->ResumeWriterForTesting();
  for (auto& c : calls) EXPECT_TRUE(c.get().ok());
  const SqliteStore::Stats after = store->GetStats();
  EXPECT_EQ(after.transactions - before.transactions, 1u);
  EXPECT_EQ(after.operations - before.operations, std::uint64_t{kCalls});
  EXPECT_GE(after.largest_batch, std::uint64_t{kCalls});
  EXPECT_EQ(store->LoadApprovals(id)->size(), std::size_t{kCalls});
}

TEST_F(SqliteStoreTest, WithoutGroupCommitEachCallIsItsOwnTransaction) {
  SqliteStore::Options options = Options();
  options.group_commit = false;
  std::unique_ptr<SqliteStore> store = OpenOrDie(options);
  ASSERT_TRUE(store->InsertProposal(Proposal("g", 1)).ok());
  const std::string id = Proposal("g", 1).proposal_id;
  const SqliteStore::Stats before = store->GetStats();
  store->PauseWriterForTesting();
  std::vector<std::future<util::Status>> calls;
  for (int i = 0; i < 4; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      return store->InsertApproval(id, ApprovalBy("org:s" + std::to_string(i) + "#k1"));
    }));
  }
  store->WaitForQueuedForTesting(4);
  store->ResumeWriterForTesting();
  for (auto& c : calls) EXPECT_TRUE(c.get().ok());
  EXPECT_EQ(store->GetStats().transactions - before.transactions, 4u);
}

// Two commits of the same version in one batch: exactly one wins; a failing call next to
// good ones fails alone.
TEST_F(SqliteStoreTest, AFailingCallInABatchDoesNotAffectTheOthers) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  RegistryGen gen(9, 50);
  ProposalRow a = Proposal("a", 1, gen.CanonicalPayload(1));
  gen.Evolve(2);
  ProposalRow b = Proposal("b", 1, gen.CanonicalPayload(1));
  ASSERT_TRUE(store->InsertProposal(a).ok());
  ASSERT_TRUE(store->InsertProposal(b).ok());
  const CommitRow ca = Commit(1, a.proposal_id, gen.Record(1, a.canonical_payload));
  const CommitRow cb = Commit(1, b.proposal_id, gen.Record(1, b.canonical_payload));
  const ProposalRow fresh = Proposal("c", 2, gen.CanonicalPayload(2));

  const SqliteStore::Stats before = store->GetStats();
  store->PauseWriterForTesting();
  auto first = std::async(std::launch::async, [&] { return store->AppendCommit(ca); });
  auto second = std::async(std::launch::async, [&] { return store->AppendCommit(cb); });
  auto orphan = std::async(std::launch::async, [&] {
    return store->InsertApproval("p_000000000000000000000404", ApprovalBy("org:x#k1"));
  });
  auto good = std::async(std::launch::async, [&] { return store->InsertProposal(fresh); });
  store->WaitForQueuedForTesting(4);
  store->ResumeWriterForTesting();
  util::Status s1 = first.get();
  util::Status s2 = second.get();
  util::Status s3 = orphan.get();
  util::Status s4 = good.get();
  EXPECT_EQ(store->GetStats().transactions - before.transactions, 1u);

  ASSERT_NE(s1.ok(), s2.ok());
  const util::Status& loser = s1.ok() ? s2 : s1;
  EXPECT_EQ(loser.error().code(), ErrorCode::kChainMismatch);
  const CommitRow& winner = s1.ok() ? ca : cb;
  EXPECT_EQ(*store->HeadVersion(), 1u);
  EXPECT_EQ(**store->ReadRecord(1), winner.record);
  EXPECT_EQ((*store->ReadCommitMeta(1))->proposal_id, winner.proposal_id);
  EXPECT_EQ((*store->GetProposal(winner.proposal_id))->status, ProposalStatus::kCommitted);
  const std::string& other = s1.ok() ? b.proposal_id : a.proposal_id;
  EXPECT_EQ((*store->GetProposal(other))->status, ProposalStatus::kPending);

  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code(), ErrorCode::kInternal);
  EXPECT_NE(s3.error().message().find("InsertApproval"), std::string::npos) << s3.error().message();
  ASSERT_TRUE(s4.ok()) << s4.error().message();
  EXPECT_EQ((*store->GetProposal(fresh.proposal_id))->canonical_payload, fresh.canonical_payload);
}

TEST_F(SqliteStoreTest, FailedCallsNameTheOperation) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  ASSERT_TRUE(store->InsertProposal(Proposal("a", 1)).ok());
  util::Status dup = store->InsertProposal(Proposal("a", 1));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("InsertProposal(p_"), std::string::npos);
  util::Status status = store->SetProposalStatus("p_nope", ProposalStatus::kStale);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("SetProposalStatus(p_nope"), std::string::npos);
  // A duplicate approval of one signer is refused by the schema.
  ASSERT_TRUE(store->InsertApproval(Proposal("a", 1).proposal_id, ApprovalBy("org:x#k1")).ok());
  util::Status again = store->InsertApproval(Proposal("a", 1).proposal_id, ApprovalBy("org:x#k1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kInternal);
  EXPECT_EQ(store->LoadApprovals(Proposal("a", 1).proposal_id)->size(), 1u);
}

// A byte changed in the file under a version's descriptors makes that version's read fail
// loudly, naming it, instead of returning other bytes.
TEST_F(SqliteStoreTest, TamperedDescriptorFailsTheReadOfItsVersion) {
  RegistryGen gen(4, 30);
  std::string record = gen.Record(1, gen.CanonicalPayload(1));
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
    ASSERT_TRUE(store->AppendCommit(Commit(1, "p", record)).ok());
  }
  ExecRaw(DbPath(),
          "UPDATE descriptors SET bytes = CAST(replace(CAST(bytes AS TEXT), 'node', 'nodf') AS "
          "BLOB) WHERE id = 7");
  std::unique_ptr<SqliteStore> store = OpenOrDie(Options());
  util::Result<std::optional<std::string>> got = store->ReadRecord(1);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kInternal);
  EXPECT_NE(got.error().message().find("ReadRecord(1)"), std::string::npos);
  EXPECT_NE(got.error().message().find("BLAKE3"), std::string::npos) << got.error().message();
}

// A version that changes a few descriptors costs far less than a snapshot.
TEST_F(SqliteStoreTest, StorageGrowsWithChangeNotWithSize) {
  SqliteStore::Options options = Options();
  options.fsync = false;
  std::unique_ptr<SqliteStore> store = OpenOrDie(options);
  testing::GenOptions gen_options;
  gen_options.tricky_strings = false;
  gen_options.large_meta_percent = 0;
  RegistryGen gen(8, 3000, gen_options);
  std::size_t snapshot = 0;
  constexpr std::uint64_t kVersions = 60;
  for (std::uint64_t v = 1; v <= kVersions; ++v) {
    gen.Evolve(3);
    const std::string payload = gen.CanonicalPayload(v);
    snapshot = payload.size();
    ProposalRow p = Proposal(std::to_string(v), v, payload);
    ASSERT_TRUE(store->InsertProposal(p).ok());
    ASSERT_TRUE(store->AppendCommit(Commit(v, p.proposal_id, gen.Record(v, payload))).ok());
  }
  store.reset();  // closing checkpoints the WAL into the database file
  struct stat st {};
  ASSERT_EQ(::stat(DbPath().c_str(), &st), 0);
  const std::uint64_t bytes = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t budget = 2 * snapshot + 1024 * kVersions;
  EXPECT_LE(bytes, budget) << "store " << bytes << " B, snapshot " << snapshot << " B";
  // Storing every version whole would need kVersions × snapshot.
  EXPECT_LT(bytes * 10, kVersions * snapshot);
}

}  // namespace
}  // namespace registry::storage
