// Audit entries chained by the store (Store::ChainsAudit, AppendAuditChained, WriteAudited),
// on the backends that chain: memory and SQLite. The store picks each entry's seq and prev
// inside its transaction; a write and its entry are stored together or not at all; on
// SQLite they share one transaction (one fsync), which is why this exists.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "registry/crypto/blake3.h"
#include "registry/storage/memory_store.h"
#include "registry/storage/sqlite_store.h"
#include "registry/storage/store.h"
#include "storage/rows.h"
#include "storage/temp_dir.h"
#include "testing/forwarding_store.h"

namespace registry::storage {
namespace {

using storage::testing::ApprovalBy;
using storage::testing::Proposal;
using storage::testing::TempDir;
using util::ErrorCode;

// A test entry that shows where the store put it.
AuditEncoder Entry(std::string what) {
  return [what = std::move(what)](std::uint64_t seq, std::string_view prev) {
    return what + "|" + std::to_string(seq) + "|" + std::string(prev);
  };
}

std::string Expected(const std::string& what, std::uint64_t seq, const std::string& prev) {
  return what + "|" + std::to_string(seq) + "|" + prev;
}

CommitRow Commit(std::uint64_t version, const std::string& proposal_id) {
  CommitRow row{version, "b3:" + std::string(64, 'b'), proposal_id, "2026-11-26T12:00:00.000Z",
                "record " + std::to_string(version)};
  row.leaf_hash.fill(static_cast<std::uint8_t>(version));
  return row;
}

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::string& dir)> make;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

std::unique_ptr<Store> OpenSqlite(const std::string& dir) {
  SqliteStore::Options options;
  options.data_dir = dir + "/data";
  util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.error().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

class AuditChainTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(dir_.path());
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->ChainsAudit());
  }

  std::vector<AuditRow> Trail() {
    util::Result<std::vector<AuditRow>> rows = store_->ReadAudit(0, 1000);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? std::move(rows).value() : std::vector<AuditRow>();
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(AuditChainTest, ChainedEntriesContinueWhateverTheTrailHolds) {
  // Two entries chained by the caller (the pre-chained path), then chained ones.
  ASSERT_TRUE(store_->AppendAudit({{1, "first"}, {2, "second"}}).ok());
  util::Result<std::vector<AuditRow>> rows = store_->AppendAuditChained({Entry("a"), Entry("b")});
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  const std::string a = Expected("a", 3, crypto::PayloadB3("second"));
  const std::string b = Expected("b", 4, crypto::PayloadB3(a));
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].seq, 3u);
  EXPECT_EQ((*rows)[0].entry, a);
  EXPECT_EQ((*rows)[1].seq, 4u);
  EXPECT_EQ((*rows)[1].entry, b);
  std::vector<AuditRow> trail = Trail();
  ASSERT_EQ(trail.size(), 4u);
  EXPECT_EQ(trail[2].entry, a);
  EXPECT_EQ(trail[3].entry, b);
  // A caller that chained in advance on a stale tail is refused, nothing written.
  EXPECT_EQ(store_->AppendAudit({{3, "late"}}).error().code(), ErrorCode::kChainMismatch);
  EXPECT_EQ(Trail().size(), 4u);
}

TEST_P(AuditChainTest, TheFirstEntryLinksToTheZeroHash) {
  util::Result<std::vector<AuditRow>> rows = store_->AppendAuditChained({Entry("genesis")});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->front().entry, Expected("genesis", 1, crypto::ZeroB3()));
}

TEST_P(AuditChainTest, EachWriteIsStoredWithItsEntry) {
  const ProposalRow p = Proposal("1", 1);
  AuditedWrite propose;
  propose.kind = AuditedWrite::Kind::kInsertProposal;
  propose.proposal = &p;
  util::Result<AuditRow> e1 = store_->WriteAudited(propose, Entry("propose"));
  ASSERT_TRUE(e1.ok()) << e1.error().message();
  EXPECT_EQ(e1->seq, 1u);

  const model::Approval approval = ApprovalBy("alice");
  AuditedWrite approve;
  approve.kind = AuditedWrite::Kind::kInsertApproval;
  approve.proposal_id = p.proposal_id;
  approve.approval = &approval;
  util::Result<AuditRow> e2 = store_->WriteAudited(approve, Entry("approve"));
  ASSERT_TRUE(e2.ok()) << e2.error().message();

  const CommitRow c = Commit(1, p.proposal_id);
  AuditedWrite commit;
  commit.kind = AuditedWrite::Kind::kAppendCommit;
  commit.commit = &c;
  util::Result<AuditRow> e3 = store_->WriteAudited(commit, Entry("commit"));
  ASSERT_TRUE(e3.ok()) << e3.error().message();

  EXPECT_EQ((*store_->GetProposal(p.proposal_id))->status, model::ProposalStatus::kCommitted);
  ASSERT_EQ(store_->LoadApprovals(p.proposal_id)->size(), 1u);
  EXPECT_EQ(**store_->ReadRecord(1), "record 1");
  std::vector<AuditRow> trail = Trail();
  ASSERT_EQ(trail.size(), 3u);
  EXPECT_EQ(trail[0].entry, Expected("propose", 1, crypto::ZeroB3()));
  EXPECT_EQ(trail[1].entry, Expected("approve", 2, crypto::PayloadB3(trail[0].entry)));
  EXPECT_EQ(trail[2].entry, Expected("commit", 3, crypto::PayloadB3(trail[1].entry)));
  EXPECT_EQ(trail[2].entry, e3->entry);
}

TEST_P(AuditChainTest, AFailedWriteStoresNoEntry) {
  const ProposalRow p = Proposal("1", 1);
  ASSERT_TRUE(store_->InsertProposal(p).ok());
  const CommitRow wrong = Commit(2, p.proposal_id);  // HEAD is 0: the CAS fails
  AuditedWrite commit;
  commit.kind = AuditedWrite::Kind::kAppendCommit;
  commit.commit = &wrong;
  util::Result<AuditRow> e = store_->WriteAudited(commit, Entry("commit"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kChainMismatch);
  EXPECT_TRUE(Trail().empty());
  EXPECT_EQ(*store_->HeadVersion(), 0u);
  // The next entry still starts the trail.
  const CommitRow right = Commit(1, p.proposal_id);
  commit.commit = &right;
  util::Result<AuditRow> ok = store_->WriteAudited(commit, Entry("commit"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->seq, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, AuditChainTest,
    ::testing::Values(Backend{"memory",
                              [](const std::string&) { return std::make_unique<MemoryStore>(); }},
                      Backend{"sqlite", OpenSqlite}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

// The point of chaining on SQLite: a write and its entry cost one transaction, one fsync.
TEST(SqliteAuditChainTest, AWriteAndItsEntryShareOneTransaction) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenSqlite(dir.path());
  ASSERT_NE(store, nullptr);
  auto* sqlite = static_cast<SqliteStore*>(store.get());
  const ProposalRow p = Proposal("1", 1);
  AuditedWrite propose;
  propose.kind = AuditedWrite::Kind::kInsertProposal;
  propose.proposal = &p;
  const std::uint64_t before = sqlite->GetStats().transactions;
  ASSERT_TRUE(store->WriteAudited(propose, Entry("propose")).ok());
  EXPECT_EQ(sqlite->GetStats().transactions - before, 1u);
  // And they are durable together: both are there after reopening.
  store.reset();
  store = OpenSqlite(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE((*store->GetProposal(p.proposal_id)).has_value());
  util::Result<std::vector<AuditRow>> trail = store->ReadAudit(0, 10);
  ASSERT_EQ(trail->size(), 1u);
  EXPECT_EQ(trail->front().entry, Expected("propose", 1, crypto::ZeroB3()));
}

// A store that does not chain (a decorator that does not forward the capability, like
// postgres) says so, and refuses the chained calls without writing anything.
TEST(StoreAuditChainDefaultTest, ABackendThatDoesNotChainRefuses) {
  MemoryStore inner;
  registry::testing::ForwardingStore store(&inner);
  EXPECT_FALSE(store.ChainsAudit());
  EXPECT_EQ(store.AppendAuditChained({Entry("x")}).error().code(), ErrorCode::kInternal);
  const ProposalRow p = Proposal("1", 1);
  AuditedWrite propose;
  propose.kind = AuditedWrite::Kind::kInsertProposal;
  propose.proposal = &p;
  EXPECT_EQ(store.WriteAudited(propose, Entry("x")).error().code(), ErrorCode::kInternal);
  EXPECT_TRUE(inner.ReadAudit(0, 10)->empty());
  EXPECT_FALSE(inner.GetProposal(p.proposal_id)->has_value());
}

}  // namespace
}  // namespace registry::storage
