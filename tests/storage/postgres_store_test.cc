// PostgresStore beyond the Store contract: several stores (instances) on one database,
// change notifications, lost connections, schema and secrets. Runs on the throwaway cluster
// of storage/postgres_cluster.h.
#include "registry/storage/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "registry/crypto/sha256.h"
#include "storage/postgres_cluster.h"

namespace registry::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::PostgresCluster;

// Runs `sql` as the cluster's superuser; returns the first column of the first row ("" when
// none).
std::string Admin(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
      << sql << ": " << PQresultErrorMessage(r);
  std::string out = (st == PGRES_TUPLES_OK && PQntuples(r) > 0) ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(conn);
  return out;
}

// Collects StoreChange reports from the listener thread; the test thread waits on them with a
// deadline (a missing report fails the test instead of hanging it).
class ChangeLog {
 public:
  void Add(const StoreChange& c) {
    std::lock_guard lock(mu_);
    changes_.push_back(c);
    cv_.notify_all();
  }
  // Waits until some report satisfies `pred`; false after 20 s.
  template <typename Pred>
  bool WaitFor(Pred pred) {
    return WaitUntil([&](const std::deque<StoreChange>& all) {
      for (const StoreChange& c : all) {
        if (pred(c)) return true;
      }
      return false;
    });
  }
  // Waits until `pred` holds for all the reports so far; false after 20 s.
  template <typename Pred>
  bool WaitUntil(Pred pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return pred(changes_); });
  }
  std::vector<StoreChange> Snapshot() {
    std::lock_guard lock(mu_);
    return std::vector<StoreChange>(changes_.begin(), changes_.end());
  }
  int Count(StoreChange::Kind kind) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const StoreChange& c : changes_) n += c.kind == kind ? 1 : 0;
    return n;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StoreChange> changes_;
};

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    util::Result<PostgresCluster*> cluster = PostgresCluster::Get();
    ASSERT_TRUE(cluster.ok()) << cluster.error().message();
    cluster_ = *cluster;
    util::Result<std::string> conninfo = cluster_->CreateDatabase();
    ASSERT_TRUE(conninfo.ok()) << conninfo.error().message();
    conninfo_ = *conninfo;
  }

  std::unique_ptr<PostgresStore> Open(PostgresStore::Options options = {}) {
    options.conninfo = conninfo_;
    options.listener_retry_interval = std::chrono::milliseconds(20);
    util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.error().message();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static CommitRow Commit(std::uint64_t version, const std::string& record) {
    CommitRow row;
    row.version = version;
    row.payload_b3 = "b3:" + std::string(64, 'b');
    row.proposal_id = "p_" + std::string(23, '0') + "z";
    row.committed_at = "2026-11-26T12:00:00.000Z";
    row.record = record;
    // The RFC 6962 leaf hash, as the registry stores it: it tells two records of one version
    // apart, which AppendCommit's in-doubt resolution relies on (two writers' records used to
    // share a made-up hash here, so a lost COMMIT could be mistaken for the other's).
    row.leaf_hash = crypto::Sha256(std::string(1, '\0') + record);
    for (std::size_t i = 0; i < row.root.size(); ++i) {
      row.root[i] = static_cast<std::uint8_t>(version * 7 + i);
    }
    return row;
  }

  static ProposalRow Proposal(const std::string& id) {
    ProposalRow row;
    row.proposal_id = id;
    row.payload_b3 = "b3:" + std::string(64, 'a');
    row.canonical_payload = R"({"version":1})";
    row.version = 1;
    row.created_at = 1000;
    row.expires_at = 2000;
    return row;
  }

  std::string AdminConnInfo() const { return cluster_->ConnInfo("postgres"); }
  std::string DbName() const { return conninfo_.substr(conninfo_.rfind('=') + 1); }

  PostgresCluster* cluster_ = nullptr;
  std::string conninfo_;
};

// Three instances race for the same versions: the database serializes them, exactly one wins
// each version, every acknowledged commit is there, and the log has no fork and no gap.
TEST_F(PostgresStoreTest, ConcurrentCommitsFromSeveralInstancesNeverFork) {
  constexpr int kInstances = 3;
  constexpr int kThreadsPerInstance = 2;
  constexpr int kWinsEach = 15;
  std::vector<std::unique_ptr<PostgresStore>> stores;
  for (int i = 0; i < kInstances; ++i) {
    stores.push_back(Open());
    ASSERT_NE(stores.back(), nullptr);
  }
  std::mutex mu;
  std::map<std::uint64_t, std::string> acknowledged;  // version → record of the winner
  std::atomic<int> mismatches{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < kInstances; ++i) {
    for (int t = 0; t < kThreadsPerInstance; ++t) {
      writers.emplace_back([&, i, t] {
        PostgresStore& store = *stores[i];
        int wins = 0;
        int attempt = 0;
        while (wins < kWinsEach && attempt < 10'000) {
          ++attempt;
          util::Result<std::uint64_t> head = store.HeadVersion();
          if (!head.ok()) {
            ++errors;
            return;
          }
          const std::string record = "instance " + std::to_string(i) + " thread " +
                                     std::to_string(t) + " attempt " + std::to_string(attempt);
          util::Status s = store.AppendCommit(Commit(*head + 1, record));
          if (s.ok()) {
            ++wins;
            std::lock_guard lock(mu);
            EXPECT_TRUE(acknowledged.emplace(*head + 1, record).second) << "fork at " << *head + 1;
          } else if (s.error().code() == util::ErrorCode::kChainMismatch) {
            ++mismatches;
          } else {
            ADD_FAILURE() << s.error().message();
            ++errors;
            return;
          }
        }
      });
    }
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(errors.load(), 0);
  constexpr std::uint64_t kTotal = kInstances * kThreadsPerInstance * kWinsEach;
  ASSERT_EQ(acknowledged.size(), kTotal);
  EXPECT_GT(mismatches.load(), 0) << "the race never happened; the test proves nothing";
  for (const auto& store : stores) EXPECT_EQ(*store->HeadVersion(), kTotal);
  // Every instance reads the same linear history: each version is its acknowledged winner.
  for (std::uint64_t v = 1; v <= kTotal; ++v) {
    for (const auto& store : stores) {
      ASSERT_EQ(**store->ReadRecord(v), acknowledged.at(v)) << v;
    }
    EXPECT_EQ((*stores[0]->ReadCommitMeta(v))->leaf_hash, Commit(v, acknowledged.at(v)).leaf_hash);
  }
  EXPECT_EQ(stores[1]->ReadLeafHashes(1, kTotal + 10)->size(), kTotal);
}

// The audit trail stays gap-free with several appenders: one wins each seq.
TEST_F(PostgresStoreTest, ConcurrentAuditAppendsAreCasOnTheTrail) {
  std::unique_ptr<PostgresStore> a = Open();
  std::unique_ptr<PostgresStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kEntries = 40;
  std::atomic<int> mismatches{0};
  auto appender = [&](PostgresStore* store, const std::string& who) {
    int mine = 0;
    while (mine < kEntries / 2) {
      util::Result<std::vector<AuditRow>> tail = store->ReadAudit(0, 1'000);
      ASSERT_TRUE(tail.ok());
      const std::uint64_t next = tail->size() + 1;
      util::Status s = store->AppendAudit({{next, who + std::to_string(next)}});
      if (s.ok()) {
        ++mine;
      } else {
        ASSERT_EQ(s.error().code(), util::ErrorCode::kChainMismatch) << s.error().message();
        ++mismatches;
      }
    }
  };
  std::thread ta(appender, a.get(), "a");
  std::thread tb(appender, b.get(), "b");
  ta.join();
  tb.join();
  std::vector<AuditRow> all = *a->ReadAudit(0, 1'000);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kEntries));
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, i + 1);
}

// A commit made through one instance reaches another instance's subscriber, in order, and so
// does a proposal change.
TEST_F(PostgresStoreTest, SubscribersHearCommitsAndProposalsFromOtherInstances) {
  std::unique_ptr<PostgresStore> listener = Open();
  std::unique_ptr<PostgresStore> writer = Open();
  ASSERT_NE(listener, nullptr);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->AppendCommit(Commit(1, "before")).ok());
  ChangeLog log;
  ASSERT_TRUE(listener->SubscribeChanges([&](const StoreChange& c) { log.Add(c); }).ok());
  // The first report is a resync with HEAD as it was.
  ASSERT_TRUE(
      log.WaitFor([](const StoreChange& c) { return c.kind == StoreChange::Kind::kResync; }));
  EXPECT_EQ(log.Snapshot().front().version, 1u);

  for (std::uint64_t v = 2; v <= 6; ++v) ASSERT_TRUE(writer->AppendCommit(Commit(v, "r")).ok());
  ASSERT_TRUE(writer->InsertProposal(Proposal("p_000000000000000000000042")).ok());
  ASSERT_TRUE(log.WaitFor([](const StoreChange& c) {
    return c.kind == StoreChange::Kind::kProposal && c.proposal_id == "p_000000000000000000000042";
  }));
  std::vector<std::uint64_t> commits;
  for (const StoreChange& c : log.Snapshot()) {
    if (c.kind == StoreChange::Kind::kCommit) commits.push_back(c.version);
  }
  EXPECT_EQ(commits, (std::vector<std::uint64_t>{2, 3, 4, 5, 6}));
  // A refused commit notifies nothing: the NOTIFY is part of the rolled-back transaction.
  EXPECT_EQ(writer->AppendCommit(Commit(3, "late")).error().code(),
            util::ErrorCode::kChainMismatch);
  ASSERT_TRUE(writer->AppendCommit(Commit(7, "r")).ok());
  ASSERT_TRUE(log.WaitFor([](const StoreChange& c) { return c.version == 7; }));
  EXPECT_EQ(log.Count(StoreChange::Kind::kCommit), 6);
}

// The listener's connection is killed: it reconnects by itself and reports a resync with a
// HEAD that covers what was committed meanwhile, so a subscriber that catches up by version
// misses nothing.
TEST_F(PostgresStoreTest, ListenerReconnectsAndResyncsAfterItsConnectionIsKilled) {
  std::unique_ptr<PostgresStore> listener = Open();
  std::unique_ptr<PostgresStore> writer = Open();
  ASSERT_NE(listener, nullptr);
  ASSERT_NE(writer, nullptr);
  ChangeLog log;
  ASSERT_TRUE(listener->SubscribeChanges([&](const StoreChange& c) { log.Add(c); }).ok());
  ASSERT_TRUE(
      log.WaitFor([](const StoreChange& c) { return c.kind == StoreChange::Kind::kResync; }));
  ASSERT_EQ(Admin(AdminConnInfo(),
                  "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                  "application_name = 'svc-registry-listener' AND datname = '" +
                      DbName() + "'"),
            "1");
  for (std::uint64_t v = 1; v <= 3; ++v) ASSERT_TRUE(writer->AppendCommit(Commit(v, "r")).ok());
  // Either the commits were heard after the reconnection, or the resync covers them; and the
  // reconnection was reported.
  ASSERT_TRUE(log.WaitFor([](const StoreChange& c) { return c.version >= 3; }));
  ASSERT_TRUE(log.WaitUntil([](const std::deque<StoreChange>& all) {
    int resyncs = 0;
    for (const StoreChange& c : all) resyncs += c.kind == StoreChange::Kind::kResync ? 1 : 0;
    return resyncs >= 2;
  })) << "the listener never reported its reconnection";
  ASSERT_TRUE(writer->AppendCommit(Commit(4, "r")).ok());
  ASSERT_TRUE(log.WaitFor(
      [](const StoreChange& c) { return c.kind == StoreChange::Kind::kCommit && c.version == 4; }));
}

// A commit that notified nothing (written behind the store's back here; in real life a lost
// notification) is still reported: the quiet listener re-reads HEAD and reports a resync.
TEST_F(PostgresStoreTest, QuietListenerNoticesAnUnannouncedCommit) {
  PostgresStore::Options options;
  options.listener_resync_interval = std::chrono::milliseconds(50);
  std::unique_ptr<PostgresStore> store = Open(options);
  ASSERT_NE(store, nullptr);
  ChangeLog log;
  ASSERT_TRUE(store->SubscribeChanges([&](const StoreChange& c) { log.Add(c); }).ok());
  Admin(cluster_->ConnInfo(DbName()),
        "BEGIN; UPDATE head SET version = 1; INSERT INTO commits VALUES (1, 'b3:x', 'p', 't', "
        "'r', decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')); COMMIT");
  ASSERT_TRUE(log.WaitFor(
      [](const StoreChange& c) { return c.kind == StoreChange::Kind::kResync && c.version == 1; }));
  EXPECT_EQ(log.Count(StoreChange::Kind::kCommit), 0);
  EXPECT_EQ(**store->ReadRecord(1), "r");
}

// The protocol a registry instance follows (docs/SCALING.md): notifications only wake a
// follower, which then reads every version after its own HEAD by version. While another
// instance commits, the follower's listener connection is killed twice; the follower still
// ends with exactly the database's history, in order, without a gap or a duplicate.
TEST_F(PostgresStoreTest, AFollowerThatCatchesUpByVersionMissesNothing) {
  std::unique_ptr<PostgresStore> follower_store = Open();
  std::unique_ptr<PostgresStore> writer = Open();
  ASSERT_NE(follower_store, nullptr);
  ASSERT_NE(writer, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  bool stop = false;
  std::vector<std::string> seen;  // records in version order, as the follower learned them
  std::atomic<int> read_errors{0};
  ASSERT_TRUE(follower_store
                  ->SubscribeChanges([&](const StoreChange&) {
                    std::lock_guard lock(mu);
                    woken = true;
                    cv.notify_all();
                  })
                  .ok());
  std::thread follower([&] {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return woken || stop; });
      if (stop && !woken) return;
      woken = false;
      lock.unlock();
      util::Result<std::uint64_t> head = follower_store->HeadVersion();
      std::vector<std::string> fresh;
      if (head.ok()) {
        for (std::uint64_t v = seen.size() + fresh.size() + 1; v <= *head; ++v) {
          util::Result<std::optional<std::string>> r = follower_store->ReadRecord(v);
          if (!r.ok() || !r->has_value()) {
            ++read_errors;
            break;
          }
          fresh.push_back(**r);
        }
      } else {
        ++read_errors;
      }
      lock.lock();
      seen.insert(seen.end(), fresh.begin(), fresh.end());
      cv.notify_all();
    }
  });
  constexpr std::uint64_t kVersions = 120;
  const std::string kill_listener =
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
      "application_name = 'svc-registry-listener' AND datname = '" +
      DbName() + "'";
  for (std::uint64_t v = 1; v <= kVersions; ++v) {
    ASSERT_TRUE(writer->AppendCommit(Commit(v, "v" + std::to_string(v))).ok()) << v;
    if (v == 40 || v == 80) Admin(AdminConnInfo(), kill_listener);
  }
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return seen.size() >= kVersions; }))
        << "the follower stopped at version " << seen.size();
    stop = true;
    cv.notify_all();
  }
  follower.join();
  EXPECT_EQ(read_errors.load(), 0);
  ASSERT_EQ(seen.size(), kVersions);
  for (std::uint64_t v = 1; v <= kVersions; ++v) EXPECT_EQ(seen[v - 1], "v" + std::to_string(v));
}

// Connections are killed again and again while two instances commit: calls may fail (500 at
// the API) but every acknowledged commit is in the log, the log stays linear, and the
// instances carry on once the killing stops. Kills that hit a COMMIT in flight exercise the
// in-doubt resolution of AppendCommit.
TEST_F(PostgresStoreTest, KilledConnectionsLoseNoAcknowledgedCommit) {
  std::unique_ptr<PostgresStore> a = Open();
  std::unique_ptr<PostgresStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::mutex mu;
  std::map<std::uint64_t, std::string> acknowledged;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto writer = [&](PostgresStore* store, const std::string& who) {
    for (int i = 0; !done.load() && i < 100'000; ++i) {
      util::Result<std::uint64_t> head = store->HeadVersion();
      if (!head.ok()) {
        ++failures;
        continue;
      }
      const std::string record = who + std::to_string(i);
      util::Status s = store->AppendCommit(Commit(*head + 1, record));
      if (s.ok()) {
        std::lock_guard lock(mu);
        EXPECT_TRUE(acknowledged.emplace(*head + 1, record).second) << "fork at " << *head + 1;
      } else if (s.error().code() != util::ErrorCode::kChainMismatch) {
        ++failures;
      }
    }
  };
  std::thread ta(writer, a.get(), "a");
  std::thread tb(writer, b.get(), "b");
  const std::string kill =
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
      "application_name = 'svc-registry' AND datname = '" +
      DbName() + "'";
  for (int k = 0; k < 60; ++k) Admin(AdminConnInfo(), kill);
  done = true;
  ta.join();
  tb.join();
  // Both instances work again, and both see every acknowledged commit.
  const std::uint64_t head = *a->HeadVersion();
  ASSERT_TRUE(b->AppendCommit(Commit(head + 1, "after")).ok());
  for (const auto& [v, record] : acknowledged) {
    ASSERT_EQ(**a->ReadRecord(v), record) << v;
    ASSERT_EQ(**b->ReadRecord(v), record) << v;
  }
  EXPECT_EQ(b->ReadLeafHashes(1, head + 10)->size(), head + 1);  // no gap
  EXPECT_GT(acknowledged.size(), 0u);
  std::cout << "acknowledged " << acknowledged.size() << " of " << head
            << " versions, failed calls " << failures.load() << "\n";
}

// The server drops every connection (a restart, a failover): the pooled connections are dead,
// yet the next calls succeed on new ones and nothing committed is lost.
TEST_F(PostgresStoreTest, DeadPooledConnectionsAreReplaced) {
  std::unique_ptr<PostgresStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AppendCommit(Commit(1, "one")).ok());
  ASSERT_TRUE(store->InsertProposal(Proposal("p_000000000000000000000001")).ok());
  Admin(AdminConnInfo(),
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
            DbName() + "' AND pid <> pg_backend_pid()");
  EXPECT_EQ(*store->HeadVersion(), 1u);  // a read on a new connection
  Admin(AdminConnInfo(),
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
            DbName() + "' AND pid <> pg_backend_pid()");
  ASSERT_TRUE(store->AppendCommit(Commit(2, "two")).ok());  // a write: BEGIN is retried
  EXPECT_EQ(**store->ReadRecord(1), "one");
  EXPECT_EQ(**store->ReadRecord(2), "two");
  EXPECT_EQ(store->LoadPendingProposals()->size(), 1u);
}

// Two instances accept the same signer's approval: the second is a duplicate (409), not a
// fault, and the proposal keeps one approval from that signer.
TEST_F(PostgresStoreTest, SecondApprovalOfOneSignerIsADuplicate) {
  std::unique_ptr<PostgresStore> a = Open();
  std::unique_ptr<PostgresStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->InsertProposal(Proposal("p_000000000000000000000007")).ok());
  model::Approval approval;
  approval.signer_id = "org:a#k1";
  approval.algo = "ed25519";
  approval.sig.fill(1);
  approval.signed_at = "2026-11-26T12:00:00Z";
  approval.signed_at_ms = 1;
  ASSERT_TRUE(a->InsertApproval("p_000000000000000000000007", approval).ok());
  util::Status again = b->InsertApproval("p_000000000000000000000007", approval);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), util::ErrorCode::kDuplicateApproval);
  EXPECT_EQ(b->LoadApprovals("p_000000000000000000000007")->size(), 1u);
}

// Everything survives closing and reopening; the schema is created once.
TEST_F(PostgresStoreTest, ReopenKeepsEverything) {
  {
    std::unique_ptr<PostgresStore> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->AppendCommit(Commit(1, std::string("a\0b", 3))).ok());
    ASSERT_TRUE(store->AppendAudit({{1, "{}"}}).ok());
    ASSERT_TRUE(store->WriteCheckpoint(CheckpointRow{1, "b3:x", "t", "{}", {LeafHash{}}, 5}).ok());
  }
  std::unique_ptr<PostgresStore> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->HeadVersion(), 1u);
  EXPECT_EQ(**store->ReadRecord(1), std::string("a\0b", 3));
  EXPECT_EQ(store->ReadAudit(0, 10)->size(), 1u);
  EXPECT_EQ((*store->LoadCheckpoint())->written_at, 5);
  EXPECT_EQ(Admin(cluster_->ConnInfo(DbName()), "SELECT schema_version FROM svcr_meta"),
            std::to_string(PostgresStore::kSchemaVersion));
}

// A database written by a newer binary, or by another application, is refused.
TEST_F(PostgresStoreTest, RefusesANewerSchemaAndForeignDatabases) {
  ASSERT_NE(Open(), nullptr);
  Admin(cluster_->ConnInfo(DbName()), "UPDATE svcr_meta SET schema_version = 99");
  PostgresStore::Options options;
  options.conninfo = conninfo_;
  util::Result<std::unique_ptr<PostgresStore>> newer = PostgresStore::Open(options);
  ASSERT_FALSE(newer.ok());
  EXPECT_THAT(newer.error().message(), HasSubstr("schema version 99"));
  Admin(cluster_->ConnInfo(DbName()),
        "UPDATE svcr_meta SET schema_version = 1, application = 'other'");
  util::Result<std::unique_ptr<PostgresStore>> foreign = PostgresStore::Open(options);
  ASSERT_FALSE(foreign.ok());
  EXPECT_THAT(foreign.error().message(), HasSubstr("another application"));
}

// The connection string may hold a password: no error repeats it.
TEST_F(PostgresStoreTest, ErrorsNeverContainTheConnectionString) {
  PostgresStore::Options options;
  options.conninfo = cluster_->TcpConnInfo("no_such_db") + " password=s3cr3t-pw";
  util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), util::ErrorCode::kInternal);
  EXPECT_THAT(store.error().message(), HasSubstr("no_such_db"));  // libpq names the database
  EXPECT_THAT(store.error().message(), Not(HasSubstr("s3cr3t-pw")));
  options.conninfo = "postgresql://svcr:s3cr3t-pw@127.0.0.1:1/x?connect_timeout=2";
  store = PostgresStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message(), Not(HasSubstr("s3cr3t-pw")));
}

// Instances starting together on an empty database create the schema once.
TEST_F(PostgresStoreTest, InstancesStartingTogetherCreateTheSchemaOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      PostgresStore::Options options;
      options.conninfo = conninfo_;
      util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
      EXPECT_TRUE(store.ok()) << store.error().message();
      if (store.ok()) ++opened;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(opened.load(), 4);
}

}  // namespace
}  // namespace registry::storage
