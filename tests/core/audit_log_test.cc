#include "registry/core/audit_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "registry/crypto/blake3.h"
#include "registry/storage/fault_injection_store.h"
#include "registry/storage/memory_store.h"
#include "testing/forwarding_store.h"

namespace registry::core {
namespace {

constexpr util::UnixMillis kAt = 1'795'000'000'000;

AuditEvent Event(int i, bool accepted) {
  AuditEvent e;
  e.action = i % 2 == 0 ? "approve" : "propose";
  e.accepted = accepted;
  e.reason = accepted ? "" : "InvalidSig";
  e.corr_id = "c" + std::to_string(i);
  e.proposal_id = "p_000000000000000000000001";
  e.signer_id = "org:a#k" + std::to_string(i);
  return e;
}

// Four threads recording at once form one verifiable chain, both when the store chains the
// entries itself (memory: Store::ChainsAudit) and when the log assigns seq and prev (a
// store that does not chain, here a plain forwarding decorator); reopening resumes it.
void ExpectConcurrentRecordsFormOneVerifiableChain(storage::Store& store, bool chained) {
  util::ManualClock clock(kAt);
  auto log = std::move(AuditLog::Open(&store, &clock)).value();
  EXPECT_EQ(log->chained(), chained);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (log->Record(Event(t * 100 + i, i % 3 != 0)).ok()) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(log->last_seq(), 200u);
  std::vector<storage::AuditRow> rows = *store.ReadAudit(0, 1000);
  ASSERT_EQ(rows.size(), 200u);
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  EXPECT_TRUE(VerifyAuditRows(rows, seq, prev).ok());
  EXPECT_EQ(seq, 200u);
  log.reset();
  // Reopening resumes the chain.
  auto again = std::move(AuditLog::Open(&store, &clock)).value();
  EXPECT_EQ(again->last_seq(), 200u);
  ASSERT_TRUE(again->Record(Event(1, true)).ok());
  rows = *store.ReadAudit(0, 1000);
  seq = 0;
  prev = crypto::ZeroB3();
  EXPECT_TRUE(VerifyAuditRows(rows, seq, prev).ok());
  EXPECT_EQ(seq, 201u);
}

TEST(AuditLogTest, ConcurrentRecordsFormOneVerifiableChain) {
  storage::MemoryStore store;
  ExpectConcurrentRecordsFormOneVerifiableChain(store, /*chained=*/true);
}

TEST(AuditLogTest, ConcurrentRecordsFormOneVerifiableChainWhenTheLogChains) {
  storage::MemoryStore memory;
  testing::ForwardingStore store(&memory);  // does not forward ChainsAudit
  ExpectConcurrentRecordsFormOneVerifiableChain(store, /*chained=*/false);
}

// Entries stored with writes (Encoder, NoteStored) and entries recorded through the log
// interleave into one chain.
TEST(AuditLogTest, EntriesStoredWithWritesAndRecordedOnesFormOneChain) {
  storage::MemoryStore store;
  util::ManualClock clock(kAt);
  auto log = std::move(AuditLog::Open(&store, &clock)).value();
  ASSERT_TRUE(log->chained());
  for (int i = 0; i < 10; ++i) {
    if (i % 2 == 0) {
      storage::ProposalRow row;
      row.proposal_id = "p_" + std::string(23, '0') + std::to_string(i);
      row.canonical_payload = "{}";
      storage::AuditedWrite write;
      write.kind = storage::AuditedWrite::Kind::kInsertProposal;
      write.proposal = &row;
      util::Result<storage::AuditRow> stored =
          store.WriteAudited(write, log->Encoder(Event(i, true)));
      ASSERT_TRUE(stored.ok());
      log->NoteStored(*stored);
    } else {
      ASSERT_TRUE(log->Record(Event(i, false)).ok());
    }
  }
  EXPECT_EQ(log->last_seq(), 10u);
  std::vector<storage::AuditRow> rows = *store.ReadAudit(0, 100);
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  ASSERT_TRUE(VerifyAuditRows(rows, seq, prev).ok());
  EXPECT_EQ(seq, 10u);
  EXPECT_NE(rows[0].entry.find("\"result\":\"accepted\""), std::string::npos);
  EXPECT_NE(rows[1].entry.find("\"result\":\"rejected\""), std::string::npos);
}

TEST(AuditLogTest, EntryCarriesTheDecision) {
  AuditEvent e = Event(3, false);
  e.payload_b3 = "b3:" + std::string(64, 'a');
  std::string entry = EncodeAuditEntry(e, 7, crypto::ZeroB3(), kAt);
  EXPECT_EQ(entry, R"({"action":"propose","corr_id":"c3","payload_b3":"b3:)" +
                       std::string(64, 'a') + R"(","prev":"b3:)" + std::string(64, '0') +
                       R"(","proposal_id":"p_000000000000000000000001","reason":"InvalidSig",)"
                       R"("result":"rejected","seq":7,"signer_id":"org:a#k3",)"
                       R"("ts":"2026-11-18T11:06:40.000Z"})");
}

TEST(AuditLogTest, TamperingIsFoundAtTheSeq) {
  storage::MemoryStore store;
  util::ManualClock clock(kAt);
  {
    auto log = std::move(AuditLog::Open(&store, &clock)).value();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Record(Event(i, true)).ok());
  }
  std::vector<storage::AuditRow> rows = *store.ReadAudit(0, 100);
  for (std::size_t i = 0; i < rows[2].entry.size(); ++i) {
    std::vector<storage::AuditRow> tampered = rows;
    tampered[2].entry[i] ^= 0x01;
    std::uint64_t seq = 0;
    std::string prev = crypto::ZeroB3();
    util::Status s = VerifyAuditRows(tampered, seq, prev);
    ASSERT_FALSE(s.ok()) << "byte " << i;
    // Either entry 3 itself is bad, or entry 4 no longer links to it.
    bool named = s.error().message().find("audit entry 3") != std::string::npos ||
                 s.error().message().find("audit entry 4") != std::string::npos;
    EXPECT_TRUE(named) << s.error().message();
  }
  std::vector<storage::AuditRow> dropped = rows;
  dropped.erase(dropped.begin() + 1);
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  EXPECT_NE(VerifyAuditRows(dropped, seq, prev).error().message().find("audit entry 3"),
            std::string::npos);
}

class FailingAuditStore : public testing::ForwardingStore {
 public:
  FailingAuditStore() : ForwardingStore(&memory_) {}
  util::Status AppendAudit(const std::vector<storage::AuditRow>& rows) override {
    if (fail) return util::Error(util::ErrorCode::kInternal, "disk full");
    return inner_->AppendAudit(rows);
  }
  std::atomic<bool> fail{false};

 private:
  storage::MemoryStore memory_;
};

TEST(AuditLogTest, StoreFailurePausesTheChainUntilRetry) {
  FailingAuditStore store;
  util::ManualClock clock(kAt);
  auto log = std::move(AuditLog::Open(&store, &clock)).value();
  ASSERT_TRUE(log->Record(Event(0, true)).ok());
  store.fail = true;
  util::Status s = log->Record(Event(1, true));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), util::ErrorCode::kInternal);
  // While paused, new entries queue behind the failed one and report the fault.
  EXPECT_FALSE(log->Record(Event(2, true)).ok());
  EXPECT_FALSE(log->Retry().ok());  // still failing
  store.fail = false;
  ASSERT_TRUE(log->Retry().ok());
  ASSERT_TRUE(log->Record(Event(3, true)).ok());
  // Nothing was lost or reordered: entries 1..4, chained.
  std::vector<storage::AuditRow> rows = *store.ReadAudit(0, 100);
  ASSERT_EQ(rows.size(), 4u);
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  EXPECT_TRUE(VerifyAuditRows(rows, seq, prev).ok());
  EXPECT_NE(rows[1].entry.find("\"corr_id\":\"c1\""), std::string::npos);
  EXPECT_NE(rows[2].entry.find("\"corr_id\":\"c2\""), std::string::npos);
}

// A Record whose entry was queued while an earlier batch was in the store, when that batch
// fails, gets the error at once (as every later caller does) instead of waiting for a
// Retry() that may never succeed, e.g. on a disk that stays full. It used to block until
// then, and a worker pool's Stop behind it.
TEST(AuditLogTest, RecordQueuedBehindAFailingFlushAnswersWithoutRetry) {
  storage::MemoryStore inner;
  storage::FaultInjectingStore store(&inner);
  util::ManualClock clock(kAt);
  auto log = std::move(AuditLog::Open(&store, &clock)).value();
  const storage::StoreOps append = storage::StoreOps::Of(storage::StoreOp::kAppendAudit);
  store.Block(append);
  auto first = std::async(std::launch::async, [&] { return log->Record(Event(0, true)); });
  ASSERT_TRUE(store.WaitUntilBlocked(1, std::chrono::seconds(60)));
  // Entry 1 is in the (blocked) store; entry 2 queues behind it.
  auto second = std::async(std::launch::async, [&] { return log->Record(Event(1, true)); });
  while (log->last_seq() < 2) std::this_thread::yield();
  store.Fail(append, std::string(storage::FaultInjectingStore::kEnospc));
  store.Unblock();
  util::Status s1 = first.get();
  EXPECT_FALSE(s1.ok());
  // Bounded only so that a regression fails instead of hanging; the answer is immediate.
  const bool answered = second.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  EXPECT_TRUE(answered) << "Record queued behind the failed flush is still waiting";
  store.Heal();
  ASSERT_TRUE(log->Retry().ok());  // also releases `second` if it was still waiting
  util::Status s2 = second.get();
  if (answered) {
    ASSERT_FALSE(s2.ok());
    EXPECT_EQ(s2.error().code(), util::ErrorCode::kInternal);
  }
  // Both entries were kept and written by Retry, in order.
  std::vector<storage::AuditRow> rows = *inner.ReadAudit(0, 100);
  ASSERT_EQ(rows.size(), 2u);
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  EXPECT_TRUE(VerifyAuditRows(rows, seq, prev).ok());
}

}  // namespace
}  // namespace registry::core
