// Crash safety (SPEC §3 durability rule, storage issue): the real service on SQLite under a
// concurrent write load, SIGKILLed at random moments and restarted each time. After every
// restart: every write that got a 2xx is there, HEAD never went backwards, no partial
// version is visible, the whole log verifies, and the audit trail is one unbroken chain
// holding an accepted entry for every acknowledged write.
//
// REGISTRY_CRASH_ITERATIONS sets the number of kills (default 12, to keep CI short; the
// storage issue's full run uses 50). Bounded: every request has a 5 s timeout, every phase
// waits on an event with a deadline, loopback only.
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "harness.h"
#include "registry/core/audit_log.h"
#include "registry/core/chain_verifier.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/model/commit_record.h"

namespace registry::itest {
namespace {

int Iterations() {
  const char* v = std::getenv("REGISTRY_CRASH_ITERATIONS");
  int n = v != nullptr ? std::atoi(v) : 0;
  return n > 0 ? n : 12;
}

// What the service acknowledged (answered 2xx) before it was killed.
struct Acknowledged {
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> proposals;
  std::set<std::pair<std::string, std::string>> approvals;  // (proposal_id, signer_id)
  std::map<std::uint64_t, std::string> commits;             // version -> payload_b3
  std::size_t count = 0;

  void Add(const std::function<void()>& f) {
    std::lock_guard lock(mu);
    f();
    ++count;
    cv.notify_all();
  }
};

class CrashTest : public ServiceTest {
 protected:
  // One writer: full cycles on whatever HEAD is, until the service goes away.
  void Writer(int id, Acknowledged& acked, const std::atomic<bool>& stop) {
    HttpClient client(api_port());
    const std::string bearer = Bearer(writer_token());
    const Headers auth = {{"Authorization", bearer}, {"Content-Type", "application/json"}};
    for (int round = 0; !stop.load(); ++round) {
      HttpResponse head = client.Request("GET", "/registry/head");
      if (head.status != 200) return;  // killed
      json::Value h = ParseJsonOrFail(head.body);
      const std::uint64_t version = static_cast<std::uint64_t>(*JsonInt(h, {"version"}));
      const std::string b3 = JsonStr(h, {"payload_b3"});
      json::Value payload = registry::testing::MakePayloadValue(version + 1, b3, governance_, 3,
                                                                "w" + std::to_string(id) + "r" +
                                                                    std::to_string(round) + "p" +
                                                                    std::to_string(::getpid()));
      model::CanonicalPayload canonical = registry::testing::MakeCanonical(payload);
      HttpResponse proposed =
          client.Request("POST", "/registry/proposals", auth, ProposeBody(payload));
      if (proposed.status == 0) return;
      if (proposed.status != 202 && proposed.status != 200) continue;  // lost the race to HEAD
      const std::string pid = canonical.proposal_id;
      acked.Add([&] { acked.proposals.insert(pid); });
      for (int s = 0; s < 2; ++s) {
        model::Approval a = SignWith(s, canonical.payload_b3);
        HttpResponse approved = client.Request("POST", "/registry/approvals/" + pid, auth,
                                               json::Canonicalize(model::EncodeApproval(a)));
        if (approved.status == 0) return;
        if (approved.status == 200) {
          acked.Add([&] { acked.approvals.insert({pid, a.signer_id}); });
        }
      }
      HttpResponse committed = client.Request("POST", "/registry/commit/" + pid, auth);
      if (committed.status == 0) return;
      if (committed.status == 201 || committed.status == 200) {
        json::Value c = ParseJsonOrFail(committed.body);
        std::uint64_t v = static_cast<std::uint64_t>(*JsonInt(c, {"version"}));
        std::string cb3 = JsonStr(c, {"payload_b3"});
        acked.Add([&] { acked.commits[v] = cb3; });
      }
    }
  }

  // The audit trail, read through the admin plane: one chain from its first entry (seq,
  // prev, canonical form: core::VerifyAuditRows), with an accepted entry for every
  // acknowledged write. Entries are durable before the answer; on SQLite an accepted write's
  // entry is stored in the write's own transaction. REQUIRES: acked.mu held.
  void VerifyAuditTrail(const Acknowledged& acked) {
    std::vector<storage::AuditRow> rows;
    std::uint64_t after = 0;
    for (;;) {
      HttpResponse page = AdminGet("/admin/audit?limit=1000&after=" + std::to_string(after));
      ASSERT_TRUE(HasStatus(page, 200));
      json::Value body = ParseJsonOrFail(page.body);
      for (const json::Value& e : JsonAt(body, {"entries"})->as_array()) {
        rows.push_back({static_cast<std::uint64_t>(*JsonInt(e, {"seq"})), json::Canonicalize(e)});
      }
      const json::Value* next = JsonAt(body, {"next"});
      if (next == nullptr || next->is_null()) break;
      after = static_cast<std::uint64_t>(*JsonInt(body, {"next"}));
    }
    std::uint64_t seq = 0;
    std::string prev = crypto::ZeroB3();
    util::Status chain = core::VerifyAuditRows(rows, seq, prev);
    ASSERT_TRUE(chain.ok()) << chain.error().message();
    std::set<std::string> proposed, committed;
    std::set<std::pair<std::string, std::string>> approved;
    for (const storage::AuditRow& row : rows) {
      json::Value e = ParseJsonOrFail(row.entry);
      if (JsonStr(e, {"result"}) != "accepted") continue;
      const std::string action = JsonStr(e, {"action"});
      if (action == "propose") proposed.insert(JsonStr(e, {"proposal_id"}));
      if (action == "approve") {
        approved.insert({JsonStr(e, {"proposal_id"}), JsonStr(e, {"signer_id"})});
      }
      if (action == "commit") committed.insert(JsonStr(e, {"payload_b3"}));
    }
    for (const std::string& pid : acked.proposals) {
      EXPECT_TRUE(proposed.count(pid) > 0) << "no accepted audit entry for proposal " << pid;
    }
    for (const auto& pa : acked.approvals) {
      EXPECT_TRUE(approved.count(pa) > 0)
          << "no accepted audit entry for the approval of " << pa.first << " by " << pa.second;
    }
    for (const auto& [v, b3] : acked.commits) {
      EXPECT_TRUE(committed.count(b3) > 0) << "no accepted audit entry for version " << v;
    }
  }

  // Checks the restarted service against everything acknowledged so far.
  void VerifyAfterRestart(Acknowledged& acked, std::uint64_t& max_head) {
    HttpResponse head = Get("/registry/head");
    ASSERT_TRUE(HasStatus(head, 200));
    json::Value h = ParseJsonOrFail(head.body);
    const std::uint64_t version = static_cast<std::uint64_t>(*JsonInt(h, {"version"}));
    ASSERT_GE(version, max_head) << "HEAD went backwards";
    max_head = version;

    // The whole log, fetched over HTTP, verifies from genesis to HEAD, and its root is
    // HEAD's root: no partial or missing version.
    core::ChainVerifier verifier(governance_);
    for (std::uint64_t v = 1; v <= version; ++v) {
      HttpResponse record = Get("/registry/" + std::to_string(v));
      ASSERT_TRUE(HasStatus(record, 200)) << "version " << v;
      util::Status ok = verifier.Next(record.body);
      ASSERT_TRUE(ok.ok()) << ok.error().message();
    }
    EXPECT_EQ(crypto::Base64Encode(verifier.frontier().Root()), JsonStr(h, {"root"}));
    EXPECT_EQ(verifier.payload_b3(), JsonStr(h, {"payload_b3"}));

    std::lock_guard lock(acked.mu);
    for (const auto& [v, b3] : acked.commits) {
      ASSERT_LE(v, version) << "acknowledged version " << v << " is missing";
      HttpResponse record = Get("/registry/" + std::to_string(v));
      ASSERT_TRUE(HasStatus(record, 200));
      EXPECT_EQ(JsonStr(ParseJsonOrFail(record.body), {"payload_b3"}), b3) << "version " << v;
    }
    for (const std::string& pid : acked.proposals) {
      HttpResponse p = Get("/registry/proposals/" + pid);
      ASSERT_TRUE(HasStatus(p, 200)) << "acknowledged proposal " << pid << " is missing";
    }
    ASSERT_NO_FATAL_FAILURE(VerifyAuditTrail(acked));
    for (const auto& [pid, signer] : acked.approvals) {
      HttpResponse p = Get("/registry/proposals/" + pid);
      ASSERT_TRUE(HasStatus(p, 200));
      bool found = false;
      const json::Value view = ParseJsonOrFail(p.body);
      for (const json::Value& a : JsonAt(view, {"approvals"})->as_array()) {
        if (a.Find("signer_id")->as_string() == signer) found = true;
      }
      EXPECT_TRUE(found) << "acknowledged approval of " << pid << " by " << signer << " is lost";
    }
  }
};

TEST_F(CrashTest, SigkillUnderWriteLoadLosesNothingAcknowledged) {
  storage_ = "sqlite";
  UseGeneratedTrustRoots(3, 2);
  const int iterations = Iterations();
  std::mt19937 rng(20261126);
  Acknowledged acked;
  std::uint64_t max_head = 0;
  writer_token();  // minted once here; the writer threads only read it
  for (int it = 0; it < iterations; ++it) {
    SCOPED_TRACE("kill " + std::to_string(it + 1) + " of " + std::to_string(iterations));
    ASSERT_NO_FATAL_FAILURE(StartService());
    ASSERT_NO_FATAL_FAILURE(VerifyAfterRestart(acked, max_head));

    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] { Writer(w, acked, stop); });
    }
    // Kill after a random number of further acknowledged writes: a random moment in the
    // middle of proposals, approvals and commits.
    const std::size_t target = 1 + rng() % 25;
    {
      std::unique_lock lock(acked.mu);
      const std::size_t start = acked.count;
      acked.cv.wait_for(lock, std::chrono::seconds(30),
                        [&] { return acked.count >= start + target; });
    }
    service().Kill();
    stop = true;
    for (std::thread& t : writers) t.join();
    api_.reset();
    admin_.reset();
    service_.reset();
  }
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(VerifyAfterRestart(acked, max_head));
  std::lock_guard lock(acked.mu);
  EXPECT_GT(acked.commits.size(), 0u);
  RecordProperty("acknowledged_writes", static_cast<int>(acked.count));
  RecordProperty("head", static_cast<int>(max_head));
}

}  // namespace
}  // namespace registry::itest
