// Case 3: nothing acknowledged is lost. Four clients run proposals, approvals (real Ed25519
// signatures) and commits against the in-process service while the test thread injects
// write failures at random moments and plays the housekeeping probe. Every 2xx is recorded;
// at the end a fresh core::Registry opened on the inner store must hold every acknowledged
// write, HEAD never went backwards, and the chain and the audit trail verify.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "fault/in_process_service.h"
#include "registry/core/audit_log.h"
#include "registry/core/chain_verifier.h"
#include "registry/crypto/blake3.h"

namespace registry::fault {
namespace {

using storage::StoreOp;
using storage::StoreOps;

constexpr int kClients = 4;
// The load runs until the chaos has made this many writes fail and this many commits went
// through, or until every client ran kMaxRounds rounds (so that it stops by itself).
constexpr std::uint64_t kMinFailedWrites = 40;
constexpr std::size_t kMinCommits = 30;
constexpr int kMaxRounds = 2000;

// What the service acknowledged with a 2xx.
struct Acknowledged {
  std::mutex mu;
  std::set<std::string> proposals;
  std::set<std::pair<std::string, std::string>> approvals;               // (proposal id, signer id)
  std::map<std::uint64_t, std::pair<std::string, std::string>> commits;  // v → (id, b3)
  std::vector<std::string> conflicts;  // two different commits acknowledged for a version
  std::uint64_t write_requests = 0;    // write requests that got an answer
  std::uint64_t internal_errors = 0;   // 500 answers
  std::uint64_t not_ready = 0;         // 503 answers
};

class AcknowledgedWritesTest : public FaultServiceTest {
 protected:
  void Client(int c, Acknowledged& acked, const std::atomic<bool>& stop);
};

// One client: read HEAD, propose the next version, approve with every signer in a random
// order, commit. Checks as it goes that HEAD (and X-Registry-Version) never go backwards
// and that every answer is one the API may give under these conditions.
void AcknowledgedWritesTest::Client(int c, Acknowledged& acked, const std::atomic<bool>& stop) {
  HttpClient client(svc_->api_port());
  std::mt19937 rng(static_cast<std::uint32_t>(1000 + c));
  std::int64_t last_head = 0;
  std::int64_t last_header = 0;
  auto note = [&](const HttpResponse& r, bool write) {
    EXPECT_NE(r.status, 0) << "client " << c << ": " << r.error;
    if (std::optional<std::string> h = r.Header("x-registry-version")) {
      std::int64_t v = std::stoll(*h);
      EXPECT_GE(v, last_header) << "client " << c << ": X-Registry-Version went backwards";
      last_header = std::max(last_header, v);
    }
    if (!write || r.status == 0) return;
    std::lock_guard lock(acked.mu);
    ++acked.write_requests;
    if (r.status == 500) ++acked.internal_errors;
    if (r.status == 503) ++acked.not_ready;
  };
  auto allowed = [&](const HttpResponse& r, std::initializer_list<int> extra) {
    if (r.status == 503) return IsError(r, 503, "NotReady");
    for (int s : extra) {
      if (r.status == s) return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "client " << c << ": " << r.Describe() << " " << r.body;
  };

  for (int round = 0; round < kMaxRounds && !stop.load(); ++round) {
    HttpResponse head = client.Request("GET", "/registry/head");
    note(head, false);
    ASSERT_TRUE(HasStatus(head, 200));
    const std::int64_t version = VersionOf(head.body);
    ASSERT_GE(version, last_head) << "client " << c << ": HEAD went backwards";
    last_head = version;
    const std::string head_b3 = StringOf(head.body, "payload_b3");

    json::Value payload =
        Payload(static_cast<std::uint64_t>(version) + 1, head_b3, svc_->governance(),
                "c" + std::to_string(c) + "r" + std::to_string(round));
    Proposed p = IdentityOf(payload);
    HttpResponse proposed = PostProposal(client, payload);
    note(proposed, true);
    // 409: HEAD moved meanwhile.
    EXPECT_TRUE(allowed(proposed, {200, 202, 409}));
    if (proposed.status == 200 || proposed.status == 202) {
      std::lock_guard lock(acked.mu);
      acked.proposals.insert(p.proposal_id);
    } else {
      continue;
    }

    std::vector<int> order(svc_->signers().size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::shuffle(order.begin(), order.end(), rng);
    for (int i : order) {
      HttpResponse approved = PostApproval(client, p.proposal_id, SignWith(i, p.payload_b3));
      note(approved, true);
      // 409: stale or committed by another client.
      EXPECT_TRUE(allowed(approved, {200, 409}));
      if (approved.status == 200) {
        std::lock_guard lock(acked.mu);
        acked.approvals.emplace(p.proposal_id, svc_->signers()[static_cast<std::size_t>(i)].id);
      }
    }

    HttpResponse committed = PostCommit(client, p.proposal_id);
    note(committed, true);
    // 409: another proposal won the version; 422: an approval was lost to a fault.
    EXPECT_TRUE(allowed(committed, {200, 201, 409, 422}));
    if (committed.status == 200 || committed.status == 201) {
      const std::int64_t v = VersionOf(committed.body);
      EXPECT_EQ(v, version + 1);
      EXPECT_EQ(StringOf(committed.body, "payload_b3"), p.payload_b3);
      std::lock_guard lock(acked.mu);
      auto [it, inserted] = acked.commits.emplace(static_cast<std::uint64_t>(v),
                                                  std::make_pair(p.proposal_id, p.payload_b3));
      if (!inserted && it->second.first != p.proposal_id) {
        acked.conflicts.push_back("version " + std::to_string(v) + ": " + it->second.first +
                                  " and " + p.proposal_id);
      }
    }
  }
}

TEST_F(AcknowledgedWritesTest, NothingAcknowledgedIsLostUnderIntermittentWriteFailures) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  // The writes of the core fail; the audit trail's do not (a failed audit flush disables
  // core::AuditLog for good, see write_plane_fault_test.cc), so that the load keeps moving
  // and the trail can be checked complete at the end.
  const StoreOps core_writes =
      StoreOps::Of(StoreOp::kInsertProposal) | StoreOps::Of(StoreOp::kInsertApproval) |
      StoreOps::Of(StoreOp::kSetProposalStatus) | StoreOps::Of(StoreOp::kAppendCommit) |
      StoreOps::Of(StoreOp::kWriteCheckpoint);

  Acknowledged acked;
  std::atomic<bool> stop{false};
  std::atomic<int> running{kClients};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Client(c, acked, stop);
      running.fetch_sub(1);
    });
  }

  // The chaos: at random moments, make the next one or two core writes fail; whenever the
  // gate is down, run the housekeeping probe (as run.cc does once a second). The sleeps pace
  // the injections; nothing waits on them for an outcome.
  const std::uint32_t seed = std::random_device{}();
  std::cerr << "[ chaos seed " << seed << " ]\n";
  std::mt19937 rng(seed);
  std::uint64_t injections = 0;
  std::uint64_t probes = 0;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 4));
    {
      std::lock_guard lock(acked.mu);
      if (svc_->faults().write_counts().failures >= kMinFailedWrites &&
          acked.commits.size() >= kMinCommits) {
        stop = true;
      }
    }
    if (svc_->gate().storage_fault()) {
      ++probes;
      svc_->HousekeepingProbe();
    } else if (rng() % 3 == 0) {
      ++injections;
      svc_->faults().FailNext(core_writes, 1 + rng() % 2,
                              std::string(storage::FaultInjectingStore::kFsyncEio));
    }
  }
  for (std::thread& t : clients) t.join();
  ASSERT_FALSE(HasFailure());

  svc_->faults().Heal();
  ASSERT_TRUE(svc_->HousekeepingProbe());
  const std::shared_ptr<const core::HeadState> live = svc_->registry().Head();
  const std::uint64_t failures = svc_->faults().write_counts().failures;
  std::cerr << "[ " << acked.proposals.size() << " proposals, " << acked.approvals.size()
            << " approvals, " << acked.commits.size() << " commits acknowledged; HEAD "
            << live->head.version << "; " << injections << " injections, " << failures
            << " failed writes, " << acked.internal_errors << " answers 500, " << acked.not_ready
            << " answers 503, " << probes << " probes ]\n";
  EXPECT_TRUE(acked.conflicts.empty()) << acked.conflicts.front();
  EXPECT_GT(failures, 0u) << "no fault was injected: the test proved nothing";
  EXPECT_GT(acked.commits.size(), 0u) << "no commit went through";
  // A storage fault is answered 503 NotReady (nothing was written; retry later), never 500.
  EXPECT_EQ(acked.internal_errors, 0u);
  svc_->Stop();

  // A fresh registry on the inner store: what a restart on this store would see.
  util::Result<std::unique_ptr<core::Registry>> reopened = core::Registry::Open(
      &svc_->inner(), &svc_->clock(), svc_->governance(), svc_->registry_options());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message();
  core::Registry& fresh = **reopened;
  EXPECT_FALSE(fresh.verification_failure().has_value()) << *fresh.verification_failure();
  EXPECT_EQ(fresh.Head()->head.version, live->head.version);
  EXPECT_EQ(fresh.Head()->head.payload_b3, live->head.payload_b3);
  EXPECT_EQ(fresh.Head()->head.root, live->head.root);

  for (const auto& [version, commit] : acked.commits) {
    EXPECT_LE(version, fresh.Head()->head.version) << "HEAD went backwards";
    util::Result<std::optional<storage::CommitMeta>> meta = svc_->inner().ReadCommitMeta(version);
    ASSERT_TRUE(meta.ok() && meta->has_value()) << "acknowledged version " << version << " lost";
    EXPECT_EQ((*meta)->proposal_id, commit.first) << "version " << version;
    EXPECT_EQ((*meta)->payload_b3, commit.second) << "version " << version;
    util::Result<core::ProposalView> view = fresh.GetProposal(commit.first);
    ASSERT_TRUE(view.ok()) << view.error().message();
    EXPECT_EQ(view->status, model::ProposalStatus::kCommitted);
  }
  for (const std::string& id : acked.proposals) {
    EXPECT_TRUE(fresh.GetProposal(id).ok()) << "acknowledged proposal " << id << " lost";
  }
  for (const auto& [id, signer] : acked.approvals) {
    util::Result<std::vector<model::Approval>> stored = svc_->inner().LoadApprovals(id);
    ASSERT_TRUE(stored.ok());
    EXPECT_TRUE(std::any_of(stored->begin(), stored->end(),
                            [&](const model::Approval& a) { return a.signer_id == signer; }))
        << "acknowledged approval of " << id << " by " << signer << " lost";
  }

  // The chain verifies from genesis, exactly as an outside verifier would check it.
  core::ChainVerifier verifier(svc_->governance(), svc_->registry_options().payload_limits);
  for (std::uint64_t v = 1; v <= fresh.Head()->head.version; ++v) {
    util::Result<std::optional<std::string>> record = svc_->inner().ReadRecord(v);
    ASSERT_TRUE(record.ok() && record->has_value()) << "version " << v << " missing";
    util::Status next = verifier.Next(**record);
    ASSERT_TRUE(next.ok()) << next.error().message();
  }
  EXPECT_EQ(verifier.payload_b3(), fresh.Head()->head.payload_b3);
  util::Result<bool> history = fresh.VerifyHistorySlice(1'000'000);
  ASSERT_TRUE(history.ok()) << history.error().message();
  EXPECT_TRUE(*history);

  // The audit trail verifies and holds one entry per write request answered.
  util::Result<std::vector<storage::AuditRow>> trail = svc_->inner().ReadAudit(0, 1'000'000);
  ASSERT_TRUE(trail.ok());
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  util::Status audit = core::VerifyAuditRows(*trail, seq, prev);
  EXPECT_TRUE(audit.ok()) << audit.error().message();
  EXPECT_EQ(trail->size(), acked.write_requests);
}

}  // namespace
}  // namespace registry::fault
