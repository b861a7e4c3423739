// SqliteStore retention reclaims bytes (src/storage/sqlite_reclaim.h): after PruneThrough,
// the pruned versions' item lists, frames, descriptors only they used, and the payloads and
// approvals of ended proposals are gone from the file, while every kept version, every
// pending proposal, the commit metadata and leaf hashes read back exactly, before and after
// reopening, and later commits keep working. Each store is compared with an unpruned twin
// that holds the same history.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <set>

#include "registry/crypto/blake3.h"
#include "registry/storage/sqlite_store.h"
#include "sqlite_item_split.h"
#include "storage/registry_gen.h"
#include "storage/temp_dir.h"

namespace registry::storage {
namespace {

using model::ProposalStatus;
using testing::RegistryGen;
using testing::TempDir;
using util::ErrorCode;

// One proposal of the scripted history and what the test expects of it.
struct ProposalCase {
  ProposalRow row;
  int approvals = 0;
};

std::string ProposalId(const std::string& tag) {
  return "p_" + std::string(24 - tag.size(), '0') + tag;
}

ProposalRow MakeProposal(const std::string& tag, std::uint64_t version, std::string payload) {
  ProposalRow row;
  row.proposal_id = ProposalId(tag);
  row.canonical_payload = std::move(payload);
  row.payload_b3 = crypto::PayloadB3(row.canonical_payload);
  row.version = version;
  row.created_at = 1000 + static_cast<std::int64_t>(version);
  row.expires_at = 5000 + static_cast<std::int64_t>(version);
  return row;
}

model::Approval ApprovalBy(const std::string& id, std::uint8_t fill) {
  model::Approval a;
  a.signer_id = id;
  a.algo = "ed25519";
  a.sig.fill(fill);
  a.signed_at = "2026-11-26T12:00:00Z";
  a.signed_at_ms = 1'795'000'000'000;
  return a;
}

CommitRow MakeCommit(std::uint64_t version, const std::string& proposal_id, std::string record) {
  CommitRow row;
  row.version = version;
  row.payload_b3 = "b3:" + std::string(64, 'c');
  row.proposal_id = proposal_id;
  row.committed_at = "2026-11-26T12:00:" + std::to_string(version % 60) + ".000Z";
  row.record = std::move(record);
  row.leaf_hash.fill(static_cast<std::uint8_t>(version));
  row.leaf_hash[0] = static_cast<std::uint8_t>(version >> 8);
  row.root.fill(static_cast<std::uint8_t>(version * 7));
  return row;
}

CheckpointRow Anchor(std::uint64_t version) {
  CheckpointRow a;
  a.version = version;
  a.payload_b3 = "b3:" + std::string(64, 'a');
  a.committed_at = "t" + std::to_string(version);
  a.governance = "{}";
  a.frontier = {LeafHash{}};
  a.written_at = static_cast<std::int64_t>(version);
  return a;
}

// A raw read-only connection to the database file (WAL: it sees the last commit).
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  std::int64_t Int(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::int64_t v = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string v;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(stmt, 0);
      if (t != nullptr) v = reinterpret_cast<const char*>(t);
    }
    sqlite3_finalize(stmt);
    return v;
  }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err != nullptr ? err : "");
    sqlite3_free(err);
  }
  // Where the bytes are, per table and index (dbstat): pages, bytes of rows, unused bytes.
  void Print(const char* when) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_,
                                 "SELECT name, count(*), sum(payload), sum(unused) FROM dbstat "
                                 "GROUP BY name ORDER BY sum(pgsize) DESC",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::printf("%s: %-28s pages %6lld, row bytes %9lld, unused %8lld\n", when,
                  reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                  static_cast<long long>(sqlite3_column_int64(stmt, 1)),
                  static_cast<long long>(sqlite3_column_int64(stmt, 2)),
                  static_cast<long long>(sqlite3_column_int64(stmt, 3)));
    }
    sqlite3_finalize(stmt);
  }
  // Pages in use: the file's pages minus the free list.
  std::int64_t UsedPages() { return Int("PRAGMA page_count") - Int("PRAGMA freelist_count"); }

 private:
  sqlite3* db_ = nullptr;
};

std::uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

class SqliteReclaimTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kVersions = 200;
  static constexpr int kItems = 2000;
  static constexpr std::uint32_t kKeyframeInterval = 8;

  SqliteStore::Options OptionsFor(const std::string& name) const {
    SqliteStore::Options options;
    options.data_dir = dir_.Sub(name);
    options.fsync = false;
    options.keyframe_interval = kKeyframeInterval;
    return options;
  }
  std::string DbPath(const std::string& name) const {
    return dir_.Sub(name) + "/" + SqliteStore::kDatabaseFile;
  }

  static std::unique_ptr<SqliteStore> OpenOrDie(const SqliteStore::Options& options) {
    util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.error().message();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // The store that gets pruned and its unpruned twin, both fresh.
  void OpenBoth() {
    pruned_ = OpenOrDie(OptionsFor("pruned"));
    twin_ = OpenOrDie(OptionsFor("twin"));
    ASSERT_NE(pruned_, nullptr);
    ASSERT_NE(twin_, nullptr);
  }

  // The same call on both stores, which must both succeed.
  template <typename F>
  void Both(F&& f) {
    util::Status a = f(*pruned_);
    util::Status b = f(*twin_);
    ASSERT_TRUE(a.ok()) << a.error().message();
    ASSERT_TRUE(b.ok()) << b.error().message();
  }

  // Versions from+1 .. to: each one committed through its proposal with two approvals;
  // around them, proposals that stay pending, expire or go stale, some with descriptors
  // nobody commits.
  void Grow(std::uint64_t to) {
    for (std::uint64_t v = records_.size() + 1; v <= to; ++v) {
      if (v % 17 == 0) gen_.Rotate();
      gen_.Evolve(3);
      ProposalRow p = MakeProposal(std::to_string(v), v, gen_.CanonicalPayload(v));
      Both([&](SqliteStore& s) { return s.InsertProposal(p); });
      for (int k = 0; k < 2; ++k) {
        const model::Approval a =
            ApprovalBy(k == 0 ? "org:alpha#k1" : "org:beta#k1", static_cast<std::uint8_t>(v + k));
        Both([&](SqliteStore& s) { return s.InsertApproval(p.proposal_id, a); });
      }
      if (v % 5 == 0) {
        // A rival proposal of the same version with descriptors of its own; it ends as
        // expired, stale, or stays pending (stale in the registry's eyes, but the store
        // must still serve it).
        RegistryGen rival = gen_;
        rival.Evolve(4);
        ProposalRow r = MakeProposal("r" + std::to_string(v), v, rival.CanonicalPayload(v));
        Both([&](SqliteStore& s) { return s.InsertProposal(r); });
        const model::Approval a = ApprovalBy("org:alpha#k1", static_cast<std::uint8_t>(v));
        Both([&](SqliteStore& s) { return s.InsertApproval(r.proposal_id, a); });
        const ProposalStatus end = v % 3 == 0   ? ProposalStatus::kExpired
                                   : v % 3 == 1 ? ProposalStatus::kStale
                                                : ProposalStatus::kPending;
        if (end != ProposalStatus::kPending) {
          Both([&](SqliteStore& s) { return s.SetProposalStatus(r.proposal_id, end); });
        }
        r.status = end;
        proposals_.push_back(std::move(r));
      }
      records_.push_back(gen_.Record(v, p.canonical_payload));
      CommitRow c = MakeCommit(v, p.proposal_id, records_.back());
      Both([&](SqliteStore& s) { return s.AppendCommit(c); });
      p.status = ProposalStatus::kCommitted;
      proposals_.push_back(std::move(p));
    }
  }

  util::Status Prune(std::uint64_t through) {
    const auto start = std::chrono::steady_clock::now();
    util::Status s = pruned_->PruneThrough(Anchor(through));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::printf("PruneThrough(%llu) at HEAD %zu: %lld ms\n",
                static_cast<unsigned long long>(through), records_.size(),
                static_cast<long long>(ms));
    return s;
  }

  // Everything the store must answer after pruning through `anchor`.
  // `reclaimed` false: pruned only logically, so nothing is retired yet.
  void ExpectConsistent(SqliteStore& store, std::uint64_t anchor, const std::string& when,
                        bool reclaimed = true) {
    SCOPED_TRACE(when);
    const std::uint64_t head = records_.size();
    ASSERT_EQ(*store.HeadVersion(), head);
    for (std::uint64_t v = 1; v <= head; ++v) {
      util::Result<std::optional<std::string>> r = store.ReadRecord(v);
      if (v <= anchor) {
        ASSERT_FALSE(r.ok()) << "version " << v;
        EXPECT_EQ(r.error().code(), ErrorCode::kPruned) << "version " << v;
      } else {
        ASSERT_TRUE(r.ok()) << "version " << v << ": " << r.error().message();
        ASSERT_TRUE(r->has_value()) << "version " << v;
        ASSERT_EQ(**r, records_[v - 1]) << "version " << v;
      }
      util::Result<std::optional<CommitMeta>> meta = store.ReadCommitMeta(v);
      util::Result<std::optional<CommitMeta>> twin = twin_->ReadCommitMeta(v);
      ASSERT_TRUE(meta.ok() && twin.ok() && meta->has_value() && twin->has_value());
      EXPECT_EQ((*meta)->payload_b3, (*twin)->payload_b3);
      EXPECT_EQ((*meta)->proposal_id, (*twin)->proposal_id);
      EXPECT_EQ((*meta)->committed_at, (*twin)->committed_at);
      EXPECT_EQ((*meta)->leaf_hash, (*twin)->leaf_hash);
      EXPECT_EQ((*meta)->root, (*twin)->root);
    }
    EXPECT_EQ(*store.ReadLeafHashes(1, head), *twin_->ReadLeafHashes(1, head));

    // Proposals: pending ones exactly; ended ones of pruned versions retired (the row with
    // its status and version, no payload, no approvals); the others exactly.
    for (const ProposalCase& c : Cases()) {
      const ProposalRow& want = c.row;
      util::Result<std::optional<ProposalRow>> got = store.GetProposal(want.proposal_id);
      ASSERT_TRUE(got.ok()) << want.proposal_id << ": " << got.error().message();
      ASSERT_TRUE(got->has_value()) << want.proposal_id;
      const ProposalRow& row = **got;
      EXPECT_EQ(row.status, want.status) << want.proposal_id;
      EXPECT_EQ(row.version, want.version) << want.proposal_id;
      EXPECT_EQ(row.payload_b3, want.payload_b3) << want.proposal_id;
      EXPECT_EQ(row.created_at, want.created_at) << want.proposal_id;
      EXPECT_EQ(row.expires_at, want.expires_at) << want.proposal_id;
      util::Result<std::vector<model::Approval>> approvals = store.LoadApprovals(want.proposal_id);
      ASSERT_TRUE(approvals.ok());
      if (want.status == ProposalStatus::kPending) {
        EXPECT_EQ(row.canonical_payload, want.canonical_payload) << want.proposal_id;
        EXPECT_EQ(approvals->size(), 1u) << want.proposal_id;
      } else if (row.retired) {
        EXPECT_TRUE(row.canonical_payload.empty()) << want.proposal_id;
        EXPECT_TRUE(approvals->empty()) << want.proposal_id;
      } else {
        EXPECT_EQ(row.canonical_payload, want.canonical_payload) << want.proposal_id;
        EXPECT_EQ(*approvals, *twin_->LoadApprovals(want.proposal_id)) << want.proposal_id;
      }
      if (reclaimed && want.status != ProposalStatus::kPending && want.version <= anchor) {
        EXPECT_TRUE(row.retired) << want.proposal_id << " was not retired";
      }
    }
    util::Result<std::vector<ProposalRow>> pending = store.LoadPendingProposals();
    util::Result<std::vector<ProposalRow>> twin_pending = twin_->LoadPendingProposals();
    ASSERT_TRUE(pending.ok()) << pending.error().message();
    ASSERT_TRUE(twin_pending.ok());
    ASSERT_EQ(pending->size(), twin_pending->size());
    for (std::size_t k = 0; k < pending->size(); ++k) {
      EXPECT_EQ((*pending)[k].proposal_id, (*twin_pending)[k].proposal_id);
      EXPECT_EQ((*pending)[k].canonical_payload, (*twin_pending)[k].canonical_payload);
    }
  }

  std::vector<ProposalCase> Cases() const {
    std::vector<ProposalCase> out;
    for (const ProposalRow& p : proposals_) out.push_back({p, 0});
    return out;
  }

  // The distinct descriptors that kept versions and non-retired proposals hold: exactly
  // what the descriptors table must hold after reclamation.
  std::size_t ReferencedDescriptors(SqliteStore& store, std::uint64_t anchor) const {
    std::set<std::string> digests;
    auto add = [&](std::string_view doc, std::initializer_list<std::string_view> path) {
      std::optional<internal::ItemSplit> split = internal::SplitItems(doc, path);
      EXPECT_TRUE(split.has_value());
      if (!split.has_value()) return;
      for (std::string_view item : split->items) {
        const crypto::Blake3Digest d = crypto::Blake3(item);
        digests.emplace(reinterpret_cast<const char*>(d.data()), d.size());
      }
    };
    for (std::uint64_t v = anchor + 1; v <= records_.size(); ++v) {
      add(records_[v - 1], {internal::kPayloadMember, internal::kItemsMember});
    }
    for (const ProposalRow& p : proposals_) {
      util::Result<std::optional<ProposalRow>> got = store.GetProposal(p.proposal_id);
      if (got.ok() && got->has_value() && !(**got).retired) {
        add(p.canonical_payload, {internal::kItemsMember});
      }
    }
    return digests.size();
  }

  TempDir dir_;
  RegistryGen gen_{11, kItems, testing::GenOptions{true, 2}};
  std::vector<std::string> records_;
  std::vector<ProposalRow> proposals_;
  std::unique_ptr<SqliteStore> pruned_;
  std::unique_ptr<SqliteStore> twin_;
};

TEST_F(SqliteReclaimTest, PruningReclaimsBytesAndKeepsEverythingElseExact) {
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  Grow(kVersions);

  RawDb pruned_db(DbPath("pruned"));
  RawDb twin_db(DbPath("twin"));
  // Keyframes at least every 8 versions: each anchor leaves the first kept version F in the
  // middle of a chain (F + 1 in it too) whose keyframe and frame dictionary are pruned.
  auto keyframe_of = [&](std::uint64_t v) {
    return pruned_db.Int("SELECT keyframe FROM commit_items WHERE version = " + std::to_string(v));
  };
  auto inside_chain = [&](std::uint64_t target) {
    std::uint64_t a = target;
    while (!(keyframe_of(a + 1) < static_cast<std::int64_t>(a + 1) &&
             keyframe_of(a + 2) == keyframe_of(a + 1))) {
      ++a;
    }
    return a;
  };
  std::uint64_t previous = 0;
  for (std::uint64_t target : {51u, 51u, 102u, 163u}) {
    const std::uint64_t anchor = target == previous ? previous : inside_chain(target);
    const bool again = anchor == previous;
    previous = anchor;
    const std::uint64_t first = anchor + 1;
    util::Status s = Prune(anchor);
    ASSERT_TRUE(s.ok()) << s.error().message();
    ExpectConsistent(*pruned_, anchor, "after pruning through " + std::to_string(anchor));

    // The file holds nothing of the pruned versions but their commits rows.
    const std::string a = std::to_string(anchor);
    EXPECT_EQ(pruned_db.Int("SELECT count(*) FROM commit_items WHERE version <= " + a), 0);
    EXPECT_EQ(pruned_db.Int("SELECT count(*) FROM commits WHERE version <= " + a +
                            " AND (length(frame) > 0 OR has_items != 0)"),
              0);
    EXPECT_EQ(pruned_db.Int("SELECT count(*) FROM commits"),
              static_cast<std::int64_t>(records_.size()));
    EXPECT_EQ(keyframe_of(first), static_cast<std::int64_t>(first));
    EXPECT_EQ(keyframe_of(first + 1), static_cast<std::int64_t>(first));
    if (!again) {
      // The rest of F's chain was re-encoded against F's frame.
      EXPECT_GT(pruned_db.Int("SELECT count(*) FROM commits WHERE dict_version = " +
                              std::to_string(first)),
                0);
    }
    EXPECT_EQ(pruned_db.Int("SELECT count(*) FROM commits WHERE version > " + a +
                            " AND dict_version BETWEEN 1 AND " + a),
              0);
    EXPECT_EQ(pruned_db.Int("SELECT count(*) FROM commit_items WHERE version > " + a +
                            " AND keyframe <= " + a),
              0);
    EXPECT_EQ(pruned_db.Int("SELECT count(*) FROM proposals WHERE length(frame) > 0 AND "
                            "(dict_version BETWEEN 1 AND " +
                            a + " OR list_base BETWEEN 1 AND " + a + ")"),
              0);
    EXPECT_EQ(pruned_db.Int("SELECT count(*) FROM approvals a JOIN proposals p ON a.proposal = "
                            "p.seq WHERE length(p.frame) = 0"),
              0);

    // Exactly the descriptors something kept references are left, fewer than the twin's.
    const std::int64_t descriptors = pruned_db.Int("SELECT count(*) FROM descriptors");
    EXPECT_EQ(descriptors, static_cast<std::int64_t>(ReferencedDescriptors(*pruned_, anchor)));
    EXPECT_LT(descriptors, twin_db.Int("SELECT count(*) FROM descriptors"));
    EXPECT_LT(pruned_db.UsedPages(), twin_db.UsedPages());
    EXPECT_LT(pruned_db.Int("SELECT count(*) FROM approvals"),
              twin_db.Int("SELECT count(*) FROM approvals"));
    std::printf("through %s: descriptors %lld vs %lld, used pages %lld vs %lld (free %lld)\n",
                a.c_str(), static_cast<long long>(descriptors),
                static_cast<long long>(twin_db.Int("SELECT count(*) FROM descriptors")),
                static_cast<long long>(pruned_db.UsedPages()),
                static_cast<long long>(twin_db.UsedPages()),
                static_cast<long long>(pruned_db.Int("PRAGMA freelist_count")));

    // Later commits continue the re-keyed chain (HEAD's keyframe and dictionary moved).
    Grow(records_.size() + 3);
    ExpectConsistent(*pruned_, anchor, "after commits following the prune");
  }
  EXPECT_EQ(pruned_db.Text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(pruned_db.Int("SELECT count(*) FROM pragma_foreign_key_check"), 0);

  // Reopened from the file, with no cache: everything is still there, and the log goes on.
  const std::uint64_t anchor = previous;
  pruned_.reset();
  SqliteStore::Options options = OptionsFor("pruned");
  options.cache_bytes = 0;
  pruned_ = OpenOrDie(options);
  ASSERT_NE(pruned_, nullptr);
  ExpectConsistent(*pruned_, anchor, "after reopening");
  Grow(records_.size() + 20);
  ExpectConsistent(*pruned_, anchor, "after commits following the reopening");

  // Freed pages are reused: both files got the same new data, only the twin's grew.
  pruned_.reset();
  twin_.reset();
  const std::uint64_t pruned_size = FileSize(DbPath("pruned"));
  const std::uint64_t twin_size = FileSize(DbPath("twin"));
  std::printf("files after close: pruned %llu, twin %llu bytes\n",
              static_cast<unsigned long long>(pruned_size),
              static_cast<unsigned long long>(twin_size));
  EXPECT_LT(pruned_size, twin_size);
  RawDb reopened(DbPath("pruned"));
  EXPECT_EQ(reopened.Text("PRAGMA integrity_check"), "ok");
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  EXPECT_LT(pruned_->SizeBytes(), twin_->SizeBytes());
}

// A prune in the same transaction as the commit before it (group commit), and a prune right
// below HEAD: the writer's HEAD state follows the re-keyed chain.
TEST_F(SqliteReclaimTest, PruneInABatchWithACommitAndRightBelowHead) {
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  Grow(40);

  gen_.Evolve(2);
  const std::uint64_t v = 41;
  ProposalRow p = MakeProposal(std::to_string(v), v, gen_.CanonicalPayload(v));
  Both([&](SqliteStore& s) { return s.InsertProposal(p); });
  records_.push_back(gen_.Record(v, p.canonical_payload));
  const CommitRow c = MakeCommit(v, p.proposal_id, records_.back());
  ASSERT_TRUE(twin_->AppendCommit(c).ok());
  const SqliteStore::Stats before = pruned_->GetStats();
  pruned_->PauseWriterForTesting();
  auto commit = std::async(std::launch::async, [&] { return pruned_->AppendCommit(c); });
  pruned_->WaitForQueuedForTesting(1);
  auto prune = std::async(std::launch::async, [&] { return pruned_->PruneThrough(Anchor(38)); });
  pruned_->WaitForQueuedForTesting(2);
  pruned_->ResumeWriterForTesting();
  ASSERT_TRUE(commit.get().ok());
  util::Status s = prune.get();
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(pruned_->GetStats().transactions - before.transactions, 1u);
  p.status = ProposalStatus::kCommitted;
  proposals_.push_back(p);
  ExpectConsistent(*pruned_, 38, "after the batch");
  Grow(50);
  ExpectConsistent(*pruned_, 38, "after more commits");

  s = Prune(49);  // the first kept version is HEAD
  ASSERT_TRUE(s.ok()) << s.error().message();
  ExpectConsistent(*pruned_, 49, "after pruning through HEAD - 1");
  Grow(60);
  ExpectConsistent(*pruned_, 49, "after more commits");
  pruned_.reset();
  SqliteStore::Options options = OptionsFor("pruned");
  options.cache_bytes = 0;
  pruned_ = OpenOrDie(options);
  ASSERT_NE(pruned_, nullptr);
  ExpectConsistent(*pruned_, 49, "after reopening");
}

// A prune whose reclamation fails (a damaged list among the pruned versions) fails as a
// whole: no anchor, nothing reclaimed, and the store goes on as before.
TEST_F(SqliteReclaimTest, AFailedReclamationChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  Grow(30);
  ASSERT_TRUE(Prune(10).ok());
  RawDb db(DbPath("pruned"));
  const std::string good_list = db.Text("SELECT hex(list) FROM commit_items WHERE version = 15");
  db.Exec("UPDATE commit_items SET list = x'44ff' WHERE version = 15");
  const std::int64_t descriptors = db.Int("SELECT count(*) FROM descriptors");
  const std::int64_t items = db.Int("SELECT count(*) FROM commit_items");

  util::Status s = Prune(20);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInternal);
  EXPECT_EQ((*pruned_->LoadPruneAnchor())->version, 10u);
  EXPECT_EQ(db.Int("SELECT count(*) FROM descriptors"), descriptors);
  EXPECT_EQ(db.Int("SELECT count(*) FROM commit_items"), items);
  EXPECT_EQ(db.Int("SELECT keyframe FROM commit_items WHERE version = 21"),
            db.Int("SELECT keyframe FROM commit_items WHERE version = 20"));
  for (std::uint64_t v = 25; v <= 30; ++v) EXPECT_EQ(**pruned_->ReadRecord(v), records_[v - 1]);
  // The writer's state was not disturbed by the failed call, and the repaired store prunes.
  Grow(34);
  for (std::uint64_t v = 25; v <= 34; ++v) EXPECT_EQ(**pruned_->ReadRecord(v), records_[v - 1]);
  db.Exec("UPDATE commit_items SET list = x'" + good_list + "' WHERE version = 15");
  s = Prune(20);
  ASSERT_TRUE(s.ok()) << s.error().message();
  ExpectConsistent(*pruned_, 20, "after the repaired prune");
}

// A database that an older build pruned only logically (anchor stored, bytes kept) is
// caught up by its next prune.
TEST_F(SqliteReclaimTest, CatchesUpALogicalPruneOfAnOlderBuild) {
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  Grow(40);
  pruned_.reset();
  {
    RawDb db(DbPath("pruned"));
    db.Exec(
        "INSERT INTO prune_anchor(id, version, payload_b3, committed_at, governance, frontier, "
        "written_at) VALUES(1, 20, 'b3:x', 't20', x'7b7d', zeroblob(32), 20)");
  }
  pruned_ = OpenOrDie(OptionsFor("pruned"));
  ASSERT_NE(pruned_, nullptr);
  ExpectConsistent(*pruned_, 20, "logically pruned", /*reclaimed=*/false);
  util::Status s = Prune(27);
  ASSERT_TRUE(s.ok()) << s.error().message();
  ExpectConsistent(*pruned_, 27, "caught up");
  RawDb db(DbPath("pruned"));
  EXPECT_EQ(db.Int("SELECT count(*) FROM commit_items WHERE version <= 27"), 0);
  EXPECT_EQ(db.Int("SELECT count(*) FROM commits WHERE length(frame) = 0"), 27);
  EXPECT_EQ(db.Int("SELECT count(*) FROM descriptors"),
            static_cast<std::int64_t>(ReferencedDescriptors(*pruned_, 27)));
  Grow(45);
  ExpectConsistent(*pruned_, 27, "after more commits");
}

// A prune of thousands of versions at once stays a short write (it is on the write path).
TEST(SqliteReclaimScaleTest, PruningThousandsOfVersionsIsQuick) {
  TempDir dir;
  SqliteStore::Options options;
  options.data_dir = dir.Sub("data");
  options.fsync = false;
  util::Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  RegistryGen gen(5, 200, testing::GenOptions{false, 0});
  constexpr std::uint64_t kVersions = 3000;
  std::vector<std::string> tail;
  for (std::uint64_t v = 1; v <= kVersions; ++v) {
    gen.Evolve(2);
    std::string record = gen.Record(v, gen.CanonicalPayload(v));
    ASSERT_TRUE(store->AppendCommit(MakeCommit(v, ProposalId(std::to_string(v)), record)).ok());
    if (v > kVersions - 40) tail.push_back(std::move(record));
  }
  const auto start = std::chrono::steady_clock::now();
  util::Status s = store->PruneThrough(Anchor(kVersions - 40));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  ASSERT_TRUE(s.ok()) << s.error().message();
  std::printf("PruneThrough(%llu) of %llu versions: %lld ms\n",
              static_cast<unsigned long long>(kVersions - 40),
              static_cast<unsigned long long>(kVersions), static_cast<long long>(ms));
  // Generous: the shared VM is noisy; what matters is that it is not seconds.
  EXPECT_LT(ms, 2000);
  for (std::uint64_t v = kVersions - 39; v <= kVersions; ++v) {
    ASSERT_EQ(**store->ReadRecord(v), tail[v - (kVersions - 39)]) << v;
  }
  RawDb db(dir.Sub("data") + "/" + SqliteStore::kDatabaseFile);
  EXPECT_EQ(db.Int("SELECT count(*) FROM commit_items"), 40);
}

// Figures for docs/STORAGE.md (slow, so not run by default):
//   sqlite_reclaim_test --gtest_also_run_disabled_tests --gtest_filter='*Figures*'
// A 20,000-descriptor registry, 400 versions of 5 changes each written as the service does
// (proposal, 2 approvals, commit; a rival proposal that expires every 10 versions), default
// keyframe interval; then one prune of all but the last 100 versions.
TEST(SqliteReclaimScaleTest, DISABLED_Figures) {
  TempDir dir;
  SqliteStore::Options options;
  options.data_dir = dir.Sub("data");
  options.fsync = false;
  util::Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  RegistryGen gen(9, 20000, testing::GenOptions{false, 0});
  // RECLAIM_FIGURES_VERSIONS=3000 for a prune of 2,900 versions.
  const char* env = std::getenv("RECLAIM_FIGURES_VERSIONS");
  const std::uint64_t kVersions = env != nullptr ? std::strtoull(env, nullptr, 10) : 400;
  ASSERT_GT(kVersions, 100u);
  const std::uint64_t kAnchor = kVersions - 100;
  std::vector<std::string> records;
  for (std::uint64_t v = 1; v <= kVersions; ++v) {
    gen.Evolve(5);
    ProposalRow p = MakeProposal(std::to_string(v), v, gen.CanonicalPayload(v));
    ASSERT_TRUE(store->InsertProposal(p).ok());
    for (int k = 0; k < 2; ++k) {
      ASSERT_TRUE(
          store
              ->InsertApproval(p.proposal_id, ApprovalBy(k == 0 ? "org:alpha#k1" : "org:beta#k1",
                                                         static_cast<std::uint8_t>(v + k)))
              .ok());
    }
    if (v % 10 == 0) {
      RegistryGen rival = gen;
      rival.Evolve(5);
      ProposalRow r = MakeProposal("r" + std::to_string(v), v, rival.CanonicalPayload(v));
      ASSERT_TRUE(store->InsertProposal(r).ok());
      ASSERT_TRUE(store->SetProposalStatus(r.proposal_id, ProposalStatus::kExpired).ok());
    }
    std::string record = gen.Record(v, p.canonical_payload);
    ASSERT_TRUE(store->AppendCommit(MakeCommit(v, p.proposal_id, record)).ok());
    records.push_back(v > kAnchor ? std::move(record) : std::string());  // memory
  }
  RawDb db(dir.Sub("data") + "/" + SqliteStore::kDatabaseFile);
  const std::int64_t descriptors = db.Int("SELECT count(*) FROM descriptors");
  const std::int64_t pages = db.UsedPages();
  db.Print("before");
  const auto start = std::chrono::steady_clock::now();
  util::Status s = store->PruneThrough(Anchor(kAnchor));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  ASSERT_TRUE(s.ok()) << s.error().message();
  const std::int64_t page_size = db.Int("PRAGMA page_size");
  std::printf(
      "PruneThrough(%llu) at HEAD %llu: %lld ms; descriptors %lld -> %lld; used pages %lld -> "
      "%lld (%lld -> %lld bytes), free pages %lld\n",
      static_cast<unsigned long long>(kAnchor), static_cast<unsigned long long>(kVersions),
      static_cast<long long>(ms), static_cast<long long>(descriptors),
      static_cast<long long>(db.Int("SELECT count(*) FROM descriptors")),
      static_cast<long long>(pages), static_cast<long long>(db.UsedPages()),
      static_cast<long long>(pages * page_size), static_cast<long long>(db.UsedPages() * page_size),
      static_cast<long long>(db.Int("PRAGMA freelist_count")));
  db.Print("after");
  for (std::uint64_t v = kAnchor + 1; v <= kVersions; v += 7) {
    ASSERT_EQ(**store->ReadRecord(v), records[v - 1]) << v;
  }
}

}  // namespace
}  // namespace registry::storage
